"""Incremental rollups: raw rows -> 5-minute and 1-hour buckets, exactly once in effect.

Each tier of each family has a watermark (`RollupWatermark.done_until`, bucket-aligned): every
bucket before it is final. A run takes the closed buckets after the watermark (a bucket is closed
once its end plus `GRACE` has passed: rows are stamped at store time, just before their short
transaction commits, so two minutes covers any row still in flight) and, batch by batch, computes
them in one `INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE` from the raw rows, then moves
the watermark in the same transaction. A bucket is always recomputed whole from its raw rows, never
incremented, so a rerun, a crash between batches or two overlapping runs (they queue on the
watermark's row lock) write the same numbers. Both tiers read the raw rows (not 1 h from 5 m):
averages stay exact when a field is null in some samples, and raw rows are only pruned once both
tiers have passed them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from devices.history.families import FAMILIES, Family
from devices.models import RollupWatermark
from devices.models.rollups import RESOLUTIONS

log = logging.getLogger(__name__)

GRACE = dt.timedelta(minutes=2)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Buckets per batch: ~6 h of 5-minute buckets or a day of hourly ones, i.e. about 700 or 2900 raw
# rows per device at 30 s polls; short transactions even with hundreds of devices.
BATCH_BUCKETS = {300: 72, 3600: 24}
# SQL here is built from model metadata (table and column names, never user input) and every
# value is a bound parameter: hence the `noqa: S608` on the f-strings.
SQL_EPOCH = "TIMESTAMPTZ '1970-01-01 00:00Z'"
STEP_INTERVAL = "make_interval(secs => %(step)s::double precision)"


def floor_time(when: dt.datetime, seconds: int) -> dt.datetime:
    """The start of the epoch-aligned bucket of `seconds` that holds `when` (UTC)."""
    offset = int((when - EPOCH).total_seconds() // seconds) * seconds
    return EPOCH + dt.timedelta(seconds=offset)


def _last(column: str, order: str) -> str:
    # The newest non-null value of the bucket: a poll that missed one kind leaves a null.
    return f"(array_agg({column} ORDER BY {order} DESC) FILTER (WHERE {column} IS NOT NULL))[1]"


def aggregate_raw_sql(family: Family, *, owner_filter: bool, key_filter: bool = False) -> str:
    """SELECT of one bucket per (owner, keys, bucket) from the raw rows of a time window.

    Parameters: `step` (seconds), `start`, `end` (half-open window), `owner` when
    `owner_filter`, and `key_<name>` per key when `key_filter`. Columns: the owner's column,
    keys..., bucket_start, samples, then `family.aggregate_columns()` in order.
    """
    t = f"s.{family.time_field}"
    owner = family.owner_column
    bucket = f"date_bin({STEP_INTERVAL}, {t}, {SQL_EPOCH})"
    values = []
    for g in family.gauges:
        values += [
            f"min(s.{g}) AS {g}_min",
            f"avg(s.{g})::double precision AS {g}_avg",
            f"max(s.{g}) AS {g}_max",
        ]
    values += [f"{_last(f's.{name}', t)} AS {name}_last" for name in family.lasts]
    values += [f"sum(s.{n})::{family.db_type(n)} AS {n}_sum" for n in family.sums]
    keys = "".join(f"s.{k}, " for k in family.keys)
    window = f"{t} >= %(start)s AND {t} < %(end)s"
    if key_filter:
        window += "".join(f" AND s.{k} = %(key_{k})s" for k in family.keys)
    if owner_filter:
        # ORDER BY + OFFSET 0 pins the (owner, time) index: when one device has years of rows
        # and the others days, the planner's estimate for one device's range is off by 100x
        # and it would rather filter the whole device through its FK index.
        source = (
            f"(SELECT * FROM {family.raw_table} s WHERE s.{owner} = %(owner)s "  # noqa: S608
            f"AND {window} ORDER BY s.{owner}, {t} OFFSET 0) s"
        )
    else:
        # One (owner, time) index range per owner. A window across all owners has no index
        # of its own to use (the btree leads with the owner; a BRIN on time was measured and
        # misled the planner, and its newest ranges stay unsummarised until a vacuum), and
        # without OFFSET 0 the planner flattens the LATERAL into a scan of the whole table.
        source = (
            f"{family.owner_table} d CROSS JOIN LATERAL (SELECT * FROM {family.raw_table} s "  # noqa: S608
            f"WHERE s.{owner} = d.id AND {window} OFFSET 0) s"
        )
    return (
        f"SELECT s.{owner}, {keys}{bucket} AS bucket_start, count(*) AS samples, "  # noqa: S608
        f"{', '.join(values)} FROM {source} GROUP BY s.{owner}, {keys}bucket_start"
    )


def _upsert_sql(family: Family) -> str:
    columns = family.aggregate_columns()
    owner = family.owner_column
    keys = "".join(f"{k}, " for k in family.keys)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ["samples", *columns])
    conflict = ", ".join([owner, "resolution_s", "bucket_start", *family.keys])
    select = aggregate_raw_sql(family, owner_filter=False).replace(
        "AS samples, ", "AS samples, %(step)s AS resolution_s, ", 1
    )
    return (
        f"INSERT INTO {family.rollup_table} "
        f"({owner}, {keys}bucket_start, samples, resolution_s, {', '.join(columns)}) "
        f"{select} ON CONFLICT ({conflict}) "
        f"DO UPDATE SET {updates}"
    )


def _next_sample_at(family: Family, after: dt.datetime | None) -> dt.datetime | None:
    """The oldest raw row at or after `after`, found by one index probe per owner (the btree
    on (owner, time) answers each probe; a plain min() over the table would scan it)."""
    t, owner = family.time_field, family.owner_column
    sql = (
        f"SELECT min(first) FROM (SELECT (SELECT s.{t} FROM {family.raw_table} s "  # noqa: S608
        f"WHERE s.{owner} = d.id AND s.{t} >= %s ORDER BY s.{t} LIMIT 1) AS first "
        f"FROM {family.owner_table} d) per_owner"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [after or dt.datetime.min.replace(tzinfo=dt.UTC)])
        found: dt.datetime | None = cursor.fetchone()[0]
    return found


@dataclass
class RollupResult:
    family: str
    resolution_s: int
    batches: int
    buckets_written: int
    done_until: dt.datetime | None


def _watermark(family: Family, resolution_s: int) -> RollupWatermark:
    mark, _ = RollupWatermark.objects.get_or_create(family=family.name, resolution_s=resolution_s)
    return mark


def roll_up(
    family: Family,
    resolution_s: int,
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = GRACE,
    batch_buckets: int | None = None,
    max_batches: int | None = None,
) -> RollupResult:
    """Compute every closed bucket of one tier after its watermark, in batches; catch-up after
    downtime is the same loop run longer. Returns what was done."""
    if resolution_s not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution_s}s; known: {RESOLUTIONS}")
    closed_until = floor_time((now or timezone.now()) - grace, resolution_s)
    span = dt.timedelta(seconds=resolution_s * (batch_buckets or BATCH_BUCKETS[resolution_s]))
    upsert = _upsert_sql(family)
    result = RollupResult(family.name, resolution_s, 0, 0, None)
    pk = _watermark(family, resolution_s).pk
    while max_batches is None or result.batches < max_batches:
        with transaction.atomic():
            mark = RollupWatermark.objects.select_for_update().get(pk=pk)
            done = mark.done_until
            result.done_until = done
            if done is not None and done >= closed_until:
                break
            following = _next_sample_at(family, done)
            if following is None or following >= closed_until:
                # Nothing (more) to roll up before closed_until: those buckets are empty and final.
                mark.done_until = closed_until
            else:
                start = floor_time(following, resolution_s)
                end = min(start + span, closed_until)
                with connection.cursor() as cursor:
                    cursor.execute(upsert, {"step": resolution_s, "start": start, "end": end})
                    result.buckets_written += cursor.rowcount
                mark.done_until = end
            mark.save(update_fields=["done_until", "updated_at"])
            result.batches += 1
            result.done_until = mark.done_until
    if result.buckets_written:
        log.info(
            "rolled up %d %ds bucket(s) of %s in %d batch(es), done until %s",
            result.buckets_written, resolution_s, family.name, result.batches, result.done_until,
        )  # fmt: skip
    return result


def roll_up_all(
    *, now: dt.datetime | None = None, families: tuple[Family, ...] = FAMILIES
) -> list[RollupResult]:
    """Bring every tier of every family (or of `families`) up to date (what the beat task
    runs)."""
    return [roll_up(f, r, now=now) for f in families for r in RESOLUTIONS]


def rolled_up_until(family: Family) -> dt.datetime | None:
    """Raw rows before this instant are in every tier of the family (None: not yet known)."""
    marks = {
        m.resolution_s: m.done_until
        for m in RollupWatermark.objects.filter(family=family.name, resolution_s__in=RESOLUTIONS)
    }
    if any(marks.get(r) is None for r in RESOLUTIONS):
        return None
    return min(m for m in marks.values() if m is not None)
