"""The readers that used to read raw rows now read through the tiers: a container's stats, a
device's ARC (API and MCP) and the console's network, disk and filesystem charts. A month answers
from the hourly rollups with the values the raw rows aggregate to, an hour answers the raw rows,
and every answer names its tier."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from containers.models import ContainerStats
from devices.console.charts import Chart
from devices.console.series import device_charts, time_range
from devices.history.families import ARC, CONTAINERS, DISKS, FILESYSTEMS, INTERFACES, Family
from devices.history.rollup import floor_time, roll_up
from devices.models import Device, DiskSample, FilesystemSample, InterfaceSample
from devices.models.rollups import RESOLUTIONS
from infrastructor.models import ApiToken, Scope
from mcp_bridge import reads
from mcp_bridge.views import Caller, as_json
from tests.console.conftest import console_url, found
from tests.history.conftest import expected_rollups, make_owners, raw_row
from zfs.arc import interval_ratio_pct
from zfs.arc_history import arc_series
from zfs.models import ArcSample

pytestmark = pytest.mark.django_db

DAY, HOUR, POLL = dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(minutes=10)


def polls(now: dt.datetime, days: int, every: dt.timedelta = POLL) -> list[dt.datetime]:
    """`days` of poll times `every` apart, oldest first, the newest at `now`."""
    count = int(days * DAY / every)
    return [now - every * (count - 1 - n) for n in range(count)]


def rolled_up(family: Family, now: dt.datetime) -> None:
    for resolution in RESOLUTIONS:
        roll_up(family, resolution, now=now)


def window(start: dt.datetime, end: dt.datetime, **extra: str) -> dict[str, str]:
    return {"since": start.isoformat(), "until": end.isoformat(), **extra}


def at(point: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(point["collected_at"])


# --- containers -------------------------------------------------------------------------------


def test_container_stats_read_a_month_from_the_hourly_rollups(
    viewer_client: APIClient, devices: list[Device]
) -> None:
    # given a month of a poll every 10 minutes (some values null), mostly rolled up
    container = make_owners(CONTAINERS, devices)[0]
    now = timezone.now()
    rows = [raw_row(CONTAINERS, container, when, n) for n, when in enumerate(polls(now, 30))]
    stats = [row for row in rows if isinstance(row, ContainerStats)]
    ContainerStats.objects.bulk_create(stats)
    rolled_up(CONTAINERS, now)
    url = f"/api/containers/{container.pk}/stats/"
    # when
    month = viewer_client.get(url, window(now - 30 * DAY, now)).json()
    coarse = viewer_client.get(url, window(now - 30 * DAY, now, points="50")).json()
    hour = viewer_client.get(url, window(now - HOUR, now)).json()
    wrong = viewer_client.get(url, {"points": "many"})
    # then a month is hourly points, each what its hour of raw rows aggregates to
    assert (month["tier"], month["resolution"], month["resolution_s"]) == ("1h", "1h", 3600)
    expected = expected_rollups(rows, 3600, CONTAINERS)
    assert month["count"] == len(month["points"]) == len(expected)
    for point in month["points"]:
        want = expected[(container.pk, at(point))]
        assert point["samples"] == want["samples"]
        for gauge in CONTAINERS.gauges:
            for suffix, column in (("", "avg"), ("_min", "min"), ("_max", "max")):
                got, wanted = point[f"{gauge}{suffix}"], want[f"{gauge}_{column}"]
                assert got == (wanted if wanted is None else pytest.approx(wanted)), gauge
        assert point["mem_limit_bytes"] == want["mem_limit_bytes_last"]
    # fewer points are coarser buckets of the same rows
    assert (coarse["tier"], coarse["resolution"], coarse["resolution_s"]) == ("1h", "14h", 50400)
    assert sum(p["samples"] for p in coarse["points"]) == len(rows)
    # an hour is the raw rows as stored, in the keys clients read
    assert (hour["tier"], hour["resolution"], hour["resolution_s"]) == ("raw", "raw", None)
    assert hour["container"] == container.pk and hour["count"] == 7
    assert [p["cpu_pct"] for p in hour["points"]] == [r.cpu_pct for r in stats[-7:]]
    assert [at(p) for p in hour["points"]] == [r.collected_at for r in stats[-7:]]
    assert wrong.status_code == 400 and "points" in wrong.json()


# --- ARC --------------------------------------------------------------------------------------

REBOOT_AT = 6000  # the row at which the host has rebooted: its counters start again from zero


def arc_rows(device: Device, times: list[dt.datetime]) -> list[ArcSample]:
    """Samples as the collector stores them: counters since boot, the ratio of each interval.
    Busy and quiet intervals differ in hit ratio, so averaging ratios is not the bucket's."""
    rows, hits, misses, before = [], 0, 0, (0, 0)
    for n, when in enumerate(times):
        if n == REBOOT_AT:
            hits = misses = 0
        accesses = 50 + (n * 37) % 5000
        new_hits = accesses * (30 + (n * 13) % 70) // 100
        hits, misses = hits + new_hits, misses + accesses - new_hits
        rows.append(ArcSample(
            device=device, collected_at=when, size_bytes=(4 << 30) + (n * 7919) % 1000 * 4096,
            target_bytes=5 << 30, hits=hits, misses=misses,
            hit_ratio_pct=interval_ratio_pct(hits, misses, *before),
        ))  # fmt: skip
        before = (hits, misses)
    return rows


