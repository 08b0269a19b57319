"""Charts over a year of history and the device and container lists at 200 devices, measured
through the real web server; the rollup tiers' gain over raw rows; bytes per stored value; memory.

Generates into a scratch database `<DB>_bench_api` one device with a year of 30-second system
samples (PostgreSQL `generate_series`: daily and weekly cycles, noise, spikes, reboots) and
`--devices` devices with the last 24 h of samples and a few containers each, then brings the
rollup tiers up to date with the product's own `roll_up_all` (the catch-up of a year, timed).
daphne then serves `infrastructor.asgi:application` on a free loopback port and a keep-alive HTTP
client asks for charts (1 h to 1 y) and lists. Baseline in the same run: the same 30 d and 1 y
charts aggregated in SQL straight from the raw rows. Prints human lines, then one JSON object.

    uv run python bench/api.py [--days 365] [--devices 200] [--requests 50] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    ROOT,
    drop_database,
    free_port,
    latency,
    rss_mb,
    setup_django_on_scratch_database,
)

POINTS = 300  # a chart's width in points, as the admin asks for
# What one chart asks for: the series it draws (the console's CPU, memory and load charts).
CHART_FIELDS = "cpu_pct,mem_used_pct,load_1,load_5,load_15"
# Ranges also measured with every field of the family (48 numbers per point), the API's default.
ALL_FIELDS_RANGES = ("24h", "1y")
RANGES = {"1h": "1h", "24h": "24h", "7d": "7d", "30d": "30d", "1y": "365d"}
# Issue #10: p95 through the API.
TARGETS_MS = {"24h": 50.0, "30d": 100.0, "1y": 100.0}
BASELINE_RANGES = ("30d", "1y")
CONTAINER_APPS = (
    ("traefik", "traefik:v3.2", 443), ("nginx", "nginx:1.27-alpine", 80),
    ("postgres", "postgres:16", 5432), ("redis", "redis:7-alpine", 6379),
    ("grafana", "grafana/grafana:11.3.0", 3000), ("jellyfin", "jellyfin/jellyfin:10.10", 8096),
    ("homeassistant", "ghcr.io/home-assistant/home-assistant:2024.11", 8123),
    ("vaultwarden", "vaultwarden/server:1.32.5", 80),
)  # fmt: skip

# One row per device per 30 s between `start` and `end`, stored in time order (as polls arrive).
# CPU follows the day (peak at 14:00 UTC) and the week, with noise and rare spikes; memory sits at
# a per-device level with a smaller daily swing; the uptime restarts every 41 days (a reboot).
SAMPLES_SQL = """
INSERT INTO {table} (device_id, collected_at, cpu_pct, cpu_user_pct, cpu_system_pct,
    cpu_iowait_pct, cpu_steal_pct, cpu_count, mem_total_bytes, mem_available_bytes,
    mem_used_bytes, mem_used_pct, swap_total_bytes, swap_used_bytes, load_1, load_5, load_15,
    procs_running, procs_total, uptime_s)
SELECT id, at, cpu, cpu * 0.7, cpu * 0.22, iowait, 0, cores, mem_total, mem_total - mem_used,
    mem_used, round(100.0 * mem_used / mem_total, 2), swap_total,
    (swap_total * 0.03 * random())::bigint, cpu / 100 * cores * (0.8 + 0.4 * random()),
    cpu / 100 * cores * 0.95, cpu / 100 * cores * 0.9, 1 + floor(random() * 4),
    280 + id %% 120 + floor(random() * 30),
    (epoch + id * 7919) - floor((epoch + id * 7919) / 3542400) * 3542400
