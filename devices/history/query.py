"""One query layer for charts: an owner (a device, pool, drive...), a range and a number of points
in, evenly spaced points out, read from the cheapest tier that still has the detail asked for.

The wanted spacing is span / target. The tier is the coarsest one whose resolution is at most that
spacing (and that still holds data as old as the range's start); its buckets are merged in SQL into
steps of a whole number of its resolution, so a chart never gets more than about twice the points
it asked for. The newest buckets a tier has not finalised yet are aggregated from the raw rows in
the same statement, so a 30-day chart reaches "now" instead of stopping at the last full hour.
A range that holds at most 2x target raw rows gets the raw rows as stored.

A family split by keys (filesystems by mountpoint, interfaces and disks by name) answers one
series per key, each point carrying its key columns; `target` is per series, and a `keys` filter
narrows the answer to one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from devices.history.families import Family
from devices.history.rollup import SQL_EPOCH, aggregate_raw_sql, floor_time
from devices.history.tiers import RAW, horizon
from devices.models import RollupWatermark
from devices.models.rollups import RESOLUTION_1H, RESOLUTIONS

KeyFilter = dict[str, str]

DEFAULT_TARGET_POINTS = 500


@dataclass
class Series:
    """Points of one owner's series and how they were made."""

    tier: str  # "raw", "5m" or "1h": where the points were read from
    resolution_s: int | None  # spacing of the points; None for raw rows as stored
    fields: list[str]
    points: list[dict[str, Any]] = field(default_factory=list)

    @property
    def resolution(self) -> str:
        return "raw" if self.resolution_s is None else label(self.resolution_s)

    def answer(self) -> dict[str, Any]:
        """What every history endpoint says of its points: where from, how spaced, the points."""
        return {
            "tier": self.tier, "resolution": self.resolution, "resolution_s": self.resolution_s,
            "count": len(self.points), "points": self.points,
        }  # fmt: skip


