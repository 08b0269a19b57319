"""The ARC series: one sample per poll, the hit ratio of each interval, and its retention.

These call the store function directly with a parsed real capture; `test_arc_ssh.py` collects the
same capture over real SSH.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from collectors.models import CollectionRun, Trigger
from collectors.store import StoreContext
from devices.models import Device
from devices.retention import prune
from tests.samples import sample
from zfs.arc import interval_ratio_pct, store_arcstats
from zfs.models import ArcSample
from zfs.parsers import parse_arcstats

ARCSTATS = "zfs/node_exporter_kstat_zfs_arcstats.txt"


def counters(text: str, **values: int) -> str:
    """The capture with some counters edited by hand (a later reading of the same host)."""
    lines = []
    for line in text.splitlines():
        name, *rest = line.split()
        if name in values:
            line = f"{name:<31} {rest[0]:<4} {values[name]}"
        lines.append(line)
    edited = "\n".join(lines) + "\n"
    assert edited != text
    return edited


def store(device: Device, text: str, at: dt.datetime) -> ArcSample:
    run = CollectionRun.objects.create(device=device, trigger=Trigger.CLI, started_at=at)
    store_arcstats(StoreContext(device=device, run=run, collected_at=at), parse_arcstats(text))
    return ArcSample.objects.get(device=device, collected_at=at)


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        ((90, 10), (45, 5), 90.0),  # 45 hits of 50 accesses
        ((90, 10), (90, 10), None),  # nothing accessed in between
        ((10, 5), (90, 10), None),  # counters went down: a reboot
        ((90, 10), (None, None), None),  # no earlier reading
    ],
)
def test_the_interval_ratio_is_taken_over_the_counters_growth(
    now: tuple[int, int], before: tuple[int | None, int | None], expected: float | None
) -> None:
    assert interval_ratio_pct(*now, *before) == expected


@pytest.mark.django_db
def test_samples_keep_sizes_and_the_ratio_of_each_interval(local_device: Device) -> None:
    # given the real capture (8772612 hits, 604635 misses since boot)
    text = sample(ARCSTATS)
    start = timezone.now() - dt.timedelta(minutes=10)
    # when it is stored first
    first = store(local_device, text, start)
    # then its ratio is the one since boot
    assert first.size_bytes == 1603939792 and first.max_bytes == 8367976448
    assert first.target_bytes == 1643208777 and first.min_bytes == 33554432
    assert first.hit_ratio_pct == pytest.approx(100 * 8772612 / (8772612 + 604635))
    assert first.l2_size_bytes == 0 and first.l2_hit_ratio_pct is None  # no L2ARC accesses
    # when 900 more hits and 100 more misses are read five minutes later
    later = counters(text, hits=8773512, misses=604735)
    second = store(local_device, later, start + dt.timedelta(minutes=5))
    # then the ratio is that of the interval, not since boot
    assert second.hit_ratio_pct == pytest.approx(90.0)
    assert (second.hits, second.misses) == (8773512, 604735)
    # when the host rebooted (counters lower than before), no ratio for that point
    rebooted = store(local_device, counters(text, hits=50, misses=50),
                     start + dt.timedelta(minutes=10))  # fmt: skip
    assert rebooted.hit_ratio_pct is None and rebooted.hits == 50


@pytest.mark.django_db
def test_old_arc_samples_are_pruned_with_the_metrics(local_device: Device) -> None:
    # given
    now = timezone.now()
    text = sample(ARCSTATS)
    store(local_device, text, now - dt.timedelta(days=40))
    recent = store(local_device, text, now - dt.timedelta(days=1))
    # when
    deleted = prune(now - dt.timedelta(days=30))
    # then
    assert deleted["zfs.ArcSample"] == 1
    assert list(ArcSample.objects.all()) == [recent]
