"""The MCP server: our tools, resources and prompts on the SDK's MCPServer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from mcp_bridge import reads
from mcp_bridge.calls import register
from mcp_bridge.principal import ApiTokenVerifier, Principal
from mcp_bridge.prompts import PROMPTS
from mcp_bridge.resources import register_resources
from mcp_bridge.writes import WRITE_TOOLS

INSTRUCTIONS = """\
Infrastructor watches a homelab or small fleet of Linux machines over SSH: system metrics,
Docker containers, ZFS pools, drive health (S.M.A.R.T.), listening ports, SWAG reverse-proxy
routes, and a timeline of events (what changed). Start with fleet_summary; list_devices gives the
device names every other tool takes. Lists are paginated (limit/offset, `total`, `next_offset`);
times are ISO 8601 UTC and `since` also takes durations like 24h or 7d."""


def build_server(
    *, allow_writes: bool, stdio: Principal | None = None, version: str = ""
) -> MCPServer[Any]:
    """The server with every read tool, the write tools when allowed, resources and prompts.

    `stdio` is the principal of a stdio session; over HTTP each request brings its own token
    (the transport's bearer middleware, see runmcp)."""
    server: MCPServer[Any] = MCPServer(
        "infrastructor", instructions=INSTRUCTIONS, version=version, **_auth(stdio)
    )
    for fn in reads.READ_TOOLS:
        register(server, fn, write=False, stdio=stdio, remote=fn.__name__ in reads.REMOTE_TOOLS)
    if allow_writes:
        for fn in WRITE_TOOLS:
            register(server, fn, write=True, stdio=stdio)
    register_resources(server)
    for prompt in PROMPTS:
        server.prompt()(prompt)
    return server


def _auth(stdio: Principal | None) -> dict[str, Any]:
    if stdio is not None:
        return {}
    # Our tokens are issued by the web app (admin or `create_api_token`), not by an OAuth
    # server: the issuer is only a required field here, nothing redirects to it.
    auth = AuthSettings(
        issuer_url=f"http://127.0.0.1:{settings.WEB_PORT}",  # type: ignore[arg-type]
        resource_server_url=None,
    )
    return {"auth": auth, "token_verifier": ApiTokenVerifier()}