FROM (
    SELECT id, at, epoch, cores, mem_total, swap_total,
        least(100, greatest(0, 12 + id %% 25 + 14 * sin(2 * pi() * (epoch - 28800) / 86400)
            + 3 * sin(2 * pi() * epoch / 604800) + 6 * random()
            + CASE WHEN random() < 0.005 THEN 50 * random() ELSE 0 END)) AS cpu,
        2 * power(random(), 3) AS iowait,
        (mem_total * (0.3 + (id %% 20) / 100.0 + 0.06 * sin(2 * pi() * (epoch - 28800) / 86400)
            + 0.02 * random()))::bigint AS mem_used
    FROM (
        SELECT d.id, t + random() * interval '1 second' AS at,
            extract(epoch FROM t)::double precision AS epoch, 4 * (1 + d.id %% 4) AS cores,
            (4::bigint << (d.id %% 4)::int) * 1073741824 AS mem_total,
            4::bigint * 1073741824 AS swap_total
        FROM unnest(%(devices)s::bigint[]) AS d(id)
        CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz,
                                   interval '30 seconds') AS t
    ) base
) v
ORDER BY at, id
"""


def _say(line: str) -> None:
    print(line, flush=True)


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# --- data -------------------------------------------------------------------------------------


def _insert_samples(device_ids: list[int], start: dt.datetime, end: dt.datetime) -> int:
    from django.db import connection

    from devices.models import SystemSample

    sql = SAMPLES_SQL.format(table=SystemSample._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"devices": device_ids, "start": start, "end": end})
        return cursor.rowcount


def _capabilities(cores: int, mem_total: int) -> dict[str, Any]:
    from collectors.parsing import to_jsonable
    from devices.capabilities import Capabilities, ToolInfo

    tools = {name: ToolInfo(path=f"/usr/bin/{name}", usable=True)
             for name in ("docker", "journalctl", "ss", "lsblk", "smartctl")}  # fmt: skip
    facts = Capabilities(
        os="Debian GNU/Linux 12 (bookworm)", kernel="6.1.0-27-amd64", arch="x86_64",
        hostname="host", uid=0, cpu_model="Intel(R) Core(TM) i5-8500T CPU @ 2.10GHz",
        cpu_cores=cores, mem_total_bytes=mem_total, tools=tools,
    )  # fmt: skip
    return {**to_jsonable(facts), "summary": facts.summary()}


def _create_devices(count: int, now: dt.datetime) -> list[Any]:
    """The year device first, then `count` others: online, seen now, real-looking facts."""
    from devices.models import Device, DeviceStatus, DeviceType

    types = list(DeviceType.values)
    devices = [
        Device(
            name="archive-01" if n == 0 else f"node-{n:03d}",
            address=f"10.0.{n // 250}.{n % 250 + 2}",
            device_type=types[n % len(types)], site="home", tags=["homelab", f"rack-{n % 4}"],
            status=DeviceStatus.ONLINE, status_changed_at=now - dt.timedelta(days=3),
            last_seen_at=now, capabilities=_capabilities(4 * (1 + n % 4), 4 << (n % 4) << 30),
            capabilities_checked_at=now - dt.timedelta(days=1),
        )
        for n in range(count + 1)
    ]  # fmt: skip
    return Device.objects.bulk_create(devices)


def _create_containers(devices: list[Any], now: dt.datetime) -> int:
    """3 to 8 containers per device in one Compose project, most running, as `docker` reports."""
    from containers.models import Container, ContainerState

    rows = []
    for device in devices:
        for n, (app, image, port) in enumerate(CONTAINER_APPS[: 3 + device.pk % 6]):
            state = ContainerState.EXITED if (device.pk + n) % 11 == 0 else ContainerState.RUNNING
            labels = {
                "com.docker.compose.project": "stack", "com.docker.compose.service": app,
                "com.docker.compose.project.config_files": "/srv/stack/compose.yaml",
                "com.docker.compose.project.working_dir": "/srv/stack",
                "com.docker.compose.version": "2.29.7", "com.docker.compose.oneoff": "False",
                "org.opencontainers.image.source": f"https://github.com/example/{app}",
            }  # fmt: skip
            rows.append(
                Container(
                    device=device, name=f"stack-{app}-1", container_id=uuid.uuid4().hex * 2,
                    image=image, image_id=f"sha256:{uuid.uuid4().hex * 2}",
                    command=f"/entrypoint.sh {app}", state=state,
                    status_text="Exited (0) 2 hours ago" if state != "running" else "Up 3 days",
                    health="healthy" if n % 2 == 0 else "", restart_count=n % 3,
                    restart_policy="unless-stopped", exit_code=0 if state != "running" else None,
                    ports=[{"container_port": port, "protocol": "tcp", "host_ip": None,
                            "host_port": 8000 + n, "container_port_end": None,
                            "host_port_end": None}],
                    labels=labels,
                    mounts=[{"type": "bind", "name": None, "source": f"/srv/stack/{app}",
                             "destination": "/data", "mode": "rw", "rw": True}],
                    networks=[{"name": "stack_default", "ip_address": f"172.18.0.{n + 2}",
                               "gateway": "172.18.0.1", "mac_address": "02:42:ac:12:00:02"}],
                    compose_project="stack", compose_service=app,
                    created_at=now - dt.timedelta(days=30), started_at=now - dt.timedelta(days=3),
                    first_seen_at=now - dt.timedelta(days=30), last_seen_at=now,
                )
            )  # fmt: skip
    return len(Container.objects.bulk_create(rows))


def _vacuum_analyze(model: Any) -> None:
    # What autovacuum would have done by the time anyone charts a year: visibility map and
    # planner statistics up to date.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def generate(days: int, fleet: int) -> dict[str, Any]:
    """The year device's history, the fleet's last day, containers; then the timed catch-up."""
    from django.utils import timezone

    from devices.history.rollup import floor_time, roll_up_all
    from devices.models import SystemRollup, SystemSample

    now = floor_time(timezone.now(), 30)
    devices = _create_devices(fleet, now)
    recent = now - dt.timedelta(days=min(1, days))
    step = dt.timedelta(seconds=30)
    started = time.perf_counter()
    rows = _insert_samples([devices[0].pk], now - dt.timedelta(days=days), recent - step)
    rows += _insert_samples([d.pk for d in devices], recent, now)
    insert_s = time.perf_counter() - started
    containers = _create_containers(devices[1:], now)
    _vacuum_analyze(SystemSample)
    results: list[Any] = []
    catch_up_s = _timed(lambda: results.extend(roll_up_all()))
    _vacuum_analyze(SystemRollup)
    buckets = {f"{r.resolution_s}s": r.buckets_written for r in results if r.family == "system"}
    _say(f"generated {rows} samples in {insert_s:.1f} s ({rows / insert_s:,.0f} rows/s), "
         f"{len(devices)} devices, {containers} containers")  # fmt: skip
    _say(f"catch-up of {days} d with roll_up_all: {catch_up_s:.1f} s, buckets {buckets}")
    return {
        "year_device": devices[0].pk, "raw_rows": rows, "insert_s": round(insert_s, 2),
        "containers": containers, "catch_up_s": round(catch_up_s, 2), "buckets": buckets,
    }  # fmt: skip


# --- processes --------------------------------------------------------------------------------


@contextmanager
def web_server(logdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """daphne serving the project on a free loopback port, as deployed; yields it and its URL."""
    port = free_port()
    # The per-token rate limit would throttle the benchmark's own requests.
    env = {**_child_env(), "API_RATE_LIMIT": "1000000/min"}
    with (logdir / "web.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "infrastructor.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{(logdir / 'web.log').read_text()}")
            # Listening is enough: /health itself waits on Celery and beat, absent here.
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.2)
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def worker_rss_mb(logdir: Path, settle_s: float = 3.0) -> float:
    """Idle RSS of a `celery worker --pool solo` on the scratch database. It consumes a queue of
    its own only, so it never takes a task meant for a platform on the same Redis."""
    from infrastructor.celery import app

    name = f"bench-api-{uuid.uuid4().hex[:8]}"
    with (logdir / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "infrastructor", "worker", "--pool", "solo",
             "-Q", name, "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle",
             "--loglevel", "WARNING"],
            cwd=ROOT, env=_child_env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[f"{name}@{os.uname().nodename}"], timeout=0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{(logdir / 'worker.log').read_text()}")
        time.sleep(settle_s)
        return rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _child_env() -> dict[str, str]:
    # DATABASE_URL already points at the scratch database; no log files of ours.
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "infrastructor.settings", "LOG_DIR": ""}


# --- measurements -----------------------------------------------------------------------------


def _requests(get: Callable[[], Any], count: int) -> tuple[list[float], Any]:
    """`count` timed calls after a warm-up; the last answer too."""
    for _ in range(max(2, count // 10)):
        answer = get()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        answer = get()
        timings.append(time.perf_counter() - started)
    return timings, answer


def measure_http(url: str, token: str, device: int, count: int) -> dict[str, Any]:
    import httpx2

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request otherwise
    history: dict[str, Any] = {}
    all_fields: dict[str, Any] = {}
    lists: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=url, headers=headers, timeout=120) as client:

        def fetch(path: str, **params: Any) -> httpx2.Response:
            response = client.get(path, params=params)
            response.raise_for_status()
            return response

        path = f"/api/devices/{device}/metrics/"
        for name, since in RANGES.items():
            chart = partial(
                fetch, path, since=since, points=POINTS, series="system", fields=CHART_FIELDS
            )
            timings, answer = _requests(chart, count)
            body = answer.json()
            history[name] = latency(timings) | {
                "resolution_s": body["resolution_s"], "tier": body["tier"],
                "points": body["count"], "bytes": len(answer.content),
            }  # fmt: skip
        for name in ALL_FIELDS_RANGES:
            every = partial(fetch, path, since=RANGES[name], points=POINTS, series="system")
            timings, answer = _requests(every, count)
            all_fields[name] = latency(timings) | {
                "points": answer.json()["count"], "bytes": len(answer.content),
            }  # fmt: skip
        for name in ("devices", "containers"):
            timings, answer = _requests(partial(fetch, f"/api/{name}/", limit=200), count)
            body = answer.json()
            lists[name] = latency(timings) | {
                "items": len(body["results"]),
                "total": body["count"],
                "bytes": len(answer.content),
            }
    return {"history": history, "history_all_fields": all_fields, "lists": lists}


NAIVE_SQL = """
SELECT date_bin(make_interval(secs => %(step)s::double precision), collected_at,
                TIMESTAMPTZ '1970-01-01 00:00Z') AS point, count(*), {aggregates}
