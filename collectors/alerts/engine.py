"""Events in, alerts out: the one place that decides when an alert opens, repeats, resolves and
whether anybody is told.

`record_event` hands every stored event here after its transaction commits; metric rules come
from a beat task (`collectors.alerts.metrics`) that calls `fire` and `resolve` the same way;
reminders and the end of quiet hours come from another. All only decide and record: delivery is
a Celery task per alert and channel, enqueued after this module's own transaction commits, so a
dead channel never slows collection.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
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
    AttemptStatus,
    Channel,
    NotificationAttempt,
    NotificationReason,
    RuleType,
    Silence,
    severity_rank,
    subject_of,
)
from collectors.models import Event, Severity
from collectors.stream import topics as stream_topics
from collectors.stream.publish import publish_on_commit
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
    for rule in AlertRule.objects.filter(enabled=True, rule_type=RuleType.EVENT):
        if not rule.covers(event.device):
            continue
        # Firing is checked first: a rule may fire on a dirty scrub.finished and be resolved
        # by a clean one (same type, lower severity).
        if rule.fires_on(event):
            touched.append(
                fire(rule, event.device, subject, severity=event.severity,
                     summary=event.summary, now=now, event=event)
            )  # fmt: skip
        elif rule.resolved_by(event) and (
            alert := resolve(rule, event.device, subject, now=now, event=event)
        ):
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


def fire(
    rule: AlertRule, device: Device | None, subject: str, *, severity: str, summary: str,
    now: dt.datetime, event: Event | None = None, value: float | None = None,
) -> Alert:  # fmt: skip
    """Open (or bump, or reopen after a flap) the alert of this rule, device and subject, and
    tell the channels when that is news."""
    args = (rule, device, subject, severity, summary[:500], now, event, value)
    try:
        with transaction.atomic():
            return _fire_locked(*args)
    except IntegrityError:
        # Another worker opened the same alert between our read and our insert: bump theirs.
        with transaction.atomic():
            return _fire_locked(*args)


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


def _fire_locked(
    rule: AlertRule, device: Device | None, subject: str, severity: str, summary: str,
    now: dt.datetime, event: Event | None, value: float | None,
) -> Alert:  # fmt: skip
    muted = is_muted(rule, device, now)
    alerts = Alert.objects.for_subject(rule, device, subject).select_for_update()
    alert = alerts.open().first()
    escalated = False
    news = alert is None  # opened or reopened: worth a live message; a repeat firing is not
    if alert is None:
        # A flap (the condition came back within the repeat interval) reopens the same alert
        # rather than opening another one.
        alert = _recently_resolved(rule, device, subject, now)
        if alert is not None:
            alert.state, alert.resolved_at = AlertState.FIRING, None
            alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_note = None, None, ""
            alert.occurrences, alert.severity = alert.occurrences + 1, severity
        else:
            alert = Alert(rule=rule, device=device, subject=subject, first_fired_at=now,
                          severity=severity)  # fmt: skip
    else:
        alert.occurrences += 1
        escalated = severity_rank(severity) > severity_rank(alert.severity)
    if escalated:
        alert.severity = severity
    reason = _reason(alert, rule, now, muted=muted, escalated=escalated)
    alert.summary, alert.last_fired_at, alert.value = summary, now, value
    if event is not None:
        alert.last_event = event
    alert.silenced = muted
    if reason is not None:
        alert.last_notified_at, alert.notified_firing = now, True
    alert.save()
    if reason is not None:
        notify(alert, reason)
    if news or escalated:
        publish_alert(alert)
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


def resolve(
    rule: AlertRule, device: Device | None, subject: str, *, now: dt.datetime,
    event: Event | None = None, value: float | None = None, summary: str = "",
) -> Alert | None:  # fmt: skip
    """Resolve the open alert of this rule, device and subject, if any; its channels hear it
    when they heard it fire."""
    with transaction.atomic():
        alert = Alert.objects.open().for_subject(rule, device, subject).select_for_update().first()
        if alert is None:
            return None
        alert.state, alert.resolved_at = AlertState.RESOLVED, now
        if event is not None:
            alert.last_event = event
        if value is not None:
            alert.value = value
        if summary:
            alert.summary = summary[:500]
        # Only a notified condition gets a "resolved" message; a muted one stays quiet.
        tell = alert.notified_firing and not is_muted(rule, device, now)
        alert.notified_firing = False
        if tell:
            alert.last_notified_at = now
        alert.save()
        if tell:
            notify(alert, NotificationReason.RESOLVED)
        publish_alert(alert)
        return alert


def channels_for(rule: AlertRule) -> list[Channel]:
    """The rule's own enabled channels, or every enabled default channel if it names none."""
    own = list(rule.channels.all())
    if own:
        return [c for c in own if c.enabled]
    return list(Channel.objects.filter(enabled=True, is_default=True))


