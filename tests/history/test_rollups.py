"""Rollups equal the aggregates of the raw rows, whatever the series and the family, however
often they run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.history.families import FAMILIES, SYSTEM, Family
from devices.history.rollup import GRACE, roll_up, roll_up_all
from devices.models import Device, RollupWatermark, SystemRollup, SystemSample
from tests.history.conftest import (
    KEY_VALUES,
    T0,
    assert_same,
    expected_rollups,
    make_owners,
    raw_row,
    sample,
    stored_rollups,
)

TIERS = (300, 3600)

# Gaps between two polls: mostly a poll interval, sometimes an outage of minutes to hours.
gaps = st.one_of(st.integers(1, 90), st.integers(91, 4 * 3600))
series = st.lists(st.tuples(gaps, st.integers(0, 1)), min_size=1, max_size=60)


def _insert(devices: list[Device], steps: list[tuple[int, int]]) -> list[SystemSample]:
    rows, clock = [], T0
    for n, (gap, who) in enumerate(steps):
        clock += dt.timedelta(seconds=gap, microseconds=n % 3)
        rows.append(sample(devices[who], clock, n))
    return SystemSample.objects.bulk_create(rows)


def _insert_family(family: Family, owners: list[Any], steps: list[tuple[int, int]]) -> list[Any]:
    rows, clock = [], T0
    for n, (gap, who) in enumerate(steps):
        clock += dt.timedelta(seconds=gap, microseconds=n % 3)
        rows.append(raw_row(family, owners[who], clock, n))
    return family.raw._default_manager.bulk_create(rows)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=series)
def test_rollups_equal_aggregates_computed_from_the_raw_rows(
    devices: list[Device], family: Family, steps: list[tuple[int, int]]
) -> None:
    # given a random series with gaps (and, in counters, resets) over two owners (and, in a
    # keyed family, two keys each)
    family.raw._default_manager.all().delete()
    family.rollup._default_manager.all().delete()
    RollupWatermark.objects.all().delete()
    owners = _owners(family, devices)
    rows = _insert_family(family, owners, steps)
    after = max(getattr(r, family.time_field) for r in rows) + dt.timedelta(hours=2)
    for resolution_s in TIERS:
        # when
        roll_up(family, resolution_s, now=after, batch_buckets=5)
        # then
        assert_same(
            stored_rollups(resolution_s, family), expected_rollups(rows, resolution_s, family)
        )


def _owners(family: Family, devices: list[Device]) -> list[Any]:
    # Hypothesis runs the body many times in one test: the owners are made once per test.
    owner_model = family.raw._meta.get_field(family.owner).related_model
    assert owner_model is not None and not isinstance(owner_model, str)
    found = list(owner_model._default_manager.order_by("pk"))
    return found if len(found) == 2 else make_owners(family, devices)


@pytest.mark.django_db
def test_rerunning_is_a_no_op_and_recomputing_gives_the_same_numbers(
    devices: list[Device],
) -> None:
    # given
    rows = _insert(devices, [(29, n % 2) for n in range(400)])
    now = T0 + dt.timedelta(hours=5)
    first = [roll_up(SYSTEM, r, now=now) for r in TIERS]
    before = {r: stored_rollups(r) for r in TIERS}
    # when
    again = [roll_up(SYSTEM, r, now=now) for r in TIERS]
    RollupWatermark.objects.update(done_until=None)
    recomputed = [roll_up(SYSTEM, r, now=now) for r in TIERS]
    # then
    assert all(r.buckets_written > 0 for r in first)
    assert [(r.buckets_written, r.batches) for r in again] == [(0, 0), (0, 0)]
    assert [r.buckets_written for r in recomputed] == [r.buckets_written for r in first]
    assert {r: stored_rollups(r) for r in TIERS} == before
    for r in TIERS:
        assert_same(before[r], expected_rollups(rows, r))


@pytest.mark.django_db
def test_an_open_bucket_waits_for_its_end_plus_the_grace_period(devices: list[Device]) -> None:
    # given samples in the 00:00 and 00:05 buckets, and it is 00:09: 00:00 closed at 00:05 and
    # its grace ended at 00:07; 00:05 is still open
    early = sample(devices[0], T0 + dt.timedelta(minutes=1), 1)
    open_ = sample(devices[0], T0 + dt.timedelta(minutes=5, seconds=30), 2)
    SystemSample.objects.bulk_create([early, open_])
    # when
    roll_up(SYSTEM, 300, now=T0 + dt.timedelta(minutes=9))
    # then only the closed bucket is written, and the watermark stops before the open one
    assert list(SystemRollup.objects.values_list("bucket_start", flat=True)) == [T0]
    mark = RollupWatermark.objects.get(family="system", resolution_s=300)
    assert mark.done_until == T0 + dt.timedelta(minutes=5)
    # given a late row lands in the open bucket, which then closes (end + grace)
    late = sample(devices[0], T0 + dt.timedelta(minutes=9, seconds=59), 3)
    late.save()
    # when
    roll_up(SYSTEM, 300, now=T0 + dt.timedelta(minutes=10) + GRACE)
    # then
    assert_same(stored_rollups(300), expected_rollups([early, open_, late], 300))


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.django_db
def test_catching_up_after_a_day_of_downtime_is_exact(
    devices: list[Device], family: Family
) -> None:
    # given a day that was rolled up, then a day of 60 s samples nobody rolled up
    owners = make_owners(family, devices)
    minute = dt.timedelta(minutes=1)
    day_before = [
        raw_row(family, o, T0 - dt.timedelta(days=1) + i * minute, i)
        for o in owners for i in range(1440)
    ]  # fmt: skip
    family.raw._default_manager.bulk_create(day_before)
    for r in TIERS:
        roll_up(family, r, now=T0 + GRACE)
    assert RollupWatermark.objects.filter(family=family.name, done_until=T0).count() == 2
    missed = [
        raw_row(family, o, T0 + i * minute + dt.timedelta(milliseconds=250), i)
        for o in owners for i in range(1440)
    ]  # fmt: skip
    family.raw._default_manager.bulk_create(missed)
    # when the beat task is back a day later
    results = [roll_up(family, r, now=T0 + dt.timedelta(days=1) + GRACE) for r in TIERS]
    # then every bucket of both days is there once, complete, and equal to the raw aggregates
    assert [r.batches for r in results] == [4, 1]  # 6 h batches of 5 min, 1 day batches of 1 h
    assert [r.done_until for r in results] == [T0 + dt.timedelta(days=1)] * 2
    series = 2 * (len(KEY_VALUES["name"]) if family.keys else 1)  # owners x key values
    for r in TIERS:
        stored = stored_rollups(r, family)
        assert len(stored) == series * 2 * 86400 // r
        assert sum(v["samples"] for v in stored.values()) == 2 * 2 * 1440
        assert_same(stored, expected_rollups(day_before + missed, r, family))


@pytest.mark.django_db
def test_the_beat_task_rolls_up_every_family(devices: list[Device]) -> None:
    # given an hour of rows of every family
    for family in FAMILIES:
        owners = make_owners(family, devices)
        family.raw._default_manager.bulk_create(
            [raw_row(family, owners[0], T0 + dt.timedelta(minutes=i), i) for i in range(60)]
        )
    # when
    results = roll_up_all(now=T0 + dt.timedelta(hours=1) + GRACE)
    # then both tiers of every family are written and final up to the hour
    assert {(r.family, r.resolution_s) for r in results} == {
        (f.name, t) for f in FAMILIES for t in TIERS
    }
    assert all(r.done_until == T0 + dt.timedelta(hours=1) for r in results)
    for family in FAMILIES:
        assert sum(v["samples"] for v in stored_rollups(3600, family).values()) == 60
