"""Celery tasks of the devices app."""

from __future__ import annotations

from celery import shared_task

from devices.history.rollup import roll_up_all
from devices.retention import prune


@shared_task(name="devices.roll_up_metrics", ignore_result=True)
def roll_up_metrics() -> int:
    """Bring the 5-minute and 1-hour rollups of every family up to date; returns buckets
    written."""
    return sum(r.buckets_written for r in roll_up_all())


@shared_task(name="devices.prune_metrics", ignore_result=True)
def prune_metrics() -> dict[str, int]:
    """Prune every family's tiers (drives included) and the audit trail, each by its own
    retention."""
    return prune()
