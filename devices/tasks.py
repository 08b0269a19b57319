"""Celery tasks of the devices app."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from devices.drives import prune_history
from devices.retention import prune


@shared_task(name="devices.prune_metrics", ignore_result=True)
def prune_metrics() -> dict[str, int]:
    cutoff = timezone.now() - dt.timedelta(days=settings.METRICS_RETENTION_DAYS)
    deleted = prune(cutoff)
    deleted["devices.DriveSample"] = prune_history()
    return deleted
