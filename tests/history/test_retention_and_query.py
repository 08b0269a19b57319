"""Pruning never drops raw rows that are not rolled up (each tier's own retention, for every
family: test_family_retention); the query layer picks the tier that gives about the points asked
for."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from devices.history.families import SYSTEM
from devices.history.query import choose_tier, read_series
from devices.history.rollup import GRACE, floor_time, roll_up
from devices.history.tiers import RAW
from devices.models import Device, SystemSample
from devices.retention import prune
from tests.history.conftest import T0, expected_rollups, sample

DAY = dt.timedelta(days=1)


@pytest.fixture
def tiers(settings: Any) -> None:
    settings.METRICS_RAW_RETENTION_DAYS = 7
    settings.METRICS_5M_RETENTION_DAYS = 90
    settings.METRICS_1H_RETENTION_DAYS = 1825


@pytest.mark.django_db
def test_pruning_never_drops_raw_rows_the_rollups_have_not_reached(devices: list[Device]) -> None:
    # given the rollups can only have reached T0 (it is T0 for them), rows before and after it
    rows = [sample(devices[0], T0 + dt.timedelta(minutes=m), m) for m in (-90, 30, 90)]
    SystemSample.objects.bulk_create(rows)
    # when asked to prune everything older than two hours after T0
    deleted = prune(T0 + dt.timedelta(hours=2), now=T0 + GRACE)
    # then only the row both tiers hold went
    left = SystemSample.objects.order_by("collected_at").values_list("collected_at", flat=True)
    assert list(left) == [r.collected_at for r in rows[1:]]
    assert deleted["devices.SystemSample"] == 1


@pytest.mark.parametrize(
    ("span", "tier", "step"),
    [
        (dt.timedelta(hours=1), RAW, 30),
        (dt.timedelta(hours=24), RAW, 150),
        (dt.timedelta(days=7), 300, 1200),
        (dt.timedelta(days=30), 3600, 3600),
        (dt.timedelta(days=365), 3600, 61200),
    ],
)
def test_the_tier_follows_the_range(span: dt.timedelta, tier: int, step: int, tiers: None) -> None:
    now = timezone.now()
    # when
    chosen = choose_tier(span, 500, start=now - span, now=now)
    # then
    assert chosen == (tier, step)
    assert span.total_seconds() / step <= 2 * 500


def test_a_tier_whose_retention_dropped_the_start_is_passed_over(tiers: None) -> None:
    now = timezone.now()
    # 3 days in 500 points wants 8.6 min steps: 5 min data, or raw if it went back that far
    assert choose_tier(3 * DAY, 500, start=now - 3 * DAY, now=now) == (300, 300)
    # 12 h from three weeks ago: raw is gone (7 days), the 5 minute tier has it
    start = now - 21 * DAY
    assert choose_tier(dt.timedelta(hours=12), 500, start=start, now=now) == (300, 300)


@pytest.mark.django_db
def test_a_long_range_reads_evenly_spaced_points_from_rollups_and_the_raw_tail(
    devices: list[Device],
) -> None:
    # given two recent days of 30 s samples, rolled up until 6 hours before their end
    device = devices[0]
    start = floor_time(timezone.now() - 3 * DAY, 86400)
    rows = [sample(device, start + dt.timedelta(seconds=30 * i), i) for i in range(5760)]
    SystemSample.objects.bulk_create(rows)
    roll_up(SYSTEM, 300, now=start + dt.timedelta(hours=42) + GRACE)
    end = start + 2 * DAY - dt.timedelta(microseconds=1)
    # when
    read = read_series(SYSTEM, device, start, end, ["collected_at", "cpu_pct", "uptime_s"])
    # then 5 minute points, evenly spaced, each equal to its raw aggregate
    assert (read.tier, read.resolution_s, read.resolution) == ("5m", 300, "5m")
    times = [p["collected_at"] for p in read.points]
    assert len(times) == 576 and {b - a for a, b in itertools.pairwise(times)} == {
        dt.timedelta(seconds=300)
    }
    expected = expected_rollups(rows, 300)
    for point in read.points:
        want = expected[(device.pk, point["collected_at"])]
        assert point["samples"] == want["samples"] == 10
        assert point["cpu_pct"] == pytest.approx(want["cpu_pct_avg"])
        assert (point["cpu_pct_min"], point["cpu_pct_max"]) == (
            want["cpu_pct_min"],
            want["cpu_pct_max"],
        )
        assert point["uptime_s"] == want["uptime_s_last"]


@pytest.mark.django_db
def test_the_metrics_endpoint_says_which_resolution_it_used(
    viewer_client: APIClient, devices: list[Device]
) -> None:
    # given a day of 30 s samples ending now
    device = devices[0]
    now = timezone.now()
    SystemSample.objects.bulk_create(
        [sample(device, now - dt.timedelta(seconds=30 * i), i) for i in range(2880)]
    )
    url = f"/api/devices/{device.pk}/metrics/"
    # when
    hour = viewer_client.get(url, {"since": "1h", "fields": "cpu_pct"}).json()
    day = viewer_client.get(url, {"since": "24h", "fields": "cpu_pct", "points": "100"}).json()
    bad = viewer_client.get(url, {"points": "many"})
    # then
    assert (hour["tier"], hour["resolution"], hour["resolution_s"]) == ("raw", "raw", None)
    assert hour["count"] == 120
    # 24 h in 100 points wants 14.4 min steps: 5 minute buckets (from raw, not rolled up yet) x2
    assert (day["tier"], day["resolution"], day["resolution_s"]) == ("5m", "10m", 600)
    assert day["count"] <= 200 and sum(p["samples"] for p in day["points"]) == 2880
    assert set(day["points"][0]) == {
        "collected_at",
        "samples",
        "cpu_pct",
        "cpu_pct_min",
        "cpu_pct_max",
    }
    assert bad.status_code == 400
