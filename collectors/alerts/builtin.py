"""The rules every installation starts with (event rules for every critical event type, metric
rules for offline devices, full filesystems and failing collections), and the reminder schedule.
Created on migrate, then the admin's to edit: only missing ones are created (by key), a
person's changes are kept."""

from __future__ import annotations

import logging
from typing import Any

from collectors.alerts.models import Comparison, Metric, RuleType
from collectors.models import EventKind, Severity

log = logging.getLogger(__name__)

REMINDER_TASK_NAME = "Alerts: reminders and end of silences"
REMINDER_EVERY_S = 60

# Device offline is a metric rule, not the device.offline event: a device that answers again
# within 5 minutes (a reboot, a blip) never alerts, however its polls failed meanwhile.
DEVICE_OFFLINE: dict[str, Any] = {
    "builtin_key": "device-offline", "name": "Device offline", "rule_type": RuleType.METRIC,
    "metric": Metric.DATA_STALENESS_MINUTES, "comparison": Comparison.ABOVE, "threshold": 5.0,
    "severity": Severity.CRITICAL, "event_kind": "", "event_types": [], "resolve_on": [],
    "description": "Not heard from for more than 5 minutes; resolves at its next answer.",
}  # fmt: skip

BUILTIN_RULES: list[dict[str, Any]] = [
    DEVICE_OFFLINE,
    {"builtin_key": "filesystem-full", "name": "Filesystem over 90 % full",
     "rule_type": RuleType.METRIC, "metric": Metric.FS_USED_PCT, "comparison": Comparison.ABOVE,
     "threshold": 90.0, "clear_threshold": 85.0, "for_minutes": 5,
     "severity": Severity.WARNING,
     "description": "Over 90 % in every sample of 5 minutes; resolves once at 85 % or less."},
    {"builtin_key": "filesystem-filling", "name": "Filesystem full within 7 days",
     "rule_type": RuleType.METRIC, "metric": Metric.FS_FULL_IN_DAYS,
     "comparison": Comparison.BELOW, "threshold": 7.0, "clear_threshold": 10.0,
     "severity": Severity.WARNING,
     "description": "At the rate of the last ALERTS_FS_TREND_HOURS hours; resolves when that "
     "rate leaves it 10 days or more."},
    {"builtin_key": "collection-failing", "name": "Collection failing for 30 minutes",
     "rule_type": RuleType.METRIC, "metric": Metric.COLLECTION_FAILING_MINUTES,
     "comparison": Comparison.ABOVE, "threshold": 30.0, "severity": Severity.WARNING,
     "description": "One kind (df, docker-ps, zpool-status...) failed on every run for 30 "
     "minutes while the device answered; resolves at its next success."},
    {"builtin_key": "host-key-changed", "name": "SSH host key changed",
     "event_kind": EventKind.DEVICE, "event_types": ["device.host_key_changed"],
     "resolve_on": ["device.host_key_trusted"], "min_severity": Severity.WARNING,
     "description": "Collection is stopped until a person trusts the new key."},
    {"builtin_key": "pool-not-online", "name": "ZFS pool not ONLINE", "event_kind": EventKind.ZFS,
     "event_types": ["pool.degraded", "pool.faulted", "pool.unavail", "pool.suspended",
                     "pool.offline", "pool.removed_device"],
     "resolve_on": ["pool.recovered", "pool.disappeared"], "min_severity": Severity.WARNING,
     "description": "A pool is DEGRADED, FAULTED, UNAVAIL, SUSPENDED..."},
    {"builtin_key": "scrub-errors", "name": "ZFS scrub found errors", "event_kind": EventKind.ZFS,
     "event_types": ["scrub.finished"], "resolve_on": ["scrub.finished", "pool.disappeared"],
     "min_severity": Severity.WARNING,
     "description": "A scrub finished with errors or repaired data (a clean scrub resolves it)."},
    {"builtin_key": "drive-failing", "name": "Drive failing or showing signs of failure",
     "event_kind": EventKind.DRIVE, "event_types": ["drive.failing", "drive.warning"],
     "resolve_on": ["drive.recovered", "drive.replaced"], "min_severity": Severity.WARNING,
     "description": "Our S.M.A.R.T. verdict is failed or warning."},
    {"builtin_key": "container-stopped", "name": "Container stopped unexpectedly",
     "event_kind": EventKind.CONTAINER, "event_types": ["container.stopped"],
     "resolve_on": ["container.started", "container.removed"], "min_severity": Severity.WARNING,
     "description": "A running container exited with a non-zero code (a clean stop is info)."},
    {"builtin_key": "container-oom", "name": "Container killed for lack of memory",
     "event_kind": EventKind.CONTAINER, "event_types": ["container.oom_killed"],
     "resolve_on": ["container.started", "container.removed"], "min_severity": Severity.WARNING},
    {"builtin_key": "container-restarting", "name": "Container restarting in a loop",
     "event_kind": EventKind.CONTAINER, "event_types": ["container.restarting"],
     "resolve_on": ["container.started", "container.removed"], "min_severity": Severity.WARNING},
]  # fmt: skip


def ensure_builtin_rules() -> int:
    """Create the built-in rules that do not exist yet; returns how many were created."""
    from collectors.alerts.models import AlertRule

    created = 0
    for spec in BUILTIN_RULES:
        if AlertRule.objects.filter(builtin_key=spec["builtin_key"]).exists():
            continue
        if AlertRule.objects.filter(name=spec["name"]).exists():
            continue  # a person's own rule took the name: theirs wins
        AlertRule.objects.create(**spec)
        created += 1
    if created:
        log.info("created %d built-in alert rule(s)", created)
    return created


def ensure_reminder_schedule() -> bool:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.filter(name=REMINDER_TASK_NAME).exists():
        return False
    lookup = {"every": REMINDER_EVERY_S, "period": IntervalSchedule.SECONDS}
    interval = IntervalSchedule.objects.filter(**lookup).first()
    PeriodicTask.objects.create(
        name=REMINDER_TASK_NAME,
        task="collectors.alert_reminders",
        interval=interval or IntervalSchedule.objects.create(**lookup),
        expire_seconds=REMINDER_EVERY_S,
    )
    return True


def after_migrate(**kwargs: Any) -> None:
    from django.db import DEFAULT_DB_ALIAS

    if kwargs.get("using", DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS:
        return
    ensure_builtin_rules()
    ensure_reminder_schedule()