def bucket_ratios(rows: list[ArcSample], step: int) -> dict[dt.datetime, float | None]:
    """Each bucket's hit ratio from the raw rows: the hits of its intervals over their accesses,
    None when the counters were reset in it."""
    intervals: dict[dt.datetime, list[tuple[int, int] | None]] = defaultdict(list)
    before = (0, 0)
    for row in rows:
        new = (row.hits - before[0], row.misses - before[1])
        intervals[floor_time(row.collected_at, step)].append(None if min(new) < 0 else new)
        before = (row.hits, row.misses)
    return {bucket: _ratio(done) for bucket, done in intervals.items()}


def _ratio(intervals: list[tuple[int, int] | None]) -> float | None:
    known = [i for i in intervals if i is not None]
    if len(known) < len(intervals):
        return None
    return 100 * sum(h for h, _ in known) / sum(h + m for h, m in known)


def test_the_arc_of_a_device_over_a_month_reads_the_hourly_rollups(
    viewer_client: APIClient, viewer_user: User, devices: list[Device]
) -> None:
    # given 31 days of 5-minute samples with a reboot in the middle, rolled up
    device = devices[0]
    now = timezone.now()
    rows = arc_rows(device, polls(now, 31, dt.timedelta(minutes=5)))
    ArcSample.objects.bulk_create(rows)
    rolled_up(ARC, now)
    start = now - 30 * DAY
    # when
    month = viewer_client.get("/api/zfs/arc/", window(start, now, device=str(device.pk))).json()
    # then hourly points whose hit ratio is over all the accesses of their hour
    assert (month["tier"], month["resolution"], month["resolution_s"]) == ("1h", "1h", 3600)
    assert month["device"] == device.pk
    ratios, naive = bucket_ratios(rows, 3600), expected_rollups(rows, 3600, ARC)
    assert len(month["points"]) == month["count"] == 30 * 24 + 1
    for point in month["points"]:
        want, bucket = naive[(device.pk, at(point))], at(point)
        assert point["samples"] == want["samples"]
        assert point["size_bytes"] == pytest.approx(want["size_bytes_avg"])
        assert (point["hits"], point["misses"]) == (want["hits_last"], want["misses_last"])
        assert point["hit_ratio_pct_min"] == pytest.approx(want["hit_ratio_pct_min"])
        if ratios[bucket] is None:
            assert point["hit_ratio_pct"] is None
        else:
            assert point["hit_ratio_pct"] == pytest.approx(ratios[bucket], rel=1e-12)
        assert point["l2_hit_ratio_pct"] is None  # no L2ARC
    # the reboot's hour has no ratio, and the mean of the polls' ratios is not the bucket's
    reboot = floor_time(rows[REBOOT_AT].collected_at, 3600)
    assert next(p for p in month["points"] if at(p) == reboot)["hit_ratio_pct"] is None
    assert (
        max(
            abs(naive[(device.pk, bucket)]["hit_ratio_pct_avg"] - ratio)
            for bucket, ratio in ratios.items()
            if ratio is not None and (device.pk, bucket) in naive
        )
        > 1
    )
    # and once the raw rows before the range are pruned, the first point reads the counters
    # before it from the rollups: the same answer
    ArcSample.objects.filter(device=device, collected_at__lt=floor_time(start, 3600)).delete()
    again = viewer_client.get("/api/zfs/arc/", window(start, now, device=str(device.pk))).json()
    assert again["points"] == month["points"]
    # and the MCP tool answers exactly that
    token, _ = ApiToken.issue(user=viewer_user, name="agent", scope=Scope.READ)
    answer = reads.zfs_arc_stats(Caller(token=token), device=device.name, points=500,
                                 since=start.isoformat(), until=now.isoformat())  # fmt: skip
    assert json.loads(as_json(answer)) == again


