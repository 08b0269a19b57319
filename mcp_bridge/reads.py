"""Read tools: each one translates its arguments into the API's query and runs the API's viewset.

Every function takes the `Caller` first (the registry hides it from the tool's schema), then the
tool's own arguments, and returns JSON-able data. Device arguments are names, not ids: that is
what people and agents think in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from collectors.alerts.api import AlertViewSet
from collectors.api import EventViewSet
from collectors.models import Trigger
from devices import logs as device_logs
from devices.api.configs import ConfigFileViewSet
from devices.api.ports import ListeningPortViewSet
from devices.api.views import DeviceViewSet
from devices.models import ConfigFile
from infrastructor.health import health
from mcp_bridge import summary
from mcp_bridge.params import DeviceName, Limit, Offset, Search, Severity, Since
from mcp_bridge.reads_containers import (
    container_stats,
    get_container,
    list_compose_projects,
    list_containers,
)
from mcp_bridge.reads_storage import (
    drive_history,
    get_drive,
    list_drives,
    list_zfs_datasets,
    list_zfs_pools,
    list_zfs_snapshots,
    zfs_arc_stats,
    zfs_snapshot_diff,
)
from mcp_bridge.views import (
    MAX_LIMIT,
    Caller,
    detail,
    device_param,
    find_device,
    instant,
    page,
)
from proxies.api import ProxyConfigVersionSerializer, ProxyConfigViewSet
from proxies.models import ProxyConfig


def list_devices(
    caller: Caller,
    search: Search = None,
    status: Literal["unknown", "online", "offline", "maintenance", "host_key_changed"]
    | None = None,
    site: str | None = None,
    tag: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """List or search the registered devices (machines): address, type, site, tags, status,
    last contact and detected capabilities. Start here to learn device names."""
    params = {"search": search, "status": status, "site": site, "tag": tag}
    return page(DeviceViewSet, params, caller, limit=limit, offset=offset)


def get_device(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
) -> Any:
    """One device in detail: registry fields, capabilities (docker, zfs, smartctl...) and the
    latest metrics (CPU, memory, load, filesystems, network interfaces, disks)."""
    caller.device = find_device(device)
    return detail(DeviceViewSet, "retrieve", caller.device.pk, {}, caller)


def fleet_summary(caller: Caller) -> dict[str, Any]:
    """The whole fleet at a glance: devices by status and stale ones, containers by state and
    unhealthy ones, ZFS pools by state, drives by verdict, events of the last 24 hours by
    severity, and a list of what needs attention. The first call of a health check."""
    return summary.fleet_summary()


def list_ports(
    caller: Caller,
    device: DeviceName = None,
    protocol: Literal["tcp", "udp"] | None = None,
    exposure: Annotated[
        Literal["loopback", "public"] | None,
        Field(description="loopback: 127.0.0.0/8 and ::1; public: everything else"),
    ] = None,
    process: str | None = None,
    port: Annotated[int | None, Field(ge=1, le=65535)] = None,
    include_closed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Listening TCP/UDP ports across the fleet: address, port, the process holding it and the
    container publishing it, and whether it is reachable beyond loopback."""
    params = {
        "device": device_param(caller, device), "protocol": protocol, "exposure": exposure,
        "process": process, "port": port, "removed": None if include_closed else False,
    }  # fmt: skip
    return page(ListeningPortViewSet, params, caller, limit=limit, offset=offset)


