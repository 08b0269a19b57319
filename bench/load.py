"""Load: N real sshd test hosts on the production schedule, a real Celery worker and real beat.

Starts N sshd test hosts (bench/fleet.py: a network namespace and address each where namespaces
work, else loopback ports; the suite's docker shim on each) and registers them in a scratch
database `<DB>_load<pid>`, starts a `redis-server` of its own on a free port (broker, results,
cache and channel layer: the shared Redis on 6379 is never touched), then the worker and beat
with the production command lines (docker/entrypoint.sh: `worker --pool threads --concurrency
16 -Q default`, `beat --scheduler django_celery_beat.schedulers:DatabaseScheduler`) and the
schedules of collectors/schedules.py (system kinds every 30 s, containers every 60 s, ...).
It lets them run, stops beat, lets the worker finish what it has, and reports per beat tick of
the system group ("Collect: system", every 30 s):

- `collected`: devices with a scheduled system poll that stored data (ok/partial) started
  between this tick and the next, `failed` the others;
- backlog: the broker's queue length (its maximum, its minimum: the backlog carried through the
  interval, and what is left when the next tick comes) and how late the polls started after the
  tick (`start_delay`);
- `duration`: p50/p95/max of the polls' own duration (CollectionRun.duration_ms);
- the worker's and beat's CPU (% of one core over the interval) and RSS.

    uv run python bench/load.py --devices 200 --minutes 10

The last line printed is one JSON object. tests/load/test_load.py runs the same `run()`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # run as a script: sys.path above makes the repository importable
    ROOT,
    drop_database,
    latency,
    rss_mb,
    setup_django_on_scratch_database,
)
from bench.cpu import process_cpu_s
from bench.fleet import Fleet
from tests.harness.redis_server import RedisServer

SYSTEM_SCHEDULE = "Collect: system"
QUEUE = "default"
# The production worker (docker/entrypoint.sh, ./infra): threads, 16 of them.
DEFAULT_CONCURRENCY = int(os.environ.get("WORKER_CONCURRENCY", "16"))
# Beat's line for a sent tick, in our text log format (or Celery's own, "[<asctime>: ..."); the
# children run with TZ=UTC so asctime is UTC.
_TICK = re.compile(
    r"^\[?(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\b.*"
    rf"Sending due task {re.escape(SYSTEM_SCHEDULE)} \("
)
_SAMPLE_EVERY_S = 1.0
_DRAIN_TIMEOUT_S = 120.0


@dataclass
class Sample:
    at: dt.datetime
    queue: int
    worker_cpu_s: float | None
    worker_rss_mb: float | None
    beat_cpu_s: float | None
    beat_rss_mb: float | None


class CeleryProcess:
    """`celery -A infrastructor <argv>` as a child of ours, its output in `log`."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None

    def start(self) -> CeleryProcess:
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "infrastructor", *self.argv],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self._out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM: a worker's warm shutdown finishes the tasks it is running first."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._out is not None:
            self._out.close()
            self._out = None


def _database_url() -> str:
    """The URL of the database Django uses here (the scratch one, or a test database)."""
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(redis_url: str) -> dict[str, str]:
    """Worker and beat: on our database and our Redis, every Redis user pointed at it."""
    return os.environ | {
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "infrastructor.settings",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CACHE_URL": redis_url,
        "CHANNELS_REDIS_URL": redis_url,
        "CELERY_DEFAULT_QUEUE": QUEUE,
        "SITE_QUEUES": "",
        "LOG_DIR": "",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
        "TZ": "UTC",
    }


def _sample(redis: Any, worker: CeleryProcess, beat: CeleryProcess) -> Sample:
    from django.utils import timezone

    w_cpu, b_cpu = process_cpu_s(worker.pid), process_cpu_s(beat.pid)
    return Sample(
        at=timezone.now(),
        queue=int(redis.llen(QUEUE)),
        worker_cpu_s=w_cpu,
        worker_rss_mb=rss_mb(worker.pid) if w_cpu is not None else None,
        beat_cpu_s=b_cpu,
        beat_rss_mb=rss_mb(beat.pid) if b_cpu is not None else None,
    )


def _unfinished_runs(device_ids: list[int]) -> int:
    from collectors.models import CollectionRun

    return CollectionRun.objects.filter(device_id__in=device_ids, finished_at=None).count()


