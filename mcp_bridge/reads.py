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
from containers import services as container_services
from containers.api import ComposeProjectViewSet, ContainerViewSet
from containers.models import Container
from devices import logs as device_logs
from devices.api.configs import ConfigFileViewSet
from devices.api.drives import DriveViewSet
from devices.api.ports import ListeningPortViewSet
from devices.api.views import DeviceViewSet
from devices.models import ConfigFile, Drive
from infrastructor.health import health
from mcp_bridge import summary
from mcp_bridge.views import (
    MAX_LIMIT,
    Caller,
    detail,
    device_param,
    find_device,
    instant,
    page,
    viewset,
)
from proxies.api import ProxyConfigVersionSerializer, ProxyConfigViewSet
from proxies.models import ProxyConfig
from zfs import services as zfs_services
from zfs.api import ArcSampleViewSet, DatasetViewSet, PoolViewSet, SnapshotViewSet

DeviceName = Annotated[
    str | None, Field(description="Only this device (its name, as list_devices shows it)")
]
Limit = Annotated[int, Field(ge=1, le=500, description="Page size (1-500)")]
Offset = Annotated[int, Field(ge=0, description="Rows to skip; use next_offset for more")]
Since = Annotated[
    str | None, Field(description="ISO 8601 time (UTC unless zoned) or a duration back: 24h, 7d")
]
Search = Annotated[str | None, Field(description="Words to look for (any case)")]
Severity = Literal["info", "warning", "critical"]


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


