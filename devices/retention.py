"""Retention: delete time series and audit rows older than a cut-off, in small batches.

Deleting millions of rows in one statement holds locks and bloats WAL for minutes; batches of a
few thousand ids keep every transaction short, so collection never waits on pruning.

Every family is rolled up first, and its raw rows are then deleted only below the rollup
watermark of both tiers, so no sample is lost before its buckets exist. Each tier of each family
is kept for its own retention (devices.history.tiers: the global settings, the drive family's
DRIVE_HISTORY_DAYS, HISTORY_RETENTION_<FAMILY> overrides).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone

from collectors.models import CollectionRun
from devices.history.families import FAMILIES, Family
from devices.history.rollup import roll_up_all, rolled_up_until
from devices.history.tiers import RAW, default_raw_days, horizon
from devices.models.rollups import RESOLUTIONS


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


def prune_raw(
    family: Family,
    cutoff: dt.datetime,
    *,
    batch_size: int = 5000,
    now: dt.datetime | None = None,
    roll_up: bool = True,
) -> int:
    """Delete `family`'s raw rows older than `cutoff` that both rollup tiers already hold
    (rolling up first, as of `now`, unless told it was just done); returns rows deleted."""
    if roll_up:
        roll_up_all(now=now, families=(family,))
    rolled = rolled_up_until(family)
    if rolled is None:
        return 0
    lookup = {f"{family.time_field}__lt": min(cutoff, rolled)}
    return _delete_in_batches(family.raw, batch_size, **lookup)


def prune(
    cutoff: dt.datetime | None = None,
    *,
    batch_size: int = 5000,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Delete raw rows past their family's raw retention (or older than `cutoff` when given:
    `manage.py prune_metrics --older-than`; the drive family keeps its own, longer, retention
    even then), audit rows older than the default raw retention (or `cutoff`), and rollup rows
    past their tier's retention. Returns rows deleted per table (rollups as `label@tier`)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    roll_up_all(now=now)
    deleted: dict[str, int] = {}
    for family in FAMILIES:
        own = horizon(RAW, now, family)
        limit = own if cutoff is None or family.name == "drives" else cutoff
        deleted[family.raw._meta.label] = prune_raw(
            family, limit, batch_size=batch_size, roll_up=False
        )
    runs_before = cutoff or now - dt.timedelta(days=default_raw_days())
    deleted[CollectionRun._meta.label] = _delete_in_batches(
        CollectionRun, batch_size, started_at__lt=runs_before
    )
    deleted |= prune_rollups(now, batch_size=batch_size)
    return deleted


def prune_rollups(now: dt.datetime, *, batch_size: int = 5000) -> dict[str, int]:
    """Delete the rollup buckets each family's tier retention no longer keeps."""
    deleted: dict[str, int] = {}
    for family in FAMILIES:
        for resolution_s in RESOLUTIONS:
            deleted[f"{family.rollup._meta.label}@{resolution_s}s"] = _delete_in_batches(
                family.rollup,
                batch_size,
                resolution_s=resolution_s,
                bucket_start__lt=horizon(resolution_s, now, family),
            )
    return deleted
