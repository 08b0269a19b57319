"""Rollups equal the aggregates of the raw rows, whatever the series, however often they run."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.history.families import SYSTEM
from devices.history.rollup import GRACE, roll_up
from devices.models import Device, RollupWatermark, SystemRollup, SystemSample
from tests.history.conftest import T0, assert_same, expected_rollups, sample, stored_rollups

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


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=series)
def test_rollups_equal_aggregates_computed_from_the_raw_rows(
    devices: list[Device], steps: list[tuple[int, int]]
) -> None:
    # given a random series with gaps over two devices
    SystemSample.objects.all().delete()
    SystemRollup.objects.all().delete()
    RollupWatermark.objects.all().delete()
    rows = _insert(devices, steps)
    after = max(r.collected_at for r in rows) + dt.timedelta(hours=2)
    for resolution_s in TIERS:
        # when
        roll_up(SYSTEM, resolution_s, now=after, batch_buckets=5)
        # then
        assert_same(stored_rollups(resolution_s), expected_rollups(rows, resolution_s))


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


@pytest.mark.django_db
def test_catching_up_after_a_day_of_downtime_is_exact(devices: list[Device]) -> None:
    # given a day that was rolled up, then a day of 30 s samples nobody rolled up
    day_before = [
        sample(d, T0 - dt.timedelta(days=1) + dt.timedelta(seconds=30 * i), i)
        for d in devices for i in range(2880)
    ]  # fmt: skip
    SystemSample.objects.bulk_create(day_before)
    for r in TIERS:
        roll_up(SYSTEM, r, now=T0 + GRACE)
    assert RollupWatermark.objects.filter(done_until=T0).count() == 2
    missed = [
        sample(d, T0 + dt.timedelta(seconds=30 * i, milliseconds=250), i)
        for d in devices for i in range(2880)
    ]  # fmt: skip
    SystemSample.objects.bulk_create(missed)
    # when the beat task is back a day later
    results = [roll_up(SYSTEM, r, now=T0 + dt.timedelta(days=1) + GRACE) for r in TIERS]
    # then every bucket of both days is there once, complete, and equal to the raw aggregates
    assert [r.batches for r in results] == [4, 1]  # 6 h batches of 5 min, 1 day batches of 1 h
    assert [r.done_until for r in results] == [T0 + dt.timedelta(days=1)] * 2
    for r, per_bucket in ((300, 10), (3600, 120)):
        stored = stored_rollups(r)
        assert len(stored) == 2 * 2 * 86400 // r
        assert {v["samples"] for v in stored.values()} == {per_bucket}
        assert_same(stored, expected_rollups(day_before + missed, r))
