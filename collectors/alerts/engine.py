"""Events in, alerts out: the one place that decides when an alert opens, repeats, resolves and
whether anybody is told.

`record_event` hands every stored event here after its transaction commits; reminders come from
a beat task. Both only decide and record: delivery is a Celery task per alert and channel,
enqueued after this module's own transaction commits, so a dead channel never slows collection.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from collectors.alerts.models import (
    Alert,
    AlertRule,
    AlertState,
    Channel,
    NotificationReason,
    Silence,
    severity_rank,
    subject_of,
)
from collectors.models import Event
from devices.models import Device, DeviceStatus

log = logging.getLogger(__name__)


def event_recorded(event: Event) -> None:
    """Hook of `record_event`: evaluate once the event is committed (never for a rolled back
    one). `robust`: an error here is logged and never reaches the collection that stored it."""
    transaction.on_commit(partial(evaluate_event, event.pk), robust=True)


def evaluate_event(event_id: int, now: dt.datetime | None = None) -> list[Alert]:
    """Open, bump or resolve the alerts of every enabled rule this event concerns."""
    event = Event.objects.select_related("device").filter(pk=event_id).first()
    if event is None:
        return []
    now = now or timezone.now()
    subject = subject_of(event)
    touched: list[Alert] = []
    for rule in AlertRule.objects.filter(enabled=True):
        if not rule.covers(event.device):
            continue
        # Firing is checked first: a rule may fire on a dirty scrub.finished and be resolved
        # by a clean one (same type, lower severity).
        if rule.fires_on(event):
            touched.append(_fire(rule, event, subject, now))
        elif rule.resolved_by(event) and (alert := _resolve(rule, event, subject, now)):
            touched.append(alert)
    return touched


def is_muted(rule: AlertRule, device: Device | None, now: dt.datetime | None = None) -> bool:
    """A device in maintenance (or not monitored) and active silences mute notifications."""
    if device is not None and (device.status == DeviceStatus.MAINTENANCE or not device.enabled):
        return True
    silences = Silence.objects.active(now).filter(Q(rule__isnull=True) | Q(rule=rule))
    return any(s.matches(rule, device) for s in silences)


def _due(alert: Alert, rule: AlertRule, now: dt.datetime) -> bool:
    interval = rule.repeat_interval
    if interval is None or alert.last_notified_at is None:
        return False
    return now - alert.last_notified_at >= interval


def _fire(rule: AlertRule, event: Event, subject: str, now: dt.datetime) -> Alert:
    try:
        with transaction.atomic():
            return _fire_locked(rule, event, subject, now)
    except IntegrityError:
        # Another worker opened the same alert between our read and our insert: bump theirs.
        with transaction.atomic():
            return _fire_locked(rule, event, subject, now)


def _reason(
    alert: Alert, rule: AlertRule, now: dt.datetime, *, muted: bool, escalated: bool = False
) -> str | None:
    """Whether an open alert is news now. Never while muted or acknowledged; at once when never
    told (new, or it fired while muted) or when it got worse; else once the repeat interval
    since the last message has passed (a reopened flap is told as firing again, a long-running
    condition as a reminder)."""
    if muted or alert.state != AlertState.FIRING:
        return None
    if alert.last_notified_at is None or escalated:
        return NotificationReason.FIRING
    if not _due(alert, rule, now):
        return None
    return NotificationReason.REPEAT if alert.notified_firing else NotificationReason.FIRING


def _fire_locked(rule: AlertRule, event: Event, subject: str, now: dt.datetime) -> Alert:
    device = event.device
    muted = is_muted(rule, device, now)
    alerts = Alert.objects.for_subject(rule, device, subject).select_for_update()
    alert = alerts.open().first()
    escalated = False
    if alert is None:
        # A flap (the condition came back within the repeat interval) reopens the same alert
        # rather than opening another one.
        alert = _recently_resolved(rule, device, subject, now)
        if alert is not None:
            alert.state, alert.resolved_at = AlertState.FIRING, None
            alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_note = None, None, ""
            alert.occurrences, alert.severity = alert.occurrences + 1, event.severity
        else:
            alert = Alert(rule=rule, device=device, subject=subject, first_fired_at=now,
                          severity=event.severity)  # fmt: skip
    else:
        alert.occurrences += 1
        escalated = severity_rank(event.severity) > severity_rank(alert.severity)
    if escalated:
        alert.severity = event.severity
    reason = _reason(alert, rule, now, muted=muted, escalated=escalated)
    alert.summary, alert.last_event, alert.last_fired_at = event.summary, event, now
    alert.silenced = muted
    if reason is not None:
        alert.last_notified_at, alert.notified_firing = now, True
    alert.save()
    if reason is not None:
        notify(alert, reason)
    return alert


def _recently_resolved(
    rule: AlertRule, device: Device | None, subject: str, now: dt.datetime
) -> Alert | None:
    interval = rule.repeat_interval
    if interval is None:
        return None
    return (
        Alert.objects.for_subject(rule, device, subject)
        .filter(state=AlertState.RESOLVED, resolved_at__gte=now - interval)
        .select_for_update()
        .order_by("-resolved_at")
        .first()
    )


def _resolve(rule: AlertRule, event: Event, subject: str, now: dt.datetime) -> Alert | None:
    with transaction.atomic():
        alert = (
            Alert.objects.open()
            .for_subject(rule, event.device, subject)
            .select_for_update()
            .first()
        )
        if alert is None:
            return None
        alert.state, alert.resolved_at, alert.last_event = AlertState.RESOLVED, now, event
        # Only a notified condition gets a "resolved" message; a muted one stays quiet.
        tell = alert.notified_firing and not is_muted(rule, event.device, now)
        alert.notified_firing = False
        if tell:
            alert.last_notified_at = now
        alert.save()
        if tell:
            notify(alert, NotificationReason.RESOLVED)
        return alert


def channels_for(rule: AlertRule) -> list[Channel]:
    """The rule's own enabled channels, or every enabled default channel if it names none."""
    own = list(rule.channels.all())
    if own:
        return [c for c in own if c.enabled]
    return list(Channel.objects.filter(enabled=True, is_default=True))


