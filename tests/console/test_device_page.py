"""The device page: latest values, charts for a chosen range at the resolution the history layer
picks, what runs on the device and its timeline."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from collectors.models import EventKind, Severity
from devices.history.rollup import roll_up_all
from devices.models import Device, SystemSample
from tests.console.conftest import console_url, event, found, make_device, samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(db: None) -> Device:
    """A device polled every 30 s for the last hour."""
    device = make_device("busy-box")
    samples(device, 120, every=dt.timedelta(seconds=30), end=timezone.now())
    return device


def charts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<svg class="console-chart" id="chart-(\w+)"(.*?)</svg>', html, re.S))


@pytest.mark.parametrize("range_", ["1h", "24h", "7d", "30d"])
def test_every_range_draws_every_chart_as_labelled_svg(
    admin_client: Client, busy: Device, range_: str
) -> None:
    # when
    response = admin_client.get(f"{console_url(busy)}?range={range_}")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    drawn = charts(html)
    assert set(drawn) == {"cpu", "memory", "load", "network", "disk", "filesystems"}
    for svg in drawn.values():
        assert 'role="img"' in svg and "<title>" in svg
        # an hour of data is a line in an hour's chart, a dot or two in a month's
        assert "<polyline" in svg if range_ == "1h" else ("<polyline" in svg or "<circle" in svg)
    cpu_label = found(r'aria-label="([^"]+)"', drawn["cpu"])
    assert cpu_label.startswith("CPU busy (")
    assert "average" in cpu_label and "maximum 59.0 %" in cpu_label
    # loopback traffic (9 GB/s) stays out of the network chart
    assert "GiB/s" not in found(r'aria-label="([^"]+)"', drawn["network"])
    assert f'href="?range={range_}" aria-current="page"' in html


def test_the_charts_alone_are_served_for_the_live_refresh(
    admin_client: Client, busy: Device
) -> None:
    # given the page names where its charts are redrawn from
    page = admin_client.get(f"{console_url(busy)}?range=24h").content.decode()
    assert 'data-live-charts="?range=24h&amp;fragment=charts"' in page
    # when console.js fetches that fragment
    response = admin_client.get(f"{console_url(busy)}?range=24h&fragment=charts")
    # then it is the six charts and nothing else of the page
    assert response.status_code == 200
    fragment = response.content.decode()
    assert set(charts(fragment)) == set(charts(page))
    assert len(charts(fragment)) == 6
    assert "<html" not in fragment and "Latest values" not in fragment


def test_the_page_says_which_resolution_it_used(admin_client: Client, busy: Device) -> None:
    hour = admin_client.get(f"{console_url(busy)}?range=1h").content.decode()
    assert 'id="chart-resolution">raw samples<' in hour
    month = admin_client.get(f"{console_url(busy)}?range=30d").content.decode()
    assert re.search(r'id="chart-resolution">3h averages from the 1h rollup tier<', month)


def test_a_month_of_history_is_read_from_a_rollup_tier(admin_client: Client) -> None:
    # given 30 days of samples every 10 minutes, rolled up
    device = make_device("old-box")
    now = timezone.now()
    SystemSample.objects.bulk_create(
        SystemSample(device=device, collected_at=now - dt.timedelta(minutes=10 * n),
                     cpu_pct=float(n % 100), mem_used_pct=50.0, load_1=1.0)
        for n in range(30 * 144)
    )  # fmt: skip
    roll_up_all(now=now)
    # when
    html = admin_client.get(f"{console_url(device)}?range=30d").content.decode()
    # then
    assert re.search(r'id="chart-resolution">\d+h averages from the 1h rollup tier<', html)
    assert "<polyline" in charts(html)["cpu"]


def test_latest_values_are_shown_and_marked_for_live_updates(
    admin_client: Client, busy: Device
) -> None:
    html = admin_client.get(console_url(busy)).content.decode()
    latest = html[html.index('id="latest-values"') :]
    assert re.search(r'data-metric="cpu_pct" data-format="pct">\d+\.\d %<', latest)
    assert 'data-metric="mem_total_bytes" data-format="bytes">8.0 GiB<' in latest
    assert 'data-metric="load_1"' in latest
    assert ">eth0<" in html and ">sda<" in html and "42.0 %" in html
    assert f'data-topics="device:{busy.pk} metrics:{busy.pk}"' in html


def test_a_device_without_data_says_so_instead_of_drawing(admin_client: Client) -> None:
    device = make_device("new-box")
    for range_ in ("1h", "30d"):
        response = admin_client.get(f"{console_url(device)}?range={range_}")
        assert response.status_code == 200
        html = response.content.decode()
        assert "No data yet: the device has not been collected." in html
        assert html.count("No data in this range.") == 6
        assert "<polyline" not in html


def test_an_unknown_range_falls_back_to_the_last_hour(admin_client: Client, busy: Device) -> None:
    html = admin_client.get(f"{console_url(busy)}?range=forever").content.decode()
    assert 'href="?range=1h" aria-current="page"' in html


def test_the_page_lists_what_runs_on_the_device_and_its_timeline(
    admin_client: Client, fleet: dict[str, Any]
) -> None:
    nas = fleet["nas"]
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n"
    event(nas, "config.changed", Severity.INFO, kind=EventKind.CONFIG,
          summary="config file /srv/a.yml changed (+1 \u22121 lines)",
          data={"diff": diff, "config_file": None})  # fmt: skip
    html = admin_client.get(console_url(nas)).content.decode()
    assert ">web<" in html and ">db<" in html  # containers
    assert ">tank<" in html and ">fast<" in html  # pools
    assert "/dev/sdb" in html and "/dev/sdc" in html  # drives
    timeline = html[html.index('id="timeline"') :]
    assert "container web stopped" in timeline and "gone-box" not in timeline
    assert '<span class="diff-add">+new</span>' in timeline
    assert f'data-device="{nas.pk}"' in timeline


def test_the_device_change_page_links_to_the_console(admin_client: Client, busy: Device) -> None:
    html = admin_client.get(f"/admin/devices/device/{busy.pk}/change/").content.decode()
    assert f'href="{console_url(busy)}">Console</a>' in html


def test_an_unknown_device_is_a_404(admin_client: Client) -> None:
    assert admin_client.get("/admin/devices/device/999999/console/").status_code == 404


def test_staff_without_the_view_permission_are_refused(
    bare_staff_client: Client, busy: Device
) -> None:
    assert bare_staff_client.get(console_url(busy)).status_code == 403


def test_the_device_page_reads_a_bounded_number_of_queries(
    admin_client: Client, fleet: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    nas = fleet["nas"]
    samples(nas, 120, every=dt.timedelta(seconds=30), end=timezone.now())
    admin_client.get(console_url(nas))
    with django_assert_max_num_queries(30):
        admin_client.get(console_url(nas))
