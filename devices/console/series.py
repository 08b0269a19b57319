"""The device page's charts: which series, over which range, read at which resolution.

CPU, memory and load come from the history query layer (devices.history.query), which picks the
tier (raw rows, 5-minute or 1-hour rollups) for the range; the chart says which it used. Network,
disk I/O and filesystem usage have no rollup tier yet: their raw rows are averaged in SQL into
steps sized for the same number of points, one query per chart.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    F,
    FloatField,
    Func,
    Max,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone

from devices.console.charts import Chart, Line
from devices.history.families import SYSTEM
from devices.history.query import label, read_series
from devices.models import Device, DiskSample, FilesystemSample, InterfaceSample

__all__ = ["DEFAULT_RANGE", "RANGES", "TARGET_POINTS", "TimeRange", "device_charts", "time_range"]

TARGET_POINTS = 240  # about one point per 2.5 px of a 640-px chart
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
RANGES: dict[str, tuple[dt.timedelta, str]] = {
    "1h": (dt.timedelta(hours=1), "last hour"),
    "24h": (dt.timedelta(hours=24), "last 24 hours"),
    "7d": (dt.timedelta(days=7), "last 7 days"),
    "30d": (dt.timedelta(days=30), "last 30 days"),
}
DEFAULT_RANGE = "1h"
NICE_STEPS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
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


def _system_charts(device: Device, window: TimeRange) -> list[Chart]:
    fields = ["collected_at", "cpu_pct", "mem_used_pct", "load_1", "load_5", "load_15"]
    series = read_series(SYSTEM, device, window.start, window.end, fields, target=TARGET_POINTS)
    if series.resolution_s is None:
        resolution = "raw samples"
        step: float | None = float(settings.SYSTEM_METRICS_INTERVAL)
    else:
        tier = "raw samples" if series.tier == "raw" else f"the {series.tier} rollup tier"
        resolution = f"{series.resolution} averages from {tier}"
        step = float(series.resolution_s)

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


def _step(window: TimeRange) -> int:
    wanted = (window.end - window.start).total_seconds() / TARGET_POINTS
    floor = max(int(settings.SYSTEM_METRICS_INTERVAL), 1)
    return next((s for s in NICE_STEPS if s >= max(wanted, floor)), NICE_STEPS[-1])


class DateBin(Func):
    """PostgreSQL's date_bin(step, time, origin): the start of the step a time falls in."""

    function = "date_bin"
    output_field = DateTimeField()


def _bucket(step: int) -> DateBin:
    return DateBin(
        Value(dt.timedelta(seconds=step), output_field=DurationField()),
        F("collected_at"),
        Value(EPOCH, output_field=DateTimeField()),
    )


def _raw_resolution(step: int) -> str:
    return f"{label(step)} averages of raw samples"


def _retention_note(window: TimeRange) -> list[str]:
    days = settings.METRICS_RAW_RETENTION_DAYS or settings.METRICS_RETENTION_DAYS
    if window.end - window.start > dt.timedelta(days=days):
        return [f"Raw samples are kept {days} days; older parts of the range stay empty."]
    return []


def _summed_rates(
    qs: QuerySet[Any], window: TimeRange, fields: dict[str, str]
) -> tuple[list[dt.datetime], dict[str, list[float | None]], int]:
    """Per step: the rates of every NIC (or disk) summed per poll, averaged over the step's polls.
    `fields` maps a line's label to the model field."""
    step = _step(window)
    polls = Count("collected_at", distinct=True)
    rows = list(
        qs.filter(collected_at__gte=window.start, collected_at__lte=window.end)
        .annotate(bucket=_bucket(step))
        .values("bucket")
        .annotate(
            polls=polls,
            **{f"v{i}": Cast(Sum(name), FloatField()) for i, name in enumerate(fields.values())},
        )
        .order_by("bucket")
    )
    times = [row["bucket"] for row in rows]
    values: dict[str, list[float | None]] = {}
    for i, name in enumerate(fields):
        values[name] = [
            row[f"v{i}"] / row["polls"] if row[f"v{i}"] is not None and row["polls"] else None
            for row in rows
        ]
    return times, values, step


def _network_chart(device: Device, window: TimeRange) -> Chart:
    qs = InterfaceSample.objects.filter(device=device).exclude(name__in=SKIP_INTERFACES)
    times, values, step = _summed_rates(
        qs, window, {"Received": "rx_bytes_per_s", "Sent": "tx_bytes_per_s"}
    )
    lines = [Line(name, list(zip(times, vals, strict=True))) for name, vals in values.items()]
    return Chart("network", "Network traffic (all interfaces but loopback)", "B/s",
                 window.start, window.end, lines, _raw_resolution(step), step_s=step,
                 notes=_retention_note(window))  # fmt: skip


def _disk_chart(device: Device, window: TimeRange) -> Chart:
    qs = DiskSample.objects.filter(device=device)
    times, values, step = _summed_rates(
        qs, window, {"Read": "read_bytes_per_s", "Written": "write_bytes_per_s"}
    )
    lines = [Line(name, list(zip(times, vals, strict=True))) for name, vals in values.items()]
    return Chart("disk", "Disk I/O (all disks)", "B/s", window.start, window.end, lines,
                 _raw_resolution(step), step_s=step, notes=_retention_note(window))  # fmt: skip


def _filesystem_chart(device: Device, window: TimeRange) -> Chart:
    step = _step(window)
    qs = FilesystemSample.objects.filter(
        device=device, collected_at__gte=window.start, collected_at__lte=window.end
    )
    biggest = list(
        qs.values("mountpoint")
        .annotate(size=Max("size_bytes"))
        .order_by("-size", "mountpoint")
        .values_list("mountpoint", flat=True)[:MAX_FILESYSTEMS]
    )
    rows = (
        qs.filter(mountpoint__in=biggest)
        .annotate(bucket=_bucket(step))
        .values("bucket", "mountpoint")
        .annotate(used=Avg("used_pct"))
        .order_by("bucket")
    )
    by_mount: dict[str, list[tuple[dt.datetime, float | None]]] = defaultdict(list)
    for row in rows:
        by_mount[row["mountpoint"]].append((row["bucket"], row["used"]))
    lines = [Line(mount, by_mount[mount]) for mount in sorted(biggest)]
    notes = _retention_note(window)
    if not lines:
        lines = [Line("Used", [])]
    return Chart("filesystems", "Filesystem usage", "%", window.start, window.end, lines,
                 _raw_resolution(step), step_s=step, y_max=100, notes=notes)  # fmt: skip