FROM {table} WHERE device_id = %(device)s AND collected_at >= %(start)s AND collected_at <= %(end)s
GROUP BY point ORDER BY point
"""


def measure_in_process(device_id: int, steps: dict[str, int], count: int) -> dict[str, Any]:
    """The query alone, no HTTP: the tier path (`read_series`) beside the naive one, the same
    buckets aggregated from every raw row of the range."""
    from django.db import connection
    from django.utils import timezone

    from devices import metrics
    from devices.history.families import SYSTEM
    from devices.history.query import read_series
    from devices.models import Device, SystemSample

    device = Device.objects.get(pk=device_id)
    fields = metrics.model_fields(SystemSample)
    aggregates = ", ".join(
        [f"min({g}), avg({g}), max({g})" for g in SYSTEM.gauges]
        + [f"(array_agg({v} ORDER BY collected_at DESC))[1]" for v in SYSTEM.lasts]
    )
    naive = NAIVE_SQL.format(table=SystemSample._meta.db_table, aggregates=aggregates)
    found: dict[str, Any] = {}
    for name in BASELINE_RANGES:
        span = dt.timedelta(days=365 if name == "1y" else int(name[:-1]))

        def tiered(span: dt.timedelta = span) -> Any:
            end = timezone.now()
            return read_series(SYSTEM, device, end - span, end, fields, target=POINTS)

        def raw(span: dt.timedelta = span, step: int = steps[name]) -> Any:
            end = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(
                    naive, {"step": step, "device": device_id, "start": end - span, "end": end}
                )
                return cursor.fetchall()

        tier_times, _ = _requests(tiered, count)
        raw_times, rows = _requests(raw, max(3, count // 10))
        found[name] = {
            "tier_sql": latency(tier_times),
            "raw_sql": latency(raw_times) | {"points": len(rows), "runs": len(raw_times)},
        }
    return found


def bytes_per_value() -> dict[str, Any]:
    """The system family's tiers (the one this benchmark fills): raw, 5m and 1h."""
    from devices.history.families import SYSTEM
    from devices.history.stats import history_stats

    return {
        s.tier: {"rows": s.rows, "bytes": s.bytes, "values_per_row": s.values_per_row,
                 "bytes_per_value": s.bytes_per_value}
        for s in history_stats()
        if s.table in (SYSTEM.raw_table, SYSTEM.rollup_table)
    }  # fmt: skip


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from infrastructor.models import ApiToken, Scope

    data = generate(args.days, args.devices)
    stored = bytes_per_value()
    user = User.objects.create_user("bench", password=uuid.uuid4().hex)
    _, token = ApiToken.issue(user=user, name="bench", scope=Scope.READ)
    logdir = Path(tempfile.mkdtemp(prefix="infra-bench-api-"))
    with web_server(logdir) as (web, url):
        measured = measure_http(url, token, data["year_device"], args.requests)
        web_rss = rss_mb(web.pid)
    steps = {name: measured["history"][name]["resolution_s"] for name in BASELINE_RANGES}
    baseline = measure_in_process(data["year_device"], steps, args.requests)
    worker_rss = worker_rss_mb(logdir)
    ratios = {
        name: {
            "raw_sql/tier_sql": round(b["raw_sql"]["p50_ms"] / b["tier_sql"]["p50_ms"], 1),
            "raw_sql/api": round(b["raw_sql"]["p50_ms"] / measured["history"][name]["p50_ms"], 1),
        }
        for name, b in baseline.items()
    }
    targets = {
        name: {"p95_ms": measured["history"][name]["p95_ms"], "target_ms": limit,
               "met": measured["history"][name]["p95_ms"] < limit}
        for name, limit in TARGETS_MS.items()
    }  # fmt: skip
    return {
        "days": args.days, "devices": args.devices + 1, "requests": args.requests,
        "points": POINTS, **measured, "baseline": baseline, "ratios": ratios,
        "targets": targets, "bytes_per_value": stored, "catch_up_year_s": data["catch_up_s"],
        "generated": {k: v for k, v in data.items() if k != "catch_up_s"},
        "rss_mb": {"web": web_rss, "worker": worker_rss},
    }  # fmt: skip


