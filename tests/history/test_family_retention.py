"""Every family keeps each tier for its own retention: the global settings by default, the drive
family's DRIVE_HISTORY_DAYS for its raw rows, HISTORY_RETENTION_<FAMILY> over both; a bad
override stops startup with a clear error."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from devices.drives import prune_history
from devices.history.families import DRIVES, FAMILIES, FILESYSTEMS, SYSTEM, Family
from devices.history.retention_env import parse_overrides
from devices.history.rollup import floor_time
from devices.models import Device
from devices.retention import prune
from tests.conftest import REPO
from tests.history.conftest import make_owners, raw_row

DAY = dt.timedelta(days=1)


@pytest.fixture
def tiers(settings: Any) -> None:
    settings.METRICS_RAW_RETENTION_DAYS = 7
    settings.METRICS_5M_RETENTION_DAYS = 90
    settings.METRICS_1H_RETENTION_DAYS = 1825
    settings.DRIVE_HISTORY_DAYS = 7
    settings.HISTORY_RETENTION = {}


def _times(family: Family, **lookup: Any) -> list[dt.datetime]:
    rows = family.raw._default_manager.filter(**lookup).order_by(family.time_field)
    return list(rows.values_list(family.time_field, flat=True))


def _buckets(family: Family, resolution_s: int) -> list[dt.datetime]:
    rows = family.rollup._default_manager.filter(resolution_s=resolution_s)
    return list(rows.values_list("bucket_start", flat=True))


def _rollup_at(family: Family, owner: Any, resolution_s: int, when: dt.datetime) -> None:
    keys = {k: "/" if k == "mountpoint" else "eth0" for k in family.keys}
    family.rollup._default_manager.create(
        **{family.owner: owner}, **keys, resolution_s=resolution_s, bucket_start=when, samples=1
    )


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.django_db
def test_pruning_keeps_each_tier_of_every_family_for_its_retention(
    devices: list[Device], family: Family, tiers: None
) -> None:
    # given raw rows 8 and 6 days old, rollups on both sides of each tier's horizon
    now = floor_time(timezone.now(), 3600)
    owner = make_owners(family, devices)[0]
    family.raw._default_manager.bulk_create(
        [raw_row(family, owner, now - 8 * DAY, 0), raw_row(family, owner, now - 6 * DAY, 2)]
    )
    for days in (89, 91):
        _rollup_at(family, owner, 300, now - days * DAY)
    for days in (1824, 1826):
        _rollup_at(family, owner, 3600, now - days * DAY)
    # when the nightly prune runs
    deleted = prune(batch_size=1, now=now)
    # then
    assert _times(family) == [now - 6 * DAY]
    five, hour = _buckets(family, 300), _buckets(family, 3600)
    assert now - 91 * DAY not in five and now - 89 * DAY in five
    assert now - 1826 * DAY not in hour and now - 1824 * DAY in hour
    # the pruned raw row lives on in both tiers
    for r in (300, 3600):
        held = family.rollup._default_manager.filter(
            resolution_s=r, bucket_start=floor_time(now - 8 * DAY, r)
        )
        assert list(held.values_list("samples", flat=True)) == [1]
    label = family.rollup._meta.label
    assert deleted[family.raw._meta.label] == 1
    assert deleted[f"{label}@300s"] == deleted[f"{label}@3600s"] == 1


@pytest.mark.django_db
def test_a_family_override_changes_only_that_family(
    devices: list[Device], tiers: None, settings: Any
) -> None:
    # given filesystems keep raw rows 3 days and 5 minute buckets 10; system the defaults
    settings.HISTORY_RETENTION = {"filesystems": {"raw": 3, "5m": 10}}
    now = floor_time(timezone.now(), 3600)
    device = devices[0]
    for family in (SYSTEM, FILESYSTEMS):
        family.raw._default_manager.bulk_create(
            [raw_row(family, device, now - 4 * DAY, 0), raw_row(family, device, now - 2 * DAY, 2)]
        )
        _rollup_at(family, device, 300, now - 11 * DAY)
    # when
    prune(now=now)
    # then
    assert _times(FILESYSTEMS) == [now - 2 * DAY]
    assert _times(SYSTEM) == [now - 4 * DAY, now - 2 * DAY]
    assert now - 11 * DAY not in _buckets(FILESYSTEMS, 300)
    assert now - 11 * DAY in _buckets(SYSTEM, 300)


@pytest.mark.django_db
def test_drive_history_outlives_an_explicit_metrics_cutoff(
    devices: list[Device], tiers: None, settings: Any
) -> None:
    # given drive readings 20 and 5 days old, drives kept 30 days
    settings.DRIVE_HISTORY_DAYS = 30
    now = floor_time(timezone.now(), 3600)
    drive = make_owners(DRIVES, devices)[0]
    DriveSample = DRIVES.raw
    DriveSample._default_manager.bulk_create(
        [raw_row(DRIVES, drive, now - 20 * DAY, 0), raw_row(DRIVES, drive, now - 5 * DAY, 1)]
    )
    # when metrics are pruned down to 3 days by hand
    prune(now - 3 * DAY, now=now)
    # then drive history is untouched; its own prune keeps 30 days, then 10 once asked
    assert len(_times(DRIVES)) == 2
    assert prune_history(now) == 0
    settings.HISTORY_RETENTION = {"drives": {"raw": 10}}
    assert prune_history(now) == 1
    assert _times(DRIVES) == [now - 5 * DAY]
    # and the pruned reading is in both tiers
    assert {r for (r,) in DRIVES.rollup._default_manager.values_list("resolution_s")} == {300, 3600}


def test_overrides_are_read_per_family_and_tier() -> None:
    env = {
        "HISTORY_RETENTION_FILESYSTEMS": "raw:14,5m:90,1h:1825",
        "HISTORY_RETENTION_DRIVES": " 1h : 3650 ",
        "HISTORY_RETENTION_ARC": "",
        "OTHER": "raw:1",
    }
    assert parse_overrides(env) == {
        "filesystems": {"raw": 14, "5m": 90, "1h": 1825},
        "drives": {"1h": 3650},
    }


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("HISTORY_RETENTION_FILESYSTEM", "raw:14", "no such history family"),
        ("HISTORY_RETENTION_SYSTEM", "raw=14", "each part is TIER:DAYS"),
        ("HISTORY_RETENTION_SYSTEM", "1d:14", "each part is TIER:DAYS"),
        ("HISTORY_RETENTION_SYSTEM", "raw:0", "whole number from 1"),
        ("HISTORY_RETENTION_SYSTEM", "raw:two", "whole number from 1"),
        ("HISTORY_RETENTION_SYSTEM", "raw:7,raw:8", "raw is given twice"),
    ],
)
def test_a_bad_override_is_refused_with_what_is_allowed(
    variable: str, value: str, says: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=says) as refused:
        parse_overrides({variable: value})
    assert variable in str(refused.value)


def test_a_bad_override_stops_startup() -> None:
    # when any process starts with a typo in an override
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, capture_output=True, timeout=60,
        env=os.environ | {"HISTORY_RETENTION_POOLS": "raw:14,5min:90"},
    )  # fmt: skip
    # then it stops, naming the variable and the allowed form
    assert done.returncode != 0
    assert b"HISTORY_RETENTION_POOLS" in done.stderr and b"TIER:DAYS" in done.stderr
