"""Management commands and the retention task, run the way people and beat run them."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from collectors.kinds import registry
from collectors.models import CollectionRun, RunStatus, Trigger
from collectors.parsing import to_jsonable
from devices.models import (
    Device,
    DiskSample,
    FilesystemSample,
    InterfaceSample,
    SystemSample,
    Transport,
)
from devices.parsers import parse_meminfo
from devices.tasks import prune_metrics
from tests.conftest import REPO
from tests.samples import sample_path

NO_DATABASE = "postgres://nobody@127.0.0.1:1/none"


def manage(*args: str, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, input=stdin, capture_output=True,
        env=os.environ | {"LOG_DIR": "", "DJANGO_SETTINGS_MODULE": "infrastructor.settings"} | env,
        timeout=60,
    )  # fmt: skip


def call(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- manage.py parse ------------------------------------------------------------------------


def test_parse_list_names_every_registered_kind_with_its_command() -> None:
    # when
    done = manage("parse", "--list")
    # then
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    listed = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert listed == registry.names()
    assert sum(1 for line in lines if line.lstrip().startswith("$ ")) == len(listed)


def test_parse_turns_a_real_sample_file_into_json() -> None:
    # given
    path = sample_path("proc/jc_proc_meminfo.txt")
    expected = to_jsonable(parse_meminfo(path.read_text()))
    # when
    done = manage("parse", "meminfo", str(path))
    # then
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected
    assert expected["mem_total_bytes"] > 0


def test_parse_reads_standard_input_given_a_dash() -> None:
    # given
    path = sample_path("proc/jc_proc_meminfo.txt")
    # when
    done = manage("parse", "meminfo", "-", "--compact", stdin=path.read_bytes())
    # then
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.decode().splitlines()) == 1
    assert json.loads(done.stdout) == to_jsonable(parse_meminfo(path.read_text()))


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["meminfo", "-"], b"\x00\xffgarbage\nmore garbage\n", "parse error: meminfo:"),
        (["no-such-kind", "-"], b"", "unknown collection kind 'no-such-kind'"),
        (["meminfo", "/nonexistent/meminfo.txt"], b"", "cannot read /nonexistent/meminfo.txt"),
        ([], b"", "usage: manage.py parse"),
    ],
    ids=["garbage", "unknown-kind", "missing-file", "no-arguments"],
)
def test_parse_fails_with_status_2_and_one_line_on_stderr(
    args: list[str], stdin: bytes, says: str
) -> None:
    # when
    done = manage("parse", *args, stdin=stdin)
    # then
    stderr = done.stderr.decode()
    assert done.returncode == 2
    assert len(stderr.splitlines()) == 1, stderr
    assert says in stderr
    assert "Traceback" not in stderr
    assert done.stdout == b""


def test_parse_needs_no_database() -> None:
    # given
    path = sample_path("proc/jc_proc_meminfo.txt")
    # when
    listed = manage("parse", "--list", DATABASE_URL=NO_DATABASE)
    parsed = manage("parse", "meminfo", str(path), DATABASE_URL=NO_DATABASE)
    # then
    assert listed.returncode == 0, listed.stderr
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)["mem_total_bytes"] > 0


# --- prune_metrics --------------------------------------------------------------------------


def _rows_at(device: Device, when: dt.datetime) -> None:
    SystemSample.objects.create(device=device, collected_at=when, cpu_pct=1.0)
    FilesystemSample.objects.create(
        device=device, collected_at=when, mountpoint="/", filesystem="/dev/sda1", size_bytes=10,
        used_bytes=5, available_bytes=5,
    )  # fmt: skip
    InterfaceSample.objects.create(device=device, collected_at=when, name="eth0")
    DiskSample.objects.create(device=device, collected_at=when, name="sda")
    CollectionRun.objects.create(
        device=device, trigger=Trigger.SCHEDULE, started_at=when, status=RunStatus.OK
    )


SERIES = [SystemSample, FilesystemSample, InterfaceSample, DiskSample]


def _remaining(device: Device) -> list[list[dt.datetime]]:
    times = [
        sorted(model._default_manager.filter(device=device).values_list("collected_at", flat=True))
        for model in SERIES
    ]
    runs = CollectionRun.objects.filter(device=device).order_by("started_at")
    return [*times, list(runs.values_list("started_at", flat=True))]


@pytest.mark.django_db
def test_prune_metrics_deletes_rows_older_than_asked_and_keeps_newer_ones(
    local_device: Device,
) -> None:
    # given
    now = timezone.now()
    old, newer = now - dt.timedelta(days=8), now - dt.timedelta(days=6)
    _rows_at(local_device, old)
    _rows_at(local_device, now - dt.timedelta(days=90))
    _rows_at(local_device, newer)
    # when
    out = call("prune_metrics", "--older-than", "7d", "--batch-size", "1")
    # then
    assert _remaining(local_device) == [[newer]] * 5
    assert "devices.SystemSample: 2 row(s) deleted" in out
    assert "collectors.CollectionRun: 2 row(s) deleted" in out


@pytest.mark.django_db
def test_prune_metrics_understands_hours_and_weeks(local_device: Device) -> None:
    # given
    now = timezone.now()
    _rows_at(local_device, now - dt.timedelta(hours=13))
    _rows_at(local_device, now - dt.timedelta(hours=11))
    # when
    call("prune_metrics", "--older-than", "12h")
    call("prune_metrics", "--older-than", "1w")
    # then
    assert SystemSample.objects.filter(device=local_device).count() == 1


@pytest.mark.parametrize("age", ["7", "7x", "-7d", "d", "seven days", ""])
@pytest.mark.django_db
def test_prune_metrics_refuses_an_age_it_does_not_understand(
    age: str, local_device: Device
) -> None:
    # given
    _rows_at(local_device, timezone.now() - dt.timedelta(days=400))
    # when / then
    with pytest.raises(CommandError, match="--older-than takes a number"):
        call("prune_metrics", f"--older-than={age}")
    assert SystemSample.objects.count() == 1


@pytest.mark.django_db
def test_the_prune_task_honours_metrics_retention_days(local_device: Device, settings: Any) -> None:
    # given
    settings.METRICS_RETENTION_DAYS = 3
    now = timezone.now()
    kept = now - dt.timedelta(days=2)
    _rows_at(local_device, now - dt.timedelta(days=4))
    _rows_at(local_device, kept)
    # when
    deleted = prune_metrics()
    # then
    assert _remaining(local_device) == [[kept]] * 5
    assert deleted == deleted | {
        "devices.SystemSample": 1, "devices.FilesystemSample": 1, "devices.InterfaceSample": 1,
        "devices.DiskSample": 1, "collectors.CollectionRun": 1,
    }  # fmt: skip
    assert sum(deleted.values()) == 5


# --- bootstrap ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bootstrap_creates_the_admin_and_the_local_device_once(tmp_path: Path) -> None:
    # given
    password_file = tmp_path / "secrets" / "admin-password"
    # when
    first = call("bootstrap", "--password-file", str(password_file))
    written = password_file.read_text()
    second = call("bootstrap", "--password-file", str(password_file))
    # then
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(written.strip())
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert written.strip() not in first
    device = Device.objects.get(name="local")
    assert (device.transport, device.address) == (Transport.LOCAL, "localhost")
    assert "admin user 'admin' exists" in second and "found device 'local'" in second
    assert password_file.read_text() == written
    assert User.objects.count() == 1 and Device.objects.count() == 1


@pytest.mark.django_db
def test_bootstrap_never_changes_an_existing_local_device_nor_admin(tmp_path: Path) -> None:
    # given
    User.objects.create_superuser("admin", password="mine-and-long-enough")
    Device.objects.create(name="local", address="127.0.0.1", notes="edited by a person")
    # when
    call("bootstrap", "--password-file", str(tmp_path / "pw"))
    # then
    assert User.objects.get(username="admin").check_password("mine-and-long-enough")
    assert Device.objects.get(name="local").notes == "edited by a person"
    assert not (tmp_path / "pw").exists()


@pytest.mark.django_db
def test_bootstrap_makes_a_leftover_password_file_private_before_writing_to_it(
    tmp_path: Path,
) -> None:
    # given a world-readable file left from an earlier install
    password_file = tmp_path / "admin-password"
    password_file.write_text("old\n")
    password_file.chmod(0o644)
    # when
    call("bootstrap", "--password-file", str(password_file), "--no-local-device")
    # then
    assert password_file.read_text() != "old\n"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600


# --- collect --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_collect_local_prints_the_run_as_json(local_device: Device) -> None:
    # when
    out = call("collect", "local", "--kinds", "meminfo,loadavg")
    # then
    result = json.loads(out)
    assert result["status"] == RunStatus.OK
    # capabilities too: a device never inspected is inspected first
    assert set(result["kinds"]) == {"capabilities", "meminfo", "loadavg"}
    assert all(k["status"] == "ok" for k in result["kinds"].values())
    run = CollectionRun.objects.get(pk=result["run"])
    assert (run.trigger, run.actor, run.device) == (Trigger.CLI, "cli", local_device)
    assert run.correlation_id


@pytest.mark.django_db
def test_collect_refuses_an_unknown_device() -> None:
    with pytest.raises(CommandError, match="no device named 'nowhere'"):
        call("collect", "nowhere")


@pytest.mark.django_db
def test_collect_refuses_an_unknown_kind_before_collecting(local_device: Device) -> None:
    with pytest.raises(CommandError, match="unknown collection kind 'nope'"):
        call("collect", "local", "--kinds", "meminfo,nope")
    assert not CollectionRun.objects.exists()
