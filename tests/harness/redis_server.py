"""A private ``redis-server`` on a free loopback port, for tests that stop or restart Redis.

The shared Redis on 6379 serves other people's work: a test that breaks Redis on purpose runs
its own, in a temporary directory, without persistence, and stops it at the end. No Django here.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness.processes import stop_tree

REDIS_SERVER = Path("/usr/bin/redis-server")


def redis_missing_reason() -> str | None:
    return None if REDIS_SERVER.exists() else f"{REDIS_SERVER} is missing (install redis-server)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server child process; ``restart`` keeps its port, so clients find it again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="infra-redis-"))
        self.log_path = self.workdir / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> RedisServer:
        argv = [str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(self.workdir), "--save", "", "--appendonly", "no",
                "--logfile", str(self.log_path), "--daemonize", "no"]  # fmt: skip
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self._log_tail()}")
            if self._pong():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer within {timeout} s:\n{self._log_tail()}")

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM and wait: clients see their connections closed."""
        if self._proc is not None:
            stop_tree(self._proc, graceful=True)
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
