"""Write tools: only registered with MCP_ALLOW_WRITES, only run for operator-scope tokens.

Each calls the same service function as the API's action (validation, quoting, the audited
Operation row and the re-collection all live there) with trigger `mcp` and the token as actor.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from collectors.alerts.api import AlertSerializer
from collectors.alerts.engine import acknowledge_alert
from collectors.alerts.models import Alert
from collectors.api import OperationSerializer
from collectors.kinds import UnknownKind, registry
from collectors.models import Trigger
from collectors.tasks import enqueue_collection
from containers import services as container_services
from containers.api import ContainerSerializer
from containers.models import Container
from devices.api.serializers import ConnectionTestSerializer, DeviceSerializer
from devices.importers import SshConfigError, import_hosts, load_ssh_config
from devices.services import check_connection
from mcp_bridge.views import Caller, find_device
from proxies import services as proxy_services
from proxies import templates as proxy_templates
from proxies.api import ProxyConfigSerializer
from proxies.models import ProxyConfig, SwagInstance
from zfs import services as zfs_services
from zfs.api import PoolSerializer, SnapshotSerializer
from zfs.models import Dataset, Pool

DeviceName = Annotated[str, Field(description="The device's name")]


def _one(queryset: Any, what: str, name: str, device: str, hint: str) -> Any:
    found = queryset.first()
    if found is None:
        raise ToolError(f"No {what} {name!r} on {device}. {hint}")
    return found


def container_action(
    caller: Caller,
    device: DeviceName,
    container: Annotated[str, Field(description="The container's name on that device")],
    action: Literal["start", "stop", "restart"],
) -> dict[str, Any]:
    """Start, stop or restart a Docker container (audited; its state is collected again)."""
    caller.device = find_device(device)
    row = _one(
        Container.objects.filter(device=caller.device, name=container),
        "container", container, device, "list_containers shows the names.",
    )  # fmt: skip
    try:
        result = container_services.container_action(
            row, action, actor=caller.actor, trigger=Trigger.MCP
        )
    except container_services.InvalidInput as e:
        raise ToolError(str(e)) from e
    return {
        "ok": result.output.ok,
        "operation": OperationSerializer(result.output.operation).data,
        "container": ContainerSerializer(result.container).data,
    }


def zfs_snapshot_create(
    caller: Caller,
    device: DeviceName,
    dataset: Annotated[str, Field(description="Full dataset name, e.g. tank/media")],
    name: Annotated[
        str | None, Field(description="The part after @; default infra-YYYYMMDD-HHMMSS (UTC)")
    ] = None,
    recursive: Annotated[bool, Field(description="Also snapshot every child dataset")] = False,
) -> dict[str, Any]:
    """Create a ZFS snapshot `dataset@name` (audited; snapshots are collected again)."""
    caller.device = find_device(device)
    row = _one(
        Dataset.objects.filter(device=caller.device, name=dataset),
        "dataset", dataset, device, "list_zfs_datasets shows the names.",
    )  # fmt: skip
    try:
        result = zfs_services.create_snapshot(
            row, actor=caller.actor, name=name, recursive=recursive, trigger=Trigger.MCP
        )
    except zfs_services.InvalidInput as e:
        raise ToolError(str(e)) from e
    return {
        "ok": result.output.ok,
        "name": result.name,
        "operation": OperationSerializer(result.output.operation).data,
        "snapshot": SnapshotSerializer(result.snapshot).data if result.snapshot else None,
    }


def zfs_snapshot_destroy(
    caller: Caller,
    device: DeviceName,
    snapshot: Annotated[str, Field(description="The snapshot's full name: dataset@snapshot")],
) -> dict[str, Any]:
    """Destroy one ZFS snapshot (never a dataset, never recursive; audited)."""
    caller.device = find_device(device)
    try:
        row = zfs_services.find_snapshot(caller.device, snapshot)
        result = zfs_services.destroy_snapshot(row, actor=caller.actor, trigger=Trigger.MCP)
    except zfs_services.InvalidInput as e:
        raise ToolError(str(e)) from e
    return {
        "ok": result.output.ok,
        "operation": OperationSerializer(result.output.operation).data,
        "snapshot": SnapshotSerializer(result.snapshot).data if result.snapshot else None,
    }


def zfs_scrub(
    caller: Caller,
    device: DeviceName,
    pool: Annotated[str, Field(description="The pool's name")],
) -> dict[str, Any]:
    """Start a scrub of a ZFS pool (audited; the pool's status is collected again)."""
    caller.device = find_device(device)
    row = _one(
        Pool.objects.filter(device=caller.device, name=pool),
        "pool", pool, device, "list_zfs_pools shows the names.",
    )  # fmt: skip
    try:
        result = zfs_services.scrub_pool(row, actor=caller.actor, trigger=Trigger.MCP)
    except zfs_services.InvalidInput as e:
        raise ToolError(str(e)) from e
    return {
        "ok": result.output.ok,
        "operation": OperationSerializer(result.output.operation).data,
        "pool": PoolSerializer(result.pool).data,
    }


def collect_now(
    caller: Caller,
    device: DeviceName,
    kinds: Annotated[
        list[str] | None, Field(description="Collection kinds (default: all the device supports)")
    ] = None,
) -> dict[str, Any]:
    """Ask a worker to collect a device now; returns at once with the task id."""
    caller.device = find_device(device)
    try:
        if kinds:
            registry.resolve(kinds)
    except UnknownKind as e:
        raise ToolError(str(e)) from e
    task_id = enqueue_collection(
        caller.device, kinds or None, trigger=Trigger.MCP, actor=caller.actor
    )
    return {"task_id": task_id, "device": caller.device.name, "queue": caller.device.queue}


def alert_acknowledge(
    caller: Caller,
    alert_id: Annotated[int, Field(description="The alert's id, from list_alerts")],
    note: Annotated[str, Field(max_length=2000, description="Why, or what is being done")] = "",
) -> dict[str, Any]:
    """Acknowledge a firing alert: no more reminders until it resolves (and fires again)."""
    alert = Alert.objects.filter(pk=alert_id).select_related("device", "rule").first()
    if alert is None:
        raise ToolError(f"No alert with id {alert_id}; list_alerts shows the ids.")
    caller.device = alert.device
    user = caller.token.user if caller.token is not None else None
    if not acknowledge_alert(alert, user=user, note=note or f"by {caller.actor}"):
        raise ToolError(f"Alert {alert_id} is {alert.state}, not firing: nothing to acknowledge.")
    return {"ok": True, "alert": AlertSerializer(alert).data}


def device_test_connection(caller: Caller, device: DeviceName) -> dict[str, Any]:
    """Open a fresh SSH connection to a device and run `true`: proves address, key and host
    key (pinning the host key on first contact); updates the device's status."""
    caller.device = find_device(device)
    return dict(ConnectionTestSerializer(check_connection(caller.device)).data)


def _proxy_write(call: Callable[[], proxy_services.WriteResult]) -> dict[str, Any]:
    """A proxy service call's outcome, as the API's proxy writes answer it."""
    try:
        result = call()
    except (proxy_services.WritesDisabled, proxy_services.Conflict) as e:
        raise ToolError(str(e)) from e
    except proxy_services.InvalidInput as e:
        raise ToolError(f"{e.field}: {e}") from e
    operation = result.output.operation
    return {
        "ok": result.ok, "error": operation.error or None, "backup": result.backup,
        "written": result.written, "tested": result.tested, "reloaded": result.reloaded,
        "rolled_back": result.rolled_back, "notes": result.notes,
        "operation": OperationSerializer(operation).data,
        "config": ProxyConfigSerializer(result.config).data if result.config else None,
    }  # fmt: skip


def _active_proxy(caller: Caller, proxy_id: int) -> ProxyConfig:
    config = ProxyConfig.objects.filter(pk=proxy_id).select_related("device", "instance").first()
    if config is None:
        raise ToolError(f"No proxy conf with id {proxy_id}; list_proxies shows the ids.")
    caller.device = config.device
    return config


ProxyId = Annotated[int, Field(description="The conf's id, from list_proxies")]


def proxy_create(
    caller: Caller,
    device: DeviceName,
    app_name: Annotated[str, Field(description="DNS label; the file is <app_name>.<kind>.conf")],
    upstream_app: Annotated[str, Field(description="The container name or host to proxy to")],
    upstream_port: Annotated[int, Field(ge=1, le=65535)],
    kind: Literal["subdomain", "subfolder"] = "subdomain",
    upstream_proto: Literal["http", "https"] = "http",
    auth: Literal["none", "authelia", "authentik", "ldap", "basic", "tinyauth"] = "none",
    server_name: Annotated[
        str | None, Field(description="Subdomain confs only; default <app_name>.*")
    ] = None,
    swag_path: Annotated[
        str | None, Field(description="The SWAG instance's config path, if the device has several")
    ] = None,
) -> dict[str, Any]:
    """Create a SWAG proxy conf from SWAG's template (needs PROXY_WRITES_ENABLED): written,
    checked with `nginx -t` (put back if nginx refuses), nginx reloaded, confs collected again."""
    caller.device = find_device(device)
    instances = SwagInstance.objects.filter(device=caller.device, removed_at__isnull=True)
    if swag_path is not None:
        instances = instances.filter(config_path=swag_path)
    found = list(instances[:2])
    if len(found) != 1:
        paths = ", ".join(
            SwagInstance.objects.filter(device=caller.device).values_list("config_path", flat=True)
        )
        which = "several: name one with swag_path" if len(found) > 1 else "none matching"
        raise ToolError(f"{device} has {which} (SWAG instances: {paths or 'none'}).")

    def call() -> proxy_services.WriteResult:
        spec = proxy_templates.validated_spec(
            kind=kind, app_name=app_name, upstream_app=upstream_app, upstream_port=upstream_port,
            upstream_proto=upstream_proto, auth=auth, server_name=server_name,
        )  # fmt: skip
        return proxy_services.create_conf(found[0], spec, actor=caller.actor, trigger=Trigger.MCP)

    return _proxy_write(call)


def proxy_edit(
    caller: Caller,
    proxy_id: ProxyId,
    content: Annotated[str, Field(description="The conf's full new text")],
    sha256: Annotated[
        str | None,
        Field(description="The version the text was made from (get_proxy's sha256): refused "
              "if the conf changed since"),
    ] = None,
) -> dict[str, Any]:  # fmt: skip
    """Replace an active SWAG proxy conf's content (needs PROXY_WRITES_ENABLED), with a backup,
    `nginx -t` (the original is put back if nginx refuses) and a reload."""
    config = _active_proxy(caller, proxy_id)
    return _proxy_write(
        lambda: proxy_services.edit_conf(
            config, content, base_sha256=sha256, actor=caller.actor, trigger=Trigger.MCP
        )
    )


def proxy_remove(caller: Caller, proxy_id: ProxyId) -> dict[str, Any]:
    """Remove an active SWAG proxy conf (needs PROXY_WRITES_ENABLED): moved aside on the device
    as `<name>.infra-backup-<time>`, then `nginx -t` and a reload."""
    config = _active_proxy(caller, proxy_id)
    return _proxy_write(
        lambda: proxy_services.remove_conf(config, actor=caller.actor, trigger=Trigger.MCP)
    )


def _saved_device(serializer: DeviceSerializer) -> dict[str, Any]:
    """Validate and save through the API's own serializer: the same rules, the same answer (a
    ValidationError becomes a tool error naming the fields, see calls.execute)."""
    serializer.is_valid(raise_exception=True)
    serializer.save()
    return dict(serializer.data)


AuthMethodName = Literal["key_file", "stored_key", "agent"]


def device_add(
    caller: Caller,
    name: Annotated[str, Field(description="A short unique name, e.g. nas or pve-1")],
    address: Annotated[str, Field(description="Host name or IP address to SSH to")],
    username: Annotated[str, Field(description="The SSH user")] = "root",
    port: Annotated[int, Field(ge=1, le=65535)] = 22,
    auth_method: AuthMethodName = "key_file",
    key_path: Annotated[
        str, Field(description="key_file: the private key's path on the platform's host")
    ] = "",
    device_type: Annotated[str | None, Field(description="e.g. unraid, proxmox, ubuntu")] = None,
    site: str = "",
    tags: list[str] | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """Register a new device (machine) to monitor over SSH. Run device_test_connection next: it
    pins the host key and shows what the device supports. Private keys are never taken here."""
    data: dict[str, Any] = {
        "name": name, "address": address, "username": username, "port": port,
        "auth_method": auth_method, "key_path": key_path, "site": site, "tags": tags or [],
        "notes": notes,
    }  # fmt: skip
    if device_type:
        data["device_type"] = device_type
    saved = _saved_device(DeviceSerializer(data=data))
    caller.device = find_device(saved["name"])
    return saved


def device_edit(
    caller: Caller,
    device: DeviceName,
    address: str | None = None,
    username: str | None = None,
    port: Annotated[int | None, Field(ge=1, le=65535)] = None,
    key_path: str | None = None,
    site: str | None = None,
    tags: Annotated[list[str] | None, Field(description="Replaces the tags")] = None,
    enabled: Annotated[bool | None, Field(description="False stops monitoring it")] = None,
    notes: str | None = None,
    new_name: str | None = None,
) -> dict[str, Any]:
    """Change a device's registry fields (only those given)."""
    caller.device = find_device(device)
    given = {
        "address": address,
        "username": username,
        "port": port,
        "key_path": key_path,
        "site": site,
        "tags": tags,
        "enabled": enabled,
        "notes": notes,
        "name": new_name,
    }
    data = {k: v for k, v in given.items() if v is not None}  # fmt: skip
    if not data:
        raise ToolError("Nothing to change: give at least one field.")
    return _saved_device(DeviceSerializer(caller.device, data=data, partial=True))


def device_remove(
    caller: Caller,
    device: DeviceName,
    confirm: Annotated[str, Field(description="The device's name again, to confirm")],
) -> dict[str, Any]:
    """Remove a device from the registry with all its history (metrics, containers, pools,
    drives, events). Irreversible; to only stop polling it, use device_edit enabled=false."""
    row = find_device(device)
    if confirm != row.name:
        raise ToolError(f"confirm must be the device's exact name ({row.name!r}); nothing removed.")
    pk, name = row.pk, row.name
    row.delete()
    return {"removed": True, "id": pk, "name": name}


_INCLUDE = re.compile(r"^\s*include(\s|=)", re.IGNORECASE | re.MULTILINE)
MAX_SSH_CONFIG_CHARS = 200_000


def devices_import_ssh_config(
    caller: Caller,
    config: Annotated[str, Field(description="The text of an OpenSSH client config (Host blocks)")],
    dry_run: Annotated[bool, Field(description="Only say what would happen (default)")] = True,
    update_existing: Annotated[
        bool, Field(description="Bring devices of the same name in line with the config")
    ] = False,
    tags: Annotated[list[str] | None, Field(description="Tags for the devices created")] = None,
) -> dict[str, Any]:
    """Register devices from an SSH client config (~/.ssh/config style): one device per Host,
    resolved as `ssh <alias>` would (HostName, Port, User, IdentityFile). Patterns are skipped,
    `Match exec` is never run. Run with dry_run first, then again with dry_run=false."""
    if len(config) > MAX_SSH_CONFIG_CHARS:
        raise ToolError(f"config is longer than {MAX_SSH_CONFIG_CHARS} characters")
    if _INCLUDE.search(config):
        # Include would read files on the platform's own host: paste their Host blocks instead.
        raise ToolError("Include is not followed here; paste the included files' Host blocks.")
    with tempfile.TemporaryDirectory(prefix="infra-mcp-sshconfig-") as folder:
        path = Path(folder) / "config"
        path.write_text(config, encoding="utf-8")
        try:
            loaded = load_ssh_config(path, include_base=Path(folder))
            report = import_hosts(
                loaded.hosts, update_existing=update_existing, tags=tags or [], dry_run=dry_run
            )
        except (SshConfigError, DjangoValidationError) as e:
            raise ToolError(str(e).replace(str(path), "config")) from e
    return {
        "summary": report.summary(),
        "lines": report.lines(),
        "warnings": [w.replace(str(path), "config") for w in loaded.warnings],
        "dry_run": dry_run,
    }


WRITE_TOOLS: list[Callable[..., Any]] = [
    devices_import_ssh_config,
    device_add,
    device_edit,
    device_remove,
    alert_acknowledge,
    container_action,
    zfs_snapshot_create,
    zfs_snapshot_destroy,
    zfs_scrub,
    collect_now,
    device_test_connection,
    proxy_create,
    proxy_edit,
    proxy_remove,
]
