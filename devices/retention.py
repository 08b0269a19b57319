"""Retention: delete time series and audit rows older than a cut-off, in small batches.

Deleting millions of rows in one statement holds locks and bloats WAL for minutes; batches of a
few thousand ids keep every transaction short, so collection never waits on pruning.
"""

from __future__ import annotations

import datetime as dt

from django.db import models

from collectors.models import CollectionRun
from devices.models import DiskSample, FilesystemSample, InterfaceSample, SystemSample
from zfs.models import ArcSample

SERIES: list[tuple[type[models.Model], str]] = [
    (SystemSample, "collected_at"),
    (FilesystemSample, "collected_at"),
    (InterfaceSample, "collected_at"),
    (DiskSample, "collected_at"),
    (ArcSample, "collected_at"),
    (CollectionRun, "started_at"),
]


def prune(cutoff: dt.datetime, *, batch_size: int = 5000) -> dict[str, int]:
    """Delete rows older than `cutoff` from every series; returns rows deleted per table."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    deleted: dict[str, int] = {}
    for model, time_field in SERIES:
        total = 0
        while True:
            ids = list(
                model._default_manager.filter(**{f"{time_field}__lt": cutoff})
                .order_by()
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            count, _ = model._default_manager.filter(pk__in=ids).delete()
            total += count
        deleted[model._meta.label] = total
    return deleted
