"""Issue #4's acceptance: one storage host over real SSH, with `zpool`, `zfs`, `smartctl`, `lsblk`
and `cat` (arcstats) shims printing real captured outputs, shows pools, vdevs, datasets, snapshots
and drives after ONE poll of every kind; a degraded pool and a failing drive give their events
on the next poll."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Event, RunStatus
from devices.models import Device
from tests.conftest import device_for
from tests.drives.shim import SmartHost, report, set_attribute
from tests.samples import sample
from tests.zfs.test_arc_ssh import CAT_SHIM
from tests.zfs.test_datasets_ssh import DATASETS, snapshot_rows
from tests.zfs.test_datasets_ssh import SHIM as ZFS_SHIM
from tests.zfs.test_pools_ssh import ZpoolHost, listing, zse

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def storage_host(sshd_factory, client_key: Path) -> Iterator[tuple[Device, ZpoolHost, SmartHost]]:
    zpool, smart = ZpoolHost(), SmartHost()
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    (zpool.data / "zfs-list.txt").write_text(DATASETS + snapshot_rows())
    (zpool.data / "zfs-list.txt").chmod(0o644)
    (zpool.data / "arcstats").write_text(sample("zfs/node_exporter_kstat_zfs_arcstats.txt"))
    (zpool.data / "arcstats").chmod(0o644)
    smart.put("sda", report("sce_ata_hdd_wd_red_wd20efrx.json", serial="WD-RED-0001"))
    smart.put("nvme0", report("sce_nvme_samsung_970evoplus_250g.json", serial="S4EU-0002"))
    zfs_shim = ZFS_SHIM.replace("__DATA__", str(zpool.data)).replace("list.txt", "zfs-list.txt")
    cat = CAT_SHIM.replace("__DATA__", str(zpool.data))  # serves the real arcstats capture
    (zpool.data / "lsblk.txt").write_text(sample("tools/jc_lsblk_ubuntu1804.out"))
    (zpool.data / "lsblk.txt").chmod(0o644)
    lsblk = f"#!/bin/sh\nexec /bin/cat {zpool.data}/lsblk.txt\n"  # a real capture (tree form)
    shims = {"zpool": zpool.shim, "zfs": zfs_shim, "cat": cat, "lsblk": lsblk, **smart.shims()}
    host = sshd_factory(shims=shims)
    device = device_for(host, client_key)
    yield device, zpool, smart
    smart.close()


def poll_everything(device: Device) -> None:
    run = collect(device, trigger="cli")  # every kind the device supports, in one exec
    assert run is not None
    errors = {k: r for k, r in run.kind_results.items() if r["status"] == "error"}
    assert run.status == RunStatus.OK, errors
    assert "notes" not in run.kind_results["drives"]  # lsblk and every drive were read


def test_one_poll_shows_pools_vdevs_datasets_snapshots_and_drives(
    storage_host: tuple[Device, ZpoolHost, SmartHost], viewer_client: APIClient
) -> None:
    device = storage_host[0]
    collect(device, ["capabilities"], trigger="cli")  # first contact: what the host has
    device.refresh_from_db()
    # when
    poll_everything(device)

    # then
    def get(url: str) -> list[dict[str, object]]:
        return viewer_client.get(url).json()["results"]

    [pool] = get(f"/api/zfs/pools/?device={device.pk}")
    assert pool["name"] == "dummy" and pool["state"] == "ONLINE"
    vdevs = viewer_client.get(f"/api/zfs/pools/{pool['id']}/vdevs/").json()["vdevs"]
    assert [v["path"] for v in vdevs][:3] == ["mirror-0", "mirror-0/loop0", "mirror-0/loop1"]
    datasets = {d["name"] for d in get(f"/api/zfs/datasets/?device={device.pk}")}
    assert {"zpool", "zpool/vol/0", "zpool/vol1"} <= datasets
    snapshots = get(f"/api/zfs/snapshots/?device={device.pk}")
    # the capture lists 4 rows but 2 names (each twice): a name is one snapshot
    assert sorted(str(s["name"]) for s in snapshots) == [
        "zpool/vol/0@snapshot-name",
        "zpool/vol1@snapshot-name",
    ]
    [arc] = get(f"/api/zfs/arc/?device={device.pk}")
    assert arc["size_bytes"] and arc["max_bytes"]
    drives = get(f"/api/drives/?device={device.pk}&ordering=slot")
    assert [(d["slot"], d["assessment"]) for d in drives] == [
        ("/dev/nvme0", "passed"),
        ("/dev/sda", "passed"),
    ]
    # the captured snapshots are from 2023: overdue is right; nothing else is wrong on this host
    alarms = Event.objects.filter(severity__in=["warning", "critical"])
    assert set(alarms.values_list("type", flat=True)) == {"snapshot.missing"}


def test_a_degraded_pool_and_a_failing_drive_are_events_on_the_next_poll(
    storage_host: tuple[Device, ZpoolHost, SmartHost],
) -> None:
    device, zpool, smart = storage_host
    collect(device, ["capabilities"], trigger="cli")
    poll_everything(device)
    # when a disk of the mirror loses its label and the WD Red starts failing
    zpool.set(status=zse("degraded_corrupted_data"), listing=listing("dummy", 42))
    failing = report("sce_ata_hdd_wd_red_wd20efrx.json", serial="WD-RED-0001")
    failing["smart_status"] = {"passed": False}
    set_attribute(failing, 5, 1200, value=140, when_failed="now")
    smart.put("sda", json.loads(json.dumps(failing)), rc=8)
    poll_everything(device)
    # then
    types = set(Event.objects.filter(device=device).values_list("type", flat=True))
    assert {"pool.degraded", "drive.failing"} <= types
    failing_event = Event.objects.get(type="drive.failing")
    assert failing_event.severity == "critical" and failing_event.data["slot"] == "/dev/sda"
