"""Prompts: ready-made requests an agent's user can pick, phrased around our tools."""

from __future__ import annotations

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


PROMPTS = [health_check, what_changed]
