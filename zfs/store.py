"""Storing `zpool status` and `zpool list` together: one reconciliation per poll, with events.

Status says health, errors, scans and the vdev tree (kept as JSON on the pool and as `Vdev`
rows); list says space. Each kind's store leaves its facts in the poll's scratch space and the
finaliser merges them, so a failed `zpool list` costs the capacity figures of that poll, never
the health check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.parsing import to_jsonable
from collectors.store import StoreContext
from zfs.models import Pool, PoolSample
from zfs.vdevs import store_vdevs

_SCRATCH = "zfs"
ONLINE = "ONLINE"
# Pool states and the event each one raises when a pool enters it.
_BAD_STATES = {
    "DEGRADED": ("pool.degraded", Severity.WARNING),
    "FAULTED": ("pool.faulted", Severity.CRITICAL),
    "UNAVAIL": ("pool.unavail", Severity.CRITICAL),
    "SUSPENDED": ("pool.suspended", Severity.CRITICAL),
    "OFFLINE": ("pool.offline", Severity.WARNING),
    "REMOVED": ("pool.removed_device", Severity.CRITICAL),
}


def _facts(ctx: StoreContext) -> dict[str, Any]:
    if _SCRATCH not in ctx.scratch:
        ctx.scratch[_SCRATCH] = {}
        ctx.once("pools", lambda: reconcile(ctx))
    return ctx.scratch[_SCRATCH]


def store_zpool_status(ctx: StoreContext, facts: list[Any]) -> None:
    _facts(ctx)["status"] = facts


def store_zpool_list(ctx: StoreContext, facts: list[Any]) -> None:
    _facts(ctx)["list"] = facts


def reconcile(ctx: StoreContext) -> None:
    data = ctx.scratch[_SCRATCH]
    now = ctx.collected_at
    pools = {p.name: p for p in Pool.objects.filter(device=ctx.device)}
    listed = {p.name: p for p in data.get("list") or []}
    statuses = {p.name: p for p in data.get("status") or []}
    for name in sorted(set(statuses) | set(listed)):
        pool = pools.get(name)
        before = None if pool is None else _Before(pool)
        if pool is None:
            pool = Pool(device=ctx.device, name=name, first_seen_at=now)
            pools[name] = pool
        if name in statuses:
            _apply_status(pool, statuses[name])
        if name in listed:
            _apply_list(pool, listed[name])
        pool.last_seen_at = now
        pool.removed_at = None
        _check_scrub_age(ctx, pool)
        pool.save()
        if name in statuses:
            store_vdevs(pool, statuses[name].vdevs, now)
        PoolSample.objects.create(
            pool=pool, collected_at=now, state=pool.state, size_bytes=pool.size_bytes,
            alloc_bytes=pool.alloc_bytes, free_bytes=pool.free_bytes,
            capacity_pct=pool.capacity_pct, fragmentation_pct=pool.fragmentation_pct,
            read_errors=pool.read_errors, write_errors=pool.write_errors,
            checksum_errors=pool.checksum_errors, data_errors=pool.data_errors,
        )  # fmt: skip
        _detect(ctx, pool, before)
    if data.get("status") is not None:
        # A pool missing from a successful `zpool status` was exported or destroyed: keep it
        # for its history, marked removed (a failed status removes nothing).
        gone = [p for name, p in pools.items() if name not in statuses and p.pk]
        for pool in gone:
            if pool.removed_at is None:
                # Its alerts ("not ONLINE", scrub errors) resolve on this: nothing left to fix.
                _event(ctx, pool, "pool.disappeared", Severity.INFO,
                       f"pool {pool.name} is no longer listed by zpool (exported or destroyed)",
                       last_state=pool.state)  # fmt: skip
        Pool.objects.filter(pk__in=[p.pk for p in gone], removed_at__isnull=True).update(
            removed_at=now
        )


def _last_scrub(pool: Pool) -> dt.datetime | None:
    """When the last scrub finished. zpool prints host-local time without a zone; read as UTC,
    which is off by at most a day's fraction against limits counted in weeks."""
    scan = pool.scan or {}
    finished = scan.get("finished_local")
    if scan.get("function") != "scrub" or not finished:
        return None
    try:
        return dt.datetime.fromisoformat(finished).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _check_scrub_age(ctx: StoreContext, pool: Pool) -> None:
    """scrub.overdue once per lapse; a newer finished scrub clears it."""
    limit = dt.timedelta(days=settings.ZFS_SCRUB_MAX_AGE_DAYS)
    last = _last_scrub(pool)
    since = last or pool.first_seen_at  # never scrubbed: count from when we first saw it
    overdue = ctx.collected_at - since > limit
    if overdue and not pool.scrub_overdue:
        days = (ctx.collected_at - since).days
        what = f"last scrub finished {days} days ago" if last else f"no scrub seen in {days} days"
        _event(ctx, pool, "scrub.overdue", Severity.WARNING, f"pool {pool.name}: {what}",
               last_scrub=last.isoformat() if last else None,
               max_age_days=settings.ZFS_SCRUB_MAX_AGE_DAYS)  # fmt: skip
    pool.scrub_overdue = overdue


