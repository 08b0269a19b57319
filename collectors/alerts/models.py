"""Alerts built on the event timeline: rules, the alerts they open, silences, notification
channels and the record of every delivery attempt.

Imported by `collectors.models` (Django finds an app's models there), so this module must only
import from `collectors.models` names that are defined before its last lines.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from collectors.alerts.via_apprise import url_problem
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


class RuleType(models.TextChoices):
    EVENT = "event", "On events"
    METRIC = "metric", "On a metric threshold"


class Metric(models.TextChoices):
    """What a metric rule watches. The subject of each alert is in brackets."""

    CPU_PCT = "cpu_pct", "CPU busy %"
    MEM_USED_PCT = "mem_used_pct", "Memory used %"
    LOAD_PER_CORE = "load_per_core", "Load (1 min) per CPU core"
    FS_USED_PCT = "fs_used_pct", "Filesystem used % [mount point]"
    FS_FULL_IN_DAYS = "fs_full_in_days", "Filesystem full in N days at the current rate [mount]"
    POOL_CAPACITY_PCT = "pool_capacity_pct", "ZFS pool capacity % [pool]"
    DRIVE_TEMPERATURE_C = "drive_temperature_c", "Drive temperature °C [drive]"
    CONTAINER_RESTARTS = "container_restarts", "Container restarts in the last hour [container]"
    DATA_STALENESS_MINUTES = "data_staleness_minutes", "Minutes since the device last answered"
    COLLECTION_FAILING_MINUTES = (
        "collection_failing_minutes",
        "Minutes a collection kind has been failing [kind]",
    )


# Metrics computed at each evaluation rather than read from stored samples: they measure a
# duration or a trend themselves, so `for_minutes` does not apply to them.
DERIVED_METRICS = frozenset(
    {Metric.FS_FULL_IN_DAYS, Metric.CONTAINER_RESTARTS, Metric.DATA_STALENESS_MINUTES,
     Metric.COLLECTION_FAILING_MINUTES}
)  # fmt: skip


class Comparison(models.TextChoices):
    ABOVE = ">", "above (>)"
    BELOW = "<", "below (<)"


def breaches(value: float, comparison: str, threshold: float) -> bool:
    return value > threshold if comparison == Comparison.ABOVE else value < threshold


class AlertRule(models.Model):
    """Which events open an alert (kind, type patterns, at least a severity, optionally only on
    one device, tag or site), which events resolve it, how often to remind, and where to send.

    A metric rule instead watches a metric against a threshold: it fires once every sample of
    the last `for_minutes` breached it, and resolves once the value is back past
    `clear_threshold` (hysteresis; the threshold itself when empty)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    rule_type = models.CharField(max_length=8, choices=RuleType.choices, default=RuleType.EVENT)
    metric = models.CharField(max_length=32, choices=Metric.choices, blank=True)
    comparison = models.CharField(
        max_length=1, choices=Comparison.choices, default=Comparison.ABOVE, blank=True
    )
    threshold = models.FloatField(null=True, blank=True)
    clear_threshold = models.FloatField(
        null=True, blank=True,
        help_text="Resolves only once the value is back past this (e.g. fire above 90, clear "
        "at 85). Empty: the threshold.",
    )  # fmt: skip
    for_minutes = models.PositiveIntegerField(
        default=0,
        help_text="Every sample of this many minutes must breach before it fires (0: the first "
        "one). Sampled metrics only.",
    )
    subject_pattern = models.CharField(
        max_length=200, blank=True,
        help_text="Only these subjects (mount point, pool, container, drive serial, kind; shell "
        "pattern such as /mnt/*). Empty: all.",
    )  # fmt: skip
    severity = models.CharField(
        max_length=8, choices=Severity.choices, default=Severity.WARNING,
        help_text="Metric rules: the severity of the alerts they open.",
    )  # fmt: skip
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

    @property
    def is_metric(self) -> bool:
        return self.rule_type == RuleType.METRIC

    @property
    def clear_at(self) -> float:
        return self.clear_threshold if self.clear_threshold is not None else self.threshold or 0.0

    def problems(self) -> dict[str, str]:
        """What makes this rule unusable, by field: the one check behind admin and API."""
        if not self.is_metric:
            return {}
        found: dict[str, str] = {}
        if not self.metric:
            found["metric"] = "A metric rule watches a metric."
        if self.comparison not in Comparison.values:
            found["comparison"] = "Choose > or <."
        if self.threshold is None:
            found["threshold"] = "A metric rule needs a threshold."
        elif self.clear_threshold is not None and breaches(
            self.clear_threshold, self.comparison, self.threshold
        ):
            found["clear_threshold"] = (
                "The clear threshold must not be past the threshold (fire above 90, clear at 85)."
            )
        if self.for_minutes and self.metric in DERIVED_METRICS:
            found["for_minutes"] = "This metric measures time itself: leave it at 0."
        return found

    def clean(self) -> None:
        if found := self.problems():
            raise ValidationError(found)

    def watches(self, subject: str) -> bool:
        return not self.subject_pattern or fnmatchcase(subject, self.subject_pattern)

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
    value = models.FloatField(null=True, blank=True, help_text="Metric rules: the latest value.")
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
    GOTIFY = "gotify", "Gotify"
    EMAIL = "email", "Email"
    APPRISE = "apprise", "Apprise URLs (Discord, Telegram, Slack, Pushover...)"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r} (use a name such as Europe/Paris).")


