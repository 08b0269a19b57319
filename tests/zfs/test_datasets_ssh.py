"""Datasets and snapshots over real SSH, from a host whose `zfs` prints a real snapshot listing."""

from __future__ import annotations

import datetime as dt
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
from zfs.models import Dataset, DatasetSample, Snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

SHIM = r"""#!/bin/sh
D=__DATA__
case "$1" in
  list) if [ "$2" = "-H" ]; then echo zpool; else cat "$D/list.txt"; fi ;;
  *) echo "zfs: unsupported $*" >&2; exit 2 ;;
esac
"""

# Dataset rows in our command's 7-column layout (hand-written: no capture of `zfs list -t all`).
DATASETS = (
    "zpool\tfilesystem\t1048576\t9000000000\t98304\t/zpool\t1685000000\n"
    "zpool/vol/0\tvolume\t524288\t9000000000\t65536\t-\t1685000100\n"
    "zpool/vol1\tvolume\t262144\t9000000000\t32768\t-\t1685000200\n"
)


def snapshot_rows() -> str:
    """The real `zfs list -p -H -t snapshot -o name,used,creation` capture, in our 7 columns."""
    rows = []
    for line in sample("zfs/zfs_list_snapshots_pH_name_used_creation.txt").splitlines():
        name, used, creation = line.split("\t")
        rows.append(f"{name}\tsnapshot\t{used}\t-\t4096\t-\t{creation}\n")
    return "".join(rows)


@pytest.fixture
def zfs_data() -> Iterator[Path]:
    data = Path(tempfile.mkdtemp(prefix="infra-zfs-"))
    os.chmod(data, 0o755)  # noqa: S103  (the unprivileged test user reads it)
    yield data
    shutil.rmtree(data, ignore_errors=True)


def set_listing(data: Path, text: str) -> None:
    (data / "list.txt").write_text(text)
    (data / "list.txt").chmod(0o644)


@pytest.fixture
def zfs_device(zfs_data: Path, sshd_factory, client_key: Path) -> Device:
    set_listing(zfs_data, DATASETS)
    host = sshd_factory(shims={"zfs": SHIM.replace("__DATA__", str(zfs_data))})
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    device.refresh_from_db()
    assert device.has_capability("zfs")
    return device


def poll(device: Device) -> None:
    run = collect(device, ["zfs-list"], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results


def test_datasets_and_snapshots_are_stored_with_their_space(
    zfs_data: Path, zfs_device: Device
) -> None:
    set_listing(zfs_data, DATASETS + snapshot_rows())
    poll(zfs_device)
    assert sorted(Dataset.objects.values_list("name", flat=True)) == [
        "zpool", "zpool/vol/0", "zpool/vol1",
    ]  # fmt: skip
    vol1 = Dataset.objects.get(name="zpool/vol1")
    assert vol1.type == "volume" and vol1.used_bytes == 262144 and vol1.mountpoint == ""
    # the capture lists each snapshot name twice: stored once, with the last row's values
    snap = Snapshot.objects.get(name="zpool/vol1@snapshot-name")
    assert snap.dataset == vol1 and snap.used_bytes == 256
    assert snap.created_at == dt.datetime.fromtimestamp(1685100606, tz=dt.UTC)
    assert DatasetSample.objects.count() == 3


def test_a_dataset_whose_snapshots_stopped_raises_snapshot_missing_once(
    zfs_data: Path, zfs_device: Device
) -> None:
    # given snapshots from 2023 (the capture's own dates): long overdue
    set_listing(zfs_data, DATASETS + snapshot_rows())
    poll(zfs_device)
    poll(zfs_device)
    missing = Event.objects.filter(type="snapshot.missing")
    assert sorted(e.data["dataset"] for e in missing) == ["zpool/vol/0", "zpool/vol1"]
    # when a fresh snapshot of vol1 appears, vol1 is fine again and only vol/0 stays overdue
    fresh = int(timezone.now().timestamp()) - 60
    set_listing(
        zfs_data,
        DATASETS + snapshot_rows() + f"zpool/vol1@auto\tsnapshot\t0\t-\t4096\t-\t{fresh}\n",
    )
    poll(zfs_device)
    assert not Dataset.objects.get(name="zpool/vol1").snapshot_overdue
    assert Dataset.objects.get(name="zpool/vol/0").snapshot_overdue
    assert Event.objects.filter(type="snapshot.missing").count() == 2


def test_snapshots_and_datasets_that_disappear_are_kept_as_removed(
    zfs_data: Path, zfs_device: Device, viewer_client: APIClient
) -> None:
    set_listing(zfs_data, DATASETS + snapshot_rows())
    poll(zfs_device)
    set_listing(zfs_data, DATASETS.splitlines(keepends=True)[0])
    poll(zfs_device)
    assert Snapshot.objects.filter(removed_at__isnull=True).count() == 0
    assert Snapshot.objects.count() == 2
    assert Dataset.objects.get(name="zpool/vol1").removed_at is not None
    body = viewer_client.get("/api/zfs/snapshots/?removed=false").json()
    assert body["count"] == 0
    assert viewer_client.get("/api/zfs/datasets/?search=vol1").json()["count"] == 1


def test_datasets_and_snapshots_are_listed_in_the_admin(
    zfs_data: Path, zfs_device: Device, admin_client
) -> None:
    set_listing(zfs_data, DATASETS + snapshot_rows())
    poll(zfs_device)
    page = admin_client.get("/admin/zfs/dataset/?snapshot_overdue__exact=1")
    assert page.status_code == 200 and b"zpool/vol1" in page.content
    page = admin_client.get("/admin/zfs/snapshot/?q=vol1")
    assert page.status_code == 200 and b"zpool/vol1@snapshot-name" in page.content
    assert admin_client.get("/admin/zfs/pool/").status_code == 200
