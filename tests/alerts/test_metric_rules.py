"""Metric rules on stored samples: fire once after the for-window, stay quiet while firing,
resolve only past the clear threshold; every metric family; the built-in rules (offline after 5
minutes only, failing collections); one query per family whatever the number of devices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collectors.alerts.builtin import ensure_builtin_rules
from collectors.alerts.metrics import Outcome, evaluate_metric_rules
from collectors.alerts.models import (
    Alert,
    AlertRule,
    AlertState,
    Channel,
    Metric,
    RuleType,
    Silence,
)
from collectors.models import CollectionRun, Severity
from containers.models import Container
from devices.models import Device, DeviceStatus, Drive, DriveSample, FilesystemSample, SystemSample
from tests.alerts.conftest import NotifyQueue
from zfs.models import Pool, PoolSample

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
POLL = dt.timedelta(seconds=30)
GB = 1024**3


@pytest.fixture
def tick(django_capture_on_commit_callbacks: Any) -> Callable[[dt.datetime], Outcome]:
    """Beat's metric tick at a given time, committed (notifications go to the queue)."""

    def run(now: dt.datetime) -> Outcome:
        with django_capture_on_commit_callbacks(execute=True):
            return evaluate_metric_rules(now)

    return run


def metric_rule(metric: str, threshold: float, **fields: Any) -> AlertRule:
    return AlertRule.objects.create(name=f"{metric} {threshold}", rule_type=RuleType.METRIC,
                                    metric=metric, threshold=threshold, **fields)  # fmt: skip


def fs(device: Device, at: dt.datetime, pct: float, mount: str = "/srv",
       size: int = 100 * GB) -> None:  # fmt: skip
    used = int(size * pct / 100)
    FilesystemSample.objects.create(
        device=device, collected_at=at, mountpoint=mount, filesystem="/dev/sda1", fs_type="ext4",
        size_bytes=size, used_bytes=used, available_bytes=size - used, used_pct=pct,
    )  # fmt: skip


def reasons(queue: NotifyQueue) -> list[str]:
    return [reason for *_, reason in queue.take()]


def test_a_full_filesystem_fires_once_after_the_window_and_resolves_only_below_the_clear_mark(
    nas: Device, only_rules: None, webhook: Channel, notify_queue: NotifyQueue,
    tick: Callable[[dt.datetime], Outcome],
) -> None:  # fmt: skip
    rule = metric_rule(Metric.FS_USED_PCT, 90, clear_threshold=85, for_minutes=5)
    fs(nas, NOW - 20 * POLL, 50.0)
    # given 95 % from 12:00 on, polled every 30 s
    t = NOW
    for _ in range(10):  # 4.5 minutes of it: not yet
        fs(nas, t, 95.0)
        fs(nas, t, 40.0, mount="/")  # another mount, fine
        assert tick(t).changed == 0
        t += POLL
    # when the sample five minutes after the first one is in
    fs(nas, t, 95.0)
    assert len(tick(t).fired) == 1
    # then one alert, about that mount, told once
    alert = Alert.objects.get()
    assert (alert.rule, alert.subject, alert.state, alert.value) == (
        rule, "mount:/srv", AlertState.FIRING, 95.0)  # fmt: skip
    assert alert.severity == Severity.WARNING
    assert "nas: filesystem /srv used 95 % (> 90 % for 5 min) since" in alert.summary
    assert reasons(notify_queue) == ["firing"]
    # while it stays over 90, or between 85 and 90, nothing more is sent
    for pct in (96.0, 88.0, 85.1, 91.0):
        t += POLL
        fs(nas, t, pct)
        assert tick(t).changed == 0
    alert.refresh_from_db()
    assert alert.state == AlertState.FIRING and alert.value == 91.0 and alert.occurrences == 1
    assert reasons(notify_queue) == []
    # when it is back at 85 % it resolves, and says so
    t += POLL
    fs(nas, t, 85.0)
    assert len(tick(t).resolved) == 1
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.value == 85.0
    assert reasons(notify_queue) == ["resolved"]


def test_a_silenced_device_records_the_alert_and_sends_nothing(
    nas: Device, only_rules: None, webhook: Channel, notify_queue: NotifyQueue,
    tick: Callable[[dt.datetime], Outcome],
) -> None:  # fmt: skip
    metric_rule(Metric.FS_USED_PCT, 90)
    Silence.objects.create(device=nas, until=NOW + dt.timedelta(hours=1), reason="migration")
    fs(nas, NOW, 99.0)
    tick(NOW)
    assert Alert.objects.get().silenced
    fs(nas, NOW + POLL, 10.0)
    tick(NOW + POLL)
    assert Alert.objects.get().state == AlertState.RESOLVED
    assert notify_queue.take() == []