def list_containers(
    caller: Caller,
    device: DeviceName = None,
    state: Literal["created", "running", "paused", "restarting", "removing", "exited", "dead"]
    | None = None,
    health: Annotated[
        str | None, Field(description="Healthcheck state: healthy, unhealthy, starting")
    ] = None,
    project: Annotated[str | None, Field(description="Compose project name")] = None,
    image: Annotated[str | None, Field(description="Part of the image name")] = None,
    search: Search = None,
    include_removed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Docker containers across the fleet, filtered by device, state, health, Compose project,
    image or free text: image, status, health, restart count and policy, exit code, OOM kill,
    ports, mounts, networks. Containers gone from their device are left out unless asked."""
    params = {
        "device": device_param(caller, device), "state": state, "health": health,
        "project": project, "image": image, "search": search,
        "removed": None if include_removed else False,
    }  # fmt: skip
    return page(ContainerViewSet, params, caller, limit=limit, offset=offset)


def list_zfs_pools(
    caller: Caller,
    device: DeviceName = None,
    state: Annotated[
        str | None, Field(description="ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED")
    ] = None,
    include_vdevs: Annotated[bool, Field(description="Include each pool's vdev tree")] = True,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """ZFS pools with state, capacity, fragmentation, error counters, last scrub or resilver
    (`scan`), files with data errors and the vdev tree (mirrors, raidz, logs, cache, spares with
    their states and error counts)."""
    params = {"device": device_param(caller, device), "state": state}
    result = page(PoolViewSet, params, caller, limit=limit, offset=offset)
    if not include_vdevs:
        result["results"] = [
            {k: v for k, v in pool.items() if k != "vdevs"} for pool in result["results"]
        ]
    return result


def list_zfs_datasets(
    caller: Caller,
    device: DeviceName = None,
    type: Literal["filesystem", "volume"] | None = None,  # the API's name
    search: Search = None,
    include_removed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """ZFS datasets (filesystems and volumes): used, available and referenced bytes, mountpoint,
    newest snapshot and whether snapshots are overdue."""
    params = {
        "device": device_param(caller, device), "type": type, "search": search,
        "removed": None if include_removed else False,
    }  # fmt: skip
    return page(DatasetViewSet, params, caller, limit=limit, offset=offset)


def list_zfs_snapshots(
    caller: Caller,
    device: DeviceName = None,
    dataset: Annotated[str | None, Field(description="Full dataset name, e.g. tank/media")] = None,
    created_after: Since = None,
    created_before: Since = None,
    include_removed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """ZFS snapshots with their dataset, size and creation time; filter by device, dataset
    and creation time (`created_after: 7d`)."""
    params = {
        "device": device_param(caller, device),
        "created_after": instant(created_after, "created_after"),
        "created_before": instant(created_before, "created_before"),
        "removed": None if include_removed else False,
    }
    narrow = (lambda qs: qs.filter(dataset__name=dataset)) if dataset else None
    return page(SnapshotViewSet, params, caller, limit=limit, offset=offset, narrow=narrow)


def list_drives(
    caller: Caller,
    device: DeviceName = None,
    assessment: Annotated[
        list[Literal["passed", "warning", "failed", "unknown"]] | None,
        Field(description="Only drives with one of these verdicts"),
    ] = None,
    include_removed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Physical drives with our S.M.A.R.T. verdict (passed/warning/failed/unknown) and the
    reasons for it, temperature, power-on hours, reallocated/pending sectors, media errors and
    wear. Drive ids here are what drive_history takes."""
    params = {
        "device": device_param(caller, device), "assessment": assessment,
        "removed": None if include_removed else False,
    }  # fmt: skip
    return page(DriveViewSet, params, caller, limit=limit, offset=offset)


def drive_history(
    caller: Caller,
    drive_id: Annotated[int, Field(description="The drive's id, from list_drives")],
    since: Since = None,
    until: Since = None,
    attributes: Annotated[bool, Field(description="Include full S.M.A.R.T. tables")] = False,
) -> Any:
    """One drive's health over time (oldest first, default the last 30 days): verdict,
    temperature, hours and defect counters at each poll."""
    drive = Drive.objects.filter(pk=drive_id).select_related("device").first()
    if drive is None:
        raise ToolError(f"No drive with id {drive_id}; list_drives shows the ids.")
    caller.device = drive.device
    params = {"since": since, "until": until, "attributes": attributes}
    return detail(DriveViewSet, "history", drive.pk, params, caller)


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


def find_container(caller: Caller, device: str, name: str) -> Container:
    """The container `name` on `device` (the one still there before any removed one)."""
    caller.device = find_device(device)
    container = (
        Container.objects.filter(device=caller.device, name=name)
        .order_by("-removed_at", "-last_seen_at")  # NULL (still there) sorts first descending
        .first()
    )
    if container is None:
        raise ToolError(f"No container {name!r} on {device}; list_containers shows the names.")
    return container


ContainerName = Annotated[str, Field(description="The container's name on that device")]


def get_container(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    container: ContainerName,
    inspect: Annotated[
        bool, Field(description="Also run `docker inspect` now over SSH (audited)")
    ] = False,
) -> Any:
    """One container in detail: image, state, health, restart count and policy, exit code,
    ports, mounts, networks, Compose project and service. With inspect=true, also the live
    `docker inspect` (environment variable values are never included)."""
    row = find_container(caller, device, container)
    answer = detail(ContainerViewSet, "retrieve", row.pk, {}, caller)
    if inspect:
        answer = {**answer, "inspect": _inspect(caller, row)}
    return answer


def _inspect(caller: Caller, row: Container) -> dict[str, Any]:
    """What the API's inspect action answers, run as the MCP caller."""
    try:
        return container_services.inspected(row, actor=caller.actor, trigger=Trigger.MCP)
    except container_services.InvalidInput as e:
        raise ToolError(str(e)) from e


def container_stats(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    container: ContainerName,
    since: Annotated[
        str | None, Field(description="ISO 8601 time or a duration back (default 1h)")
    ] = None,
    until: Since = None,
    points: Annotated[int, Field(ge=10, le=5000, description="About how many points")] = 200,
) -> Any:
    """A container's resource use over time (oldest first, default the last hour): CPU %,
    memory used/limit/%, network and block I/O rates, process count, as about `points` evenly
    spaced points. Long ranges come from the 5-minute or 1-hour rollups, with min and max per
    bucket; `resolution_s` and `tier` say which."""
    row = find_container(caller, device, container)
    params = {"since": since, "until": until, "points": points}
    return detail(ContainerViewSet, "stats", row.pk, params, caller)


def list_compose_projects(
    caller: Caller,
    device: DeviceName = None,
    name: Annotated[str | None, Field(description="Exactly this project name")] = None,
    search: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Docker Compose projects (stacks) across the fleet: status, compose files, services and
    the containers belonging to each."""
    params = {"device": device_param(caller, device), "name": name, "search": search}
    return page(ComposeProjectViewSet, params, caller, limit=limit, offset=offset)


def zfs_arc_stats(
    caller: Caller,
    device: DeviceName = None,
    since: Since = None,
    until: Since = None,
    points: Annotated[
        int, Field(ge=10, le=5000, description="With device and since: about how many points")
    ] = 200,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """ZFS ARC (and L2ARC): size, target, min/max, MRU/MFU sizes, hits, misses and hit ratio.
    With a device and `since`: that device's series, oldest first, as about `points` evenly
    spaced points (long ranges from the 5-minute or 1-hour rollups, each bucket's hit ratio over
    all its accesses; `tier` and `resolution_s` say which). Otherwise samples, newest first,
    paged. A low hit ratio or an ARC squeezed below its target explains slow reads."""
    params = {"device": device_param(caller, device), "since": since, "until": until}
    if device is not None and since is not None:
        # The API's list answers a device's range as a series: run exactly that.
        view = viewset(ArcSampleViewSet, "list", params | {"points": points}, caller)
        assert isinstance(view, ArcSampleViewSet)
        answer: dict[str, Any] = view.list(view.request).data
        return answer
    return page(ArcSampleViewSet, params, caller, limit=limit, offset=offset)


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


def get_drive(
    caller: Caller, drive_id: Annotated[int, Field(description="The drive's id, from list_drives")]
) -> Any:
    """One drive in detail: our verdict and the reasons (the rules that fired), the key
    counters and the full S.M.A.R.T. attribute table of the last poll."""
    drive = Drive.objects.filter(pk=drive_id).select_related("device").first()
    if drive is None:
        raise ToolError(f"No drive with id {drive_id}; list_drives shows the ids.")
    caller.device = drive.device
    return detail(DriveViewSet, "retrieve", drive.pk, {}, caller)


def platform_health(caller: Caller) -> Any:
    """The health of Infrastructor itself, as `/health` reports it: database, Redis, Celery
    workers, beat (the scheduler) and devices not polled for too long (`stale`)."""
    request = HttpRequest()
    request.method = "GET"
    return json.loads(health(request).content)


def zfs_snapshot_diff(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    snapshot: Annotated[str, Field(description="A snapshot: dataset@name (or its id)")],
    other: Annotated[str, Field(description="Another snapshot of the same dataset")],
) -> dict[str, Any]:
    """Files changed between two snapshots of a dataset (`zfs diff`, older first, read now over
    SSH and audited): modified, added, removed, renamed; at most 5,000 changes."""
    caller.device = find_device(device)
    try:
        row = zfs_services.find_snapshot(caller.device, snapshot)
        result = zfs_services.diff_snapshots(row, other, actor=caller.actor, trigger=Trigger.MCP)
    except zfs_services.InvalidInput as e:
        raise ToolError(str(e)) from e
    return result.as_json()


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
