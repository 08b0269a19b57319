"""The plumbing: logs and correlation ids, checks, schedules, rates, secrets, capabilities and
the live event stream over the real channels-redis layer."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from celery.signals import before_task_publish
from channels.layers import BaseChannelLayer, get_channel_layer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from collectors.events import record_event
from collectors.models import Event, EventKind, Severity
from collectors.parsing import ParseError
from collectors.schedules import ensure_default_schedules
from collectors.transports.base import ConfigError
from devices.capabilities import COMMAND, parse_capabilities
from devices.models import Device
from devices.rates import counter_delta, cpu_percentages, rate
from devices.secrets import decrypt_private_key, encrypt_private_key
from infrastructor.checks import secret_key_is_not_the_default
from infrastructor.logs import CorrelationIdFilter, JsonFormatter, correlation, get_correlation_id
from infrastructor.signals import (
    _attach_correlation_id,
    _clear_correlation_id,
    _restore_correlation_id,
)  # fmt: skip

HEADER = "infra_correlation_id"


def log_record(message: str = "polled %s", *args: Any, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("infra.test", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


# --- logs and correlation ids -----------------------------------------------------------------


def test_the_json_formatter_writes_one_object_per_line_with_the_correlation_id() -> None:
    # given
    record = log_record("polled %s\nin two lines", "nas", device="nas", run_id=7)
    with correlation("abc"):
        CorrelationIdFilter().filter(record)
    # when
    line = JsonFormatter().format(record)
    # then
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["correlation_id"] == "abc"
    assert payload["message"] == "polled nas\nin two lines"
    assert (payload["level"], payload["logger"]) == ("INFO", "infra.test")
    assert (payload["device"], payload["run_id"]) == ("nas", 7)
    assert "kind" not in payload


def test_a_record_without_a_correlation_id_has_null_in_json() -> None:
    payload = json.loads(JsonFormatter().format(log_record()))
    assert payload["correlation_id"] is None


def test_the_filter_puts_the_current_id_or_a_dash_on_every_record() -> None:
    # given
    inside, outside = log_record(), log_record()
    # when
    with correlation("req-1"):
        kept = CorrelationIdFilter().filter(inside)
    CorrelationIdFilter().filter(outside)
    # then
    assert kept is True
    assert inside.__dict__["correlation_id"] == "req-1"
    assert outside.__dict__["correlation_id"] == "-"


def test_correlation_restores_the_previous_id_even_after_an_error() -> None:
    # when / then
    with correlation("outer") as outer:
        assert outer == "outer"
        with pytest.raises(RuntimeError), correlation("inner"):
            assert get_correlation_id() == "inner"
            raise RuntimeError("boom")
        assert get_correlation_id() == "outer"
        with correlation() as generated:
            assert re.fullmatch(r"[0-9a-f]{16}", generated)
        assert get_correlation_id() == "outer"
    assert get_correlation_id() == ""


def test_a_task_published_inside_a_correlation_carries_its_id_in_a_header() -> None:
    # given
    sent: dict[str, Any] = {}
    direct: dict[str, Any] = {}
    # when
    with correlation("abc"):
        before_task_publish.send(sender="collectors.collect_device", headers=sent, body=())
        _attach_correlation_id(headers=direct)
    # then
    assert sent[HEADER] == "abc"
    assert direct[HEADER] == "abc"


def test_a_header_already_set_is_kept_and_a_publish_outside_any_request_gets_a_new_id() -> None:
    # given
    forwarded = {HEADER: "from-upstream"}
    fresh: dict[str, Any] = {}
    # when
    with correlation("abc"):
        _attach_correlation_id(headers=forwarded)
    _attach_correlation_id(headers=fresh)
    # then
    assert forwarded[HEADER] == "from-upstream"
    assert re.fullmatch(r"[0-9a-f]{16}", fresh[HEADER])


def test_the_worker_restores_the_published_id_and_clears_it_afterwards() -> None:
    # given what Celery hands the prerun hook: the header as a request attribute, or in headers
    as_attribute = SimpleNamespace(request=SimpleNamespace(**{HEADER: "from-api"}))
    in_headers = SimpleNamespace(request=SimpleNamespace(headers={HEADER: "from-beat"}))
    seen = []
    # when
    for task in (as_attribute, in_headers):
        _restore_correlation_id(task=task)
        seen.append(get_correlation_id())
        _clear_correlation_id()
    # then
    assert seen == ["from-api", "from-beat"]
    assert get_correlation_id() == ""


# --- system checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["DEFAULT", "change-me-to-something-long-and-random-0123456789", "short-but-random-x1"],
    ids=["default", "placeholder", "short"],
)
def test_a_default_placeholder_or_short_secret_key_is_warned_about(key: str, settings: Any) -> None:
    # given
    settings.DEBUG = False
    settings.SECRET_KEY = settings.INSECURE_DEFAULT_SECRET_KEY if key == "DEFAULT" else key
    # when
    warnings = secret_key_is_not_the_default()
    # then
    assert [w.id for w in warnings] == ["infrastructor.W001"]


def test_a_long_random_secret_key_is_not_warned_about(settings: Any) -> None:
    settings.DEBUG = False
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    assert secret_key_is_not_the_default() == []


# --- beat schedules ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_migrate_creates_the_default_schedules(settings: Any) -> None:
    # when (pytest-django migrated the test database)
    system = PeriodicTask.objects.get(name="Collect: system")
    inventory = PeriodicTask.objects.get(name="Collect: inventory")
    prune = PeriodicTask.objects.get(name="Prune old metrics and audit rows")
    # then
    assert system.task == inventory.task == "collectors.dispatch_group"
    assert json.loads(system.kwargs) == {"group": "system"}
    assert system.interval is not None
    assert (system.interval.every, system.interval.period) == (
        settings.SYSTEM_METRICS_INTERVAL, IntervalSchedule.SECONDS,
    )  # fmt: skip
    assert system.expire_seconds == settings.SYSTEM_METRICS_INTERVAL
    assert prune.task == "devices.prune_metrics"
    assert prune.crontab is not None
    assert (prune.crontab.minute, prune.crontab.hour) == ("17", "3")


@pytest.mark.django_db
def test_ensure_default_schedules_keeps_an_admins_change_and_recreates_a_deleted_one() -> None:
    # given an admin slowed the system tick and deleted the inventory one
    slower, _ = IntervalSchedule.objects.get_or_create(every=999, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="Collect: system").update(interval=slower, enabled=False)
    PeriodicTask.objects.filter(name="Collect: inventory").delete()
    # when
    created = ensure_default_schedules()
    again = ensure_default_schedules()
    # then
    assert (created, again) == (1, 0)
    system = PeriodicTask.objects.get(name="Collect: system")
    assert system.interval == slower and system.enabled is False
    assert json.loads(PeriodicTask.objects.get(name="Collect: inventory").kwargs) == {
        "group": "inventory"
    }


# --- rates ------------------------------------------------------------------------------------

BEFORE = {"user": 100, "nice": 0, "system": 50, "idle": 800, "iowait": 50, "irq": 0,
          "softirq": 0, "steal": 0}  # fmt: skip
NONE = dict.fromkeys(
    ("cpu_pct", "cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct")
)


def test_cpu_percentages_over_a_known_interval() -> None:
    # given 200 ticks: 60 user, 20 system, 80 idle, 20 iowait, 20 steal
    now = BEFORE | {"user": 160, "system": 70, "idle": 880, "iowait": 70, "steal": 20}
    # when / then
    assert cpu_percentages(now, BEFORE) == {
        "cpu_pct": 50.0, "cpu_user_pct": 30.0, "cpu_system_pct": 10.0, "cpu_iowait_pct": 10.0,
        "cpu_steal_pct": 10.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("now", "before"),
    [
        (BEFORE, None),  # first sample: no interval yet
        (BEFORE | {"idle": 700, "user": 300}, BEFORE),  # a counter went down: reboot
        (BEFORE, BEFORE),  # no time passed
        (BEFORE | {"steal": None, "user": 200}, BEFORE),  # a field vanished
    ],
    ids=["first-sample", "counter-reset", "no-ticks", "field-missing-now"],
)
def test_cpu_percentages_are_none_rather_than_wrong(
    now: dict[str, int | None], before: dict[str, int | None] | None
) -> None:
    assert cpu_percentages(now, before) == NONE


def test_fields_an_old_kernel_never_had_count_as_zero() -> None:
    old_kernel = {k: v for k, v in BEFORE.items() if k != "steal"}
    now = old_kernel | {"user": 150, "idle": 850}
    assert cpu_percentages(now, old_kernel)["cpu_pct"] == 50.0


@pytest.mark.parametrize(
    ("now", "before", "seconds", "expected"),
    [
        (200, 100, 10.0, 10.0),
        (100, 100, 10.0, 0.0),
        (100, 200, 10.0, None),  # wrapped or reset: a gap, never negative
        (None, 100, 10.0, None),
        (200, None, 10.0, None),
        (200, 100, 0.0, None),
        (200, 100, -1.0, None),
    ],
)
def test_rate_per_second_edge_cases(
    now: int | None, before: int | None, seconds: float, expected: float | None
) -> None:
    assert rate(now, before, seconds) == expected


def test_counter_delta_edge_cases() -> None:
    assert counter_delta(2**40 + 5, 2**40) == 5
    assert counter_delta(0, 0) == 0
    assert counter_delta(3, 4) is None
    assert counter_delta(None, None) is None


# --- secrets ----------------------------------------------------------------------------------


@pytest.fixture
def private_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    openssh = serialization.PrivateFormat.OpenSSH
    pem = key.private_bytes(serialization.Encoding.PEM, openssh, serialization.NoEncryption())
    return pem.decode()


@pytest.fixture
def derived_from_secret_key(settings: Any) -> Any:
    settings.DEVICE_SECRET_KEY = ""
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    return settings


def test_a_private_key_round_trips_through_encryption(
    private_key: str, derived_from_secret_key: Any
) -> None:
    token = encrypt_private_key(f"\n  {private_key}  \n")
    assert private_key.splitlines()[1] not in token
    assert decrypt_private_key(token) == private_key.strip() + "\n"


def test_garbage_key_text_is_refused_before_encryption() -> None:
    with pytest.raises(ConfigError, match="could not be read"):
        encrypt_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n")


@pytest.mark.parametrize("changed", ["SECRET_KEY", "DEVICE_SECRET_KEY"])
def test_a_key_encrypted_under_another_secret_cannot_be_decrypted(
    changed: str, private_key: str, derived_from_secret_key: Any
) -> None:
    # given
    token = encrypt_private_key(private_key)
    # when
    setattr(derived_from_secret_key, changed, secrets.token_urlsafe(50))
    # then
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        decrypt_private_key(token)


# --- capability detection ---------------------------------------------------------------------


def test_the_capability_script_run_on_this_machine_parses() -> None:
    # when
    done = subprocess.run(["/bin/sh"], input=COMMAND, capture_output=True, text=True, timeout=60)
    caps = parse_capabilities(done.stdout)
    # then
    assert done.returncode == 0, done.stderr
    assert caps.kernel == os.uname().release
    assert caps.arch == os.uname().machine
    assert caps.cpu_cores == os.cpu_count()
    assert caps.uid == os.getuid()
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    assert total_kb is not None and caps.mem_total_bytes == int(total_kb.group(1)) * 1024
    assert caps.tools.get("lsblk") is None or caps.tools["lsblk"].usable


@pytest.mark.parametrize(
    ("text", "lineno"),
    [
        ("kernel=6.1.0\nthis line has no equals sign\n", 2),
        ("kernel=6.1.0\ntool.x=1\n", 2),
        ("kernel=6.1.0\ncpu_cores=many\n", 2),
        ("", None),
        ("   \n\n", None),
        ("os=Debian GNU/Linux 12\narch=x86_64\n", None),
    ],
    ids=["no-equals", "malformed-tool-key", "non-numeric-count", "empty", "blank", "no-kernel"],
)
def test_output_that_is_not_the_capability_scripts_is_a_parse_error(
    text: str, lineno: int | None
) -> None:
    with pytest.raises(ParseError) as error:
        parse_capabilities(text)
    assert error.value.kind == "capabilities"
    assert error.value.lineno == lineno


# --- live events over channels-redis ----------------------------------------------------------


@pytest.fixture
def listener(settings: Any) -> Iterator[tuple[BaseChannelLayer, str]]:
    """A channel subscribed to the `events` group of the real channel layer, under a prefix of
    our own: a platform on this Redis broadcasts its events to an `events` group too."""
    default = settings.CHANNEL_LAYERS["default"]
    prefix = f"test-{secrets.token_hex(4)}:channels"
    settings.CHANNEL_LAYERS = {
        "default": default | {"CONFIG": default["CONFIG"] | {"prefix": prefix}}
    }
    layer = get_channel_layer()
    assert layer is not None and getattr(layer, "prefix", None) == prefix
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("events", channel)
    yield layer, channel
    async_to_sync(layer.group_discard)("events", channel)


def receive(layer: BaseChannelLayer, channel: str, timeout: float) -> dict[str, Any]:
    async def within() -> dict[str, Any]:
        return await asyncio.wait_for(layer.receive(channel), timeout)

    return async_to_sync(within)()


@pytest.mark.integration
@pytest.mark.django_db
def test_an_event_is_broadcast_once_its_transaction_commits(
    listener: tuple[BaseChannelLayer, str], local_device: Device, django_capture_on_commit_callbacks
) -> None:
    # given
    layer, channel = listener
    # when
    with django_capture_on_commit_callbacks(execute=True):
        event = record_event(
            device=local_device, kind=EventKind.DEVICE, type="device.offline",
            severity=Severity.CRITICAL, summary="local is offline", data={"failures": 2},
        )  # fmt: skip
    message = receive(layer, channel, timeout=5)
    # then
    assert message["type"] == "stream.message"
    assert message["topics"] == ["events", "fleet", "events:critical", f"device:{local_device.pk}"]
    assert message["message"]["type"] == "event"
    assert message["message"]["data"] | {"occurred_at": None} == {
        "id": event.pk, "device": local_device.pk, "device_name": "local", "kind": "device",
        "type": "device.offline", "severity": "critical", "summary": "local is offline",
        "data": {"failures": 2}, "occurred_at": None,
    }  # fmt: skip


@pytest.mark.integration
@pytest.mark.django_db
def test_an_event_of_a_rolled_back_transaction_is_never_broadcast(
    listener: tuple[BaseChannelLayer, str], django_capture_on_commit_callbacks
) -> None:
    # given
    layer, channel = listener
    # when
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record_event(kind=EventKind.CONFIG, type="config.changed", summary="rolled back")
        raise RuntimeError("the surrounding work failed")
    # then
    assert callbacks == []
    assert not Event.objects.filter(summary="rolled back").exists()
    with pytest.raises(TimeoutError):
        receive(layer, channel, timeout=1)
