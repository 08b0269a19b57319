"""Metric samples stored per second through our store path, beside PostgreSQL `COPY` of the same
rows, in the same run and the same database; and what each stored value costs on disk.

Real outputs from ../shared/samples (`/proc/stat`, `meminfo`, `loadavg`, `uptime`, `net/dev`,
`diskstats`, `df`, ZFS `arcstats`) are parsed once by the kinds' own parsers; their counters are
then advanced by one 30-second interval per sample, so rates come out as on a live host. Into a
scratch database `<DB>_bench_ingest` (`--suffix`), `--devices` devices each store `--samples`
polls, in time order, through the engine's own `collectors.engine.store_facts`: one transaction
per device per poll, the kinds' real store functions (`devices.metrics.store_*`,
`zfs.arc.store_arcstats`), then the finalisers (the system sample row, the counter state).
Only the store is timed: no SSH, no parsing, no audit row.

The rows that path wrote are then read back, the tables emptied, and the same rows written again
by (a) the ORM's bulk path, `bulk_create` in batches of 1000, and (b) `COPY ... FROM STDIN`
(psycopg 3 `cursor.copy`, one COPY per table in one transaction). Bytes per stored value come
from `devices.history.stats` (pg_total_relation_size: table, indexes and TOAST) after ours and
after COPY. Then `--profile-polls` more polls run under cProfile with every query counted, to
say where our path's time goes. Prints human lines, then one JSON object (the last line).

    uv run python bench/ingest.py [--devices 50] [--samples 40] [--profile-polls 200]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, drop_database, setup_django_on_scratch_database
from bench.cpu import process_cpu_s

if TYPE_CHECKING:
    from django.db import models

    from collectors.kinds import Kind
    from collectors.models import CollectionRun
    from devices.models import Device

# One real output per kind (a 2-CPU VM with an LVM disk, and a ZFS host's ARC).
SAMPLES = {
    "proc-stat": "proc/jc_proc_stat.txt",
    "meminfo": "proc/jc_proc_meminfo.txt",
    "loadavg": "proc/jc_proc_loadavg.txt",
    "uptime": "proc/jc_proc_uptime.txt",
    "net-dev": "proc/jc_proc_net_dev.txt",
    "diskstats": "proc/jc_proc_diskstats.txt",
    "df": "tools/jc_df_centos77.out",
    "arcstats": "zfs/node_exporter_kstat_zfs_arcstats.txt",
}
INTERVAL_S = 30  # beat's system-metrics interval
# The engine runs `df -x tmpfs -x devtmpfs`; this sample is plain `df`, so its tmpfs rows are
# dropped here, as the device would not have printed them.
PSEUDO_FILESYSTEMS = {"tmpfs", "devtmpfs", "udev"}
BATCH = 1000
TOP_FUNCTIONS = 15
# Where a poll's time goes, by the functions that do it (cumulative time of each).
FOCUS = {
    "commit": ("django/db/backends/base/base.py", "commit"),
    "savepoint": ("django/db/backends/base/base.py", "_savepoint"),
    "savepoint_release": ("django/db/backends/base/base.py", "_savepoint_commit"),
    "store_proc_stat": ("devices/metrics.py", "store_proc_stat"),
    "store_meminfo": ("devices/metrics.py", "store_meminfo"),
    "store_loadavg": ("devices/metrics.py", "store_loadavg"),
    "store_uptime": ("devices/metrics.py", "store_uptime"),
    "store_net_dev": ("devices/metrics.py", "store_net_dev"),
    "store_diskstats": ("devices/metrics.py", "store_diskstats"),
    "store_df": ("devices/metrics.py", "store_df"),
    "store_arcstats": ("zfs/arc.py", "store_arcstats"),
    "save_system_sample": ("devices/metrics.py", "_save_system_sample"),
    "save_counters": ("devices/metrics.py", "_save_counters"),
}


def _say(line: str) -> None:
    print(line, flush=True)


def samples_dir() -> Path:
    found = Path(os.environ.get("INFRA_SAMPLES_DIR") or ROOT.parent / "shared" / "samples")
    if not found.is_dir():
        raise SystemExit(f"no samples folder at {found}; set INFRA_SAMPLES_DIR")
    return found


# --- the facts ----------------------------------------------------------------------------------


def parsed_facts() -> dict[str, Any]:
    """Each kind's facts, parsed once from its real sample by the kind's own parser."""
    from collectors.kinds import registry

    folder = samples_dir()
    facts = {
        name: registry.get(name).parser((folder / path).read_text(encoding="utf-8"))
        for name, path in SAMPLES.items()
    }
    facts["df"] = [fs for fs in facts["df"] if fs.filesystem not in PSEUDO_FILESYSTEMS]
    return facts


def _grow(obj: Any, step: int, per_interval: dict[str, int]) -> Any:
    """`obj` with its counters grown by `step` intervals."""
    return dataclasses.replace(
        obj, **{f: getattr(obj, f) + step * inc for f, inc in per_interval.items()}
    )


def facts_at(base: dict[str, Any], step: int) -> dict[str, Any]:
    """The facts of poll number `step`: counters since boot grown by `step` intervals (a few
    percent of CPU, some network and disk traffic), gauges as sampled."""
    cpu = {"user": 300, "system": 90, "idle": 5500, "iowait": 10}  # 2 CPUs x 30 s x 100 Hz
    stat = base["proc-stat"]
    per_cpu = {state: jiffies // max(1, len(stat.cpus)) for state, jiffies in cpu.items()}
    net = {"rx_bytes": 1_500_000, "tx_bytes": 400_000, "rx_packets": 1200, "tx_packets": 900}
    disk = {"reads_completed": 40, "sectors_read": 3000, "writes_completed": 120,
            "sectors_written": 9000, "io_time_ms": 450}  # fmt: skip
    arc = {"hits": 20_000, "misses": 700}
    return base | {
        "proc-stat": dataclasses.replace(
            stat, cpu=_grow(stat.cpu, step, cpu), cpus=[_grow(c, step, per_cpu) for c in stat.cpus]
        ),
        "uptime": dataclasses.replace(
            base["uptime"], uptime_s=base["uptime"].uptime_s + step * INTERVAL_S
        ),
        "net-dev": [_grow(nic, step, net) for nic in base["net-dev"]],
        "diskstats": [_grow(d, step, disk) for d in base["diskstats"]],
        "arcstats": _grow(base["arcstats"], step, arc),
    }


# --- our store path -----------------------------------------------------------------------------


def store_poll(
    device: Device, run: CollectionRun, at: dt.datetime, kinds: list[Kind], facts: dict[str, Any]
) -> None:
    """One poll's facts stored as the engine stores them (`collectors.engine.store_facts` in one
    transaction: each kind's store function, then the finalisers; the engine's savepoints come
    only on its second try, after a store failed)."""
    from django.db import transaction

    from collectors.engine import store_facts
    from collectors.store import StoreContext

    with transaction.atomic():
        ctx = StoreContext(device=device, run=run, collected_at=at)
        store_facts(ctx, [(kind, facts[kind.name]) for kind in kinds], isolate=False)


def sample_models() -> list[type[models.Model]]:
    from devices.models import DiskSample, FilesystemSample, InterfaceSample, SystemSample
    from zfs.models import ArcSample

    return [SystemSample, InterfaceSample, DiskSample, FilesystemSample, ArcSample]


def _create_devices(count: int, kinds: list[str]) -> list[tuple[Device, CollectionRun]]:
    from django.utils import timezone

    from collectors.models import CollectionRun, Trigger
    from devices.models import Device

    devices = Device.objects.bulk_create(
        Device(name=f"ingest-{n:04d}", address=f"10.1.{n // 250}.{n % 250 + 2}")
        for n in range(count)
    )
    runs = CollectionRun.objects.bulk_create(
        CollectionRun(device=d, kinds=kinds, trigger=Trigger.CLI, started_at=timezone.now())
        for d in devices
    )
    return list(zip(devices, runs, strict=True))


def run_ours(
    pairs: list[tuple[Device, CollectionRun]],
    kinds: list[Kind],
    base: dict[str, Any],
    steps: range,
    start: dt.datetime,
    each: Callable[[], Any] | None = None,
) -> tuple[float, float]:
    """Every device stores each poll of `steps`, poll after poll (as a fleet's polls arrive).
    Returns the wall and CPU seconds of the stores alone."""
    wall = cpu = 0.0
    for step in steps:
        facts = facts_at(base, step)
        at = start + dt.timedelta(seconds=step * INTERVAL_S)
        started, started_cpu = time.perf_counter(), time.process_time()
        for device, run in pairs:
            store_poll(device, run, at, kinds, facts)
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        if each is not None:
            each()
    return wall, cpu


# --- the same rows, again ---------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[str]:
    return [str(f.column) for f in model._meta.concrete_fields if not f.primary_key]


def read_rows(model: type[models.Model]) -> list[tuple[Any, ...]]:
    from django.db import connection

    cols = ", ".join(_columns(model))  # names from the model's own metadata, never input
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {model._meta.db_table} ORDER BY id")  # noqa: S608
        return list(cursor.fetchall())


def empty(tables: list[type[models.Model]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(m._meta.db_table for m in tables)}")


def run_bulk_create(rows: dict[type[models.Model], list[tuple[Any, ...]]]) -> tuple[float, float]:
    """The ORM's bulk path: instances built from the rows, `bulk_create` in batches."""
    from django.db import transaction

    started, started_cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        for model, table_rows in rows.items():
            attnames = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
            objs = [model(**dict(zip(attnames, row, strict=True))) for row in table_rows]
            model._default_manager.bulk_create(objs, batch_size=BATCH)
    return time.perf_counter() - started, time.process_time() - started_cpu


def run_copy(rows: dict[type[models.Model], list[tuple[Any, ...]]]) -> tuple[float, float]:
    """PostgreSQL's COPY FROM STDIN through psycopg 3, one per table, one transaction."""
    from django.db import connection, transaction

    started, started_cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        raw = connection.connection  # the psycopg Connection under Django's, same transaction
        with raw.cursor() as cursor:
            for model, table_rows in rows.items():
                cols = ", ".join(_columns(model))
                with cursor.copy(f"COPY {model._meta.db_table} ({cols}) FROM STDIN") as copy:
                    for row in table_rows:
                        copy.write_row(row)
    return time.perf_counter() - started, time.process_time() - started_cpu


# --- figures ----------------------------------------------------------------------------------


def db_cpu_s() -> float:
    """CPU seconds so far of the PostgreSQL backend serving Django's connection (a local
    server): the database's side of the work, beside this process's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
    return process_cpu_s(pid) or 0.0


def rates(
    seconds: float, cpu_s: float, db_s: float, rows: int, values: int, polls: int
) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 3), "cpu_s": round(cpu_s, 3), "db_cpu_s": round(db_s, 3),
        "rows": rows, "values": values,
        "rows_per_s": round(rows / seconds), "values_per_s": round(values / seconds),
        "ms_per_poll": round(1000 * seconds / polls, 3) if polls else None,
    }  # fmt: skip


def disk_usage() -> dict[str, dict[str, Any]]:
    """Bytes per stored value of each sample table, from the product's own statistics."""
    from devices.history.stats import history_stats

    tables = {m._meta.db_table for m in sample_models()}
    return {
        s.table: {
            "rows": s.rows,
            "bytes": s.bytes,
            "values_per_row": s.values_per_row,
            "bytes_per_value": s.bytes_per_value,
        }
        for s in history_stats()
        if s.tier == "raw" and s.table in tables
    }


@contextmanager
def counted_queries() -> Iterator[dict[str, float]]:
    """Every query on Django's connection counted, with the seconds spent waiting on it."""
    from django.db import connection

    seen: dict[str, float] = {"queries": 0, "seconds": 0.0}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            verb = sql.split(None, 1)[0].upper()
            seen["queries"] += 1
            seen["seconds"] += time.perf_counter() - started
            seen[verb] = seen.get(verb, 0) + 1

    with connection.execute_wrapper(wrapper):
        yield seen


def _where(key: tuple[str, int, str]) -> str:
    path, line, name = key
    for prefix in (str(ROOT) + "/", "/usr/lib/python3.11/"):
        path = path.replace(prefix, "")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    return f"{path}:{line}({name})" if line else name


def profile_ours(
    pairs: list[tuple[Device, CollectionRun]],
    kinds: list[Kind],
    base: dict[str, Any],
    steps: range,
    start: dt.datetime,
) -> dict[str, Any]:
    """More polls under cProfile, with the queries counted: where our path's time goes."""
    profiler = cProfile.Profile()
    with counted_queries() as seen:
        profiler.enable()
        wall, cpu = run_ours(pairs, kinds, base, steps, start)
        profiler.disable()
    polls = len(pairs) * len(steps)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values()) or 1.0  # tottime of all functions

    def top(index: int) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda item: item[1][index], reverse=True)
        return [
            {
                "function": _where(key),
                "calls_per_poll": round(entry[1] / polls, 1),
                "ms_per_poll": round(1000 * entry[index] / polls, 3),
                "pct": round(100 * entry[index] / total, 1),
            }
            for key, entry in ranked[:TOP_FUNCTIONS]
        ]

    def focus(path: str, name: str) -> float:
        seconds = sum(e[3] for k, e in table.items() if k[0].endswith(path) and k[2] == name)
        return round(1000 * seconds / polls, 3)

    return {
        "polls": polls,
        "ms_per_poll_by_part": {part: focus(*where) for part, where in FOCUS.items()},
        "ms_per_poll_profiled": round(1000 * wall / polls, 3),
        "cpu_ms_per_poll_profiled": round(1000 * cpu / polls, 3),
        "queries_per_poll": round(seen["queries"] / polls, 2),
        "query_wait_ms_per_poll": round(1000 * seen["seconds"] / polls, 3),
        "query_wait_pct": round(100 * seen["seconds"] / wall, 1),
        "queries_per_poll_by_verb": {
            verb: round(count / polls, 2)
            for verb, count in sorted(seen.items(), key=lambda item: -item[1])
            if verb not in ("queries", "seconds")
        },
        "by_tottime": top(2),
        "by_cumtime": top(3),
    }


