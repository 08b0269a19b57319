"""Storing `zfs list -t all`: datasets with a space series, snapshots, and snapshot.missing.

Hosts keep thousands of snapshots, so snapshots are written with bulk inserts and updates, never
one query each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.store import StoreContext
from zfs.models import Dataset, DatasetSample, Snapshot

_DATASET_TYPES = ("filesystem", "volume")


def store_zfs_list(ctx: StoreContext, facts: list[Any]) -> None:
    now = ctx.collected_at
    datasets = {d.name: d for d in Dataset.objects.filter(device=ctx.device)}
    # A name listed twice (which ZFS never does, but a confused device might) counts once.
    listed_datasets = list({f.name: f for f in facts if f.type in _DATASET_TYPES}.values())
    listed_snapshots = list({f.name: f for f in facts if f.type == "snapshot"}.values())

    samples = []
    for f in listed_datasets:
        dataset = datasets.get(f.name) or Dataset(device=ctx.device, name=f.name, first_seen_at=now)
        dataset.type = f.type
        dataset.used_bytes = f.used_bytes
        dataset.available_bytes = f.available_bytes
        dataset.referenced_bytes = f.referenced_bytes
        dataset.mountpoint = f.mountpoint or ""
        dataset.created_at = f.created_at
        dataset.last_seen_at = now
        dataset.removed_at = None
        dataset.save()
        datasets[f.name] = dataset
        samples.append(
            DatasetSample(dataset=dataset, collected_at=now, used_bytes=f.used_bytes,
                          available_bytes=f.available_bytes, referenced_bytes=f.referenced_bytes)
        )  # fmt: skip
    DatasetSample.objects.bulk_create(samples)
    listed_names = {f.name for f in listed_datasets}
    Dataset.objects.filter(device=ctx.device, removed_at__isnull=True).exclude(
        name__in=listed_names
    ).update(removed_at=now)

    newest = _store_snapshots(ctx, listed_snapshots, datasets)
    _check_snapshot_age(ctx, datasets, newest)


def _store_snapshots(
    ctx: StoreContext, facts: list[Any], datasets: dict[str, Dataset]
) -> dict[str, dt.datetime]:
    now = ctx.collected_at
    existing = {s.name: s for s in Snapshot.objects.filter(device=ctx.device)}
    new: list[Snapshot] = []
    changed: list[Snapshot] = []
    newest: dict[str, dt.datetime] = {}
    for f in facts:
        if f.created_at is not None and (
            f.dataset not in newest or f.created_at > newest[f.dataset]
        ):
            newest[f.dataset] = f.created_at
        snapshot = existing.get(f.name)
        if snapshot is None:
            new.append(
                Snapshot(device=ctx.device, dataset=datasets.get(f.dataset), name=f.name,
                         used_bytes=f.used_bytes, referenced_bytes=f.referenced_bytes,
                         created_at=f.created_at, first_seen_at=now, last_seen_at=now)
            )  # fmt: skip
            continue
        snapshot.used_bytes = f.used_bytes
        snapshot.referenced_bytes = f.referenced_bytes
        snapshot.last_seen_at = now
        snapshot.removed_at = None
        changed.append(snapshot)
    Snapshot.objects.bulk_create(new, batch_size=1000)
    Snapshot.objects.bulk_update(
        changed, ["used_bytes", "referenced_bytes", "last_seen_at", "removed_at"], batch_size=1000
    )
    Snapshot.objects.filter(device=ctx.device, removed_at__isnull=True).exclude(
        name__in=[f.name for f in facts]
    ).update(removed_at=now)
    return newest


def _check_snapshot_age(
    ctx: StoreContext, datasets: dict[str, Dataset], newest: dict[str, dt.datetime]
) -> None:
    """snapshot.missing once per silence: raised when a dataset that has snapshots has had none
    for ZFS_SNAPSHOT_MAX_AGE_HOURS, cleared when a new one appears."""
    limit = dt.timedelta(hours=settings.ZFS_SNAPSHOT_MAX_AGE_HOURS)
    for name, latest in newest.items():
        dataset = datasets.get(name)
        if dataset is None:
            continue
        overdue = ctx.collected_at - latest > limit
        if overdue and not dataset.snapshot_overdue:
            hours = int((ctx.collected_at - latest).total_seconds() // 3600)
            record_event(
                device=ctx.device, kind=EventKind.ZFS, type="snapshot.missing",
                severity=Severity.WARNING,
                summary=f"{ctx.device.name}: no new snapshot of {name} for {hours} h",
                data={"dataset": name, "newest_snapshot_at": latest.isoformat(),
                      "max_age_hours": settings.ZFS_SNAPSHOT_MAX_AGE_HOURS},
                occurred_at=ctx.collected_at,
            )  # fmt: skip
        if dataset.snapshot_overdue != overdue or dataset.newest_snapshot_at != latest:
            dataset.snapshot_overdue = overdue
            dataset.newest_snapshot_at = latest
            dataset.save(update_fields=["snapshot_overdue", "newest_snapshot_at"])
