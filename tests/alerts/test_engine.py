"""The engine on real events: one alert per rule, device and subject, one notification while it
fires, a reminder only after the repeat interval, resolution by the recovery event, and quiet
while silenced or in maintenance. Notifications are read from the Celery queue they go to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from collectors.alerts.builtin import BUILTIN_RULES, ensure_builtin_rules
from collectors.alerts.engine import acknowledge_alert, send_reminders
from collectors.alerts.models import Alert, AlertRule, AlertState, Channel, Silence
from collectors.events import record_event
from collectors.models import Event, EventKind, Severity
from devices.models import Device, DeviceStatus
from tests.alerts.conftest import NotifyQueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def raise_event(
    django_capture_on_commit_callbacks: Any,
) -> Callable[..., Event]:
    """Record an event the way the stores do, and let its transaction commit."""

    def raise_(device: Device | None, type_: str, severity: str = Severity.WARNING,
               kind: str = EventKind.ZFS, **data: Any) -> Event:  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            return record_event(device=device, kind=kind, type=type_, severity=severity,
                                summary=f"{type_} {data}", data=data)  # fmt: skip

    return raise_


@pytest.fixture
def remind(django_capture_on_commit_callbacks: Any) -> Callable[..., int]:
    """Beat's reminder tick, committed."""

    def tick(now: dt.datetime | None = None) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_reminders(now)

    return tick


