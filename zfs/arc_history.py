"""The ARC series of one device over a range, read through the history tiers (raw rows, 5-minute
or 1-hour rollups), with each aggregated point's hit ratio taken from its hits and misses.

The API's list (`/api/zfs/arc/?device=&since=`) and the MCP tool both answer with `arc_series`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from devices.history.families import ARC
from devices.history.query import Series, read_series
from devices.history.rollup import floor_time
from devices.models import Device
from devices.models.rollups import RESOLUTIONS
from zfs.arc import interval_ratio_pct
from zfs.models import ArcRollup, ArcSample

FIELDS = [f.name for f in ArcSample._meta.concrete_fields if f.name not in ("id", "device")]
COUNTERS = ("hits", "misses", "l2_hits", "l2_misses")
# (ratio field, its hits counter, its misses counter)
RATIOS = (("hit_ratio_pct", "hits", "misses"), ("l2_hit_ratio_pct", "l2_hits", "l2_misses"))
TIER_SECONDS = {"5m": RESOLUTIONS[0], "1h": RESOLUTIONS[1]}
# The ratio of a bucket is a weighted mean of its samples' ratios: it lies between their min and
# max, but for float rounding.
ROUNDING = 1e-9

Counters = dict[str, Any]


def arc_series(device: Device, start: dt.datetime, end: dt.datetime, *, target: int) -> Series:
    """`device`'s ARC between `start` and `end` in about `target` points, oldest first.

    Raw points carry each poll's own interval ratio. In an aggregated point, `hit_ratio_pct` (and
    `l2_hit_ratio_pct`) is the ratio of the accesses of the point's whole bucket, while `_min` and
    `_max` stay the extremes of its polls' ratios.
    """
    read = read_series(ARC, device, start, end, FIELDS, target=target)
    if read.resolution_s is not None and read.points:
        # The rollup SQL reads a point's samples from the tier's (or, binning raw rows, the
        # step's) bucket holding `start` on: the first point's interval starts at the newest
        # sample before that.
        tier_s = TIER_SECONDS.get(read.tier, read.resolution_s)
        first = max(read.points[0]["collected_at"], floor_time(start, tier_s))
        _bucket_ratios(read.points, _counters_before(device, first))
    return read


def _bucket_ratios(points: list[dict[str, Any]], before: Counters) -> None:
    """Replace the averaged ratios of aggregated points by each bucket's true ratio.

    A rollup keeps two things about the ratio: min/avg/max of the polls' interval ratios, and
    (as `last`) the kernel's hits and misses counters, which count since boot. The average of
    ratios is wrong for a bucket: a quiet interval of 10 accesses weighs as much as a busy one of
    a million. The counters are exact: the accesses of a bucket are its last counters minus the
    newest counters before it (the previous point's last, since no sample falls between two
    points), so hits / (hits + misses) of those differences is the ratio over the bucket's
    polls, what summing each poll's interval would give.

    A counter that went down was reset (a reboot, a module reload): the bucket's accesses are
    then unknowable from the lasts, so its ratio is None, as a raw sample's is. A reset whose
    counters climbed back above the previous bucket's within one bucket cannot be seen from
    the lasts; the difference is then not the bucket's, and almost never lands between the
    bucket's min and max poll ratios, which is checked: outside them the ratio is None too.
    """
    for point in points:
        for ratio, hits, misses in RATIOS:
            value = interval_ratio_pct(point[hits], point[misses], before[hits], before[misses])
            low, high = point.get(f"{ratio}_min"), point.get(f"{ratio}_max")
            within = (
                value is not None
                and low is not None
                and high is not None
                and low - ROUNDING <= value <= high + ROUNDING
            )
            point[ratio] = value if within else None
        # A bucket without a reading of a counter (no L2ARC then) keeps the older one.
        before = {c: point[c] if point[c] is not None else before[c] for c in COUNTERS}


def _counters_before(device: Device, instant: dt.datetime) -> Counters:
    """The newest counters of `device` before `instant`: its raw sample, else (raw rows pruned)
    the last of the newest rollup bucket ending by then, else zeros: a device's first sample
    counts since boot, as the collector's first ratio does."""
    row = (
        ArcSample.objects.filter(device=device, collected_at__lt=instant)
        .order_by("-collected_at")
        .values(*COUNTERS)
        .first()
    )
    if row is not None:
        return row
    lasts = [f"{c}_last" for c in COUNTERS]
    found = [
        bucket
        for r in RESOLUTIONS
        if (
            bucket := ArcRollup.objects.filter(
                device=device,
                resolution_s=r,
                bucket_start__lte=instant - dt.timedelta(seconds=r),
            )
            .order_by("-bucket_start")
            .values("bucket_start", "resolution_s", *lasts)
            .first()
        )
    ]
    if not found:
        return dict.fromkeys(COUNTERS, 0)
    newest = max(found, key=lambda b: b["bucket_start"] + dt.timedelta(seconds=b["resolution_s"]))
    return {c: newest[f"{c}_last"] for c in COUNTERS}