def in_window(local: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether a local time of day is in [start, end); a window may cross midnight (22:00 to
    07:00). start == end is an empty window."""
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def validate_http_url(value: str) -> None:
    URLValidator(schemes=["http", "https"])(value)


class Channel(models.Model):
    """Where notifications go. Only ever the configured URL (or recipients) is used.

    Quiet hours: between `quiet_start` and `quiet_end` (local time of `quiet_timezone`; may cross
    midnight) notifications are deferred to the end of the window, critical ones excepted unless
    `critical_bypasses` is off."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    url = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_http_url],
        help_text="Webhook: the URL to POST to. ntfy: the topic URL (https://ntfy.sh/my-topic). "
        "Gotify: the server (https://gotify.example.org). Email, Apprise: unused.",
    )
    secret = models.CharField(
        max_length=2000,
        blank=True,
        help_text="Webhook: HMAC-SHA256 key (X-Infra-Signature). ntfy: access token. Gotify: "
        "application token. Apprise: its URLs (discord://..., tgram://...; several separated "
        "by spaces or commas). Never shown again.",
    )
    recipients = ArrayField(
        models.EmailField(), default=list, blank=True, help_text="Email: who gets the messages."
    )
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(
        "default", default=True, help_text="Used by rules that name no channels of their own."
    )
    quiet_start = models.TimeField(null=True, blank=True, help_text="Quiet hours from (local).")
    quiet_end = models.TimeField(null=True, blank=True, help_text="Quiet hours until (local).")
    quiet_timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone],
        help_text="Time zone of the quiet hours (Europe/Paris, America/New_York...).",
    )  # fmt: skip
    critical_bypasses = models.BooleanField(
        default=True, help_text="Critical alerts are sent during quiet hours too."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def problems(self) -> dict[str, str]:
        """What makes this channel unusable, by field: the one check behind admin and API."""
        found: dict[str, str] = {}
        if self.kind == ChannelKind.EMAIL:
            if not self.recipients:
                found["recipients"] = "An email channel needs at least one recipient."
        elif self.kind == ChannelKind.APPRISE:
            if problem := url_problem(self.secret):
                found["secret"] = problem
        elif not self.url:
            found["url"] = "This channel needs a URL."
        elif self.kind == ChannelKind.GOTIFY and not self.secret:
            found["secret"] = "Gotify needs an application token."  # noqa: S105
        if (self.quiet_start is None) != (self.quiet_end is None):
            found["quiet_end"] = "Quiet hours need both a start and an end."
        return found

    def clean(self) -> None:
        if found := self.problems():
            raise ValidationError(found)

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_start is not None and self.quiet_end is not None

    def quiet_at(self, when: dt.datetime) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        local = when.astimezone(zoneinfo.ZoneInfo(self.quiet_timezone)).time()
        return in_window(local.replace(tzinfo=None), self.quiet_start, self.quiet_end)

    def quiet_until(self, when: dt.datetime) -> dt.datetime | None:
        """The end of the quiet window `when` is in (UTC), or None when it is not quiet."""
        if not self.quiet_at(when) or self.quiet_end is None:
            return None
        zone = zoneinfo.ZoneInfo(self.quiet_timezone)
        local = when.astimezone(zone)
        end = dt.datetime.combine(local.date(), self.quiet_end, tzinfo=zone)
        if end <= local:
            end += dt.timedelta(days=1)  # the window crosses midnight: it ends tomorrow
        return end.astimezone(dt.UTC)


class AttemptStatus(models.TextChoices):
    OK = "ok", "Delivered"
    FAILED = "failed", "Failed"
    DEFERRED = "deferred", "Deferred (quiet hours)"


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
    # Deferred by quiet hours: when they end, and when the reminder tick let it go (or dropped
    # it for a newer one).
    deferred_until = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["alert", "channel"], name="attempt_alert_channel"),
            models.Index(
                fields=["deferred_until"],
                condition=Q(status="deferred", released_at__isnull=True),
                name="attempt_deferred_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.attempt} {self.status}"


class SeriesState(models.Model):
    """What a metric needs to remember between evaluations that no sample table keeps: the
    restart counts of a container over the last hour."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "key"], name="series_state_one_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.key}"
