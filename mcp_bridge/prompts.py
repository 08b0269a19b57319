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


def troubleshoot(
    device: Annotated[str, Field(description="The device's name")],
    description: Annotated[str, Field(description="What is wrong, in the user's words")],
) -> str:
    """Troubleshoot a problem on one device from a description of the symptoms."""
    return (
        f"Something is wrong on {device}: {description}\n\n"
        "Find the cause before suggesting anything.\n"
        f'1. get_device with device="{device}": status, capabilities, latest CPU, memory, '
        "filesystems and disks.\n"
        f'2. list_events with device="{device}" and since="24h" (and min_severity="warning" '
        "if that is long): what changed just before the problem started?\n"
        f'3. list_alerts with device="{device}" for anything still firing.\n'
        f'4. metrics_history with device="{device}" and since="6h": load, memory, swap.\n'
        f'5. Depending on the symptoms: list_containers with device="{device}" (exited, '
        f'unhealthy, restarting); list_zfs_pools with device="{device}"; list_drives; '
        f'list_ports; list_proxies; read_logs with device="{device}" and priority="err".\n'
        "Answer with the most likely cause, the evidence (events, numbers, log lines with "
        "times), the fix you suggest, and what you could not check."
    )


def device_performance(
    device: Annotated[str, Field(description="The device's name")],
    since: Annotated[str, Field(description="How far back: 6h, 24h, 7d")] = "24h",
) -> str:
    """Analyse a device's performance over a period: CPU, memory, load, containers, ZFS."""
    return (
        f"Analyse the performance of {device} over the last {since}.\n\n"
        f'1. get_device with device="{device}": cores, memory, filesystems, current load.\n'
        f'2. metrics_history with device="{device}" and since="{since}": CPU, memory, swap '
        "and load over time (use the max per bucket for peaks, not only the average).\n"
        f'3. list_containers with device="{device}" and state="running", then container_stats '
        "for the busiest-looking ones: which container uses the CPU and memory?\n"
        f'4. If the device has ZFS: zfs_arc_stats with device="{device}" and since="{since}" '
        "(hit ratio, ARC size against its target) and list_zfs_pools (capacity, "
        "fragmentation, a scrub running?).\n"
        f'5. list_events with device="{device}" and since="{since}" for restarts or changes '
        "that line up with peaks.\n"
        "Answer with a short verdict (fine / busy / saturated), the peaks with their times and "
        "likely causes, and what to change first."
    )


def stack_analysis(
    device: Annotated[str, Field(description="The device's name")],
    project: Annotated[str, Field(description="The Compose project (stack) name")],
) -> str:
    """Analyse one Docker Compose stack: its services, their health, resources and routes."""
    return (
        f"Analyse the Compose stack {project} on {device}.\n\n"
        f'1. list_compose_projects with device="{device}" and name="{project}": status, '
        "compose files, services and containers.\n"
        f'2. list_containers with device="{device}" and project="{project}": state, health, '
        "restart counts, exit codes, OOM kills, images, ports.\n"
        "3. container_stats for each running container (since 24h): CPU and memory against "
        "its limit.\n"
        f'4. list_events with device="{device}" and search="{project}" since 7d: restarts, '
        "image changes, stops.\n"
        "5. list_proxies with upstream set to each container: which host names reach it and "
        "behind which auth; list_config_files with the compose file's path and config_diff "
        "for its last change.\n"
        '6. read_logs with source="container" for any container that is not healthy.\n'
        "Answer with a table of services (state, health, CPU, memory, restarts, exposed as), "
        "then the problems and risks you see, most urgent first."
    )


def explain_alerts() -> str:
    """Explain the alerts that are open now: what each means, why it fired, what to do."""
    return (
        "Explain the alerts that are open on my infrastructure right now.\n\n"
        "1. list_alerts (open_only=true): every firing or acknowledged alert with its rule, "
        "device, subject, severity, current value and how often it fired.\n"
        "2. For each, find why: list_events for that device since the alert first fired; for "
        "a metric alert, metrics_history (CPU, memory, load) or get_device (filesystems); for "
        "a pool or a drive, list_zfs_pools or get_drive with its reasons.\n"
        "3. Answer most severe first, one short paragraph per alert: what it means in plain "
        "words, the evidence, whether it looks real or noise (a value hovering at the "
        "threshold, a flapping condition: high occurrences), and the next step. Say which "
        "alerts someone already acknowledged."
    )


PROMPTS: list[Callable[..., str]] = [
    explain_alerts,
    health_check,
    what_changed,
    troubleshoot_container,
    capacity_report,
    troubleshoot,
    device_performance,
    stack_analysis,
]
