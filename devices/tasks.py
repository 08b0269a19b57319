"""Celery tasks of the devices app."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from devices.drives import prune_history
from devices.history.rollup import roll_up_all
from devices.history.tiers import RAW, retention_days
from devices.retention import prune


@shared_task(name="devices.roll_up_metrics", ignore_result=True)
def roll_up_metrics() -> int:
    """Bring the 5-minute and 1-hour rollups up to date; returns buckets written."""
    return sum(r.buckets_written for r in roll_up_all())


@shared_task(name="devices.prune_metrics", ignore_result=True)
def prune_metrics() -> dict[str, int]:
    cutoff = timezone.now() - dt.timedelta(days=retention_days(RAW))
    deleted = prune(cutoff)
    deleted["devices.DriveSample"] = prune_history()
    return deleted
