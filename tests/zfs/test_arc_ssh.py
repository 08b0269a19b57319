"""The ARC series over real SSH: the host's `cat` serves a real arcstats capture for the kstat
path and is the real `cat` for everything else (the capability probe reads /proc with it too)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import RunStatus
from devices.models import Device
from tests.conftest import device_for
from tests.samples import sample
from tests.zfs.test_arc_store import ARCSTATS, counters
from zfs.models import ArcSample

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

CAT_SHIM = r"""#!/bin/sh
if [ "$1" = /proc/spl/kstat/zfs/arcstats ]; then exec /bin/cat __DATA__/arcstats; fi
exec /bin/cat "$@"
"""
# Enough of `zpool` for the capability probe (`zpool list -H -o name`).
ZPOOL_SHIM = "#!/bin/sh\necho dummy\n"


@pytest.fixture
def kstat_dir() -> Iterator[Path]:
    data = Path(tempfile.mkdtemp(prefix="infra-arc-"))
    os.chmod(data, 0o755)  # noqa: S103  (the unprivileged test user reads it)
    yield data
    shutil.rmtree(data, ignore_errors=True)


def serve(data: Path, text: str) -> None:
    (data / "arcstats").write_text(text)
    (data / "arcstats").chmod(0o644)


@pytest.fixture
def arc_device(kstat_dir: Path, sshd_factory, client_key: Path) -> Device:
    serve(kstat_dir, sample(ARCSTATS))
    cat = CAT_SHIM.replace("__DATA__", str(kstat_dir))
    host = sshd_factory(shims={"cat": cat, "zpool": ZPOOL_SHIM})
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    device.refresh_from_db()
    assert device.has_capability("zpool")
    return device


def poll(device: Device) -> None:
    run = collect(device, ["arcstats"], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results


def test_each_poll_adds_an_arc_sample_with_the_ratio_since_the_last_one(
    kstat_dir: Path, arc_device: Device, viewer_client: APIClient
) -> None:
    # given
    poll(arc_device)
    # when the host served 900 more hits and 100 more misses
    serve(kstat_dir, counters(sample(ARCSTATS), hits=8773512, misses=604735))
    poll(arc_device)
    # then
    first, second = ArcSample.objects.filter(device=arc_device).order_by("collected_at")
    assert first.size_bytes == 1603939792 and first.max_bytes == 8367976448
    assert first.hit_ratio_pct == pytest.approx(93.5, abs=0.1)  # since boot
    assert second.hit_ratio_pct == pytest.approx(90.0)
    body = viewer_client.get("/api/zfs/arc/", {"device": arc_device.pk}).json()
    assert body["count"] == 2
    newest = body["results"][0]
    assert newest["hit_ratio_pct"] == pytest.approx(90.0) and newest["hits"] == 8773512
    assert newest["device_name"] == arc_device.name


def test_the_arc_list_filters_by_device_and_time(
    arc_device: Device, viewer_client: APIClient
) -> None:
    # given
    poll(arc_device)
    poll(arc_device)
    first, second = ArcSample.objects.filter(device=arc_device).order_by("collected_at")
    # when / then
    since = {"device": str(arc_device.pk), "since": second.collected_at.isoformat()}
    assert viewer_client.get("/api/zfs/arc/", since).json()["count"] == 1
    until = {"until": first.collected_at.isoformat()}
    assert viewer_client.get("/api/zfs/arc/", until).json()["count"] == 1
    assert viewer_client.get("/api/zfs/arc/", {"since": "1h"}).json()["count"] == 2
    assert viewer_client.get("/api/zfs/arc/", {"device": arc_device.pk + 1}).status_code == 400
    assert viewer_client.get("/api/zfs/arc/", {"since": "yesterday"}).status_code == 400
