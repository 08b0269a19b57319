"""Every history endpoint reads through the tiers: keyed series (per mountpoint, NIC, disk) carry
their key and can be narrowed to one; pool and drive history switch to rollups on long ranges."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from devices.history.families import DRIVES, FILESYSTEMS, INTERFACES, POOLS, Family
from devices.history.query import read_series
from devices.history.rollup import GRACE, floor_time, roll_up
from devices.models import Device
from infrastructor.models import ApiToken, Scope
from mcp_bridge import reads
from mcp_bridge.views import Caller, as_json
from tests.history.conftest import KEY_VALUES, expected_rollups, make_owners, raw_row

DAY = dt.timedelta(days=1)


def _two_days(family: Family, owner: Any) -> tuple[dt.datetime, list[Any]]:
    """Two recent days of a row a minute (a keyed family alternates its two keys), rolled up
    until 6 hours before their end."""
    start = floor_time(timezone.now() - 3 * DAY, 86400)
    rows = [raw_row(family, owner, start + dt.timedelta(minutes=i), i) for i in range(2880)]
    family.raw._default_manager.bulk_create(rows)
    for r in (300, 3600):
        roll_up(family, r, now=start + dt.timedelta(hours=42) + GRACE)
    return start, rows


@pytest.mark.django_db
def test_a_keyed_series_reads_each_key_from_the_tiers(devices: list[Device]) -> None:
    # given two days of two mountpoints
    device = devices[0]
    start, rows = _two_days(FILESYSTEMS, device)
    end = start + 2 * DAY - dt.timedelta(microseconds=1)
    # when
    read = read_series(FILESYSTEMS, device, start, end, ["collected_at", "used_pct", "size_bytes"])
    # then 5 minute points per mountpoint, each equal to its raw aggregate
    assert (read.tier, read.resolution) == ("5m", "5m")
    assert read.fields == ["collected_at", "used_pct", "size_bytes", "mountpoint"]
    expected = expected_rollups(rows, 300, FILESYSTEMS)
    assert len(read.points) == len(expected) == 2 * 576
    for point in read.points:
        want = expected[(device.pk, point["mountpoint"], point["collected_at"])]
        assert point["samples"] == want["samples"]
        assert point["used_pct"] == pytest.approx(want["used_pct_avg"])
        assert point["used_pct_max"] == want["used_pct_max"]
        assert point["size_bytes"] == want["size_bytes_last"]
    # and one key narrows it to that mountpoint
    one = read_series(FILESYSTEMS, device, start, end, ["used_pct"], keys={"mountpoint": "/"})
    assert {p["mountpoint"] for p in one.points} == {"/"} and len(one.points) == 576


@pytest.mark.django_db
def test_interface_errors_are_summed_per_bucket(devices: list[Device]) -> None:
    # given two days of two NICs
    device = devices[0]
    start, rows = _two_days(INTERFACES, device)
    # when a day is read in 24 points (hourly, the first 18 hours from the rollup table)
    read = read_series(INTERFACES, device, start, start + DAY, ["rx_errors"], target=24,
                       keys={"name": "eth0"})  # fmt: skip
    # then each point holds the errors of its hour
    expected = expected_rollups(rows, 3600, INTERFACES)
    assert read.tier == "1h" and len(read.points) == 25
    for point in read.points[:-1]:
        assert (
            point["rx_errors"]
            == expected[(device.pk, "eth0", point["collected_at"])]["rx_errors_sum"]
        )


@pytest.mark.django_db
def test_the_metrics_endpoint_answers_every_series_with_its_keys(
    viewer_client: APIClient, devices: list[Device]
) -> None:
    # given a day of filesystem rows ending now
    device = devices[0]
    now = timezone.now()
    FILESYSTEMS.raw._default_manager.bulk_create(
        [raw_row(FILESYSTEMS, device, now - dt.timedelta(seconds=30 * i), i) for i in range(2880)]
    )
    url = f"/api/devices/{device.pk}/metrics/"
    # when
    hour = viewer_client.get(url, {"series": "filesystems", "since": "1h"}).json()
    day = viewer_client.get(
        url, {"series": "filesystems", "since": "24h", "fields": "used_pct", "points": "100"}
    ).json()
    data = viewer_client.get(
        url, {"series": "filesystems", "since": "24h", "points": "100", "key": "/mnt/data"}
    ).json()
    on_system = viewer_client.get(url, {"key": "/"})
    # then an hour is raw rows of both mountpoints
    assert (hour["tier"], hour["resolution"], hour["count"]) == ("raw", "raw", 120)
    assert {p["mountpoint"] for p in hour["points"]} == set(KEY_VALUES["mountpoint"])
    # a day is 10 minute points per mountpoint, each naming its mountpoint
    assert (day["tier"], day["resolution"], day["resolution_s"]) == ("5m", "10m", 600)
    assert set(day["points"][0]) == {
        "mountpoint", "collected_at", "samples", "used_pct", "used_pct_min", "used_pct_max",
    }  # fmt: skip
    assert sum(p["samples"] for p in day["points"]) == 2880
    assert {p["mountpoint"] for p in data["points"]} == {"/mnt/data"}
    assert sum(p["samples"] for p in data["points"]) == 1440 and data["key"] == "/mnt/data"
    assert on_system.status_code == 400 and "key" in on_system.json()


@pytest.mark.django_db
def test_pool_history_uses_the_tiers_on_a_long_range(
    viewer_client: APIClient, devices: list[Device]
) -> None:
    # given two days of a pool's readings
    pool = make_owners(POOLS, devices)[0]
    start, rows = _two_days(POOLS, pool)
    url = f"/api/zfs/pools/{pool.pk}/history/"
    hour, days = (start + dt.timedelta(hours=1)).isoformat(), (start + 2 * DAY).isoformat()
    # when
    short = viewer_client.get(url, {"since": start.isoformat(), "until": hour})
    long = viewer_client.get(url, {"since": start.isoformat(), "until": days, "points": "48"})
    # then an hour is raw readings, two days hourly buckets with the newest state
    assert short.json()["tier"] == "raw" and short.json()["count"] == 61
    body = long.json()
    assert (body["tier"], body["resolution"], body["count"]) == ("1h", "1h", 48)
    expected = expected_rollups(rows, 3600, POOLS)
    first = body["points"][0]
    want = expected[(pool.pk, start)]
    assert first["state"] == want["state_last"] and first["samples"] == 60
    assert first["capacity_pct_max"] == want["capacity_pct_max"]


@pytest.mark.django_db
def test_drive_history_uses_the_tiers_unless_attribute_tables_are_asked_for(
    viewer_client: APIClient, devices: list[Device]
) -> None:
    # given two days of a reading a minute
    drive = make_owners(DRIVES, devices)[0]
    start, _ = _two_days(DRIVES, drive)
    url = f"/api/drives/{drive.pk}/history/"
    window = {"since": start.isoformat(), "until": (start + 2 * DAY).isoformat()}
    # when
    charted = viewer_client.get(url, window | {"points": "100"}).json()
    tables = viewer_client.get(url, window | {"attributes": "true"}).json()
    # then
    assert (charted["tier"], charted["resolution"]) == ("5m", "25m")
    assert {"temperature_c_max", "assessment", "power_on_hours"} <= set(charted["points"][0])
    assert tables["tier"] == "raw" and tables["count"] == 2880
    assert "attributes" in tables["points"][0]


@pytest.mark.django_db
def test_mcp_metrics_history_reads_any_series_as_the_api_does(
    viewer_client: APIClient, viewer_user: User, devices: list[Device]
) -> None:
    # given two days of two NICs, and an agent's read-only token
    device = devices[0]
    start, _ = _two_days(INTERFACES, device)
    token, _ = ApiToken.issue(user=viewer_user, name="agent", scope=Scope.READ)
    since, until = start.isoformat(), (start + 2 * DAY).isoformat()
    # when
    answer = reads.metrics_history(
        Caller(token=token), device=device.name, since=since, until=until, points=48,
        fields=["rx_bytes_per_s", "rx_errors"], series="interfaces", key="eth0",
    )  # fmt: skip
    # then the API's answer, hourly points of eth0
    query: dict[str, str | int] = {
        "since": str(since), "until": str(until), "points": 48,
        "fields": "rx_bytes_per_s,rx_errors", "series": "interfaces", "key": "eth0",
    }  # fmt: skip
    api = viewer_client.get(f"/api/devices/{device.pk}/metrics/", query)
    assert json.loads(as_json(answer)) == api.json()
    assert (answer["tier"], answer["resolution"], answer["count"]) == ("1h", "1h", 48)
    assert {p["name"] for p in answer["points"]} == {"eth0"}