def label(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def choose_tier(
    span: dt.timedelta,
    target: int,
    *,
    start: dt.datetime,
    now: dt.datetime,
    family: Family | None = None,
) -> tuple[int, int]:
    """(tier resolution, step) for a range: RAW or a rollup resolution, and the spacing in
    seconds of the points, a whole multiple of the tier's resolution."""
    poll = family.interval_setting if family else "SYSTEM_METRICS_INTERVAL"
    interval = max(1, int(getattr(settings, poll)))
    wanted = span.total_seconds() / target
    tiers = [(RAW, interval)] + [(r, r) for r in RESOLUTIONS]
    # A tier whose retention has already dropped the range's start would chart a hole.
    usable = [t for t in tiers if t[0] == RESOLUTION_1H or horizon(t[0], now, family) <= start]
    fitting = [t for t in usable if t[1] <= wanted]
    tier, size = fitting[-1] if fitting else usable[0]
    return tier, size * max(1, int(wanted // size))


def _series_count(family: Family, qs: models.QuerySet[Any]) -> int:
    """How many series (keys) a range holds, from its newest poll: every key of one poll is
    stamped with the poll's time. Two index probes, not a scan of the range."""
    t = family.time_field
    newest = qs.order_by(f"-{t}").values_list(t, flat=True).first()
    return max(1, qs.filter(**{t: newest}).count()) if newest is not None else 1


def read_series(
    family: Family,
    owner: models.Model,
    start: dt.datetime,
    end: dt.datetime,
    fields: list[str],
    *,
    target: int = DEFAULT_TARGET_POINTS,
    keys: KeyFilter | None = None,
) -> Series:
    """`fields` of `owner`'s series between `start` and `end` (inclusive), in at most ~2x
    `target` points per series (per key value; `keys` keeps one, e.g. {"mountpoint": "/"}).

    Raw points carry the raw values; aggregated points carry, per gauge, its average under the
    field's own name plus `<field>_min` and `<field>_max`, per last-value field its newest value,
    per counted field its sum, and `samples`, the raw rows behind the point. `collected_at` is a
    point's bucket start. Every point of a keyed family carries its key columns.
    """
    keys = keys or {}
    unknown = set(keys) - set(family.keys)
    if unknown:
        raise ValueError(f"{family.name} has no key {', '.join(sorted(unknown))}")
    fields = [*fields, *(k for k in family.keys if k not in fields)]
    now = timezone.now()
    if horizon(RAW, now, family) <= start:
        t = family.time_field
        qs = family.raw._default_manager.filter(
            **{family.owner: owner, f"{t}__gte": start, f"{t}__lte": end}, **keys
        )
        many = 2 * target * (1 if len(keys) == len(family.keys) else _series_count(family, qs))
        # A bounded count first, all in SQL (an index-only walk of at most 2x target entries):
        # reading those rows into Python only to find there are too many cost a 24 h chart a
        # fifth of its time (bench/api.py). A poll landing in between adds a row at most.
        probe = qs.order_by().values(t)[: many + 1]
        if probe.count() <= many:
            rows = list(qs.order_by(*family.keys, t).values(*fields))
            return Series(tier="raw", resolution_s=None, fields=fields, points=rows)
    tier, step = choose_tier(end - start, target, start=start, now=now, family=family)
    values = [f for f in fields if f in family.values]
    points = _aggregated(family, owner.pk, keys, tier, (step, start, end), values)
    return Series(tier="raw" if tier == RAW else label(tier), resolution_s=step, fields=fields,
                  points=points)  # fmt: skip


def _aggregated(
    family: Family,
    owner: int,
    keys: KeyFilter,
    tier: int,
    window: tuple[int, dt.datetime, dt.datetime],
    values: list[str],
) -> list[dict[str, Any]]:
    step, start, end = window
    # Only the columns of the fields asked for flow out of the buckets (a chart asks for a few
    # of the family's dozens).
    wanted = {f"{v}_{agg}" for v in values for agg in ("min", "avg", "max", "last", "sum")}
    columns = ["samples", *(c for c in family.aggregate_columns() if c in wanted)]
    head = ", ".join(["bucket_start", *family.keys, *columns])
    filtered = bool(keys)
    raw_part = (
        f"SELECT {head} FROM "  # noqa: S608
        f"({aggregate_raw_sql(family, owner_filter=True, key_filter=filtered)}) raw_buckets"
    )
    if tier == RAW:
        inner, split = raw_part, floor_time(start, step)
        params: dict[str, Any] = {"step": step}
    else:
        mark = RollupWatermark.objects.filter(family=family.name, resolution_s=tier).first()
        first = floor_time(start, tier)
        done = mark.done_until if mark and mark.done_until else first
        split = min(max(done, first), end)
        key_sql = "".join(f" AND {k} = %(key_{k})s" for k in family.keys) if filtered else ""
        inner = (
            f"SELECT {head} FROM {family.rollup_table} "  # noqa: S608
            f"WHERE {family.owner_column} = %(owner)s AND resolution_s = %(tier)s "
            f"AND bucket_start >= %(first)s AND bucket_start < %(split)s{key_sql} "
            f"UNION ALL {raw_part}"
        )
        params = {"step": tier, "tier": tier, "first": first}
    # The raw part covers [split, end]; `end` is inclusive for the caller, the SQL window is not.
    params |= {"owner": owner, "start": split, "end": end + dt.timedelta(microseconds=1),
               "split": split, "outer": step}  # fmt: skip
    params |= {f"key_{k}": v for k, v in keys.items()}
    select = ["sum(samples)"]
    for g in values:
        if g in family.gauges:
            # sum() skips the null products by itself; only the weights need the filter.
            weights = f"sum(samples) FILTER (WHERE {g}_avg IS NOT NULL)"
            select += [
                f"min({g}_min)",
                f"sum({g}_avg * samples) / nullif({weights}, 0)",
                f"max({g}_max)",
            ]
        elif g in family.sums:
            select.append(f"sum({g}_sum)::{family.db_type(g)}")
        else:
            select.append(
                f"(array_agg({g}_last ORDER BY bucket_start DESC) "
                f"FILTER (WHERE {g}_last IS NOT NULL))[1]"
            )
    point = (
        f"date_bin(make_interval(secs => %(outer)s::double precision), bucket_start, {SQL_EPOCH})"
    )
    group = ", ".join([*family.keys, "point"])
    sql = (
        f"SELECT {', '.join([*family.keys, f'{point} AS point', *select])} "  # noqa: S608
        f"FROM ({inner}) buckets GROUP BY {group} ORDER BY {group}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The plan reads at most a few thousand rows, but the planner's row estimates for a
        # device range can be far too high and JIT-compiling the aggregates would then cost
        # more (20-60 ms measured) than running them.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_point(row, values, family) for row in rows]


def _point(row: tuple[Any, ...], values: list[str], family: Family) -> dict[str, Any]:
    point: dict[str, Any] = dict(zip(family.keys, row, strict=False))
    position = len(family.keys)
    point |= {"collected_at": row[position], "samples": int(row[position + 1])}
    position += 2
    for name in values:
        if name in family.gauges:
            low, mean, high = row[position : position + 3]
            point |= {name: mean, f"{name}_min": low, f"{name}_max": high}
            position += 3
        else:
            point[name] = row[position]
            position += 1
    return point