def _apply_status(pool: Pool, facts: Any) -> None:
    pool.state = facts.state
    pool.status_text = facts.status or ""
    pool.action_text = facts.action or ""
    pool.read_errors = facts.read_errors
    pool.write_errors = facts.write_errors
    pool.checksum_errors = facts.checksum_errors
    pool.data_errors = facts.data_errors
    pool.error_files = list(facts.error_files)
    pool.scan = to_jsonable(facts.scan) if facts.scan is not None else None
    pool.vdevs = to_jsonable(facts.vdevs)


def _apply_list(pool: Pool, facts: Any) -> None:
    if not pool.state and facts.health:
        pool.state = facts.health
    pool.size_bytes = facts.size_bytes
    pool.alloc_bytes = facts.alloc_bytes
    pool.free_bytes = facts.free_bytes
    pool.fragmentation_pct = facts.fragmentation_pct
    pool.capacity_pct = facts.capacity_pct
    pool.dedup_ratio = facts.dedup_ratio


class _Before:
    """What the previous poll knew, for comparison."""

    def __init__(self, pool: Pool) -> None:
        self.state = pool.state
        self.capacity_pct = pool.capacity_pct
        self.scan = pool.scan or {}
        self.leaf_errors = _leaf_errors(pool.vdevs or [])


def _leaf_errors(vdevs: list[dict[str, Any]], prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Error counters of every vdev by its path in the tree (`mirror-1/loop3`)."""
    found: dict[str, tuple[int, ...]] = {}
    for vdev in vdevs:
        path = f"{prefix}{vdev['name']}"
        counters = [vdev.get(k) for k in ("read_errors", "write_errors", "checksum_errors")]
        if all(isinstance(c, int) for c in counters):
            found[path] = tuple(int(c) for c in counters if c is not None)
        found |= _leaf_errors(vdev.get("children") or [], f"{path}/")
    return found


def _event(ctx: StoreContext, pool: Pool, type_: str, severity: str, summary: str,
           **data: Any) -> None:  # fmt: skip
    record_event(
        device=ctx.device, kind=EventKind.ZFS, type=type_, severity=severity,
        summary=f"{ctx.device.name}: {summary}", data={"pool": pool.name, **data},
        occurred_at=ctx.collected_at,
    )  # fmt: skip


def _detect(ctx: StoreContext, pool: Pool, before: _Before | None) -> None:
    was = before.state if before else ONLINE  # a pool first seen unhealthy must still alert
    if pool.state != was and pool.state in _BAD_STATES:
        type_, severity = _BAD_STATES[pool.state]
        _event(ctx, pool, type_, severity, f"pool {pool.name} is {pool.state}",
               state=pool.state, previous_state=was, status=pool.status_text[:500])  # fmt: skip
    elif before and pool.state == ONLINE and was in _BAD_STATES:
        _event(ctx, pool, "pool.recovered", Severity.INFO, f"pool {pool.name} is ONLINE again",
               previous_state=was)  # fmt: skip

    limit = settings.ZPOOL_CAPACITY_WARNING_PCT
    was_full = before is not None and (before.capacity_pct or 0) >= limit
    if pool.capacity_pct is not None and pool.capacity_pct >= limit and not was_full:
        _event(ctx, pool, "pool.capacity_high", Severity.WARNING,
               f"pool {pool.name} is {pool.capacity_pct:g} % full", capacity_pct=pool.capacity_pct,
               threshold_pct=limit)  # fmt: skip

    if before is None:
        return
    for path, counters in _leaf_errors(pool.vdevs or []).items():
        old = before.leaf_errors.get(path)
        if old is not None and any(new > prior for new, prior in zip(counters, old, strict=True)):
            _event(ctx, pool, "vdev.errors_increased", Severity.WARNING,
                   f"{path} in pool {pool.name}: read/write/checksum errors {old} -> {counters}",
                   vdev=path, before=list(old), after=list(counters))  # fmt: skip

    scan = pool.scan or {}
    finished = scan.get("function") == "scrub" and scan.get("state") == "finished"
    if finished and scan.get("finished_local") != before.scan.get("finished_local"):
        dirty = bool(scan.get("errors")) or bool(scan.get("repaired_bytes"))
        _event(ctx, pool, "scrub.finished", Severity.WARNING if dirty else Severity.INFO,
               f"scrub of {pool.name} finished: {scan.get('errors')} errors, "
               f"{scan.get('repaired_bytes')} bytes repaired", errors=scan.get("errors"),
               repaired_bytes=scan.get("repaired_bytes"),
               finished_local=scan.get("finished_local"))  # fmt: skip
