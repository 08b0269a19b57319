"""The one place that declares the beat schedule. Created on migrate, then the admin's to edit:
we only create missing entries and never overwrite a person's changes."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

log = logging.getLogger(__name__)


def default_schedules() -> list[dict[str, Any]]:
    from collectors.kinds import registry

    entries: list[dict[str, Any]] = []
    groups = sorted({k.group for k in registry.collectable()})
    for group in groups:
        every = min(k.interval_s for k in registry.in_group(group))
        entries.append(
            {
                "name": f"Collect: {group}",
                "task": "collectors.dispatch_group",
                "kwargs": {"group": group},
                "every_s": every,
                "expires_s": every,  # a tick nobody ran in time is superseded by the next one
            }
        )
    entries.append(
        {
            "name": "Roll up metrics into 5-minute and 1-hour tiers",
            "task": "devices.roll_up_metrics",
            "kwargs": {},
            "every_s": 60,
            "expires_s": 60,  # idempotent and catches up: a missed tick is done by the next one
        }
    )
    entries.append(
        {
            "name": "Alerts: evaluate metric rules",
            "task": "collectors.evaluate_metric_alerts",
            "kwargs": {},
            "every_s": 60,
            "expires_s": 60,  # reads the latest samples: a missed tick is covered by the next
        }
    )
    entries.append(
        {
            "name": "Prune old metrics and audit rows",
            "task": "devices.prune_metrics",
            "kwargs": {},
            "crontab": {"minute": "17", "hour": "3"},
        }
    )
    return entries


def ensure_default_schedules(**_: Any) -> int:
    """Create the default periodic tasks that do not exist yet; returns how many were created."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created = 0
    for entry in default_schedules():
        if PeriodicTask.objects.filter(name=entry["name"]).exists():
            continue
        fields: dict[str, Any] = {
            "name": entry["name"],
            "task": entry["task"],
            "kwargs": json.dumps(entry["kwargs"]),
        }
        if "every_s" in entry:
            # filter().first(): the admin allows duplicate schedules, get_or_create would raise.
            lookup = {"every": entry["every_s"], "period": IntervalSchedule.SECONDS}
            fields["interval"] = IntervalSchedule.objects.filter(
                **lookup
            ).first() or IntervalSchedule.objects.create(**lookup)
            fields["expire_seconds"] = entry["expires_s"]
        else:
            cron = {"timezone": "UTC", "day_of_week": "*", "day_of_month": "*",
                    "month_of_year": "*", **entry["crontab"]}  # fmt: skip
            fields["crontab"] = CrontabSchedule.objects.filter(
                **cron
            ).first() or CrontabSchedule.objects.create(**cron)
        PeriodicTask.objects.create(**fields)
        created += 1
    if created:
        log.info("created %d default beat schedule(s)", created)
    return created


def connect_post_migrate(app_config: AppConfig) -> None:
    post_migrate.connect(_after_migrate, sender=app_config, dispatch_uid="infra-schedules")


def _after_migrate(**kwargs: Any) -> None:
    from django.db import DEFAULT_DB_ALIAS

    if kwargs.get("using", DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS:
        return
    ensure_default_schedules()