def list_proxies(
    caller: Caller,
    device: DeviceName = None,
    server_name: Annotated[
        str | None, Field(description="A host name, e.g. jellyfin.example.org: the conf serving it")
    ] = None,
    status: Annotated[
        list[Literal["active", "sample", "removed"]] | None, Field(description="Default: active")
    ] = None,
    auth: list[Literal["none", "authelia", "authentik", "ldap", "basic", "tinyauth"]] | None = None,
    upstream: Annotated[str | None, Field(description="Upstream app (container or host)")] = None,
    search: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """SWAG (nginx) reverse-proxy routes: which host names go to which upstream app, port and
    protocol, behind which authentication, and whether the upstream container is running."""
    params: dict[str, object] = {
        "device": device_param(caller, device), "server_name": server_name,
        "status": status or ["active"], "auth": auth, "upstream": upstream, "search": search,
    }  # fmt: skip
    return page(ProxyConfigViewSet, params, caller, limit=limit, offset=offset)


def list_events(
    caller: Caller,
    device: DeviceName = None,
    kind: Literal["device", "container", "zfs", "drive", "proxy", "config", "port", "collection"]
    | None = None,
    severity: Annotated[Severity | None, Field(description="Exactly this severity")] = None,
    min_severity: Annotated[Severity | None, Field(description="This severity or worse")] = None,
    type: Annotated[  # the API's name
        str | None, Field(description="An event type, e.g. container.stopped, pool.degraded")
    ] = None,
    since: Since = None,
    until: Since = None,
    search: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """What changed, newest first: containers stopped or restarted, pools degraded, drives
    failing, config files changed, ports opened, devices offline... Filter by device, kind,
    severity and time (`since: 12h` answers "what happened since last night")."""
    params = {
        "device": device_param(caller, device), "kind": kind, "severity": severity,
        "type": type, "since": instant(since, "since"), "until": instant(until, "until"),
        "search": search,
    }  # fmt: skip

    def narrow(queryset: Any) -> Any:
        return queryset.at_least(min_severity) if min_severity else queryset

    return page(EventViewSet, params, caller, limit=limit, offset=offset, narrow=narrow)


def metrics_history(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    since: Annotated[
        str, Field(description="ISO 8601 time or a duration back: 1h, 24h, 30d")
    ] = "24h",
    until: Since = None,
    fields: Annotated[
        list[str] | None,
        Field(description="Fields, e.g. cpu_pct, mem_used_pct, load_1 (default: all)"),
    ] = None,
    points: Annotated[
        int, Field(ge=10, le=5000, description="About how many points (per series)")
    ] = 200,
    series: Annotated[
        Literal["system", "filesystems", "interfaces", "disks"],
        Field(
            description="system (CPU, memory, load), filesystems (use per mountpoint), "
            "interfaces (traffic per NIC) or disks (I/O per block device)"
        ),
    ] = "system",
    key: Annotated[
        str | None,
        Field(description="filesystems: one mountpoint; interfaces/disks: one name (eth0, sda)"),
    ] = None,
) -> Any:
    """A device's CPU, memory, swap and load (or filesystem use, interface traffic, disk I/O)
    over time, as about `points` evenly spaced points (oldest first; per mountpoint/NIC/disk,
    each point naming it). Long ranges come from the 5-minute or 1-hour rollups, with min and
    max per bucket; `resolution_s` and `tier` say which. For "was it busy last night?"."""
    caller.device = find_device(device)
    params = {"since": since, "until": until, "series": series, "points": points, "key": key,
              "fields": ",".join(fields) if fields else None}  # fmt: skip
    return detail(DeviceViewSet, "metrics", caller.device.pk, params, caller)


def list_alerts(
    caller: Caller,
    device: DeviceName = None,
    state: Literal["firing", "acknowledged", "resolved"] | None = None,
    open_only: Annotated[
        bool, Field(description="Only alerts not resolved yet (firing or acknowledged)")
    ] = True,
    severity: Severity | None = None,
    search: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Alerts raised from the event timeline (a degraded pool, a failing drive, a device
    offline...), newest first: state, severity, how often it fired, who acknowledged it."""
    params = {
        "device": device_param(caller, device), "state": state,
        "open": True if open_only and state is None else None, "severity": severity,
        "search": search, "ordering": "-last_fired_at",
    }  # fmt: skip
    return page(AlertViewSet, params, caller, limit=limit, offset=offset)


def read_logs(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    source: Annotated[
        Literal["journal", "file", "container"],
        Field(description="The systemd journal, a whitelisted log file, or a container"),
    ] = "journal",
    unit: Annotated[str | None, Field(description="journal: a unit, e.g. nginx.service")] = None,
    priority: Annotated[
        Literal["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] | None,
        Field(description="journal: this level and more urgent"),
    ] = None,
    since: Annotated[
        str | None, Field(description="journal/container: -1h, 'yesterday', '2026-01-31 12:00'")
    ] = None,
    grep: Annotated[str | None, Field(description="Plain text to match (any case)")] = None,
    lines: Annotated[int, Field(ge=1, le=device_logs.MAX_LINES)] = 200,
    path: Annotated[str | None, Field(description="file: an allowed log file's path")] = None,
    container: Annotated[str | None, Field(description="container: its name")] = None,
) -> dict[str, Any]:
    """Read logs now from a device over SSH (never stored; audited): journal entries or the
    newest lines of a file or a container's output, capped in size (`truncated` says so)."""
    caller.device = find_device(device)
    try:
        result = device_logs.read_logs(
            caller.device, source, actor=caller.actor, trigger=Trigger.MCP, unit=unit,
            priority=priority, since=since, grep=grep, lines=lines, path=path,
            container=container,
        )  # fmt: skip
    except device_logs.InvalidInput as e:
        raise ToolError(str(e)) from e
    return result.as_json()


def list_config_files(
    caller: Caller,
    device: DeviceName = None,
    path: Annotated[str | None, Field(description="Part of the path (any case)")] = None,
    include_deleted: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Watched config files (Compose files, SWAG confs, paths added by hand): path, size, hash,
    when each last changed. Ids here are what config_diff takes."""
    params = {
        "device": device_param(caller, device), "path": path,
        "status": None if include_deleted else ["present"], "ordering": "-changed_at",
    }  # fmt: skip
    return page(ConfigFileViewSet, params, caller, limit=limit, offset=offset)


def config_diff(
    caller: Caller,
    file_id: Annotated[int, Field(description="The file's id, from list_config_files")],
    from_version: Annotated[int | None, Field(description="Default: the one before to")] = None,
    to_version: Annotated[int | None, Field(description="Default: the latest")] = None,
) -> Any:
    """The unified diff of a watched config file between two versions (by default its last
    change), secrets masked: what exactly changed in a compose file or proxy conf."""
    config = ConfigFile.objects.filter(pk=file_id).select_related("device").first()
    if config is None:
        raise ToolError(f"No config file with id {file_id}; list_config_files shows the ids.")
    caller.device = config.device
    params = {"from": from_version, "to": to_version}
    return detail(ConfigFileViewSet, "diff", config.pk, params, caller)


def _proxy(caller: Caller, proxy_id: int) -> ProxyConfig:
    config = ProxyConfig.objects.filter(pk=proxy_id).select_related("device").first()
    if config is None:
        raise ToolError(f"No proxy conf with id {proxy_id}; list_proxies shows the ids.")
    caller.device = config.device
    return config


ProxyId = Annotated[int, Field(description="The conf's id, from list_proxies")]


def get_proxy(caller: Caller, proxy_id: ProxyId) -> Any:
    """One SWAG proxy conf: the parsed route (server names, upstream app/port/proto, auth,
    listen ports, locations), parse or read errors, and the file's full content."""
    config = _proxy(caller, proxy_id)
    return detail(ProxyConfigViewSet, "retrieve", config.pk, {}, caller)


def proxy_versions(
    caller: Caller, proxy_id: ProxyId, limit: Limit = 20, offset: Offset = 0
) -> dict[str, Any]:
    """Every content a proxy conf had, newest first (one version per change), with its
    hash, size and when it was collected: what the conf looked like before."""
    config = _proxy(caller, proxy_id)
    if not 1 <= limit <= MAX_LIMIT:
        raise ToolError(f"limit must be between 1 and {MAX_LIMIT}")
    rows = config.versions.order_by("-collected_at", "-id")  # as the API's versions action
    total = rows.count()
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
        "results": ProxyConfigVersionSerializer(rows[offset : offset + limit], many=True).data,
    }


def platform_health(caller: Caller) -> Any:
    """The health of Infrastructor itself, as `/health` reports it: database, Redis, Celery
    workers, beat (the scheduler) and devices not polled for too long (`stale`)."""
    request = HttpRequest()
    request.method = "GET"
    return json.loads(health(request).content)


READ_TOOLS: list[Callable[..., Any]] = [
    list_devices, get_device, fleet_summary, list_containers, list_zfs_pools, list_zfs_datasets,
    list_zfs_snapshots, list_drives, drive_history, list_ports, list_proxies, list_events,
    metrics_history, list_alerts, read_logs, list_config_files, config_diff, get_container,
    container_stats, list_compose_projects, zfs_arc_stats, get_proxy, proxy_versions, get_drive,
    platform_health, zfs_snapshot_diff,
]  # fmt: skip
# Tools that may wait on a device over SSH (or, platform_health, on a worker ping): each call
# gets a thread of its own (see calls.register).
REMOTE_TOOLS: frozenset[str] = frozenset(
    {"read_logs", "get_container", "platform_health", "zfs_snapshot_diff"}
)