def test_a_vanished_mount_resolves_and_a_silent_device_keeps_its_alert(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome]
) -> None:
    metric_rule(Metric.FS_USED_PCT, 90)
    fs(nas, NOW, 99.0, mount="/mnt/usb")
    fs(nas, NOW, 10.0, mount="/")
    tick(NOW)
    assert Alert.objects.get().is_open
    # when the device says nothing for a while: we do not know, the alert stays
    assert tick(NOW + dt.timedelta(minutes=30)).changed == 0
    # when it reports again, without that mount: it was unplugged
    later = NOW + dt.timedelta(minutes=31)
    fs(nas, later, 10.0, mount="/")
    assert len(tick(later).resolved) == 1


@pytest.mark.parametrize(
    ("metric", "fields", "subject"),
    [
        (Metric.CPU_PCT, {"cpu_pct": 97.0}, ""),
        (Metric.MEM_USED_PCT, {"mem_used_pct": 97.0}, ""),
        (Metric.LOAD_PER_CORE, {"load_1": 8.0, "cpu_count": 2}, ""),  # 4 per core
    ],
)
def test_system_metrics_fire_per_device(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome], metric: str,
    fields: dict[str, Any], subject: str,
) -> None:  # fmt: skip
    metric_rule(metric, 3.0 if metric == Metric.LOAD_PER_CORE else 90.0, for_minutes=1)
    calm = {"cpu_pct": 5.0, "mem_used_pct": 20.0, "load_1": 0.5, "cpu_count": 2}
    SystemSample.objects.create(device=nas, collected_at=NOW - 3 * POLL, **calm)
    for i in range(3):
        SystemSample.objects.create(device=nas, collected_at=NOW + i * POLL, **(calm | fields))
    tick(NOW + 2 * POLL)
    alert = Alert.objects.get()
    assert (alert.device, alert.subject) == (nas, subject)


def test_pool_capacity_drive_temperature_and_restart_loops_have_their_subjects(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome]
) -> None:
    seen = {"first_seen_at": NOW, "last_seen_at": NOW}
    pool = Pool.objects.create(device=nas, name="tank", state="ONLINE", **seen)
    PoolSample.objects.create(pool=pool, collected_at=NOW, state="ONLINE", capacity_pct=93.0)
    drive = Drive.objects.create(device=nas, identity="nas:WD1", serial="WD1", slot="/dev/sda",
                                 **seen)  # fmt: skip
    DriveSample.objects.create(drive=drive, collected_at=NOW - POLL, temperature_c=61)
    DriveSample.objects.create(drive=drive, collected_at=NOW, temperature_c=None)  # asleep
    web = Container.objects.create(device=nas, name="web", container_id="c1", image="nginx",
                                   state="running", restart_count=4, **seen)  # fmt: skip
    metric_rule(Metric.POOL_CAPACITY_PCT, 90)
    metric_rule(Metric.DRIVE_TEMPERATURE_C, 55)
    metric_rule(Metric.CONTAINER_RESTARTS, 3, clear_threshold=0)
    # when
    tick(NOW)
    Container.objects.filter(pk=web.pk).update(restart_count=9)
    tick(NOW + dt.timedelta(minutes=5))
    # then
    assert sorted(Alert.objects.values_list("subject", "value")) == [
        ("container:web", 5.0), ("pool:tank", 93.0), ("serial:WD1", 61.0)]  # fmt: skip
    # and an hour without restarts later, the loop is over
    assert len(tick(NOW + dt.timedelta(minutes=66)).resolved) == 1
    assert Alert.objects.open().count() == 2


def test_full_in_days_follows_the_rate_of_the_last_hours(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome]
) -> None:
    metric_rule(Metric.FS_FULL_IN_DAYS, 7, comparison="<", clear_threshold=10)
    # /data grows 1 % of 100 GB an hour with 20 GB free: full in 20 hours
    for hour in range(4):
        fs(nas, NOW + dt.timedelta(hours=hour), 77.0 + hour, mount="/data")
        fs(nas, NOW + dt.timedelta(hours=hour), 95.0, mount="/archive")  # full but not growing
    now = NOW + dt.timedelta(hours=3)
    tick(now)
    alert = Alert.objects.get()
    assert alert.subject == "mount:/data"
    assert alert.value == pytest.approx(20 / 24, rel=0.01)
    assert "full in 0.83 days (< 7 days)" in alert.summary


