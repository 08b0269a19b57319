"""Vdev rows kept in step with the config table of `zpool status`, on real captured outputs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from devices.models import Device
from tests.samples import sample
from zfs.models import Pool, Vdev
from zfs.parsers import PoolStatus, parse_zpool_status
from zfs.vdevs import store_vdevs

pytestmark = pytest.mark.django_db

# The real capture of a pool of four mirrors and a spare, with a log mirror and a cache device
# added by hand (no capture with those groups exists), in zpool's layout.
WITH_LOGS_AND_CACHE = """\
\tlogs
\t  mirror-4  ONLINE       0     0     0
\t    nvme0n1 ONLINE       0     0     0
\t    nvme1n1 ONLINE       0     0     0
\tcache
\t  sdz       ONLINE       0     0     0
\tspares
"""


def with_logs_and_cache() -> str:
    text = sample("zfs/jc_zpool_status_mirrors_with_spare.out")
    edited = text.replace("\tspares\n", WITH_LOGS_AND_CACHE)
    assert edited != text
    return edited


def status(text: str) -> PoolStatus:
    [pool] = parse_zpool_status(text)
    return pool


def zse(name: str) -> str:
    return sample(f"zfs/zse_zpool_status_{name}.txt").split("\n", 1)[1]


@pytest.fixture
def pool(local_device: Device) -> Pool:
    now = timezone.now()
    return Pool.objects.create(device=local_device, name="p", state="ONLINE",
                               first_seen_at=now, last_seen_at=now)  # fmt: skip


def rows(pool: Pool) -> list[tuple[str, str, str, int, str | None]]:
    return [
        (v.path, v.group, v.type, v.depth, v.parent.path if v.parent else None)
        for v in Vdev.objects.filter(pool=pool).select_related("parent").order_by("order")
    ]


def test_every_row_of_the_table_becomes_a_vdev_in_zpools_order_with_its_parent(pool: Pool) -> None:
    # given the capture with four mirrors and a spare, plus hand-added logs and cache groups
    text = with_logs_and_cache()
    # when
    store_vdevs(pool, status(text).vdevs, timezone.now())
    # then
    found = rows(pool)
    assert found[:3] == [("mirror-0", "data", "mirror", 0, None),
                         ("mirror-0/sdh", "data", "disk", 1, "mirror-0"),
                         ("mirror-0/sdk", "data", "disk", 1, "mirror-0")]  # fmt: skip
    assert found[12:] == [("logs/mirror-4", "logs", "mirror", 0, None),
                          ("logs/mirror-4/nvme0n1", "logs", "disk", 1, "logs/mirror-4"),
                          ("logs/mirror-4/nvme1n1", "logs", "disk", 1, "logs/mirror-4"),
                          ("cache/sdz", "cache", "disk", 0, None),
                          ("spares/sdf", "spares", "disk", 0, None)]  # fmt: skip
    assert len(found) == 17
    spare = Vdev.objects.get(pool=pool, path="spares/sdf")
    assert spare.state == "AVAIL" and spare.read_errors is None and spare.note == ""


def test_a_later_table_updates_states_and_notes_and_marks_vanished_vdevs_removed(
    pool: Pool,
) -> None:
    # given
    first = timezone.now() - dt.timedelta(minutes=5)
    store_vdevs(pool, status(zse("resilvered")).vdevs, first)
    # when loop3 loses its label
    later = timezone.now()
    store_vdevs(pool, status(zse("degraded_corrupted_data")).vdevs, later)
    # then
    loop3 = Vdev.objects.get(pool=pool, path="mirror-1/loop3")
    assert (loop3.state, loop3.note, loop3.first_seen_at, loop3.last_seen_at) == (
        "UNAVAIL", "corrupted data", first, later,
    )  # fmt: skip
    assert Vdev.objects.get(pool=pool, path="mirror-1").state == "DEGRADED"
    # and when the pool is rebuilt from other disks, the old rows are kept as removed
    store_vdevs(pool, status(zse("degraded_removed")).vdevs, later)
    removed = Vdev.objects.filter(pool=pool, removed_at=later).values_list("path", flat=True)
    assert sorted(removed) == ["mirror-0/loop0", "mirror-0/loop1", "mirror-1", "mirror-1/loop2",
                               "mirror-1/loop3"]  # fmt: skip
    current = Vdev.objects.filter(pool=pool, removed_at__isnull=True).order_by("order")
    assert [(v.path, v.state) for v in current] == [
        ("mirror-0", "DEGRADED"), ("mirror-0/drive0-part1", "REMOVED"),
        ("mirror-0/drive1-part1", "ONLINE"),
    ]  # fmt: skip
    # and a vdev that comes back is current again, the same row
    store_vdevs(pool, status(zse("resilvered")).vdevs, later + dt.timedelta(minutes=5))
    assert Vdev.objects.get(pool=pool, path="mirror-1/loop3").pk == loop3.pk
    assert not Vdev.objects.filter(pool=pool, path="mirror-1/loop3", removed_at__isnull=False)


def test_a_poll_costs_the_same_few_queries_however_many_vdevs(
    pool: Pool, django_assert_max_num_queries
) -> None:
    # given a pool of 17 rows stored once
    text = with_logs_and_cache()
    vdevs = status(text).vdevs
    store_vdevs(pool, vdevs, timezone.now())
    # then: read, insert (nothing new), update, mark removed
    with django_assert_max_num_queries(4):
        store_vdevs(pool, vdevs, timezone.now())
    assert Vdev.objects.filter(pool=pool).count() == 17
