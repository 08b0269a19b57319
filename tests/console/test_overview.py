"""The admin index is the fleet overview: what is wrong, on which device, since when."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.console.conftest import found, make_device, samples

pytestmark = pytest.mark.django_db


def section(html: str, heading_id: str) -> str:
    """The HTML from a heading to the next heading of the same or a higher level."""
    start = html.index(f'id="{heading_id}"')
    following = re.search(r"<h[23] ", html[start + 1 :])
    return html[start : start + 1 + following.start()] if following else html[start:]


def test_the_overview_counts_devices_by_status_and_marks_the_stale_ones(
    admin_client: Client, fleet: dict[str, Any]
) -> None:
    # when
    response = admin_client.get("/admin/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    counts = section(html, "fleet-heading")
    assert re.search(r'data-status-count="online">2<', counts)
    assert re.search(r'data-status-count="offline">1<', counts)
    assert "1</span> Stale" in counts
    rows = {
        name: found(rf"<tr data-device-row=\"{d.pk}\">(.*?)</tr>", html)
        for name, d in fleet.items()
    }
    assert "Stale" in rows["gone"] and "Offline" in rows["gone"]
    assert "Stale" not in rows["fine"]
    assert f"/admin/devices/device/{fleet['nas'].pk}/console/" in rows["nas"]


def test_the_overview_lists_what_needs_attention(
    admin_client: Client, fleet: dict[str, Any]
) -> None:
    html = admin_client.get("/admin/").content.decode()
    alerts = section(html, "alerts-heading")
    assert "gone-box is offline" in alerts
    pools = section(html, "pools-heading")
    assert "tank" in pools and "DEGRADED" in pools and ">fast<" not in pools
    drives = section(html, "drives-heading")
    assert "WD Red" in drives and "Failed" in drives and "WD Blue" not in drives
    containers = section(html, "containers-heading")
    # web stopped after running; migrate-once never ran while watched; db runs
    assert ">web<" in containers and "migrate-once" not in containers and ">db<" not in containers


def test_the_overview_shows_warnings_and_critical_events_of_the_last_day_only(
    admin_client: Client, fleet: dict[str, Any]
) -> None:
    html = admin_client.get("/admin/").content.decode()
    events = section(html, "events-heading")
    assert "gone-box is offline" in events
    assert "container web stopped" in events
    assert "fine-box is online" not in events  # info
    assert "an old warning" not in events  # 30 hours ago
    assert 'data-min-severity="warning"' in events
    assert "2 in the last 24 hours" in events


def test_the_app_list_stays_below_the_overview(admin_client: Client, fleet: dict[str, Any]) -> None:
    html = admin_client.get("/admin/").content.decode()
    assert html.index('id="events-heading"') < html.index('class="app-devices module')
    assert "/admin/devices/device/" in html


def test_the_overview_loads_the_live_script_and_says_it_is_off_without_it(
    admin_client: Client, fleet: dict[str, Any]
) -> None:
    html = admin_client.get("/admin/").content.decode()
    assert 'src="/static/infrastructor/console.js"' in html
    assert 'data-console-stream="/ws/stream" data-topics="fleet events"' in html
    assert "Live updates are off (they need JavaScript)" in html
    assert 'id="console-status-labels"' in html


def test_the_overview_reads_a_bounded_number_of_queries_however_many_devices(
    admin_client: Client, fleet: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    # given a fleet ten times larger, every device with data and events
    now = timezone.now()
    for n in range(30):
        device = make_device(f"extra-{n}", last_seen_at=now - dt.timedelta(minutes=n))
        samples(device, 2, every=dt.timedelta(seconds=30), end=now)
    admin_client.get("/admin/")  # warm the session and content types
    # when / then: the same handful of queries as for three devices
    with django_assert_max_num_queries(16):
        response = admin_client.get("/admin/")
    assert response.content.decode().count("data-device-row=") == 33


def test_staff_without_permissions_get_the_app_list_without_the_overview(
    bare_staff_client: Client, fleet: dict[str, Any]
) -> None:
    response = bare_staff_client.get("/admin/")
    assert response.status_code == 200
    assert b"fleet-heading" not in response.content
    assert b"console.js" not in response.content


def test_a_viewer_of_devices_and_events_sees_the_overview(
    device_viewer_client: Client, fleet: dict[str, Any]
) -> None:
    response = device_viewer_client.get("/admin/")
    assert b"fleet-heading" in response.content


@pytest.mark.parametrize("path", ["/admin/", "/admin/changes/", "/admin/devices/device/1/console/"])
def test_people_who_are_not_staff_are_sent_to_the_login_page(
    plain_client: Client, client: Client, path: str
) -> None:
    for someone in (plain_client, client):
        response = someone.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")
