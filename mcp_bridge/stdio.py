"""Serving MCP over stdio until stdin closes or a SIGTERM/SIGINT arrives.

The SDK reads stdin with a blocking read in a worker thread, which a cancellation cannot
interrupt: a SIGTERM would wait for the client's next line. Here stdin is read without blocking
(the event loop waits until the pipe is readable), so a signal ends the session at once, after
the call in progress, if any, was answered.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import sys
from typing import Any, cast

import anyio
from anyio.abc import TaskStatus
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

log = logging.getLogger(__name__)

READ_CHUNK = 65536


class _WireLines:
    """An async iterator of the text lines arriving on a pipe or socket file descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        os.set_blocking(fd, False)

    def __aiter__(self) -> _WireLines:
        return self

    async def __anext__(self) -> str:
        while b"\n" not in self.buffer:
            await anyio.wait_readable(self.fd)
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except BlockingIOError:
                continue
            if not chunk:  # EOF: the client closed our stdin
                if not self.buffer:
                    raise StopAsyncIteration
                line, self.buffer = self.buffer, b""
                return line.decode("utf-8", errors="replace")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8", errors="replace") + "\n"


def _claim_stdin() -> _WireLines | None:
    """The wire on a private descriptor, with fd 0 pointing at /dev/null so that child processes
    (the `local` transport runs commands) can never swallow protocol bytes. None for a regular
    file on stdin, where plain blocking reads never hang and the SDK's reader does fine."""
    if stat.S_ISREG(os.fstat(0).st_mode):
        return None
    wire = os.dup(0)
    os.set_inheritable(wire, False)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return _WireLines(wire)


async def serve_stdio(server: MCPServer[Any]) -> None:
    lowlevel = server._lowlevel_server  # run_stdio_async takes no streams
    stdin = _claim_stdin()
    async with anyio.create_task_group() as tasks:

        async def stop_on_signal(*, task_status: TaskStatus[None]) -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                task_status.started()
                async for signum in signals:
                    log.info("MCP stdio server: %s, shutting down", signal.Signals(signum).name)
                    tasks.cancel_scope.cancel()
                    return

        # Only once the handlers are in place: a SIGTERM before would kill the process outright.
        await tasks.start(stop_on_signal)
        log.info("MCP stdio server ready")
        async with stdio_server(stdin=cast(Any, stdin)) as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        log.info("MCP stdio server: the client closed stdin")
        tasks.cancel_scope.cancel()
    sys.stderr.flush()
