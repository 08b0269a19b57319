"""A real ``celery worker`` subprocess on a broker of the test's choosing (its own redis-server).

tests/conftest.py's ``celery_worker`` fixture uses the shared broker; fault tests that kill
workers or restart Redis start theirs here, with the environment they need. No Django here: the
caller passes the database URL and any settings as environment variables.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


class CeleryWorker:
    """One worker process consuming ``queue`` only (``--pool threads`` as in production)."""

    def __init__(self, name: str, queue: str, env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.queue = queue
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "infrastructor", "worker",
                 "--pool", "threads", "--concurrency", "2", "-Q", queue,
                 "--hostname", f"{name}@%h", "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=REPO, env=os.environ | {"LOG_DIR": ""} | dict(env),
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> CeleryWorker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker {self.name} exited:\n{self.output()}")
            if " ready." in self.output():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"celery worker {self.name} not ready in {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged, nothing handed back to the broker."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
