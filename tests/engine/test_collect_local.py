"""The collection service on the local transport: the same script, no SSH."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path
from typing import Any

import pytest

from collectors.engine import collect
from collectors.models import CollectionRun, Event, KindStatus, RunStatus
from devices import metrics
from devices.models import CounterState, Device, DeviceStatus, SystemSample
from devices.parsers import parse_meminfo

pytestmark = pytest.mark.django_db


def _proc_value(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(key)


def test_first_collection_detects_capabilities_and_stores_system_metrics(
    local_device: Device,
) -> None:
    # when
    run = collect(local_device, trigger="cli")
    # then
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    assert run.kind_results["capabilities"]["status"] == KindStatus.OK
    assert run.bytes_read > 1000
    local_device.refresh_from_db()
    assert local_device.status == DeviceStatus.ONLINE
    assert local_device.capabilities["kernel"]
    assert local_device.capabilities["os_release"]["id"]
    sample = SystemSample.objects.get(device=local_device)
    assert sample.mem_total_bytes == _proc_value("/proc/meminfo", "MemTotal")
    assert sample.load_1 is not None and sample.uptime_s and sample.uptime_s > 0
    assert sample.cpu_pct is None  # one sample: no interval to compute CPU % over yet
    assert Event.objects.filter(device=local_device, type="device.online").count() == 1


def test_second_collection_turns_counters_into_cpu_network_and_disk_rates(
    local_device: Device,
) -> None:
    # given
    collect(local_device, trigger="cli")
    CounterState.objects.filter(device=local_device).update(
        collected_at=CounterState.objects.get(device=local_device).collected_at
        - dt.timedelta(seconds=5)
    )
    # when
    run = collect(local_device, ["proc-stat", "net-dev", "diskstats", "meminfo"], trigger="cli")
    # then
    assert run is not None and run.status == RunStatus.OK
    latest = metrics.latest_system(local_device)
    assert latest is not None and latest.cpu_pct is not None
    assert 0.0 <= latest.cpu_pct <= 100.0
    names = {nic.name for nic in metrics.latest_interfaces(local_device)}
    assert "lo" in names
    for nic in metrics.latest_interfaces(local_device):
        assert nic.rx_bytes_per_s is not None and nic.rx_bytes_per_s >= 0


def test_filesystems_agree_with_df_and_skip_pseudo_filesystems(local_device: Device) -> None:
    import shutil

    collect(local_device, ["df"], trigger="cli")
    rows = {fs.mountpoint: fs for fs in metrics.latest_filesystems(local_device)}
    assert "/" in rows
    usage = shutil.disk_usage("/")
    assert rows["/"].size_bytes == usage.total
    assert abs(rows["/"].used_bytes - usage.used) < 512 * 1024 * 1024  # moving target: writes
    assert not [fs for fs in rows.values() if fs.fs_type in {"tmpfs", "proc", "sysfs"}]


def test_a_kind_with_garbage_output_fails_alone_and_the_others_are_stored(
    local_device: Device, extra_kind
) -> None:
    # given a kind whose command prints something its parser cannot read
    extra_kind("garbage", "echo 'this is not meminfo'", parse_meminfo)
    # when
    run = collect(local_device, ["garbage", "loadavg", "uptime"], trigger="cli")
    # then
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.kind_results["garbage"]["status"] == KindStatus.ERROR
    assert run.kind_results["garbage"]["error_type"] == "parse_error"
    assert "this is not meminfo" in run.kind_results["garbage"]["error"]
    assert run.kind_results["loadavg"]["status"] == KindStatus.OK
    assert SystemSample.objects.get(device=local_device).load_1 is not None


def test_missing_commands_and_failures_get_typed_errors(local_device: Device, extra_kind) -> None:
    extra_kind("missing", "no-such-command-xyz", parse_meminfo)
    extra_kind("failing", "echo 'permission denied' >&2; exit 1", parse_meminfo)
    collect(local_device, ["capabilities"], trigger="cli")
    run = collect(local_device, ["missing", "failing"], trigger="cli")
    assert run is not None and run.status == RunStatus.FAILED
    assert run.kind_results["missing"]["error_type"] == "command_not_found"
    assert run.kind_results["failing"]["error_type"] == "permission_denied"
    assert run.kind_results["failing"]["exit_code"] == 1


def test_a_parser_that_crashes_costs_only_its_kind(local_device: Device, extra_kind) -> None:
    def buggy(text: str) -> None:
        raise ZeroDivisionError("bug")

    extra_kind("buggy", "echo hi", buggy)
    run = collect(local_device, ["buggy", "uptime"], trigger="cli")
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.kind_results["buggy"]["error_type"] == "parser_bug"


def test_a_store_function_that_fails_loses_nothing_else(local_device: Device, extra_kind) -> None:
    def bad_store(ctx: object, facts: object) -> None:
        Device.objects.create(name="local")  # unique violation inside the store transaction

    extra_kind("badstore", "cat /proc/meminfo", parse_meminfo, store=bad_store)
    run = collect(local_device, ["badstore", "loadavg"], trigger="cli")
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.kind_results["badstore"]["error_type"] == "store_error"
    assert SystemSample.objects.get(device=local_device).load_1 is not None


def test_a_failed_store_is_retried_whole_without_doubling_what_the_first_try_wrote(
    local_device: Device, extra_kind
) -> None:
    # given a kind whose store fails after the others have stored in the same transaction
    def late_bad_store(ctx: object, facts: object) -> None:
        raise RuntimeError("bug in a store")

    extra_kind("zz-badstore", "echo hi", lambda text: text, store=late_bad_store)
    # when the device's first collection runs (its online event comes from the same transaction)
    run = collect(local_device, ["loadavg", "meminfo", "zz-badstore"], trigger="cli")
    # then the first try's rows and event were rolled back and written once by the second try
    assert run is not None and run.status == RunStatus.PARTIAL
    assert run.kind_results["zz-badstore"]["error_type"] == "store_error"
    assert "bug in a store" in run.kind_results["zz-badstore"]["error"]
    assert SystemSample.objects.filter(device=local_device).count() == 1
    assert Event.objects.filter(device=local_device, type="device.online").count() == 1


def test_a_poll_whose_stores_all_work_takes_no_savepoints(local_device: Device) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    collect(local_device, trigger="cli")  # capabilities first
    with CaptureQueriesContext(connection) as queries:
        run = collect(local_device, ["loadavg", "meminfo", "proc-stat", "uptime"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK, run and run.kind_results
    # (the test's own transaction makes the collection's a savepoint: one, and its release)
    savepoints = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"]]
    assert len(savepoints) == 2, savepoints


def test_a_claimed_device_is_not_collected_twice(local_device: Device) -> None:
    from collectors.claims import claim_device

    with claim_device(local_device.pk, dt.timedelta(seconds=60)) as token:
        assert token is not None
        assert collect(local_device, ["uptime"], trigger="cli") is None
    assert collect(local_device, ["uptime"], trigger="cli") is not None
    assert CollectionRun.objects.filter(device=local_device).count() == 1


def test_an_expired_claim_no_longer_blocks(local_device: Device) -> None:
    from collectors.claims import claim_device

    with claim_device(local_device.pk, dt.timedelta(seconds=-1)) as token:
        assert token is not None
        assert collect(local_device, ["uptime"], trigger="cli") is not None


def test_kinds_needing_a_missing_capability_are_skipped_with_a_reason(
    local_device: Device, extra_kind
) -> None:
    extra_kind("needs-zpool", "zpool status", parse_meminfo, capability="zpool-test-only")
    collect(local_device, ["capabilities"], trigger="cli")
    run = collect(local_device, ["needs-zpool", "uptime"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    assert run.kind_results["needs-zpool"]["status"] == KindStatus.SKIPPED
    assert "zpool-test-only" in run.kind_results["needs-zpool"]["reason"]


def test_a_device_deleted_before_its_queued_collection_runs_is_skipped_quietly() -> None:
    assert collect(987654321, ["uptime"], trigger="cli") is None
    assert not CollectionRun.objects.exists()


def test_a_parse_only_kind_is_never_collected(local_device: Device, extra_kind) -> None:
    # given a kind with a parser but nowhere to store its facts yet
    extra_kind("parse-only", "echo should-not-run", parse_meminfo, store=None)
    collect(local_device, ["capabilities"], trigger="cli")
    # when it is asked for explicitly, and when every kind is
    explicit = collect(local_device, ["parse-only", "uptime"], trigger="cli")
    everything = collect(local_device, trigger="cli")
    # then
    assert explicit is not None and everything is not None
    assert explicit.kind_results["parse-only"]["status"] == KindStatus.SKIPPED
    assert "parse only" in explicit.kind_results["parse-only"]["reason"]
    assert "parse-only" not in everything.kinds


def test_a_kind_may_build_its_command_per_device(local_device: Device, extra_kind) -> None:
    # given a kind whose command carries something of the device it runs on (quoted)
    seen: list[Any] = []

    def keep(ctx: Any, facts: Any) -> None:
        seen.append(facts)

    extra_kind("per-device", "echo generic", str.strip, store=keep,
               build_command=lambda device: f"echo {shlex.quote(device.name + ' ;x')}")  # fmt: skip
    # when
    run = collect(local_device, ["per-device"], trigger="cli")
    # then
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    assert seen == [f"{local_device.name} ;x"]


def test_store_notes_land_in_the_run_audit(local_device: Device, extra_kind) -> None:
    def note_twice(ctx: Any, facts: Any) -> None:
        ctx.note("noted", "item 1 could not be read")
        ctx.note("noted", "item 2 could not be read")

    extra_kind("noted", "echo hi", str.strip, store=note_twice)
    run = collect(local_device, ["noted"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK
    assert run.kind_results["noted"]["notes"] == [
        "item 1 could not be read",
        "item 2 could not be read",
    ]
