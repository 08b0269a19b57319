"""The per-socket queue between the channel layer and a client that may read slowly.

Handlers never wait on the client: they append here and return, and one sender task per socket
drains the queue. Data messages are bounded (oldest dropped first, and counted, so the client
learns from the next heartbeat that it missed some); replies to the client's own requests and
the heartbeat go first and are never starved by data.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

__all__ = ["Outbox"]

# Replies queue up only when a client sends requests and does not read the answers.
_CONTROL_SIZE = 64


class Outbox:
    """Bounded, drop-oldest queue of JSON-able messages for one socket."""

    def __init__(self, size: int) -> None:
        self.data: deque[dict[str, Any]] = deque()
        self.control: deque[dict[str, Any]] = deque()
        self.size = max(size, 1)
        self.dropped = 0
        self.heartbeat_due = False
        self._ready = asyncio.Event()

    def put(self, message: dict[str, Any]) -> None:
        self._append(self.data, message, self.size)

    def put_control(self, message: dict[str, Any]) -> None:
        self._append(self.control, message, _CONTROL_SIZE)

    def heartbeat(self) -> None:
        """Ask for a heartbeat; several asked before one is sent make one (with the count as
        of when it is sent)."""
        self.heartbeat_due = True
        self._ready.set()

    def _append(self, queue: deque[dict[str, Any]], message: dict[str, Any], size: int) -> None:
        if len(queue) >= size:
            queue.popleft()
            self.dropped += 1
        queue.append(message)
        self._ready.set()

    def pop(self) -> dict[str, Any] | None:
        if self.control:
            return self.control.popleft()
        if self.heartbeat_due:
            self.heartbeat_due = False
            return {"type": "heartbeat", "dropped": self.dropped}
        if self.data:
            return self.data.popleft()
        self._ready.clear()
        return None

    async def wait(self) -> None:
        await self._ready.wait()
