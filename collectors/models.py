"""The audit trail of collections and the one timeline of everything that changed."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class SeenOnDevice(models.Model):
    """Something polling finds on a device (a container, a pool...): when it was first and last
    seen, and when it disappeared. Things that disappear are kept for their history."""

    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule (beat)"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    MCP = "mcp", "MCP"
    CLI = "cli", "Command line"
    STARTUP = "startup", "Startup"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    PARTIAL = "partial", "Partial (some kinds failed)"
    FAILED = "failed", "Failed"


class KindStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class CollectionRun(models.Model):
    """One collection of one device: who asked, what ran, how long it took, what each kind did.

    `kind_results` maps kind name to {"status", "exit_code", "error_type", "error"}.
    """

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="collection_runs"
    )
    kinds = ArrayField(models.CharField(max_length=40), default=list)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    actor = models.CharField(max_length=150, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)
    # The Celery task that ran it: a task the broker delivers again (its worker died) finds its
    # finished run here instead of collecting twice (collectors.engine.collect).
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    connect_ms = models.PositiveIntegerField(null=True, blank=True)
    bytes_read = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    error_type = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    kind_results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["device", "-started_at"], name="run_device_time")]

    def __str__(self) -> str:
        return f"{self.device} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"


class EventKind(models.TextChoices):
    DEVICE = "device", "Device"
    CONTAINER = "container", "Container"
    ZFS = "zfs", "ZFS"
    DRIVE = "drive", "Drive"
    PROXY = "proxy", "Proxy"
    CONFIG = "config", "Config"
    PORT = "port", "Port"
    COLLECTION = "collection", "Collection"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class EventQuerySet(models.QuerySet["Event"]):
    def for_device(self, device_id: int) -> EventQuerySet:
        return self.filter(device_id=device_id)

    def at_least(self, severity: str) -> EventQuerySet:
        order = [Severity.INFO, Severity.WARNING, Severity.CRITICAL]
        return self.filter(severity__in=order[order.index(Severity(severity)) :])


class Event(models.Model):
    """Something that changed: a device went offline, a host key changed, a pool degraded..."""

    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    type = models.CharField(max_length=64)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["-occurred_at"], name="event_time"),
            models.Index(fields=["device", "-occurred_at"], name="event_device_time"),
            models.Index(fields=["type", "-occurred_at"], name="event_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type}: {self.summary}"


class OperationStatus(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class Operation(models.Model):
    """An action or on-demand read on a device (restart a container, read its logs...): who asked,
    what ran, when, and what came of it. The audit trail of everything that is not a poll."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="operations"
    )
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=255, blank=True)
    arguments = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    actor = models.CharField(max_length=150, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=OperationStatus.choices, default=OperationStatus.RUNNING
    )
    exit_code = models.IntegerField(null=True, blank=True)
    error_type = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    output_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["device", "-started_at"], name="op_device_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.target} on {self.device_id}: {self.status}"


# Alerts live in their own module; Django finds an app's models here, so they are imported last
# (they build on Event and Severity above).
from collectors.alerts.models import (  # noqa: E402
    Alert,
    AlertRule,
    AlertState,
    Channel,
    ChannelKind,
    NotificationAttempt,
    Silence,
)

__all__ = [
    "Alert",
    "AlertRule",
    "AlertState",
    "Channel",
    "ChannelKind",
    "CollectionRun",
    "Event",
    "EventKind",
    "KindStatus",
    "NotificationAttempt",
    "Operation",
    "OperationStatus",
    "RunStatus",
    "SeenOnDevice",
    "Severity",
    "Silence",
    "Trigger",
]