# --- the run ----------------------------------------------------------------------------------


def _cpu(method: dict[str, Any]) -> float:
    return max(float(method["cpu_s"]) + float(method["db_cpu_s"]), 0.001)  # clock ticks: 10 ms


def run(args: argparse.Namespace) -> dict[str, Any]:
    from collectors.kinds import registry
    from devices.history.stats import numeric_columns

    kinds = [registry.get(name) for name in SAMPLES]
    base = parsed_facts()
    pairs = _create_devices(args.devices, list(SAMPLES))
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    models_ = sample_models()
    polls = args.devices * args.samples

    _say(f"ours: {args.devices} devices x {args.samples} polls, {len(kinds)} kinds per poll")
    db_before = db_cpu_s()
    wall, cpu = run_ours(pairs, kinds, base, range(args.samples), start)
    db = db_cpu_s() - db_before
    rows = {m: read_rows(m) for m in models_}
    n_rows = sum(len(r) for r in rows.values())
    n_values = sum(len(r) * numeric_columns(m) for m, r in rows.items())
    methods = {"ours": rates(wall, cpu, db, n_rows, n_values, polls)}
    disk = {"ours": disk_usage()}

    _say(f"bulk_create and COPY: the same {n_rows} rows")
    for name, again in (("orm_bulk_create", run_bulk_create), ("copy", run_copy)):
        empty(models_)
        db_before = db_cpu_s()
        wall, cpu = again(rows)
        methods[name] = rates(wall, cpu, db_cpu_s() - db_before, n_rows, n_values, polls)
    disk["copy"] = disk_usage()

    copy_rate = methods["copy"]["rows_per_s"]
    result: dict[str, Any] = {
        "devices": args.devices,
        "samples": args.samples,
        "polls": polls,
        "kinds": list(SAMPLES),
        "rows_per_poll": {m._meta.db_table: round(len(r) / polls, 2) for m, r in rows.items()},
        "values_per_row": {m._meta.db_table: numeric_columns(m) for m in models_},
        "methods": methods,
        "ratios": {
            "ours/copy": round(methods["ours"]["rows_per_s"] / copy_rate, 4),
            "orm_bulk_create/copy": round(methods["orm_bulk_create"]["rows_per_s"] / copy_rate, 4),
            "copy_speedup_over_ours": round(copy_rate / methods["ours"]["rows_per_s"], 1),
            # The same rows, so the CPU ratio is a throughput ratio too, and the one that holds
            # on a loaded machine: this process's CPU plus its PostgreSQL backend's.
            "ours/copy_by_cpu": round(_cpu(methods["copy"]) / _cpu(methods["ours"]), 4),
        },
        "bytes_per_value": disk,
        "profile": None,
    }
    if args.profile_polls > 0:
        steps = max(1, args.profile_polls // args.devices)
        _say(f"profile: {steps} more polls of each device under cProfile")
        later = range(args.samples, args.samples + steps)
        result["profile"] = profile_ours(pairs, kinds, base, later, start)
    return result


def report(result: dict[str, Any]) -> None:
    for name, m in result["methods"].items():
        _say(f"{name:16} {m['rows_per_s']:>9} rows/s {m['values_per_s']:>10} values/s "
             f"{m['seconds']:>8.3f} s  ({m['ms_per_poll']} ms per poll)")  # fmt: skip
    _say(f"ratios: {result['ratios']}")
    for method, tables in result["bytes_per_value"].items():
        for table, figures in tables.items():
            _say(f"{method:5} {table:28} {figures['bytes_per_value']} bytes/value")
    profile = result["profile"]
    if profile:
        _say(f"profile: {profile['queries_per_poll']} queries per poll, "
             f"{profile['query_wait_pct']}% of the time waiting on them")  # fmt: skip
        for part, ms in profile["ms_per_poll_by_part"].items():
            _say(f"  {part:20} {ms:7.3f} ms per poll (profiled)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--samples", type=int, default=40, help="polls stored per device")
    parser.add_argument("--profile-polls", type=int, default=200, help="0: no profile")
    parser.add_argument("--suffix", default="bench_ingest", help="scratch database: <DB>_SUFFIX")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.devices < 1 or args.samples < 2:
        parser.error("--devices must be at least 1 and --samples at least 2 (rates need two)")

    scratch = setup_django_on_scratch_database(args.suffix)
    _say(f"scratch database {scratch}")
    from django.db import connections

    try:
        result = run(args)
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(scratch)
    report(result)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
