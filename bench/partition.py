"""Should the raw time-series tables be partitioned by time? Both layouts measured side by side.

Issue #10 asks to consider native PostgreSQL partitioning of the raw tables (pruning would drop a
day's partition instead of deleting its rows) and to measure before choosing. This builds, in a
scratch database `<DB>_partition`, two copies of the raw system-metrics table (the columns of
`devices_systemsample`, its (device, time) index): `plain`, one table as today, and `parted`,
the same partitioned by day (`PARTITION BY RANGE (collected_at)`). The same generated rows
(`--devices` devices, `--days` days of 30-second samples) go into both, then, per layout:

- bulk load: one INSERT ... SELECT of all rows (a catch-up, a restore);
- poll path: single-row INSERTs, one per transaction, as a collection stores a sample;
- chart reads: one device's last 24 h in 5-minute buckets, and its last 7 days raw, p50/p95;
- pruning the oldest day: the product's way for `plain` (ids in batches of 5000, then DELETE by
  id, as devices/retention.py does) against DROP of the day's partition, plus the bytes the
  table keeps on disk afterwards (a DELETE leaves dead rows until VACUUM).

Prints human lines, then one JSON object with the ratios parted/plain.

    uv run python bench/partition.py [--devices 20] [--days 14] [--rounds 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from psycopg import sql

from bench.common import drop_database, latency, use_scratch_database

DAY = dt.timedelta(days=1)
TABLES = ("plain", "parted")
BATCH = 5000  # devices/retention.py's default batch
COLUMNS = """
    device_id bigint NOT NULL,
    collected_at timestamptz NOT NULL,
    cpu_pct double precision, cpu_user_pct double precision, cpu_system_pct double precision,
    cpu_iowait_pct double precision, cpu_steal_pct double precision, cpu_count smallint,
    mem_total_bytes bigint, mem_available_bytes bigint, mem_used_bytes bigint,
    mem_used_pct double precision, swap_total_bytes bigint, swap_used_bytes bigint,
    load_1 double precision, load_5 double precision, load_15 double precision,
    procs_running integer, procs_total integer, uptime_s double precision
"""
ROWS_SQL = """
SELECT d.id, t + random() * interval '1 second',
    20 + 10 * random(), 10 * random(), 5 * random(), random(), 0, 8,
    17179869184, 8589934592 + (random() * 1e9)::bigint, 8589934592 - (random() * 1e9)::bigint,
    50 + 5 * random(), 4294967296, (random() * 1e8)::bigint,
    random() * 4, random() * 3, random() * 2, 1 + (random() * 4)::int, 300 + (random() * 50)::int,
    extract(epoch FROM t - %(start)s)
FROM generate_series(1, %(devices)s) AS d(id)
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 second',
                           interval '30 seconds') AS t
"""
ONE_ROW_SQL = (
    "INSERT INTO {table} (device_id, collected_at, cpu_pct, mem_used_pct, load_1) "
    "VALUES (%s, %s, 12.5, 40.0, 0.5)"
)
CHART_SQL = """
SELECT date_bin(interval '5 minutes', collected_at, TIMESTAMPTZ '1970-01-01 00:00Z') AS point,
       count(*), avg(cpu_pct), max(cpu_pct), avg(mem_used_pct), avg(load_1)
FROM {table} WHERE device_id = %(device)s AND collected_at >= %(start)s AND collected_at <= %(end)s
GROUP BY point ORDER BY point
"""
RAW_SQL = """
SELECT collected_at, cpu_pct, mem_used_pct, load_1 FROM {table}
WHERE device_id = %(device)s AND collected_at >= %(start)s AND collected_at <= %(end)s
ORDER BY collected_at
"""


def _say(line: str) -> None:
    print(line, flush=True)


def _midnight(when: dt.datetime) -> dt.datetime:
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def partition_name(day: dt.datetime) -> str:
    return f"parted_{day:%Y%m%d}"


def create_tables(conn: Any, start: dt.datetime, days: int) -> None:
    """`plain` and `parted` (a partition per day from `start`, plus the next day for new rows)."""
    conn.execute(f"CREATE TABLE plain (id bigserial PRIMARY KEY, {COLUMNS})")
    conn.execute("CREATE INDEX plain_device_time ON plain (device_id, collected_at)")
    conn.execute(
        f"CREATE TABLE parted (id bigserial, {COLUMNS}, PRIMARY KEY (id, collected_at)) "
        "PARTITION BY RANGE (collected_at)"
    )
    conn.execute("CREATE INDEX parted_device_time ON parted (device_id, collected_at)")
    for offset in range(days + 1):
        day = start + offset * DAY
        # DDL takes no bound parameters: the bounds are ours, quoted as literals.
        conn.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF parted FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(partition_name(day)), sql.Literal(day), sql.Literal(day + DAY)
            )
        )


def bulk_load(conn: Any, table: str, devices: int, start: dt.datetime, end: dt.datetime) -> int:
    columns = (
        "device_id, collected_at, cpu_pct, cpu_user_pct, cpu_system_pct, cpu_iowait_pct, "
        "cpu_steal_pct, cpu_count, mem_total_bytes, mem_available_bytes, mem_used_bytes, "
        "mem_used_pct, swap_total_bytes, swap_used_bytes, load_1, load_5, load_15, "
        "procs_running, procs_total, uptime_s"
    )
    cursor = conn.execute(
        f"INSERT INTO {table} ({columns}) {ROWS_SQL}",
        {"devices": devices, "start": start, "end": end},
    )
    conn.execute(f"VACUUM ANALYZE {table}")
    return int(cursor.rowcount)


def reads(conn: Any, end: dt.datetime, rounds: int) -> dict[str, dict[str, Any]]:
    """Chart reads of both layouts, alternating query by query so load hits both alike."""
    found: dict[str, dict[str, Any]] = {t: {} for t in TABLES}
    for name, query, span in (("chart_24h_5m", CHART_SQL, DAY), ("raw_7d", RAW_SQL, 7 * DAY)):
        params = {"device": 3, "start": end - span, "end": end}
        timings: dict[str, list[float]] = {t: [] for t in TABLES}
        rows: dict[str, int] = {}
        for i in range(rounds + 3):
            for table in TABLES if i % 2 else TABLES[::-1]:
                started = time.perf_counter()
                rows[table] = len(conn.execute(query.format(table=table), params).fetchall())
                if i >= 3:  # the first rounds warm the caches
                    timings[table].append(time.perf_counter() - started)
        for table in TABLES:
            found[table][name] = latency(timings[table]) | {"rows": rows[table]}
    return found


def poll_inserts(conn: Any, count: int, at: dt.datetime) -> dict[str, dict[str, float]]:
    """Single-row INSERTs in their own transactions (autocommit), as polls store samples,
    alternating between the layouts."""
    timings: dict[str, list[float]] = {t: [] for t in TABLES}
    for i in range(count):
        for table in TABLES if i % 2 else TABLES[::-1]:
            started = time.perf_counter()
            conn.execute(ONE_ROW_SQL.format(table=table), [1 + i % 7, at + dt.timedelta(seconds=i)])
            timings[table].append(time.perf_counter() - started)
    return {table: latency(timings[table]) for table in TABLES}


def prune_plain(conn: Any, cutoff: dt.datetime) -> int:
    """devices/retention.py's way: a batch of ids, then DELETE them, until none is left."""
    total = 0
    while True:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM plain WHERE collected_at < %s LIMIT %s", [cutoff, BATCH]
            )
        ]
        if not ids:
            return total
        total += conn.execute("DELETE FROM plain WHERE id = ANY(%s)", [ids]).rowcount


