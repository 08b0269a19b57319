"""Shared helpers of the history tests: devices and the other owners of a series (containers,
pools, datasets, drives), raw rows of any family, and rollups computed in Python from them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
from django.db import models

from containers.models import Container
from devices.history.families import SYSTEM, Family
from devices.history.rollup import floor_time
from devices.models import AuthMethod, Device, Drive, SystemSample, Transport
from zfs.models import Dataset, Pool

# A Monday, midnight UTC: every tier's buckets start on it.
T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@pytest.fixture
def devices(db: None) -> list[Device]:
    return [
        Device.objects.create(
            name=f"box-{n}",
            address="localhost",
            transport=Transport.LOCAL,
            auth_method=AuthMethod.AGENT,
        )
        for n in range(2)
    ]


def sample(device: Device, when: dt.datetime, n: int) -> SystemSample:
    """A sample whose values vary with `n` (some of them null now and then)."""
    return SystemSample(
        device=device, collected_at=when, cpu_pct=None if n % 7 == 3 else (n * 7.3) % 100,
        cpu_user_pct=(n * 3.1) % 50,
        mem_used_bytes=1_000_000 + (n * 7919) % 50_000, mem_total_bytes=2_000_000 + n % 3,
        load_1=None if n % 5 == 0 else n % 11 / 4, procs_running=n % 9, uptime_s=1000.0 + n,
    )  # fmt: skip


# Two values of each family's key: rows alternate between them.
KEY_VALUES = {"mountpoint": ("/", "/mnt/data"), "name": ("eth0", "sda")}


def make_owners(family: Family, devices: list[Device]) -> list[models.Model]:
    """Two owners of `family`'s series, one per device."""
    if family.owner == "device":
        return list(devices)
    seen = {"first_seen_at": T0, "last_seen_at": T0}
    made: list[models.Model] = []
    for n, device in enumerate(devices):
        owner: models.Model
        if family.owner == "container":
            owner = Container.objects.create(device=device, name=f"app-{n}",
                container_id=f"{n:064x}", image="app:1", state="running", **seen)  # fmt: skip
        elif family.owner == "pool":
            owner = Pool.objects.create(device=device, name=f"tank{n}", state="ONLINE", **seen)
        elif family.owner == "dataset":
            owner = Dataset.objects.create(device=device, name=f"tank/d{n}", type="filesystem",
                                           **seen)  # fmt: skip
        else:
            owner = Drive.objects.create(device=device, identity=f"WD-{n}", serial=f"WD-{n}",
                                         slot=f"/dev/sd{'ab'[n]}", **seen)  # fmt: skip
        made.append(owner)
    return made


def _value(field: models.Field[Any, Any], n: int, i: int, *, counter: bool) -> Any:
    """A value of a raw column that varies with the row number `n` (and column `i`)."""
    if (field.null and (n + i) % 7 == 3) or isinstance(field, models.JSONField):
        return None
    if field.choices:
        return field.choices[(n + i) % len(field.choices)][0]
    if isinstance(field, models.BooleanField):
        return (n + i) % 2 == 0
    if isinstance(field, models.CharField):
        return f"v{(n + i) % 3}"
    if isinstance(field, models.FloatField):
        return (n + 1) * 7.3 * (i + 1) % 100
    if counter:
        # A cumulative counter that resets (a reboot, a `zpool clear`) every 13 rows.
        return (n % 13) * 100 + i
    return (n * 7919 + i) % 30000


def raw_row(family: Family, owner: models.Model, when: dt.datetime, n: int) -> models.Model:
    """A raw row of `family` whose values vary with `n`, some null now and then; a keyed
    family's rows alternate between two key values."""
    fixed = {family.owner, family.time_field, *family.keys}
    values: dict[str, Any] = {family.owner: owner, family.time_field: when}
    values |= {k: KEY_VALUES[k][n % 2] for k in family.keys}
    columns = [
        f for f in family.raw._meta.concrete_fields if not f.primary_key and f.name not in fixed
    ]
    for i, field in enumerate(columns):
        values[field.name] = _value(field, n, i, counter=field.name in family.lasts)
    return family.raw(**values)


BucketKey = tuple[Any, ...]


def _bucket_of(family: Family, row: models.Model, resolution_s: int) -> BucketKey:
    owner = getattr(row, family.owner_column)
    keys = tuple(getattr(row, k) for k in family.keys)
    return (owner, *keys, floor_time(getattr(row, family.time_field), resolution_s))


def expected_rollups(
    rows: Iterable[models.Model], resolution_s: int, family: Family = SYSTEM
) -> dict[BucketKey, dict[str, Any]]:
    """The rollup of every (owner, keys, bucket), computed in Python from the raw rows."""
    buckets: dict[BucketKey, list[Any]] = defaultdict(list)
    for row in rows:
        buckets[_bucket_of(family, row, resolution_s)].append(row)
    expected = {}
    for key, members in buckets.items():
        members.sort(key=lambda r: getattr(r, family.time_field))
        values: dict[str, Any] = {"samples": len(members)}
        for g in family.gauges:
            present = [getattr(r, g) for r in members if getattr(r, g) is not None]
            values |= {
                f"{g}_min": min(present) if present else None,
                f"{g}_avg": sum(present) / len(present) if present else None,
                f"{g}_max": max(present) if present else None,
            }
        for name in family.lasts:
            present = [getattr(r, name) for r in members if getattr(r, name) is not None]
            values[f"{name}_last"] = present[-1] if present else None
        for name in family.sums:
            present = [getattr(r, name) for r in members if getattr(r, name) is not None]
            values[f"{name}_sum"] = sum(present) if present else None
        expected[key] = values
    return expected


def stored_rollups(resolution_s: int, family: Family = SYSTEM) -> dict[BucketKey, dict[str, Any]]:
    columns = ["samples", *family.aggregate_columns()]
    heads = [family.owner_column, *family.keys, "bucket_start"]
    return {
        tuple(r[h] for h in heads): {c: r[c] for c in columns}
        for r in family.rollup._default_manager.filter(resolution_s=resolution_s).values(
            *heads, *columns
        )
    }


def assert_same(
    stored: dict[BucketKey, dict[str, Any]], expected: dict[BucketKey, dict[str, Any]]
) -> None:
    assert stored.keys() == expected.keys()
    for key, values in expected.items():
        for column, want in values.items():
            got = stored[key][column]
            if isinstance(want, float) and got is not None:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (key, column)
            else:
                assert got == want, (key, column)