def _drain(
    redis: Any, device_ids: list[int], worker: CeleryProcess, beat: CeleryProcess,
    samples: list[Sample],
) -> dt.datetime:  # fmt: skip
    """After beat stops: until the queue is empty and no poll runs (three samples running)."""
    from django.utils import timezone

    deadline = time.monotonic() + _DRAIN_TIMEOUT_S
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline and worker.alive():
        samples.append(_sample(redis, worker, beat))
        busy = samples[-1].queue or _unfinished_runs(device_ids)
        quiet = 0 if busy else quiet + 1
        time.sleep(_SAMPLE_EVERY_S)
    return timezone.now()


def beat_ticks(log: str) -> list[dt.datetime]:
    """When beat sent the system group's dispatch, from its log (UTC)."""
    ticks = []
    for line in log.splitlines():
        match = _TICK.match(line)
        if match:
            # The log's times are UTC (TZ=UTC in the children's environment).
            ticks.append(dt.datetime.strptime(f"{match['at']} +0000", "%Y-%m-%d %H:%M:%S,%f %z"))
    return ticks


def _task_results(redis: Any) -> Counter[str]:
    """The `status` of every finished collect_device task, from the result backend."""
    statuses: Counter[str] = Counter()
    keys = list(redis.scan_iter(match="celery-task-meta-*", count=1000))
    for start in range(0, len(keys), 500):
        for raw in redis.mget(keys[start : start + 500]):
            if raw is None:
                continue
            meta = json.loads(raw)
            result = meta.get("result")
            if isinstance(result, dict) and "status" in result:
                statuses[str(result["status"])] += 1
            else:
                statuses[str(meta.get("status"))] += 1
    return statuses


def _pct(cpu: list[float | None], seconds: float) -> float | None:
    known = [c for c in cpu if c is not None]
    if len(known) < 2 or seconds <= 0:
        return None
    return round((known[-1] - known[0]) / seconds * 100, 1)


def _max(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def intervals(
    ticks: list[dt.datetime], end: dt.datetime, runs: list[dict[str, Any]], samples: list[Sample]
) -> list[dict[str, Any]]:
    """One entry per system tick: the polls started from it until the next tick, or for the last
    one until `end` (beat stopped, the worker drained: not `complete`, its queue ends empty)."""
    out = []
    for number, tick in enumerate(ticks):
        until = ticks[number + 1] if number + 1 < len(ticks) else end
        mine = [r for r in runs if tick <= r["started_at"] < until]
        stored = {r["device_id"] for r in mine if r["status"] in ("ok", "partial")}
        window = [s for s in samples if tick <= s.at < until]
        seconds = (until - tick).total_seconds()
        out.append(
            {
                "tick": tick.isoformat(timespec="seconds"),
                "length_s": round(seconds, 1),
                "complete": number + 1 < len(ticks),
                "runs": len(mine),
                "collected": len(stored),
                "failed": len({r["device_id"] for r in mine} - stored),
                "queue_max": max((s.queue for s in window), default=None),
                # The backlog carried: the least the queue held in the interval (0 when the worker
                # caught up at some point; a just-enqueued tick of another group cannot raise it).
                "queue_min": min((s.queue for s in window), default=None),
                "queue_at_end": window[-1].queue if window else None,
                "start_delay": latency([(r["started_at"] - tick).total_seconds() for r in mine])
                if mine
                else None,
                "duration": latency([r["duration_ms"] / 1000 for r in mine if r["duration_ms"]])
                if mine
                else None,
                "worker_cpu_pct": _pct([s.worker_cpu_s for s in window], seconds),
                "worker_rss_mb": _max([s.worker_rss_mb for s in window]),
                "beat_cpu_pct": _pct([s.beat_cpu_s for s in window], seconds),
                "beat_rss_mb": _max([s.beat_rss_mb for s in window]),
            }
        )
    return out


def _system_runs(device_ids: list[int]) -> list[dict[str, Any]]:
    from collectors.kinds import registry
    from collectors.models import CollectionRun, Trigger

    system = sorted(k.name for k in registry.in_group("system"))
    rows = CollectionRun.objects.filter(
        device_id__in=device_ids, trigger=Trigger.SCHEDULE, kinds__contains=system
    ).values("device_id", "started_at", "duration_ms", "status")
    return [dict(row) for row in rows]


def _summary(per_tick: list[dict[str, Any]], runs: list[dict[str, Any]], devices: int) -> dict:
    later = per_tick[1:]
    second = _tick(later[0]) if later else None
    after_first = [r for r in runs if second is not None and r["started_at"] >= second]
    cpu = [t["worker_cpu_pct"] for t in later if t["worker_cpu_pct"] is not None]
    beat_cpu = [t["beat_cpu_pct"] for t in later if t["beat_cpu_pct"] is not None]
    return {
        "intervals": len(per_tick),
        "every_device_collected_after_the_first": all(t["collected"] == devices for t in later),
        "collected_min_after_the_first": min((t["collected"] for t in later), default=None),
        "queue_min": [t["queue_min"] for t in per_tick],
        "queue_at_end": [t["queue_at_end"] for t in per_tick],
        "duration": latency([r["duration_ms"] / 1000 for r in after_first if r["duration_ms"]])
        if after_first
        else None,
        "start_delay_max_ms": max(
            (t["start_delay"]["max_ms"] for t in later if t["start_delay"]), default=None
        ),
        "worker_cpu_pct_mean": round(statistics.mean(cpu), 1) if cpu else None,
        "worker_rss_mb_max": _max([t["worker_rss_mb"] for t in per_tick]),
        "beat_cpu_pct_mean": round(statistics.mean(beat_cpu), 1) if beat_cpu else None,
        "beat_rss_mb_max": _max([t["beat_rss_mb"] for t in per_tick]),
    }


def _tick(entry: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["tick"])


def run(
    devices: int,
    seconds: float,
    stack: contextlib.ExitStack,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    use_netns: bool = True,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    """Start everything on the configured database, run for `seconds` of beat, report."""
    import redis as redis_client

    from collectors.schedules import ensure_default_schedules

    started = time.monotonic()
    fleet = stack.enter_context(Fleet(devices, use_netns=use_netns))
    device_ids = [d.pk for d in fleet.register()]
    fleet_s = round(time.monotonic() - started, 1)
    ensure_default_schedules()  # migrate made them; a test database may have been flushed since
    server = stack.enter_context(RedisServer())
    redis = redis_client.Redis.from_url(server.url())
    stack.callback(redis.close)
    env = child_env(server.url())
    worker = CeleryProcess(
        ["worker", "--pool", "threads", "--concurrency", str(concurrency), "-Q", QUEUE,
         "--loglevel", "INFO", "--hostname", f"load{os.getpid()}@%h"],
        env, fleet.workdir / "worker.log",
    )  # fmt: skip
    beat = CeleryProcess(
        ["beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
         "--loglevel", "INFO", "--schedule", str(fleet.workdir / "celerybeat-schedule"),
         "--pidfile="],
        env, fleet.workdir / "beat.log",
    )  # fmt: skip
    stack.callback(worker.stop)  # LIFO: after beat
    worker.start()
    stack.callback(beat.stop)
    beat.start()
    load_before = os.getloadavg()
    samples: list[Sample] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not (worker.alive() and beat.alive()):
            dead = worker if not worker.alive() else beat
            raise RuntimeError(f"{dead.argv[0]} exited:\n{dead.output()[-3000:]}")
        samples.append(_sample(redis, worker, beat))
        time.sleep(_SAMPLE_EVERY_S)
    beat.stop()
    end = _drain(redis, device_ids, worker, beat, samples)
    ticks = beat_ticks(beat.output())
    runs = _system_runs(device_ids)
    per_tick = intervals(ticks, end, runs, samples)
    worker_log = worker.output()
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(worker.log, log_dir / "worker.log")
        shutil.copy(beat.log, log_dir / "beat.log")
    return {
        "devices": devices,
        "seconds": seconds,
        "interval_s": _system_interval(),
        "hosts": fleet.netns_note,
        "fleet_start_s": fleet_s,
        "worker": {"pool": "threads", "concurrency": concurrency, "queue": QUEUE},
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "task_results": dict(_task_results(redis)),
        "expired_tasks": worker_log.count("Discarding revoked task"),
        "summary": _summary(per_tick, runs, devices),
        "per_interval": per_tick,
    }


def _system_interval() -> int | None:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(name=SYSTEM_SCHEDULE).select_related("interval").first()
    return task.interval.every if task is not None and task.interval is not None else None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--loopback", action="store_true", help="no network namespaces")
    parser.add_argument("--logs", type=Path, default=None, help="keep worker.log, beat.log here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the load, print its JSON (last line) and return it. As a script it makes and drops
    its scratch database."""
    from django.apps import apps

    args = _parse(argv)
    with contextlib.ExitStack() as stack:
        if not apps.ready:
            stack.callback(drop_database, setup_django_on_scratch_database(f"load{os.getpid()}"))
            from django.db import connections

            stack.callback(connections.close_all)
        results = run(
            args.devices, args.minutes * 60, stack,
            concurrency=args.concurrency, use_netns=not args.loopback, log_dir=args.logs,
        )  # fmt: skip
    print(json.dumps(results))
    return results


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup callback


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    main()
