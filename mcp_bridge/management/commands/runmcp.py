"""`manage.py runmcp`: the MCP server for AI agents.

- `--transport stdio` (default): for a client that starts the server itself (Claude Desktop,
  Claude Code). stdout carries the protocol, so everything else, logs included, goes to stderr.
  The session acts as the API token named by MCP_TOKEN.
- `--transport http --host 127.0.0.1 --port 9102`: streamable HTTP at `/mcp`; every request
  needs `Authorization: Bearer <API token>`.

Write tools are offered only with MCP_ALLOW_WRITES, and run only for operator-scope tokens.
SIGTERM (or SIGINT) ends either transport cleanly with exit status 0.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import uvicorn
from anyio.abc import TaskStatus
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from mcp.server.mcpserver import MCPServer

from mcp_bridge.principal import NoToken, stdio_principal
from mcp_bridge.server import build_server
from mcp_bridge.stdio import serve_stdio

log = logging.getLogger("mcp_bridge.runmcp")

HTTP_PATH = "/mcp"
# Open SSE streams would hold a graceful shutdown forever; they get this long to finish.
GRACEFUL_SHUTDOWN_S = 5


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: by default it re-raises a caught SIGTERM once
    it has shut down, so the process would die of the signal instead of exiting 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_http(server: MCPServer[Any], host: str, port: int) -> None:
    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host=host)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )  # fmt: skip
    web = _Uvicorn(config)
    async with anyio.create_task_group() as tasks:

        async def stop_on_signal(*, task_status: TaskStatus[None]) -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                task_status.started()
                async for signum in signals:
                    log.info("MCP HTTP server: %s, shutting down", signal.Signals(signum).name)
                    web.should_exit = True
                    return

        await tasks.start(stop_on_signal)
        await web.serve()
        tasks.cancel_scope.cancel()
    if not web.started:
        raise CommandError(f"could not serve MCP on {host}:{port} (see the log above)")


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].replace("\n", " ")


async def catalogue(server: MCPServer[Any]) -> str:
    """What the server offers, as Markdown, from the server itself."""
    tools = await server.list_tools()
    lines = ["Tools (read):", ""]
    lines += [f"- `{t.name}`: {_first_line(t.description)}" for t in tools
              if t.annotations is None or t.annotations.read_only_hint]  # fmt: skip
    lines += ["", "Tools (write; listed with MCP_ALLOW_WRITES=true, operator tokens only):", ""]
    lines += [f"- `{t.name}`: {_first_line(t.description)}" for t in tools
              if t.annotations is not None and not t.annotations.read_only_hint]  # fmt: skip
    lines += ["", "Resources:", ""]
    lines += [f"- `{r.uri}`: {_first_line(r.description)}" for r in await server.list_resources()]
    lines += [f"- `{r.uri_template}`: {_first_line(r.description)}"
              for r in await server.list_resource_templates()]  # fmt: skip
    lines += ["", "Prompts:", ""]
    for prompt in await server.list_prompts():
        arguments = ", ".join(a.name for a in prompt.arguments or [])
        lines.append(f"- `{prompt.name}`({arguments}): {_first_line(prompt.description)}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Serve MCP tools, resources and prompts over stdio (default) or streamable HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
        parser.add_argument("--host", default="127.0.0.1", help="HTTP only (default 127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=settings.MCP_PORT, help="HTTP only (default MCP_PORT)"
        )
        parser.add_argument(
            "--list", action="store_true",
            help="print every tool, resource and prompt as Markdown (for the README) and exit",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self.stdout.write(anyio.run(catalogue, build_server(allow_writes=True)))
            return
        writes = "on" if settings.MCP_ALLOW_WRITES else "off"
        if options["transport"] == "stdio":
            try:
                principal = stdio_principal(settings.MCP_TOKEN)
            except NoToken as e:
                raise CommandError(str(e)) from e
            server = build_server(allow_writes=settings.MCP_ALLOW_WRITES, stdio=principal)
            log.info("MCP over stdio as %s (%s), writes %s", principal.actor, principal.scope,
                     writes)  # fmt: skip
            # Tool calls use connections of their own threads; this one would only idle.
            connections.close_all()
            anyio.run(serve_stdio, server)
            return
        host, port = options["host"], options["port"]
        server = build_server(allow_writes=settings.MCP_ALLOW_WRITES)
        log.info("MCP over streamable HTTP at http://%s:%s%s, writes %s", host, port, HTTP_PATH,
                 writes)  # fmt: skip
        anyio.run(serve_http, server, host, port)