def prune_parted(conn: Any, day: dt.datetime) -> int:
    name = partition_name(day)
    rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
    conn.execute(f"ALTER TABLE parted DETACH PARTITION {name}")
    conn.execute(f"DROP TABLE {name}")
    return int(rows)


def table_bytes(conn: Any, table: str) -> int:
    """The table (its partitions, when it has some) with its indexes, on disk."""
    row = conn.execute(
        "SELECT pg_total_relation_size(%(t)s::regclass) + coalesce((SELECT "
        "sum(pg_total_relation_size(relid)) FROM pg_partition_tree(%(t)s) WHERE relid <> "
        "%(t)s::regclass), 0)",
        {"t": table},
    ).fetchone()
    return int(row[0])


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    scratch = use_scratch_database(args.suffix)
    now = dt.datetime.now(dt.UTC)
    start = _midnight(now) - args.days * DAY
    end = _midnight(now)
    result: dict[str, Any] = {
        "devices": args.devices, "days": args.days, "date": f"{now:%Y-%m-%d}",
    }  # fmt: skip
    try:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            create_tables(conn, start, args.days)
            layouts: dict[str, dict[str, Any]] = {}
            for table in TABLES:
                started = time.perf_counter()
                rows = bulk_load(conn, table, args.devices, start, end)
                seconds = time.perf_counter() - started
                layouts[table] = {
                    "rows": rows, "bulk_load_s": round(seconds, 2),
                    "bulk_rows_per_s": round(rows / seconds),
                    "bytes_before_prune": table_bytes(conn, table),
                }  # fmt: skip
                _say(f"{table}: {rows} rows loaded in {seconds:.1f} s")
            for table, timings in poll_inserts(conn, args.rounds * 10, end).items():
                layouts[table]["poll_insert"] = timings
            for table, found in reads(conn, end, args.rounds).items():
                layouts[table] |= found
            started = time.perf_counter()
            layouts["plain"]["pruned_rows"] = prune_plain(conn, start + DAY)
            plain_s = time.perf_counter() - started
            started = time.perf_counter()
            layouts["parted"]["pruned_rows"] = prune_parted(conn, start)
            parted_s = time.perf_counter() - started
            layouts["plain"]["prune_day_s"] = round(plain_s, 3)
            layouts["parted"]["prune_day_s"] = round(parted_s, 3)
            for table in ("plain", "parted"):
                layouts[table]["bytes_after_prune"] = table_bytes(conn, table)
            _say(f"prune one day: plain {plain_s:.2f} s, parted {parted_s:.3f} s")
            result["layouts"] = layouts
    finally:
        if not args.keep:
            drop_database(scratch)
    plain, parted = result["layouts"]["plain"], result["layouts"]["parted"]
    result["ratios"] = {
        "prune_plain/prune_parted": _ratio(plain["prune_day_s"], parted["prune_day_s"]),
        "parted/plain_bulk_load": _ratio(parted["bulk_load_s"], plain["bulk_load_s"]),
        "parted/plain_poll_insert_p50": _ratio(
            parted["poll_insert"]["p50_ms"], plain["poll_insert"]["p50_ms"]
        ),
        "parted/plain_chart_24h_p50": _ratio(
            parted["chart_24h_5m"]["p50_ms"], plain["chart_24h_5m"]["p50_ms"]
        ),
        "parted/plain_raw_7d_p50": _ratio(parted["raw_7d"]["p50_ms"], plain["raw_7d"]["p50_ms"]),
        "parted/plain_bytes": _ratio(parted["bytes_before_prune"], plain["bytes_before_prune"]),
    }
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rounds", type=int, default=30, help="timed reads per query")
    parser.add_argument("--suffix", default="partition", help="scratch database: <DB>_<suffix>")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.devices < 7 or args.days < 2:
        parser.error("--devices must be at least 7 and --days at least 2")
    result = run(args)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
