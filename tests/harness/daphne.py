"""A real `daphne infrastructor.asgi:application` on a free loopback port, serving the test
database (and a channel-layer prefix of the test's own), for tests about the web and WebSocket
side as users get it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def this_test_database_url() -> str:
    """The DATABASE_URL of the database this test process uses (pytest-django's test DB)."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@dataclass(frozen=True)
class Daphne:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/stream"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_daphne(channel_prefix: str, log: Path, timeout: float = 30.0) -> Iterator[Daphne]:
    """daphne on the test database and `channel_prefix`, up (accepting TCP) when this yields;
    stopped (SIGTERM, then SIGKILL) when it ends."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": this_test_database_url(),
        "DJANGO_SETTINGS_MODULE": "infrastructor.settings",
        "CHANNELS_PREFIX": channel_prefix,
        "LOG_DIR": "",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            # A short close timeout: open sockets would hold a graceful stop for 10 s.
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "--application-close-timeout", "2", "infrastructor.asgi:application"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Daphne(port, proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{server.output()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
