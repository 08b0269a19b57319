"""What the benchmarks share: a scratch database of their own, Django set up on it, the floor
(OpenSSH's client over a ControlMaster), a free port, percentiles and a process's memory.

A benchmark calls `use_scratch_database` (or `setup_django_on_scratch_database`) before Django is
set up: DATABASE_URL is rewritten first, so the settings and every child process (daphne, a Celery
worker) point at the scratch database and a running platform's data is never touched.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.models import Device
    from tests.harness.sshd import SshdHost

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/infrastructor"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infrastructor.settings")


def _server(url: str) -> tuple[dict[str, Any], str]:
    """psycopg keywords for the maintenance database of `url`'s server, and `url`'s database."""
    import environ

    cfg = environ.Env().db_url_config(url)
    return {
        "host": cfg["HOST"] or "127.0.0.1", "port": cfg["PORT"] or 5432,
        "user": cfg["USER"] or None, "password": cfg["PASSWORD"] or None,
        "dbname": "postgres", "autocommit": True,
    }, cfg["NAME"]  # fmt: skip


def use_scratch_database(suffix: str) -> str:
    """Point DATABASE_URL (this process and its children) at `<name>_<suffix>`, dropped and
    created fresh; returns the scratch database's name."""
    import psycopg

    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    server, name = _server(url)
    scratch = f"{name}_{suffix}"
    with psycopg.connect(**server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + scratch
    return scratch


def setup_django_on_scratch_database(suffix: str = "bench") -> str:
    """A fresh `<name>_<suffix>` database, Django set up on it and migrated; returns its name."""
    scratch = use_scratch_database(suffix)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scratch


def drop_database(name: str) -> None:
    """Drop a scratch database (FORCE: Django's persistent connections may still be open)."""
    import psycopg

    server, _ = _server(os.environ.get("DATABASE_URL", DEFAULT_URL))
    with psycopg.connect(**server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def engine_script(device: Device, kinds: list[str] | None = None) -> tuple[list[str], str]:
    """The batched shell script the engine would send `device` for `kinds` (default: a full poll,
    every kind the device supports) and the names of the kinds it runs."""
    from collectors.engine import kinds_for, section_timeout_s
    from collectors.script import Section, build_script, new_nonce

    run, _ = kinds_for(device, kinds)
    sections = [Section(k.name, k.command_for(device)) for k in run]
    return [k.name for k in run], build_script(sections, new_nonce(), section_timeout_s())


class ControlMaster:
    """OpenSSH's own client multiplexed over one master connection to a test host: the floor a
    warm poll is compared with. The master (`ssh -M -N`) is a child of ours until `stop()`."""

    def __init__(self, host: SshdHost, key: Path, control: Path) -> None:
        self.base = [*host.ssh_argv(key, "true")[:-1], "-o", f"ControlPath={control}"]
        self.control = control
        self.master: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        self.master = subprocess.Popen(
            [*self.base, "-o", "ControlMaster=yes", "-N"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self.control.exists():
            if self.master.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the ControlMaster at {self.control} did not come up")
            time.sleep(0.02)

    def run_script(self, script: bytes) -> None:
        """One poll: the script on the stdin of `/bin/sh -s`, its output discarded."""
        subprocess.run(
            [*self.base, "/bin/sh -s"],
            input=script, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
        )  # fmt: skip

    def stop(self) -> None:
        if self.master is not None:
            self.master.terminate()
            try:
                self.master.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait()
            self.master = None


def free_port(address: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (a race with other processes, small on loopback)."""
    with socket.socket() as s:
        s.bind((address, 0))
        port: int = s.getsockname()[1]
    return port


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise ValueError(f"no VmRSS for pid {pid}")


def latency(samples: list[float]) -> dict[str, float]:
    """p50, p95 and max of durations in seconds, as milliseconds."""
    ordered = sorted(samples)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18] if len(ordered) > 1 else 0.0
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round((p95 or ordered[-1]) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }
