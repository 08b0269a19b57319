"""MCP resources: read-only views an agent (or its user) can attach by address, each answered by
a read tool (or one of the two readers here) without an audit row; the tools are audited."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from containers.api import ComposeProjectViewSet
from containers.models import ComposeProject
from devices.api.configs import ConfigFileSerializer
from devices.models import ConfigFile
from mcp_bridge import reads
from mcp_bridge.views import MAX_LIMIT, Caller, as_json, find_device, page
from proxies.models import ProxyConfig


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


def compose_stack(caller: Caller, device: str, project: str) -> dict[str, Any]:
    """A Compose project of a device, as list_compose_projects shows it, with the content of its
    Compose files as watched (secret-looking values masked)."""
    caller.device = find_device(device)
    row = ComposeProject.objects.filter(device=caller.device, name=project).first()
    if row is None:
        raise ToolError(
            f"No Compose project {project!r} on {caller.device.name}; "
            f"docker://{caller.device.name}/stacks lists them."
        )
    listed = page(ComposeProjectViewSet, {"device": caller.device.pk}, caller, limit=MAX_LIMIT,
                  offset=0, narrow=lambda qs: qs.filter(pk=row.pk))  # fmt: skip
    files = ConfigFile.objects.filter(device=caller.device, path__in=row.config_files)
    return {
        "project": listed["results"][0],
        "files": [
            ConfigFileSerializer(f).data
            for f in files.select_related("device", "watched_path", "content")
        ],
    }


def proxy_conf_text(caller: Caller, device: str, name: str) -> str:
    """The raw text of a SWAG proxy conf (e.g. jellyfin.subdomain.conf) as last collected."""
    caller.device = find_device(device)
    conf = (
        ProxyConfig.objects.filter(device=caller.device, name=name)
        .order_by("status")  # active before removed/sample of the same name
        .first()
    )
    if conf is None:
        raise ToolError(
            f"No proxy conf {name!r} on {caller.device.name}; swag://configs lists them."
        )
    return conf.content


def register_resources(server: MCPServer[Any]) -> None:
    """Every resource, each the answer of a read tool (or of a reader below) as JSON or text."""

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
        return await sync_to_async(_read)(compose_stack, device=device, project=project)

    @server.resource(
        "swag://{device}/{name}", name="proxy-conf", mime_type="text/plain",
        description="The raw text of one SWAG proxy conf, e.g. swag://nas/jellyfin.subdomain.conf.",
    )  # fmt: skip
    async def proxy_conf(device: str, name: str) -> str:
        return await sync_to_async(_text)(proxy_conf_text, device=device, name=name)

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
