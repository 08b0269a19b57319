"""Retention: delete time series and audit rows older than a cut-off, in small batches.

Deleting millions of rows in one statement holds locks and bloats WAL for minutes; batches of a
few thousand ids keep every transaction short, so collection never waits on pruning.

Raw rows of a family with rollups are rolled up first and then deleted only below the rollup
watermark of every tier, so no sample is lost before its buckets exist; each rollup tier is
pruned by its own retention setting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone

from collectors.models import CollectionRun
from devices.history.families import FAMILIES, family_of
from devices.history.rollup import roll_up_all, rolled_up_until
from devices.history.tiers import horizon
from devices.models import DiskSample, FilesystemSample, InterfaceSample, SystemSample
from devices.models.rollups import RESOLUTIONS
from zfs.models import ArcSample

SERIES: list[tuple[type[models.Model], str]] = [
    (SystemSample, "collected_at"),
    (FilesystemSample, "collected_at"),
    (InterfaceSample, "collected_at"),
    (DiskSample, "collected_at"),
    (ArcSample, "collected_at"),
    (CollectionRun, "started_at"),
]


def _delete_in_batches(model: type[models.Model], batch_size: int, **lookup: Any) -> int:
    total = 0
    while True:
        ids = list(
            model._default_manager.filter(**lookup)
            .order_by()
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return total
        count, _ = model._default_manager.filter(pk__in=ids).delete()
        total += count


def prune(
    cutoff: dt.datetime, *, batch_size: int = 5000, now: dt.datetime | None = None
) -> dict[str, int]:
    """Delete raw rows older than `cutoff` from every series and rollup rows older than their
    tier's retention; returns rows deleted per table (rollups as `label@tier`)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    roll_up_all(now=now)
    deleted: dict[str, int] = {}
    for model, time_field in SERIES:
        limit: dt.datetime | None = cutoff
        family = family_of(model)
        if family is not None:
            rolled = rolled_up_until(family)
            limit = min(cutoff, rolled) if rolled is not None else None
        deleted[model._meta.label] = (
            _delete_in_batches(model, batch_size, **{f"{time_field}__lt": limit})
            if limit is not None
            else 0
        )
    deleted |= prune_rollups(now, batch_size=batch_size)
    return deleted


def prune_rollups(now: dt.datetime, *, batch_size: int = 5000) -> dict[str, int]:
    """Delete the rollup buckets each tier's retention no longer keeps."""
    deleted: dict[str, int] = {}
    for family in FAMILIES:
        for resolution_s in RESOLUTIONS:
            deleted[f"{family.rollup._meta.label}@{resolution_s}s"] = _delete_in_batches(
                family.rollup,
                batch_size,
                resolution_s=resolution_s,
                bucket_start__lt=horizon(resolution_s, now),
            )
    return deleted