def test_the_built_in_offline_rule_waits_five_minutes_and_a_quick_return_never_alerts(
    nas: Device, webhook: Channel, notify_queue: NotifyQueue,
    tick: Callable[[dt.datetime], Outcome],
) -> None:  # fmt: skip
    ensure_builtin_rules()
    AlertRule.objects.exclude(builtin_key="device-offline").update(enabled=False)
    Device.objects.filter(pk=nas.pk).update(last_seen_at=NOW, status=DeviceStatus.ONLINE)
    # a reboot: silent for 4.5 minutes, then back
    assert tick(NOW + dt.timedelta(minutes=4, seconds=30)).changed == 0
    Device.objects.filter(pk=nas.pk).update(last_seen_at=NOW + dt.timedelta(minutes=5))
    assert tick(NOW + dt.timedelta(minutes=6)).changed == 0
    # a real outage: more than 5 minutes
    fired = tick(NOW + dt.timedelta(minutes=10, seconds=30)).fired
    assert [(a.rule.builtin_key, a.severity, a.subject) for a in fired] == [
        ("device-offline", Severity.CRITICAL, "")]  # fmt: skip
    assert "nas: not heard from for 5.5 min (> 5 min)" in fired[0].summary
    assert tick(NOW + dt.timedelta(minutes=20)).changed == 0  # not repeated
    # back: resolved at the next tick
    Device.objects.filter(pk=nas.pk).update(last_seen_at=NOW + dt.timedelta(minutes=21))
    assert len(tick(NOW + dt.timedelta(minutes=21, seconds=30)).resolved) == 1
    assert reasons(notify_queue) == ["firing", "resolved"]


def run(device: Device, at: dt.datetime, error_type: str = "", **kinds: str) -> None:
    results = {k: {"status": v} for k, v in kinds.items()}
    CollectionRun.objects.create(device=device, trigger="schedule", started_at=at,
                                 error_type=error_type, kind_results=results)  # fmt: skip


def test_a_kind_failing_for_30_minutes_alerts_and_its_next_success_resolves(
    nas: Device, tick: Callable[[dt.datetime], Outcome]
) -> None:
    ensure_builtin_rules()
    AlertRule.objects.exclude(builtin_key="collection-failing").update(enabled=False)
    run(nas, NOW - dt.timedelta(minutes=40), df="ok", meminfo="ok")
    for minute in range(-35, 1, 5):
        run(nas, NOW + dt.timedelta(minutes=minute), df="error", meminfo="ok")
    # runs where the device did not answer at all are the offline rule's business
    run(nas, NOW, error_type="timeout", meminfo="error")
    # when
    fired = tick(NOW).fired
    # then
    assert [(a.subject, a.value) for a in fired] == [("kind:df", 35.0)]
    # when df works again
    run(nas, NOW + dt.timedelta(minutes=1), df="ok", meminfo="ok")
    assert [a.subject for a in tick(NOW + dt.timedelta(minutes=2)).resolved] == ["kind:df"]


def test_one_query_per_family_whatever_the_number_of_devices(
    only_rules: None, tick: Callable[[dt.datetime], Outcome]
) -> None:
    for metric, threshold in [(Metric.CPU_PCT, 90), (Metric.MEM_USED_PCT, 90),
                              (Metric.LOAD_PER_CORE, 4), (Metric.FS_USED_PCT, 90),
                              (Metric.FS_FULL_IN_DAYS, 7), (Metric.POOL_CAPACITY_PCT, 90),
                              (Metric.DRIVE_TEMPERATURE_C, 55), (Metric.CONTAINER_RESTARTS, 5),
                              (Metric.DATA_STALENESS_MINUTES, 5),
                              (Metric.COLLECTION_FAILING_MINUTES, 30)]:  # fmt: skip
        metric_rule(metric, threshold, comparison="<" if metric == Metric.FS_FULL_IN_DAYS else ">")

    def queries_with(devices: int) -> int:
        for i in range(Device.objects.count(), devices):
            device = Device.objects.create(name=f"d{i}", address="127.0.0.1",
                                           last_seen_at=timezone.now())  # fmt: skip
            fs(device, NOW, 10.0)
            SystemSample.objects.create(device=device, collected_at=NOW, cpu_pct=1.0)
            Container.objects.create(device=device, name="web", container_id="c", image="i",
                                     state="running", restart_count=0, first_seen_at=NOW,
                                     last_seen_at=NOW)  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            tick(NOW)
        return len(queries)

    few = queries_with(1)
    assert queries_with(8) == few
    assert few <= 15


def test_migrate_schedules_the_metric_tick_and_creates_the_metric_built_ins() -> None:
    from django_celery_beat.models import PeriodicTask

    from infrastructor.celery import app

    task = PeriodicTask.objects.get(name="Alerts: evaluate metric rules")
    assert task.task == "collectors.evaluate_metric_alerts" in app.tasks
    assert task.interval is not None and task.interval.every == 60
    built_in = {r.builtin_key: r for r in AlertRule.objects.filter(rule_type=RuleType.METRIC)}
    assert {k: (r.metric, r.comparison, r.threshold, r.clear_at, r.for_minutes)
            for k, r in built_in.items()} == {
        "device-offline": (Metric.DATA_STALENESS_MINUTES, ">", 5.0, 5.0, 0),
        "filesystem-full": (Metric.FS_USED_PCT, ">", 90.0, 85.0, 5),
        "filesystem-filling": (Metric.FS_FULL_IN_DAYS, "<", 7.0, 10.0, 0),
        "collection-failing": (Metric.COLLECTION_FAILING_MINUTES, ">", 30.0, 30.0, 0),
    }  # fmt: skip
