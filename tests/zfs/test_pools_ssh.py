"""Pools end to end over real SSH, from a host whose `zpool` prints real captured outputs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Event, RunStatus
from devices.models import Device
from tests.conftest import device_for
from tests.samples import sample
from zfs.models import Pool, PoolSample, Vdev

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

SHIM = r"""#!/bin/sh
D=__DATA__
case "$1 $2" in
  "status -p") cat "$D/status.txt" ;;
  "list -Hp") cat "$D/list.txt" ;;
  "list -H") sed -n 's/^[[:space:]]*pool: //p' "$D/status.txt" ;;
  *) echo "zpool: unsupported $*" >&2; exit 2 ;;
esac
"""
KINDS = ["zpool-status", "zpool-list"]


def zse(name: str) -> str:
    """A zpool-status-exporter capture without its harness's first line (TEST_TIMESTAMP=...)."""
    return sample(f"zfs/zse_zpool_status_{name}.txt").split("\n", 1)[1]


class ZpoolHost:
    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-zpool-"))
        os.chmod(self.data, 0o755)  # noqa: S103  (the unprivileged test user reads it)
        self.set(status=zse("resilvered"), listing="")

    @property
    def shim(self) -> str:
        return SHIM.replace("__DATA__", str(self.data))

    def set(self, *, status: str, listing: str) -> None:
        for name, text in (("status.txt", status), ("list.txt", listing)):
            (self.data / name).write_text(text)
            (self.data / name).chmod(0o644)


@pytest.fixture
def zpool() -> Iterator[ZpoolHost]:
    host = ZpoolHost()
    yield host
    shutil.rmtree(host.data, ignore_errors=True)


@pytest.fixture
def zfs_device(zpool: ZpoolHost, sshd_factory, client_key: Path) -> Device:
    host = sshd_factory(shims={"zpool": zpool.shim})
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    device.refresh_from_db()
    assert device.has_capability("zpool")
    return device


