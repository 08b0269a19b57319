"""The MCP server: our tools, resources and prompts on the SDK's MCPServer."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from mcp_bridge import reads
from mcp_bridge.calls import register
from mcp_bridge.principal import ApiTokenVerifier, Principal
from mcp_bridge.prompts import PROMPTS
from mcp_bridge.views import Caller, as_json
from mcp_bridge.writes import WRITE_TOOLS

INSTRUCTIONS = """\
Infrastructor watches a homelab or small fleet of Linux machines over SSH: system metrics,
Docker containers, ZFS pools, drive health (S.M.A.R.T.), listening ports, SWAG reverse-proxy
routes, and a timeline of events (what changed). Start with fleet_summary; list_devices gives the
device names every other tool takes. Lists are paginated (limit/offset, `total`, `next_offset`);
times are ISO 8601 UTC and `since` also takes durations like 24h or 7d."""


def _read(fn: Any, **arguments: Any) -> str:
    """A resource's content: a read tool's answer (resources are not audited, tools are)."""
    close_old_connections()
    try:
        return as_json(fn(Caller(token=None), **arguments))
    except ToolError as e:  # an unknown device, say: the client gets the message, not a 500
        raise ResourceError(str(e)) from e


def _text(fn: Any, **arguments: Any) -> str:
    """A resource whose content is text as it is (a conf file), not JSON."""
    close_old_connections()
    try:
        return str(fn(Caller(token=None), **arguments))
    except ToolError as e:
        raise ResourceError(str(e)) from e


def _read_remote(fn: Any, **arguments: Any) -> str:
    """A resource read over SSH, in a thread of its own (its connections closed after)."""
    try:
        return _read(fn, **arguments)
    finally:
        connections.close_all()


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
    _resources(server)
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


def _resources(server: MCPServer[Any]) -> None:
    @server.resource(
        "infra://devices", name="devices", mime_type="application/json",
        description="Every registered device (as list_devices, up to 500).",
    )  # fmt: skip
    async def devices() -> str:
        return await sync_to_async(_read)(reads.list_devices, limit=500)

    @server.resource(
        "infra://{device}/status", name="device-status", mime_type="application/json",
        description="One device: capabilities and latest metrics (as get_device).",
    )  # fmt: skip
    async def device_status(device: str) -> str:
        return await sync_to_async(_read)(reads.get_device, device=device)

    @server.resource(
        "zfs://pools/{device}", name="zfs-pools", mime_type="application/json",
        description="The ZFS pools of one device with their vdev trees (as list_zfs_pools).",
    )  # fmt: skip
    async def zfs_pools(device: str) -> str:
        return await sync_to_async(_read)(reads.list_zfs_pools, device=device, limit=500)

    @server.resource(
        "events://recent", name="recent-events", mime_type="application/json",
        description="The 50 newest events across the fleet (as list_events).",
    )  # fmt: skip
    async def recent_events() -> str:
        return await sync_to_async(_read)(reads.list_events, limit=50)

    @server.resource(
        "ports://{device}", name="ports", mime_type="application/json",
        description="The listening ports of one device with their processes and containers.",
    )  # fmt: skip
    async def ports(device: str) -> str:
        return await sync_to_async(_read)(reads.list_ports, device=device, limit=500)

    @server.resource(
        "alerts://open", name="open-alerts", mime_type="application/json",
        description="Every alert not resolved yet (as list_alerts, up to 500).",
    )  # fmt: skip
    async def open_alerts() -> str:
        return await sync_to_async(_read)(reads.list_alerts, limit=500)

    @server.resource(
        "docker://{device}/stacks", name="compose-stacks", mime_type="application/json",
        description="The Compose projects of one device with their services and containers.",
    )  # fmt: skip
    async def stacks(device: str) -> str:
        return await sync_to_async(_read)(reads.list_compose_projects, device=device, limit=500)

    @server.resource(
        "zfs://health/{device}", name="zfs-health", mime_type="application/json",
        description="The ZFS pools of one device: state, capacity, errors, last scrub (no vdevs).",
    )  # fmt: skip
    async def zfs_health(device: str) -> str:
        return await sync_to_async(_read)(
            reads.list_zfs_pools, device=device, include_vdevs=False, limit=500
        )

    @server.resource(
        "swag://configs", name="proxy-configs", mime_type="application/json",
        description="Every active SWAG proxy route across the fleet (as list_proxies, up to 500).",
    )  # fmt: skip
    async def swag_configs() -> str:
        return await sync_to_async(_read)(reads.list_proxies, limit=500)

    @server.resource(
        "docker://{device}/{project}", name="compose-stack", mime_type="application/json",
        description="One Compose project of a device with its Compose files' content (masked).",
    )  # fmt: skip
    async def stack(device: str, project: str) -> str:
        return await sync_to_async(_read)(reads.compose_stack, device=device, project=project)

    @server.resource(
        "swag://{device}/{name}", name="proxy-conf", mime_type="text/plain",
        description="The raw text of one SWAG proxy conf, e.g. swag://nas/jellyfin.subdomain.conf.",
    )  # fmt: skip
    async def proxy_conf(device: str, name: str) -> str:
        return await sync_to_async(_text)(reads.proxy_conf_text, device=device, name=name)

    @server.resource(
        "logs://{device}/journal", name="journal", mime_type="application/json",
        description="The newest 200 systemd journal entries of one device, read now over SSH.",
    )  # fmt: skip
    async def journal(device: str) -> str:
        return await sync_to_async(_read_remote, thread_sensitive=False)(
            reads.read_logs, device=device, source="journal", lines=200
        )

    # After logs://{device}/journal: templates are tried in order, `journal` is not a container.
    @server.resource(
        "logs://{device}/{container}", name="container-logs", mime_type="application/json",
        description="The newest 200 log lines of a container, read now over SSH.",
    )  # fmt: skip
    async def container_logs(device: str, container: str) -> str:
        return await sync_to_async(_read_remote, thread_sensitive=False)(
            reads.read_logs, device=device, source="container", container=container, lines=200
        )