def test_a_matching_event_opens_one_alert_and_queues_one_notification_per_channel(
    nas: Device, pool_rule: AlertRule, webhook: Channel, ntfy: Channel,
    notify_queue: NotifyQueue, raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    # when
    event = raise_event(nas, "pool.degraded", pool="tank", state="DEGRADED")
    # then
    alert = Alert.objects.get()
    assert (alert.rule, alert.device, alert.subject, alert.state) == (
        pool_rule, nas, "pool:tank", AlertState.FIRING)  # fmt: skip
    assert alert.occurrences == 1 and alert.last_event == event and not alert.silenced
    assert sorted(notify_queue.take()) == sorted(
        [(alert.pk, webhook.pk, "firing"), (alert.pk, ntfy.pk, "firing")]
    )


def test_more_events_while_firing_only_bump_the_alert_until_the_repeat_interval_passed(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    raise_event(nas, "pool.degraded", pool="tank")
    assert len(notify_queue.take()) == 1
    # when the same condition is seen again and again
    for _ in range(3):
        raise_event(nas, "pool.degraded", pool="tank")
    # then one alert, counted, and nothing more sent
    alert = Alert.objects.get()
    assert alert.occurrences == 4
    assert notify_queue.take() == []
    # and when the repeat interval has passed, the next one is a reminder
    Alert.objects.update(last_notified_at=timezone.now() - dt.timedelta(minutes=61))
    raise_event(nas, "pool.degraded", pool="tank")
    assert notify_queue.take() == [(alert.pk, webhook.pk, "repeat")]


def test_another_subject_or_device_is_another_alert(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    other = Device.objects.create(name="backup", address="127.0.0.2")
    raise_event(nas, "pool.degraded", pool="tank")
    raise_event(nas, "pool.degraded", pool="backup")
    raise_event(other, "pool.degraded", pool="tank")
    assert Alert.objects.count() == 3
    assert len(notify_queue.take()) == 3


def test_a_worse_state_of_the_same_pool_is_told_at_once(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    raise_event(nas, "pool.degraded", pool="tank")
    raise_event(nas, "pool.faulted", Severity.CRITICAL, pool="tank")
    alert = Alert.objects.get()
    assert alert.severity == Severity.CRITICAL
    assert [reason for *_, reason in notify_queue.take()] == ["firing", "firing"]


def test_the_recovery_event_resolves_the_alert_and_says_so(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    raise_event(nas, "pool.degraded", pool="tank")
    raise_event(nas, "pool.recovered", Severity.INFO, pool="other")  # another pool: nothing
    assert Alert.objects.get().state == AlertState.FIRING
    # when
    raise_event(nas, "pool.recovered", Severity.INFO, pool="tank")
    # then
    alert = Alert.objects.get()
    assert alert.state == AlertState.RESOLVED and alert.resolved_at is not None
    assert [reason for *_, reason in notify_queue.take()] == ["firing", "resolved"]


def test_a_flapping_condition_reopens_the_same_alert_without_a_new_message(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    for _ in range(5):
        raise_event(nas, "pool.degraded", pool="tank")
        raise_event(nas, "pool.recovered", Severity.INFO, pool="tank")
    alert = Alert.objects.get()
    assert alert.occurrences == 5 and alert.state == AlertState.RESOLVED
    # the first firing and its resolution; the flaps after it are recorded, not sent
    assert [reason for *_, reason in notify_queue.take()] == ["firing", "resolved"]


def test_a_silenced_alert_is_recorded_but_not_sent_nor_its_resolution(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    Silence.objects.create(tag="storage", until=timezone.now() + dt.timedelta(hours=1),
                           reason="disk swap")  # fmt: skip
    raise_event(nas, "pool.degraded", pool="tank")
    alert = Alert.objects.get()
    assert alert.silenced and alert.state == AlertState.FIRING
    raise_event(nas, "pool.recovered", Severity.INFO, pool="tank")
    assert Alert.objects.get().state == AlertState.RESOLVED
    assert notify_queue.take() == []


def test_an_expired_silence_or_another_rules_silence_mutes_nothing(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    other = AlertRule.objects.create(name="other", event_types=["x"])
    Silence.objects.create(device=nas, until=timezone.now() - dt.timedelta(minutes=1), reason="-")
    Silence.objects.create(rule=other, until=timezone.now() + dt.timedelta(hours=1), reason="-")
    raise_event(nas, "pool.degraded", pool="tank")
    assert not Alert.objects.get().silenced
    assert len(notify_queue.take()) == 1


def test_a_device_in_maintenance_stays_quiet_and_speaks_up_when_it_is_over(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event], remind: Callable[..., int],
) -> None:  # fmt: skip
    Device.objects.filter(pk=nas.pk).update(status=DeviceStatus.MAINTENANCE)
    nas.refresh_from_db()
    raise_event(nas, "pool.degraded", pool="tank")
    alert = Alert.objects.get()
    assert alert.silenced
    assert remind() == 0
    assert notify_queue.take() == []
    # when maintenance ends and the pool is still degraded, the next reminder tick tells
    Device.objects.filter(pk=nas.pk).update(status=DeviceStatus.ONLINE)
    assert remind() == 1
    assert notify_queue.take() == [(alert.pk, webhook.pk, "firing")]
    assert not Alert.objects.get().silenced


def test_reminders_repeat_after_the_interval_and_stop_once_acknowledged(
    nas: Device, pool_rule: AlertRule, webhook: Channel, notify_queue: NotifyQueue,
    raise_event: Callable[..., Event], operator_user: Any, remind: Callable[..., int],
) -> None:  # fmt: skip
    raise_event(nas, "pool.degraded", pool="tank")
    notify_queue.take()
    alert = Alert.objects.get()
    assert remind() == 0  # too soon
    later = timezone.now() + dt.timedelta(minutes=61)
    assert remind(later) == 1
    assert notify_queue.take() == [(alert.pk, webhook.pk, "repeat")]
    # when someone takes it
    assert acknowledge_alert(alert, user=operator_user, note="replacing the disk")
    assert not acknowledge_alert(alert, user=operator_user)  # only a firing alert
    # then no more reminders, however long it lasts
    assert remind(later + dt.timedelta(days=1)) == 0
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == operator_user
    assert alert.acknowledge_note == "replacing the disk"


def test_a_rule_with_channels_of_its_own_uses_only_those(
    nas: Device, pool_rule: AlertRule, webhook: Channel, ntfy: Channel,
    notify_queue: NotifyQueue, raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    pool_rule.channels.set([ntfy])
    raise_event(nas, "pool.degraded", pool="tank")
    assert [channel for _, channel, _ in notify_queue.take()] == [ntfy.pk]


def test_an_event_rolled_back_raises_no_alert(
    nas: Device, pool_rule: AlertRule, django_capture_on_commit_callbacks: Any
) -> None:
    # when the store's transaction fails after recording the event
    with (
        django_capture_on_commit_callbacks(execute=True),
        suppress(RuntimeError),
        transaction.atomic(),
    ):
        record_event(device=nas, kind=EventKind.ZFS, type="pool.degraded",
                     severity=Severity.WARNING, summary="x", data={"pool": "tank"})  # fmt: skip
        raise RuntimeError("the store failed")
    # then neither the event nor an alert exists
    assert not Event.objects.exists()
    assert not Alert.objects.exists()


def test_built_in_rules_are_created_once_and_cover_the_usual_failures(
    nas: Device, webhook: Channel, notify_queue: NotifyQueue, raise_event: Callable[..., Event],
) -> None:  # fmt: skip
    # given whatever migrate created, plus a second run
    ensure_builtin_rules()
    assert ensure_builtin_rules() == 0
    assert AlertRule.objects.filter(builtin_key__isnull=False).count() == len(BUILTIN_RULES)
    # when the events the stores raise arrive
    raise_event(nas, "device.offline", Severity.CRITICAL, EventKind.DEVICE, error_type="timeout")
    raise_event(nas, "drive.warning", Severity.WARNING, EventKind.DRIVE, drive=3, serial="WD1")
    raise_event(nas, "container.stopped", Severity.WARNING, EventKind.CONTAINER,
                container="db", exit_code=137)  # fmt: skip
    raise_event(nas, "container.stopped", Severity.INFO, EventKind.CONTAINER,
                container="job", exit_code=0)  # a clean stop is not an alert  # fmt: skip
    raise_event(nas, "scrub.finished", Severity.WARNING, pool="tank", errors=2)
    raise_event(nas, "scrub.finished", Severity.INFO, pool="tank", errors=0)
    # then (device.offline alone alerts nobody: "Device offline" is a 5-minute metric rule)
    by_rule = {a.rule.builtin_key: a for a in Alert.objects.select_related("rule")}
    assert set(by_rule) == {"drive-failing", "container-stopped", "scrub-errors"}
    assert by_rule["scrub-errors"].state == AlertState.RESOLVED  # the clean scrub resolved it
    assert by_rule["drive-failing"].subject == "serial:WD1"
    # and they resolve on the way back
    raise_event(nas, "device.online", Severity.INFO, EventKind.DEVICE)
    raise_event(nas, "drive.recovered", Severity.INFO, EventKind.DRIVE, drive=3, serial="WD1")
    raise_event(nas, "container.started", Severity.INFO, EventKind.CONTAINER, container="db")
    assert not Alert.objects.open().exists()
