"""Read tools for storage: ZFS pools, datasets, snapshots and their diff, the ARC, and drives
(see mcp_bridge.reads for the conventions every read tool follows)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from collectors.models import Trigger
from devices.api.drives import DriveViewSet
from devices.models import Drive
from mcp_bridge.params import DeviceName, Limit, Offset, Search, Since
from mcp_bridge.views import (
    Caller,
    detail,
    device_param,
    find_device,
    instant,
    page,
    viewset,
)
from zfs import services as zfs_services
from zfs.api import ArcSampleViewSet, DatasetViewSet, PoolViewSet, SnapshotViewSet


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
