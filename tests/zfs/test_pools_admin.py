"""A pool's admin page, after real polls over SSH of a host whose `zpool` prints real captures."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from collectors.engine import collect
from tests.conftest import device_for
from tests.zfs.test_pools_ssh import ZpoolHost, listing, poll, zse
from zfs.models import Pool

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def zpool() -> Iterator[ZpoolHost]:
    host = ZpoolHost()
    yield host
    shutil.rmtree(host.data, ignore_errors=True)


@pytest.fixture
def degraded_pool(zpool: ZpoolHost, sshd_factory, client_key: Path) -> Pool:
    """A pool polled healthy, then with loop3 of mirror-1 unreadable (`corrupted data`)."""
    host = sshd_factory(shims={"zpool": zpool.shim})
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    zpool.set(status=zse("resilvered"), listing=listing("dummy", 42))
    poll(device)
    zpool.set(status=zse("degraded_corrupted_data"), listing=listing("dummy", 43))
    poll(device)
    return Pool.objects.get(device=device, name="dummy")


def cells(html: str, row_start: str) -> list[str]:
    """The text of each cell of the table row whose first cell is `row_start`."""
    match = re.search(rf"<tr><td[^>]*>{re.escape(row_start)}</td>(.*?)</tr>", html)
    assert match is not None, f"no row for {row_start!r}"
    return re.findall(r"<td[^>]*>(?:<span[^>]*>)?([^<]*)", match.group(1))


def test_the_pool_page_shows_the_vdev_tree_the_last_scan_and_recent_history(
    admin_client: Client, degraded_pool: Pool
) -> None:
    # when
    page = admin_client.get(f"/admin/zfs/pool/{degraded_pool.pk}/change/")
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "Vdev tree" in html
    # the tree, indented as zpool prints it, with state, counters and the note
    assert cells(html, "loop3") == ["UNAVAIL", "0", "0", "0", "corrupted data"]
    assert cells(html, "mirror-1") == ["DEGRADED", "0", "0", "0", ""]
    assert re.search(r'padding-left:3\.5em">loop3<', html)
    assert re.search(r'padding-left:2\.0em">mirror-1<', html)
    assert html.index(">mirror-0<") < html.index(">loop1<") < html.index(">mirror-1<")
    assert re.search(r'<td style="color:#ba2121;font-weight:bold">corrupted data</td>', html)
    # the last scan, read from the scan line
    assert "scrub finished at 2024-02-10T20:34:42 (host time)" in html
    # and both polls in the history, newest first
    assert re.search(r"<td>DEGRADED</td><td>43 %</td>.*<td>ONLINE</td><td>42 %</td>", html)


def test_error_counters_are_flagged_and_vanished_vdevs_listed(
    admin_client: Client, zpool: ZpoolHost, degraded_pool: Pool
) -> None:
    # given the pool rebuilt on two other disks, one with 2 read errors (hand-edited counter)
    rebuilt = zse("degraded_removed")
    erroring = rebuilt.replace("drive1-part1  ONLINE       0", "drive1-part1  ONLINE       2")
    assert erroring != rebuilt
    zpool.set(status=erroring, listing=listing("dummy", 43))
    poll(degraded_pool.device)
    # when
    html = admin_client.get(f"/admin/zfs/pool/{degraded_pool.pk}/change/").content.decode()
    # then
    assert cells(html, "drive1-part1") == ["ONLINE", "2", "0", "0", ""]
    assert '<td style="color:#ba2121;font-weight:bold">2</td>' in html
    assert ">loop3<" not in html
    assert re.search(r"No longer in the pool: mirror-0/loop0 \(since [0-9-]+ [0-9:]+\), ", html)
    assert "mirror-1/loop3 (since" in html


def test_the_vdev_and_arc_lists_render(admin_client: Client, degraded_pool: Pool) -> None:
    page = admin_client.get("/admin/zfs/vdev/", {"state__exact": "UNAVAIL"})
    assert page.status_code == 200
    assert "mirror-1/loop3" in page.content.decode()
    assert "mirror-0/loop0" not in page.content.decode()
    assert admin_client.get("/admin/zfs/arcsample/").status_code == 200