def poll(device: Device) -> None:
    run = collect(device, KINDS, trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results


def listing(name: str, capacity: int) -> str:
    """`zpool list -Hp` row (tab-separated) for one pool, in the layout of ZFS 2.x."""
    return f"{name}\t21367462298\t9051643576\t12240656794\t-\t-\t33\t{capacity}\t1.00\tONLINE\t-\n"


def test_one_poll_shows_the_pool_with_its_vdev_tree_and_capacity(
    zpool: ZpoolHost, zfs_device: Device, viewer_client: APIClient
) -> None:
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(zfs_device)
    body = viewer_client.get("/api/zfs/pools/").json()["results"]
    assert [p["name"] for p in body] == ["dummy"]
    pool = body[0]
    assert pool["state"] == "ONLINE" and pool["capacity_pct"] == 42
    assert pool["size_bytes"] == 21367462298 and pool["data_errors"] == 0
    assert [v["name"] for v in pool["vdevs"]] == ["mirror-0", "mirror-1"]
    assert [c["name"] for c in pool["vdevs"][1]["children"]] == ["loop2", "loop3"]
    assert pool["scan"]["function"] == "resilver"
    history = viewer_client.get(f"/api/zfs/pools/{pool['id']}/history/").json()["points"]
    assert len(history) == 1 and history[0]["capacity_pct"] == 42
    assert not Event.objects.filter(kind="zfs").exists()


def test_one_poll_stores_a_vdev_row_for_every_row_of_the_config_table(
    zpool: ZpoolHost, zfs_device: Device, viewer_client: APIClient
) -> None:
    # when
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(zfs_device)
    # then the rows follow the capture's tree, in its order
    pool = Pool.objects.get(device=zfs_device, name="dummy")
    rows = viewer_client.get(f"/api/zfs/pools/{pool.pk}/vdevs/").json()["vdevs"]
    assert [(v["path"], v["type"], v["depth"], v["state"]) for v in rows] == [
        ("mirror-0", "mirror", 0, "ONLINE"), ("mirror-0/loop0", "disk", 1, "ONLINE"),
        ("mirror-0/loop1", "disk", 1, "ONLINE"), ("mirror-1", "mirror", 0, "ONLINE"),
        ("mirror-1/loop2", "disk", 1, "ONLINE"), ("mirror-1/loop3", "disk", 1, "ONLINE"),
    ]  # fmt: skip
    by_path = {v["path"]: v for v in rows}
    assert by_path["mirror-1/loop3"]["parent"] == by_path["mirror-1"]["id"]
    assert by_path["mirror-1"]["parent"] is None
    assert {(v["group"], v["read_errors"], v["checksum_errors"], v["note"]) for v in rows} == {
        ("data", 0, 0, "")
    }
    # and the pool's JSON tree is still there for the API's readers
    detail = viewer_client.get(f"/api/zfs/pools/{pool.pk}/").json()
    assert [v["name"] for v in detail["vdevs"]] == ["mirror-0", "mirror-1"]


def test_a_degraded_table_updates_vdev_states_and_notes_in_place(
    zpool: ZpoolHost, zfs_device: Device, viewer_client: APIClient
) -> None:
    # given
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(zfs_device)
    before = dict(Vdev.objects.values_list("path", "pk"))
    # when loop3 loses its label
    zpool.set(status=zse("degraded_corrupted_data"), listing=listing("dummy", 42))
    poll(zfs_device)
    # then the same rows carry the new states and zpool's note
    after = {v.path: v for v in Vdev.objects.all()}
    assert {path: v.pk for path, v in after.items()} == before
    assert (after["mirror-1/loop3"].state, after["mirror-1/loop3"].note) == (
        "UNAVAIL",
        "corrupted data",
    )
    assert after["mirror-1"].state == "DEGRADED" and after["mirror-0"].state == "ONLINE"
    assert all(v.removed_at is None for v in after.values())
    # and when the pool is rebuilt on other disks, the old vdevs are kept as removed
    zpool.set(status=zse("degraded_removed"), listing=listing("dummy", 42))
    poll(zfs_device)
    pool = Pool.objects.get(name="dummy")
    current = viewer_client.get(f"/api/zfs/pools/{pool.pk}/vdevs/").json()["vdevs"]
    assert [(v["path"], v["state"]) for v in current] == [
        ("mirror-0", "DEGRADED"), ("mirror-0/drive0-part1", "REMOVED"),
        ("mirror-0/drive1-part1", "ONLINE"),
    ]  # fmt: skip
    everything = viewer_client.get(
        f"/api/zfs/pools/{pool.pk}/vdevs/", {"include_removed": "true"}
    ).json()["vdevs"]
    removed = {v["path"] for v in everything if v["removed_at"] is not None}
    assert removed == {"mirror-0/loop0", "mirror-0/loop1", "mirror-1", "mirror-1/loop2",
                       "mirror-1/loop3"}  # fmt: skip
    assert len(everything) == 8  # mirror-0 is the same path, so the same row


def test_a_degraded_pool_raises_an_event_and_recovery_another(
    zpool: ZpoolHost, zfs_device: Device
) -> None:
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(zfs_device)
    # when a device of mirror-1 loses its label (and a scrub finished meanwhile)
    zpool.set(status=zse("degraded_corrupted_data"), listing=listing("dummy", 42))
    poll(zfs_device)
    # then
    degraded = Event.objects.get(type="pool.degraded")
    assert degraded.data["pool"] == "dummy" and degraded.severity == "warning"
    assert "label is missing" in degraded.data["status"]
    scrub = Event.objects.get(type="scrub.finished")
    assert scrub.data["errors"] == 0 and scrub.severity == "info"
    # and when it is repaired
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(zfs_device)
    assert Event.objects.filter(type="pool.recovered").count() == 1
    assert PoolSample.objects.filter(pool__name="dummy").count() == 3


def test_a_pool_first_seen_degraded_alerts_at_once(zpool: ZpoolHost, zfs_device: Device) -> None:
    zpool.set(status=zse("degraded_removed"), listing=listing("dummy", 42))
    poll(zfs_device)
    assert Event.objects.filter(type="pool.degraded").count() == 1
    assert Pool.objects.get(name="dummy").state == "DEGRADED"


def test_growing_vdev_errors_and_a_filling_pool_are_events(
    zpool: ZpoolHost, zfs_device: Device, settings
) -> None:
    settings.ZPOOL_CAPACITY_WARNING_PCT = 80.0
    healthy = zse("resilvered")
    zpool.set(status=healthy, listing=listing("dummy", 79))
    poll(zfs_device)
    # given the real capture edited to show 3 checksum errors on loop1 (hand-edited counters)
    erroring = healthy.replace(
        "loop1   ONLINE       0     0     0", "loop1   ONLINE       0     0     3"
    )
    assert erroring != healthy
    zpool.set(status=erroring, listing=listing("dummy", 85))
    poll(zfs_device)
    event = Event.objects.get(type="vdev.errors_increased")
    assert event.data["vdev"] == "mirror-0/loop1" and event.data["after"] == [0, 0, 3]
    assert Event.objects.filter(type="pool.capacity_high").count() == 1
    # a pool staying full does not alert again
    poll(zfs_device)
    assert Event.objects.filter(type="pool.capacity_high").count() == 1
    assert Event.objects.filter(type="vdev.errors_increased").count() == 1


def test_a_pool_not_scrubbed_for_weeks_raises_scrub_overdue_once(
    zpool: ZpoolHost, zfs_device: Device
) -> None:
    # given the real capture whose last scrub finished on Sun Oct 20 2024
    old = zse("degraded_removed")
    zpool.set(status=old, listing=listing("dummy", 42))
    poll(zfs_device)
    poll(zfs_device)
    overdue = Event.objects.get(type="scrub.overdue")
    assert overdue.data["last_scrub"].startswith("2024-10-20T17:29:34")
    # when a new scrub finishes (the capture with today's date edited in), it is cleared
    now = timezone.now()
    today = f"{now:%a %b} {now.day:2d} {now:%H:%M:%S %Y}"  # ctime style, as zpool prints it
    fresh = old.replace("Sun Oct 20 17:29:34 2024", today)
    assert fresh != old
    zpool.set(status=fresh, listing=listing("dummy", 42))
    poll(zfs_device)
    pool = Pool.objects.get(name="dummy")
    assert not pool.scrub_overdue
    assert Event.objects.filter(type="scrub.finished").count() == 1
    assert Event.objects.filter(type="scrub.overdue").count() == 1


def test_an_exported_pool_is_kept_as_removed(zpool: ZpoolHost, zfs_device: Device) -> None:
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(zfs_device)
    zpool.set(status="no pools available\n", listing=listing("dummy", 42))
    poll(zfs_device)
    pool = Pool.objects.get(name="dummy")
    assert pool.removed_at is not None
    assert PoolSample.objects.filter(pool=pool).exists()
