"""Alerts built on the event timeline: rules, the alerts they open, silences, notification
channels and the record of every delivery attempt.

Imported by `collectors.models` (Django finds an app's models there), so this module must only
import from `collectors.models` names that are defined before its last lines.
"""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from collectors.models import Event, EventKind, Severity

if TYPE_CHECKING:
    from devices.models import Device

SEVERITY_ORDER = [Severity.INFO, Severity.WARNING, Severity.CRITICAL]
# Where an event names the thing it is about, in order of preference. Drives: the serial (the
# same disk in another slot is the same subject), else the drive's row id.
SUBJECT_FIELDS = ("pool", "container", "serial", "drive", "dataset", "path")


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(Severity(severity)) if severity in Severity.values else 0


def subject_of(event: Event) -> str:
    """The key that, with rule and device, identifies one alert: a pool, a container, a drive."""
    data = event.data if isinstance(event.data, dict) else {}
    for field in SUBJECT_FIELDS:
        value = data.get(field)
        if value not in (None, ""):
            return f"{field}:{value}"[:200]
    return ""


class AlertRule(models.Model):
    """Which events open an alert (kind, type patterns, at least a severity, optionally only on
    one device, tag or site), which events resolve it, how often to remind, and where to send."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    event_kind = models.CharField(
        max_length=16, choices=EventKind.choices, blank=True, help_text="Empty: any kind."
    )
    event_types = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        help_text="Event types that fire it (shell patterns such as pool.* work). Empty: any.",
    )
    min_severity = models.CharField(
        max_length=8, choices=Severity.choices, default=Severity.WARNING
    )
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tag = models.CharField(max_length=40, blank=True, help_text="Only devices with this tag.")
    site = models.CharField(max_length=63, blank=True, help_text="Only devices of this site.")
    resolve_on = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        help_text="Event types that resolve an open alert of this rule for the same subject.",
    )
    repeat_minutes = models.PositiveIntegerField(
        default=240, help_text="Remind while firing and unacknowledged; 0: never."
    )
    channels = models.ManyToManyField(
        "collectors.Channel",
        blank=True,
        related_name="rules",
        help_text="Empty: every enabled channel marked 'default'.",
    )
    builtin_key = models.SlugField(
        max_length=64, unique=True, null=True, blank=True, editable=False,
        help_text="Set on the built-in rules created on first start.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def repeat_interval(self) -> dt.timedelta | None:
        return dt.timedelta(minutes=self.repeat_minutes) if self.repeat_minutes else None

    def covers(self, device: Device | None) -> bool:
        """The device filters: a rule limited to a device, tag or site ignores other devices
        (and events without a device)."""
        if not (self.device_id or self.tag or self.site):
            return True
        if device is None:
            return False
        if self.device_id and device.pk != self.device_id:
            return False
        if self.tag and self.tag not in (device.tags or []):
            return False
        return not (self.site and device.site != self.site)

    def fires_on(self, event: Event) -> bool:
        if self.event_kind and event.kind != self.event_kind:
            return False
        if self.event_types and not any(fnmatchcase(event.type, p) for p in self.event_types):
            return False
        return severity_rank(event.severity) >= severity_rank(self.min_severity)

    def resolved_by(self, event: Event) -> bool:
        return any(fnmatchcase(event.type, pattern) for pattern in self.resolve_on)


class AlertState(models.TextChoices):
    FIRING = "firing", "Firing"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN_STATES = [AlertState.FIRING, AlertState.ACKNOWLEDGED]


class AlertQuerySet(models.QuerySet["Alert"]):
    def open(self) -> AlertQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def for_subject(self, rule: AlertRule, device: Device | None, subject: str) -> AlertQuerySet:
        return self.filter(rule=rule, device=device, subject=subject)


class Alert(models.Model):
    """One condition of one rule on one device and subject, from first firing to resolution.
    More matching events while it is open only bump `occurrences`."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    subject = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.FIRING)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    summary = models.CharField(max_length=500)
    first_fired_at = models.DateTimeField()
    last_fired_at = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    last_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    silenced = models.BooleanField(
        default=False, help_text="Muted (silence or maintenance) when it last fired."
    )
    last_notified_at = models.DateTimeField(null=True, blank=True)
    # A firing notification went out, so its resolution is news too (a reopened flap is not).
    notified_firing = models.BooleanField(default=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-last_fired_at", "-id"]
        constraints = [
            # Dedup under concurrency: two workers storing the same condition cannot both open.
            models.UniqueConstraint(
                fields=["rule", "device", "subject"],
                condition=~Q(state="resolved"),
                nulls_distinct=False,
                name="alert_one_open_per_subject",
            )
        ]
        indexes = [models.Index(fields=["state", "-last_fired_at"], name="alert_state_time")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class SilenceQuerySet(models.QuerySet["Silence"]):
    def active(self, now: dt.datetime | None = None) -> SilenceQuerySet:
        return self.filter(until__gt=now or timezone.now())


class Silence(models.Model):
    """Mutes notifications of matching alerts until a time; alerts are still recorded."""

    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="silences"
    )
    tag = models.CharField(max_length=40, blank=True)
    until = models.DateTimeField()
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SilenceQuerySet.as_manager()

    class Meta:
        ordering = ["-until"]

    def __str__(self) -> str:
        return f"silence until {self.until:%Y-%m-%d %H:%M}: {self.reason}"

    def clean(self) -> None:
        if not (self.device_id or self.rule_id or self.tag):
            raise ValidationError("Name a device, a rule or a tag: a silence mutes something.")

    def matches(self, rule: AlertRule, device: Device | None) -> bool:
        if self.rule_id and self.rule_id != rule.pk:
            return False
        if self.device_id and (device is None or device.pk != self.device_id):
            return False
        return not (self.tag and (device is None or self.tag not in (device.tags or [])))


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (JSON)"
    NTFY = "ntfy", "ntfy"


def validate_http_url(value: str) -> None:
    URLValidator(schemes=["http", "https"])(value)


class Channel(models.Model):
    """Where notifications go. Only ever the configured URL is called."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    url = models.CharField(
        max_length=500,
        validators=[validate_http_url],
        help_text="Webhook: the URL to POST to. ntfy: the topic URL (https://ntfy.sh/my-topic).",
    )
    secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Webhook: HMAC-SHA256 key (X-Infra-Signature). ntfy: access token. "
        "Never shown again.",
    )
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(
        "default", default=True, help_text="Used by rules that name no channels of their own."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class AttemptStatus(models.TextChoices):
    OK = "ok", "Delivered"
    FAILED = "failed", "Failed"


class NotificationReason(models.TextChoices):
    FIRING = "firing", "Firing"
    REPEAT = "repeat", "Reminder"
    RESOLVED = "resolved", "Resolved"
    TEST = "test", "Test"


class NotificationAttempt(models.Model):
    """One try to deliver one notification to one channel, successful or not."""

    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="attempts")
    reason = models.CharField(max_length=16, choices=NotificationReason.choices)
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=8, choices=AttemptStatus.choices)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["alert", "channel"], name="attempt_alert_channel")]

    def __str__(self) -> str:
        return f"{self.channel} #{self.attempt} {self.status}"
