"""End to end: a pool on a real sshd host (its `zpool` a shim printing real captures) degrades;
the built-in rule fires once, a real Celery worker delivers to a real local webhook (signed) and
ntfy endpoint while a broken channel is retried and recorded, and the repair resolves it."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collectors.alerts.builtin import ensure_builtin_rules
from collectors.alerts.models import (
    Alert,
    AlertState,
    AttemptStatus,
    Channel,
    ChannelKind,
    NotificationAttempt,
)
from collectors.engine import collect
from collectors.models import Event, RunStatus
from devices.models import Device, DeviceStatus
from tests.alerts.conftest import NotifyQueue, Receiver
from tests.conftest import WorkerProcess, device_for, wait_until
from tests.zfs.test_pools_ssh import KINDS, ZpoolHost, listing, zse

pytestmark = [pytest.mark.integration]

HEALTHY, DEGRADED = zse("resilvered"), zse("degraded_corrupted_data")


@pytest.fixture
def zpool() -> Iterator[ZpoolHost]:
    host = ZpoolHost()
    host.set(status=HEALTHY, listing=listing("dummy", 42))
    yield host
    shutil.rmtree(host.data, ignore_errors=True)


@pytest.fixture
def pool_device(transactional_db: None, zpool: ZpoolHost, sshd_factory: Any,
                client_key: Path) -> Device:  # fmt: skip
    device = device_for(sshd_factory(shims={"zpool": zpool.shim}), client_key)
    collect(device, ["capabilities"], trigger="cli")
    device.refresh_from_db()
    return device


def poll(device: Device) -> None:
    run = collect(device, KINDS, trigger="cli")
    assert run is not None and run.status == RunStatus.OK, run and run.kind_results


def test_a_degraded_pool_alerts_once_is_delivered_and_resolves_when_repaired(
    zpool: ZpoolHost, pool_device: Device, receiver: Receiver, alert_worker: WorkerProcess
) -> None:
    # given the built-in rules, and three channels: a webhook, ntfy and one that always fails
    ensure_builtin_rules()
    Channel.objects.create(name="hook", kind=ChannelKind.WEBHOOK, url=receiver.url("/hook"),
                           secret="s3cret")  # fmt: skip
    Channel.objects.create(name="phone", kind=ChannelKind.NTFY, url=receiver.url("/alerts"))
    broken = Channel.objects.create(name="broken", kind=ChannelKind.WEBHOOK,
                                    url=receiver.url("/broken"))  # fmt: skip
    receiver.broken_paths = {"/broken"}
    poll(pool_device)
    assert not Alert.objects.exists()
    # when the pool degrades
    zpool.set(status=DEGRADED, listing=listing("dummy", 42))
    poll(pool_device)
    # then one alert, told once to each channel; the broken one is tried 1 + 2 times
    alert = Alert.objects.get()
    assert (alert.rule.builtin_key, alert.subject, alert.state) == (
        "pool-not-online", "pool:dummy", AlertState.FIRING)  # fmt: skip
    wait_until(lambda: len(receiver.on("/hook")) == 1 and len(receiver.on("/alerts")) == 1)
    failed = wait_until(
        lambda: list(NotificationAttempt.objects.filter(channel=broken).order_by("attempt"))
        if NotificationAttempt.objects.filter(channel=broken).count() == 3 else None
    )  # fmt: skip
    assert [(a.attempt, a.status, a.http_status) for a in failed] == [
        (1, AttemptStatus.FAILED, 500), (2, AttemptStatus.FAILED, 500),
        (3, AttemptStatus.FAILED, 500),
    ]  # fmt: skip
    hook = receiver.on("/hook")[0]
    signature = hmac.new(b"s3cret", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["X-Infra-Signature"] == f"sha256={signature}"
    assert hook.json()["state"] == "firing" and hook.json()["device"] == pool_device.name
    assert receiver.on("/alerts")[0].headers["Title"].endswith(f"on {pool_device.name}")
    # when it is polled again, still degraded: nothing new is sent
    poll(pool_device)
    time.sleep(1.5)
    assert len(receiver.on("/hook")) == 1 and len(receiver.on("/alerts")) == 1
    # when it is repaired
    zpool.set(status=HEALTHY, listing=listing("dummy", 42))
    poll(pool_device)
    # then it resolves, and the channels that heard about it hear that too
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.occurrences == 1
    wait_until(lambda: len(receiver.on("/hook")) == 2 and len(receiver.on("/alerts")) == 2)
    assert receiver.on("/hook")[1].json()["state"] == "resolved"
    ok = NotificationAttempt.objects.filter(status=AttemptStatus.OK)
    assert sorted(ok.values_list("reason", flat=True)) == ["firing", "firing", "resolved",
                                                           "resolved"]  # fmt: skip


def test_a_pool_degrading_on_a_device_in_maintenance_is_recorded_but_not_sent(
    zpool: ZpoolHost, pool_device: Device, notify_queue: NotifyQueue,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    ensure_builtin_rules()
    Channel.objects.create(name="hook", kind=ChannelKind.WEBHOOK, url="http://127.0.0.1:9/x")
    poll(pool_device)
    Device.objects.filter(pk=pool_device.pk).update(status=DeviceStatus.MAINTENANCE)
    # when
    zpool.set(status=DEGRADED, listing=listing("dummy", 42))
    with django_capture_on_commit_callbacks(execute=True):
        poll(pool_device)
    # then
    alert = Alert.objects.get()
    assert alert.silenced and alert.state == AlertState.FIRING
    assert notify_queue.take() == []


def test_a_degraded_pool_that_is_exported_resolves_its_alert(
    zpool: ZpoolHost, pool_device: Device
) -> None:
    # given the built-in rules and the device's only pool firing "not ONLINE"
    ensure_builtin_rules()
    zpool.set(status=DEGRADED, listing=listing("dummy", 42))
    poll(pool_device)
    alert = Alert.objects.get(rule__builtin_key="pool-not-online")
    assert alert.state == AlertState.FIRING
    # when the pool is exported: zpool lists no pool at all (current OpenZFS: "no pools
    # available" goes to stderr, stdout is empty)
    zpool.set(status="", listing="")
    poll(pool_device)
    # then the pool is kept as removed, says so in the timeline, and its alert resolves
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    gone = Event.objects.get(device=pool_device, type="pool.disappeared")
    assert gone.data["pool"] == "dummy" and gone.data["last_state"] == "DEGRADED"
    # and a later poll that still sees no pool says nothing more
    poll(pool_device)
    assert Event.objects.filter(device=pool_device, type="pool.disappeared").count() == 1