def test_a_reboot_hidden_by_the_counters_climbing_back_leaves_its_bucket_without_a_ratio(
    devices: list[Device],
) -> None:
    # given an hour at 50 % hits, then a reboot after which the counters pass their old values
    device = devices[0]
    hour = floor_time(timezone.now(), 3600) - 2 * HOUR
    counters = [(100, 100), (105, 105), (110, 110), (5, 5), (200, 100), (400, 200)]
    before = (0, 0)
    for n, (hits, misses) in enumerate(counters):
        when = hour + (n // 3) * HOUR + (n % 3 + 1) * POLL
        ratio = interval_ratio_pct(hits, misses, *before)
        ArcSample.objects.create(device=device, collected_at=when, size_bytes=1, hits=hits,
                                 misses=misses, hit_ratio_pct=ratio)  # fmt: skip
        before = (hits, misses)
    # when read as hourly buckets
    read = arc_series(device, hour, hour + 2 * HOUR, target=2)
    # then the first hour is 50 %; the second's counters grew by 290 hits and 90 misses over
    # the first's, but no interval of it was near that 76 %: its ratio is unknown
    assert (read.tier, read.resolution_s) == ("1h", 3600)
    first, second = read.points
    assert first["hit_ratio_pct"] == pytest.approx(50.0)
    assert second["hit_ratio_pct_max"] == pytest.approx(100 * 195 / 290)
    assert second["hit_ratio_pct"] is None


def test_an_hour_of_arc_is_the_raw_samples_and_no_device_is_still_the_paged_list(
    viewer_client: APIClient, devices: list[Device]
) -> None:
    # given a day of 5-minute samples
    device = devices[0]
    now = timezone.now()
    rows = arc_rows(device, polls(now, 1, dt.timedelta(minutes=5)))
    ArcSample.objects.bulk_create(rows)
    # when
    hour = viewer_client.get("/api/zfs/arc/", window(now - HOUR, now, device=str(device.pk)))
    listed = viewer_client.get("/api/zfs/arc/", {"since": "1h"})
    unknown = viewer_client.get("/api/zfs/arc/", {"device": "999999", "since": "30d"})
    # then an hour of one device is its raw samples, oldest first, each with its own ratio
    body = hour.json()
    assert (body["tier"], body["resolution"], body["resolution_s"]) == ("raw", "raw", None)
    assert [p["hit_ratio_pct"] for p in body["points"]] == [r.hit_ratio_pct for r in rows[-13:]]
    # without a device it is the samples of the fleet, paginated, newest first
    page = listed.json()
    assert page["count"] == 12 and at(page["results"][0]) == rows[-1].collected_at
    assert unknown.status_code == 400 and "device" in unknown.json()


# --- console charts ---------------------------------------------------------------------------

NICS, DISK_NAMES = ("eth0", "eth1", "lo"), ("sda", "sdb")
MOUNTS = {"/": 100 * 2**30, "/mnt/data": 4 * 2**40}


def rate(n: int, k: int) -> float:
    """A rate that varies with the poll `n` and the NIC or disk `k`. (Never missing: a point
    that merges several rollup buckets weighs each bucket's average by all its samples, so with
    nulls it is close to, not exactly, the raw rows' average.)"""
    return float((n * 37 + k * 1000) % 5000)


def host_rows(device: Device, times: list[dt.datetime]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {"nics": [], "disks": [], "filesystems": []}
    for n, when in enumerate(times):
        rows["nics"] += [
            InterfaceSample(
                device=device,
                collected_at=when,
                name=name,
                rx_bytes_per_s=1e12 if name == "lo" else rate(n, k),
                tx_bytes_per_s=rate(n, k + 5),
            )
            for k, name in enumerate(NICS)
        ]
        rows["disks"] += [
            DiskSample(
                device=device,
                collected_at=when,
                name=name,
                read_bytes_per_s=rate(n, k),
                write_bytes_per_s=rate(n, k + 3),
            )
            for k, name in enumerate(DISK_NAMES)
        ]
        rows["filesystems"] += [
            FilesystemSample(device=device, collected_at=when, mountpoint=mount, filesystem="x",
                             size_bytes=size, used_bytes=size // 2, available_bytes=size // 2,
                             used_pct=(n * 7 + k) % 100 / 1.0)
            for k, (mount, size) in enumerate(MOUNTS.items())
        ]  # fmt: skip
    InterfaceSample.objects.bulk_create(rows["nics"])
    DiskSample.objects.bulk_create(rows["disks"])
    FilesystemSample.objects.bulk_create(rows["filesystems"])
    return rows


def summed(rows: list[Any], field: str, step: int | None, skip: str = "") -> dict[Any, Any]:
    """Per point time: each NIC's (disk's) average of `field` over the step, summed over them;
    with no step, per poll."""
    values: dict[tuple[dt.datetime, str], list[float]] = defaultdict(list)
    times = set()
    for row in rows:
        when = row.collected_at if step is None else floor_time(row.collected_at, step)
        times.add(when)
        if row.name != skip and getattr(row, field) is not None:
            values[(when, row.name)].append(getattr(row, field))
    totals: dict[dt.datetime, float | None] = dict.fromkeys(times)
    for (when, _), present in values.items():
        totals[when] = (totals[when] or 0.0) + sum(present) / len(present)
    return totals


def averaged(rows: list[FilesystemSample], mount: str, step: int) -> dict[Any, Any]:
    values: dict[dt.datetime, list[float]] = defaultdict(list)
    for row in rows:
        if row.mountpoint == mount and row.used_pct is not None:
            values[floor_time(row.collected_at, step)].append(row.used_pct)
    return {when: sum(v) / len(v) for when, v in values.items()}


def line(chart: Chart, label: str) -> dict[dt.datetime, float | None]:
    [found] = [ln for ln in chart.lines if ln.label == label]
    return dict(found.points)


def assert_close(got: dict[Any, Any], want: dict[Any, Any]) -> None:
    assert got.keys() == want.keys()
    for when, value in want.items():
        assert got[when] == (value if value is None else pytest.approx(value)), when


def test_the_console_draws_network_disk_and_filesystems_from_the_tiers(
    admin_client: Client, devices: list[Device]
) -> None:
    # given a month of polls every 10 minutes of three NICs, two disks and two filesystems
    device = devices[0]
    now = timezone.now()
    rows = host_rows(device, polls(now, 30))
    for family in (INTERFACES, DISKS, FILESYSTEMS):
        rolled_up(family, now)
    # when
    month = {c.key: c for c in device_charts(device, time_range("30d", now=now))}
    hour = {c.key: c for c in device_charts(device, time_range("1h", now=now))}
    page = admin_client.get(f"{console_url(device)}?range=30d").content.decode()
    # then a month is 3-hour points from the hourly rollups, each what the raw rows give
    for key in ("network", "disk", "filesystems"):
        assert month[key].resolution == "3h averages from the 1h rollup tier"
        assert month[key].step_s == 10800
        caption = (
            rf'id="figure-{key}"><strong>[^<]+</strong> <span class="console-muted">\((.+?)\)<'
        )
        assert found(caption, page) == month[key].resolution
    nics, disks, step = rows["nics"], rows["disks"], 10800
    assert_close(line(month["network"], "Received"), summed(nics, "rx_bytes_per_s", step, "lo"))
    assert_close(line(month["network"], "Sent"), summed(nics, "tx_bytes_per_s", step, "lo"))
    assert_close(line(month["disk"], "Read"), summed(disks, "read_bytes_per_s", step))
    assert_close(line(month["disk"], "Written"), summed(disks, "write_bytes_per_s", step))
    assert [ln.label for ln in month["filesystems"].lines] == list(MOUNTS)
    for mount in MOUNTS:
        assert_close(line(month["filesystems"], mount), averaged(rows["filesystems"], mount, step))
    # and an hour is the raw polls
    for key in ("network", "disk", "filesystems"):
        assert hour[key].resolution == "raw samples"
        assert hour[key].step_s == settings.SYSTEM_METRICS_INTERVAL
    recent = [r for r in rows["nics"] if r.collected_at >= now - HOUR]
    assert_close(line(hour["network"], "Received"), summed(recent, "rx_bytes_per_s", None, "lo"))
    assert len(line(hour["network"], "Received")) == 7
