"""Fault tests: devices, Redis, PostgreSQL and workers failing on purpose, one at a time."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.harness.redis_server import RedisServer, redis_missing_reason


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """Our own redis-server: never the shared one on 6379, which others' work depends on."""
    reason = redis_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = RedisServer().start()
    yield server
    server.close()


class SilentServer:
    """Accepts TCP connections and never says a word (a hung sshd, a black-holing middlebox)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()