def report(result: dict[str, Any]) -> None:
    for name, h in result["history"].items():
        _say(f"chart {name:>4}: p50 {h['p50_ms']:7.1f} ms  p95 {h['p95_ms']:7.1f} ms  "
             f"max {h['max_ms']:7.1f} ms  {h['points']} points from {h['tier']} "
             f"every {h['resolution_s']} s")  # fmt: skip
    for name, h in result["history_all_fields"].items():
        _say(f"chart {name:>4}, every field: p50 {h['p50_ms']:7.1f} ms  p95 {h['p95_ms']:7.1f} ms"
             f"  {h['points']} points, {h['bytes']} bytes")  # fmt: skip
    for name, lst in result["lists"].items():
        _say(f"/api/{name}/?limit=200: p50 {lst['p50_ms']:.1f} ms  p95 {lst['p95_ms']:.1f} ms  "
             f"max {lst['max_ms']:.1f} ms  ({lst['items']} of {lst['total']})")  # fmt: skip
    for name, b in result["baseline"].items():
        ratio = result["ratios"][name]
        _say(f"{name} in SQL: tiers p50 {b['tier_sql']['p50_ms']:.1f} ms, raw rows p50 "
             f"{b['raw_sql']['p50_ms']:.1f} ms: raw/tiers x{ratio['raw_sql/tier_sql']}, "
             f"raw SQL / whole API request x{ratio['raw_sql/api']}")  # fmt: skip
    for name, t in result["targets"].items():
        verdict = "met" if t["met"] else "MISSED"
        _say(f"target {name} p95 < {t['target_ms']:.0f} ms: {verdict} ({t['p95_ms']:.1f} ms)")
    for tier, s in result["bytes_per_value"].items():
        _say(f"{tier:>3}: {s['rows']} rows, {s['bytes'] / 2**20:.1f} MiB, "
             f"{s['bytes_per_value']} bytes per stored value")  # fmt: skip
    _say(f"RSS: web {result['rss_mb']['web']} MiB, worker {result['rss_mb']['worker']} MiB")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="history of the year device")
    parser.add_argument("--devices", type=int, default=200, help="devices with the last 24 h")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per URL")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)

    scratch = setup_django_on_scratch_database("bench_api")
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
