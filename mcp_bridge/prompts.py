"""Prompts: ready-made requests an agent's user can pick, phrased around our tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import Field


def health_check() -> str:
    """Check the health of the whole infrastructure and report what needs attention."""
    return (
        "Check the health of my infrastructure and tell me what needs attention, most urgent "
        "first.\n\n"
        "1. Call fleet_summary: devices by status, containers, ZFS pools, drives, the last 24 "
        "hours of events, and its `attention` list.\n"
        "2. For anything not healthy, look closer: list_events with min_severity=warning and "
        "since=24h; list_zfs_pools (state, capacity, errors, last scrub); list_drives with "
        'assessment=["warning", "failed"] (and drive_history for a drive that got worse); '
        "list_containers with state=exited or health=unhealthy.\n"
        "3. Answer with a short verdict (healthy / needs attention / urgent), then one line per "
        "problem: what, where (device), since when, and the next step you suggest. Do not "
        "list what is fine beyond a one-line count."
    )


def what_changed(
    since: Annotated[str, Field(description="ISO 8601 time or a duration back: 12h, 2d")] = "24h",
    device: Annotated[str | None, Field(description="Only this device")] = None,
) -> str:
    """What changed in the infrastructure since a time (optionally on one device)."""
    where = f" on device {device}" if device else ""
    device_arg = f', device="{device}"' if device else ""
    return (
        f"What changed in my infrastructure{where} since {since}?\n\n"
        f'Call list_events with since="{since}"{device_arg} (page with offset while '
        "next_offset is not null). Group the events by device, then by kind (containers, ZFS, "
        "drives, config files, ports, proxies, devices). Lead with warnings and critical "
        "events, fold repeated events into one line with a count, and say which problems are "
        "still open now (check with list_containers, list_zfs_pools or list_drives) and which "
        "resolved themselves."
    )


def troubleshoot_container(
    device: Annotated[str, Field(description="The device's name")],
    container: Annotated[str, Field(description="The container's name")],
) -> str:
    """Find out why a container is down, restarting or unhealthy."""
    return (
        f"The container {container} on {device} is misbehaving. Find out why.\n\n"
        f'1. list_containers with device="{device}" and search="{container}": state, health, '
        "exit code, OOM kill, restart count, image.\n"
        f'2. list_events with device="{device}" and search="{container}" since 7d: when did it '
        "stop, restart or change image?\n"
        f'3. read_logs with device="{device}", source="container", container="{container}", '
        "lines=200 (and grep for error if that is long).\n"
        f"4. metrics_history for {device} since 6h: was the host short of memory or CPU?\n"
        "5. If it is behind SWAG, list_proxies with upstream set to the container.\n"
        "Answer with the most likely cause, the evidence (quote log lines with times), and the "
        "fix you suggest; say what you could not check."
    )


def capacity_report(
    since: Annotated[str, Field(description="How far back to look: 30d, 90d")] = "30d",
) -> str:
    """Which devices, pools and filesystems run out of room or headroom, and when."""
    return (
        f"Report on capacity across my infrastructure over the last {since}.\n\n"
        "1. fleet_summary, then list_devices for the names.\n"
        "2. list_zfs_pools: capacity and fragmentation per pool; list_zfs_datasets for the "
        "biggest consumers.\n"
        f'3. metrics_history for each online device with since="{since}" and points=60: memory, '
        "swap and load trends (use max per bucket, not only the average).\n"
        "4. get_device for filesystem usage.\n"
        "Answer with a table: what, where, used now, trend, and when it fills at that trend; "
        "then what to do first."
    )


PROMPTS: list[Callable[..., str]] = [
    health_check,
    what_changed,
    troubleshoot_container,
    capacity_report,
]