def notify(alert: Alert, reason: str, now: dt.datetime | None = None) -> None:
    """One delivery task per channel, enqueued when the current transaction commits; a channel
    in its quiet hours gets a deferred record instead (critical alerts bypass them unless the
    channel says otherwise), sent by the reminder tick once they are over."""
    from collectors.alerts.tasks import enqueue_notification

    now = now or timezone.now()
    critical = alert.severity == Severity.CRITICAL
    for channel in channels_for(alert.rule):
        until = channel.quiet_until(now)
        if until is not None and not (critical and channel.critical_bypasses):
            NotificationAttempt.objects.create(
                alert=alert, channel=channel, reason=reason, attempt=0,
                status=AttemptStatus.DEFERRED, at=now, deferred_until=until,
            )  # fmt: skip
            continue
        transaction.on_commit(partial(enqueue_notification, alert.pk, channel.pk, reason))


def release_deferred(now: dt.datetime | None = None) -> int:
    """Send what quiet hours held back, once they are over: per alert and channel only the
    newest notification (the night's story is its end), and no "resolved" for a firing the
    channel never heard. Returns how many were sent."""
    from collectors.alerts.tasks import enqueue_notification

    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        waiting = (
            NotificationAttempt.objects.filter(
                status=AttemptStatus.DEFERRED, released_at__isnull=True
            )
            .select_related("channel", "alert")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("at", "id")
        )
        newest: dict[tuple[int | None, int], NotificationAttempt] = {}
        due: list[int] = []
        for deferred in waiting:
            if deferred.channel.quiet_at(now):
                continue  # still quiet (or the window was made longer): wait
            newest[(deferred.alert_id, deferred.channel_id)] = deferred
            due.append(deferred.pk)
        if not due:
            return 0
        for (alert_id, channel_id), deferred in newest.items():
            heard = NotificationAttempt.objects.filter(
                alert=deferred.alert, channel_id=channel_id, status=AttemptStatus.OK
            ).exists()
            if deferred.reason == NotificationReason.RESOLVED and not heard:
                continue
            transaction.on_commit(
                partial(enqueue_notification, alert_id, channel_id, deferred.reason)
            )
            sent += 1
        NotificationAttempt.objects.filter(pk__in=due).update(released_at=now)
    return sent


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
                notify(alert, reason, now)
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
        publish_alert(alert)
    return changed == 1


def silence_alerts(
    alerts: Iterable[Alert], *, user: AbstractBaseUser | AnonymousUser | None,
    until: dt.datetime, reason: str, now: dt.datetime | None = None,
) -> list[Silence]:  # fmt: skip
    """One silence per rule and device of these alerts (a silence cannot name a subject: it
    mutes that rule on that device; the rule alone for an alert without a device), until
    `until`, with a reason and who asked. Their open alerts are marked silenced at once; they
    keep being recorded, only notifications stop."""
    now = now or timezone.now()
    if until <= now:
        raise ValueError("A silence must end in the future.")
    who = user.pk if user is not None and user.is_authenticated else None
    subjects = {(a.rule_id, a.device_id): a for a in alerts}
    made: list[Silence] = []
    with transaction.atomic():
        for (rule_id, device_id), alert in subjects.items():
            made.append(Silence.objects.create(
                rule_id=rule_id, device_id=device_id, until=until, reason=reason[:500],
                created_by_id=who,
            ))  # fmt: skip
            Alert.objects.open().filter(rule_id=rule_id, device=device_id).update(silenced=True)
            log.info("alerts of rule %s on device %s silenced until %s by %s: %s",
                     alert.rule_id, device_id, until.isoformat(), user, reason)  # fmt: skip
    return made


def publish_alert(alert: Alert) -> None:
    """Tell live clients (topic `alerts`) that an alert opened, got worse, was acknowledged or
    resolved, once the transaction commits."""
    data = {
        "id": alert.pk, "rule": alert.rule_id, "rule_name": alert.rule.name,
        "device": alert.device_id, "device_name": alert.device.name if alert.device else None,
        "subject": alert.subject, "state": alert.state, "severity": alert.severity,
        "summary": alert.summary, "value": alert.value, "occurrences": alert.occurrences,
        "first_fired_at": alert.first_fired_at.isoformat(),
        "last_fired_at": alert.last_fired_at.isoformat() if alert.last_fired_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }  # fmt: skip
    publish_on_commit([stream_topics.ALERTS], "alert", data)
