"""The device page's charts: which series, over which range, read at which resolution.

Every chart reads through the history query layer (devices.history.query), which picks the tier
(raw rows, 5-minute or 1-hour rollups) for the range, one query per chart; each chart says which
resolution it used.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from devices.console.charts import Chart, Line
from devices.history.families import DISKS, FILESYSTEMS, INTERFACES, SYSTEM, Family
from devices.history.query import Series, read_series
from devices.models import Device

__all__ = ["DEFAULT_RANGE", "RANGES", "TARGET_POINTS", "TimeRange", "device_charts", "time_range"]

TARGET_POINTS = 240  # about one point per 2.5 px of a 640-px chart
RANGES: dict[str, tuple[dt.timedelta, str]] = {
    "1h": (dt.timedelta(hours=1), "last hour"),
    "24h": (dt.timedelta(hours=24), "last 24 hours"),
    "7d": (dt.timedelta(days=7), "last 7 days"),
    "30d": (dt.timedelta(days=30), "last 30 days"),
}
DEFAULT_RANGE = "1h"
MAX_FILESYSTEMS = 6  # the largest mounts; a host with 40 bind mounts stays readable
# Loopback traffic is the host talking to itself: it would dwarf the network chart.
SKIP_INTERFACES = ("lo",)


@dataclass(frozen=True)
class TimeRange:
    key: str
    label: str
    start: dt.datetime
    end: dt.datetime


def time_range(key: str | None, now: dt.datetime | None = None) -> TimeRange:
    """The range named by `?range=` (an unknown name falls back to the default)."""
    key = key if key in RANGES else DEFAULT_RANGE
    span, words = RANGES[key]
    end = now or timezone.now()
    return TimeRange(key, words, end - span, end)


def device_charts(device: Device, window: TimeRange) -> list[Chart]:
    return [*_system_charts(device, window), _network_chart(device, window),
            _disk_chart(device, window), _filesystem_chart(device, window)]  # fmt: skip


def _resolution(series: Series, family: Family) -> tuple[str, float]:
    """What a chart says about its points, and their spacing in seconds."""
    if series.resolution_s is None:
        return "raw samples", float(getattr(settings, family.interval_setting))
    tier = "raw samples" if series.tier == "raw" else f"the {series.tier} rollup tier"
    return f"{series.resolution} averages from {tier}", float(series.resolution_s)


def _system_charts(device: Device, window: TimeRange) -> list[Chart]:
    fields = ["collected_at", "cpu_pct", "mem_used_pct", "load_1", "load_5", "load_15"]
    series = read_series(SYSTEM, device, window.start, window.end, fields, target=TARGET_POINTS)
    resolution, step = _resolution(series, SYSTEM)

    def line(name: str, field: str) -> Line:
        points = [(p["collected_at"], p.get(field)) for p in series.points]
        lows = [p[f"{field}_min"] for p in series.points if p.get(f"{field}_min") is not None]
        highs = [p[f"{field}_max"] for p in series.points if p.get(f"{field}_max") is not None]
        return Line(name, points, (min(lows), max(highs)) if lows and highs else None)

    common: dict[str, Any] = {"start": window.start, "end": window.end,
                              "resolution": resolution, "step_s": step}  # fmt: skip
    return [
        Chart("cpu", "CPU busy", "%", lines=[line("CPU", "cpu_pct")], y_max=100, **common),
        Chart(
            "memory",
            "Memory used",
            "%",
            lines=[line("Memory", "mem_used_pct")],
            y_max=100,
            **common,
        ),
        Chart(
            "load",
            "Load average",
            "",
            lines=[line("1 min", "load_1"), line("5 min", "load_5"), line("15 min", "load_15")],
            **common,
        ),
    ]


def _summed_rates(series: Series, fields: dict[str, str], skip: tuple[str, ...] = ()) -> list[Line]:
    """One line per entry of `fields` (a label -> a rate field): at each point, the rates of
    every NIC (or disk) but `skip` summed. Every key of a poll (or of a bucket) carries the same
    time, and a rollup point's value is its key's average over the bucket: with every NIC in
    every poll, their sum is the average over the bucket's polls of the summed rates."""
    totals: dict[str, dict[dt.datetime, float | None]] = {name: {} for name in fields}
    for point in series.points:
        if point["name"] in skip:
            continue
        when = point["collected_at"]
        for name, field in fields.items():
            value, total = point.get(field), totals[name].get(when)
            totals[name][when] = total if value is None else (total or 0.0) + value
    return [Line(name, sorted(by_time.items())) for name, by_time in totals.items()]


def _rate_chart(
    device: Device, window: TimeRange, family: Family, fields: dict[str, str], **chart: Any
) -> Chart:
    series = read_series(family, device, window.start, window.end,
                         ["collected_at", *fields.values()], target=TARGET_POINTS)  # fmt: skip
    resolution, step = _resolution(series, family)
    skip = SKIP_INTERFACES if family is INTERFACES else ()
    return Chart(start=window.start, end=window.end, lines=_summed_rates(series, fields, skip),
                 resolution=resolution, step_s=step, unit="B/s", **chart)  # fmt: skip


def _network_chart(device: Device, window: TimeRange) -> Chart:
    fields = {"Received": "rx_bytes_per_s", "Sent": "tx_bytes_per_s"}
    title = "Network traffic (all interfaces but loopback)"
    return _rate_chart(device, window, INTERFACES, fields, key="network", title=title)


def _disk_chart(device: Device, window: TimeRange) -> Chart:
    fields = {"Read": "read_bytes_per_s", "Written": "write_bytes_per_s"}
    return _rate_chart(device, window, DISKS, fields, key="disk", title="Disk I/O (all disks)")


def _filesystem_chart(device: Device, window: TimeRange) -> Chart:
    fields = ["collected_at", "used_pct", "size_bytes"]
    series = read_series(FILESYSTEMS, device, window.start, window.end, fields,
                         target=TARGET_POINTS)  # fmt: skip
    resolution, step = _resolution(series, FILESYSTEMS)
    by_mount: dict[str, list[tuple[dt.datetime, float | None]]] = defaultdict(list)
    sizes: dict[str, int] = {}
    for point in series.points:
        mount = point["mountpoint"]
        by_mount[mount].append((point["collected_at"], point.get("used_pct")))
        sizes[mount] = max(sizes.get(mount, 0), point.get("size_bytes") or 0)
    biggest = sorted(sizes, key=lambda m: (-sizes[m], m))[:MAX_FILESYSTEMS]
    lines = [Line(mount, by_mount[mount]) for mount in sorted(biggest)] or [Line("Used", [])]
    return Chart("filesystems", "Filesystem usage", "%", window.start, window.end, lines,
                 resolution, step_s=step, y_max=100)  # fmt: skip
