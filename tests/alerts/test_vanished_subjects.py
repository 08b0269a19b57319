"""Metric alerts whose subject is gone resolve and say why: a removed pool, container or drive
(even the device's only one, when the device no longer reports that family at all) and a
filesystem missing from the newest df; while a device that merely went quiet keeps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from collectors.alerts.metrics import Outcome, evaluate_metric_rules
from collectors.alerts.models import Alert, AlertRule, AlertState, Metric, RuleType
from containers.models import Container
from devices.models import Device, Drive, DriveSample, FilesystemSample
from zfs.models import Pool, PoolSample

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
POLL = dt.timedelta(seconds=30)
GB = 1024**3
SEEN = {"first_seen_at": NOW, "last_seen_at": NOW}


@pytest.fixture
def tick(django_capture_on_commit_callbacks: Any) -> Callable[[dt.datetime], Outcome]:
    def run(now: dt.datetime) -> Outcome:
        with django_capture_on_commit_callbacks(execute=True):
            return evaluate_metric_rules(now)

    return run


def metric_rule(metric: str, threshold: float, **fields: Any) -> AlertRule:
    return AlertRule.objects.create(name=f"{metric} {threshold}", rule_type=RuleType.METRIC,
                                    metric=metric, threshold=threshold, **fields)  # fmt: skip


def fs(device: Device, at: dt.datetime, pct: float, mount: str) -> None:
    size = 100 * GB
    used = int(size * pct / 100)
    FilesystemSample.objects.create(
        device=device, collected_at=at, mountpoint=mount, filesystem="/dev/sdb1", fs_type="ext4",
        size_bytes=size, used_bytes=used, available_bytes=size - used, used_pct=pct,
    )  # fmt: skip


def full_pool(device: Device) -> tuple[AlertRule, str, Callable[[dt.datetime], object]]:
    rule = metric_rule(Metric.POOL_CAPACITY_PCT, 90)
    pool = Pool.objects.create(device=device, name="tank", state="ONLINE", **SEEN)
    PoolSample.objects.create(pool=pool, collected_at=NOW, state="ONLINE", capacity_pct=93.0)
    # what zfs's store does with a pool zpool no longer lists (exported, destroyed)
    return rule, "pool tank was removed", lambda at: Pool.objects.update(removed_at=at)


def restarting_container(device: Device) -> tuple[AlertRule, str, Callable[[dt.datetime], object]]:
    rule = metric_rule(Metric.CONTAINER_RESTARTS, 3, clear_threshold=0)
    web = Container.objects.create(device=device, name="web", container_id="c1", image="nginx",
                                   state="restarting", restart_count=0, **SEEN)  # fmt: skip
    evaluate_metric_rules(NOW - dt.timedelta(minutes=5))  # the count's baseline
    Container.objects.filter(pk=web.pk).update(restart_count=6)
    return (
        rule,
        "container web was removed",
        lambda at: Container.objects.update(removed_at=at, state="removed"),
    )


def hot_drive(device: Device) -> tuple[AlertRule, str, Callable[[dt.datetime], object]]:
    rule = metric_rule(Metric.DRIVE_TEMPERATURE_C, 55)
    drive = Drive.objects.create(device=device, identity="nas:WD1", serial="WD1", slot="/dev/sda",
                                 **SEEN)  # fmt: skip
    DriveSample.objects.create(drive=drive, collected_at=NOW, temperature_c=61)
    return rule, "drive WD1 was removed", lambda at: Drive.objects.update(removed_at=at)


@pytest.mark.parametrize("subject", [full_pool, restarting_container, hot_drive])
def test_a_removed_subject_that_was_the_devices_only_one_resolves_its_alert_and_says_why(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome],
    subject: Callable[[Device], tuple[AlertRule, str, Callable[[dt.datetime], object]]],
) -> None:  # fmt: skip
    # given an alert about the device's only pool, container or drive
    rule, why, remove = subject(nas)
    assert len(tick(NOW).fired) == 1
    # when nothing new comes for a while, the device is quiet: we do not know, it stays
    assert tick(NOW + dt.timedelta(minutes=30)).changed == 0
    assert Alert.objects.get().state == AlertState.FIRING
    # when the device's next poll no longer finds it
    gone_at = NOW + dt.timedelta(minutes=31)
    remove(gone_at)
    outcome = tick(gone_at + POLL)
    # then its alert resolves, saying why
    (alert,) = outcome.resolved
    assert (alert.rule, alert.state) == (rule, AlertState.RESOLVED)
    assert alert.summary.startswith(f"nas: resolved, {why} (")
    assert "2026-11-25 12:31 UTC" in alert.summary
    # and it stays resolved
    assert tick(gone_at + 2 * POLL).changed == 0


def test_a_filesystem_missing_from_the_next_df_resolves_at_once(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome]
) -> None:
    # given a full USB disk (its samples of the last minutes still in the rule's window)
    metric_rule(Metric.FS_USED_PCT, 90)
    fs(nas, NOW, 99.0, "/mnt/usb")
    fs(nas, NOW, 10.0, "/")
    assert len(tick(NOW).fired) == 1
    # when the next df lists / only: it was unmounted
    fs(nas, NOW + POLL, 10.0, "/")
    outcome = tick(NOW + POLL)
    # then its alert resolves at that poll, not once its old samples age out of the window
    (alert,) = outcome.resolved
    assert alert.subject == "mount:/mnt/usb"
    assert alert.summary == (
        "nas: resolved, filesystem /mnt/usb is no longer mounted (not in df since 2026-11-25 "
        "12:00 UTC)"
    )
    # and when it is mounted again, still full, it fires again
    fs(nas, NOW + 2 * POLL, 99.0, "/mnt/usb")
    fs(nas, NOW + 2 * POLL, 10.0, "/")
    assert len(tick(NOW + 2 * POLL).fired) == 1


def test_a_filling_filesystem_that_is_unmounted_stops_being_forecast(
    nas: Device, only_rules: None, tick: Callable[[dt.datetime], Outcome]
) -> None:
    # given /data filling 1 % an hour with 20 % left: full within a day
    metric_rule(Metric.FS_FULL_IN_DAYS, 7, comparison="<", clear_threshold=10)
    for hour in range(4):
        at = NOW + dt.timedelta(hours=hour)
        fs(nas, at, 77.0 + hour, "/data")
        fs(nas, at, 10.0, "/")
    last = NOW + dt.timedelta(hours=3)
    assert len(tick(last).fired) == 1
    # when the next df has no /data
    fs(nas, last + POLL, 10.0, "/")
    (alert,) = tick(last + POLL).resolved
    # then
    assert "filesystem /data is no longer mounted" in alert.summary