def notify(alert: Alert, reason: str) -> None:
    """One delivery task per channel, enqueued when the current transaction commits."""
    from collectors.alerts.tasks import enqueue_notification

    for channel in channels_for(alert.rule):
        transaction.on_commit(partial(enqueue_notification, alert.pk, channel.pk, reason))


def send_reminders(now: dt.datetime | None = None) -> int:
    """Beat's tick: remind about alerts still firing and unacknowledged once their repeat
    interval passed, and speak up for alerts that fired while muted once the mute is over.
    Returns how many alerts were notified."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        # skip_locked: an evaluation holding an alert decides about it; two ticks never both send.
        firing = (
            Alert.objects.filter(state=AlertState.FIRING)
            .select_related("rule", "device")
            .select_for_update(skip_locked=True, of=("self",))
        )
        for alert in firing:
            muted = is_muted(alert.rule, alert.device, now)
            reason = _reason(alert, alert.rule, now, muted=muted)
            alert.silenced = muted
            if reason is not None:
                alert.last_notified_at, alert.notified_firing = now, True
                notify(alert, reason)
                sent += 1
            alert.save(update_fields=["silenced", "last_notified_at", "notified_firing"])
    return sent


def acknowledge_alert(
    alert: Alert, *, user: AbstractBaseUser | AnonymousUser | None, note: str = ""
) -> bool:
    """Firing → acknowledged: no more reminders. False when it was not firing any more."""
    changed = Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING).update(
        state=AlertState.ACKNOWLEDGED,
        acknowledged_by=user if user is not None and user.is_authenticated else None,
        acknowledged_at=timezone.now(),
        acknowledge_note=note[:2000],
    )
    alert.refresh_from_db()
    if changed:
        log.info("alert %s acknowledged by %s", alert.pk, user)
    return changed == 1
