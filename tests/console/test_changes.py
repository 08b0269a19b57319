"""'What changed?': the fleet's timeline with filters, pages and config diffs inline."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from collectors.models import EventKind, Severity
from tests.console.conftest import event, make_device

pytestmark = pytest.mark.django_db

URL = "/admin/changes/"
DIFF = (
    "--- /srv/stack/compose.yaml\n+++ /srv/stack/compose.yaml\n@@ -1,2 +1,2 @@\n"
    " services:\n-  restart: always\n+  restart: unless-stopped\n"
)


def shown(html: str) -> list[str]:
    """Summaries of the events listed, in order."""
    table = html[html.index('id="changes-events"') : html.index("</table>", html.index(
        'id="changes-events"'))]  # fmt: skip
    return [s.strip() for s in re.findall(r"<td>([^<]+?)(?:<details|</td>)", table)]


@pytest.fixture
def changes(fleet: dict[str, Any]) -> dict[str, Any]:
    event(fleet["nas"], "config.changed", Severity.INFO, kind=EventKind.CONFIG,
          summary="config file /srv/stack/compose.yaml changed (+1 \u22121 lines)",
          data={"diff": DIFF, "diff_summary": "+1 \u22121 lines", "config_file": None},
          ago=dt.timedelta(minutes=1))  # fmt: skip
    return fleet


def test_the_timeline_lists_every_event_newest_first(admin_client: Client, changes: Any) -> None:
    response = admin_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert shown(html)[:2] == [
        "config file /srv/stack/compose.yaml changed (+1 \u22121 lines)",
        "nas-box: container web stopped (exit code 137)",
    ]
    assert "an old warning" in html  # 30 hours ago is within the default 7 days
    assert "5 events" in html


def test_config_changes_carry_their_diff_inline(admin_client: Client, changes: Any) -> None:
    html = admin_client.get(URL).content.decode()
    assert "<summary>Diff (+1 \u22121 lines)</summary>" in html
    assert '<span class="diff-del">-  restart: always</span>' in html
    assert '<span class="diff-add">+  restart: unless-stopped</span>' in html


def test_filters_narrow_by_device_kind_severity_and_time(
    admin_client: Client, changes: dict[str, Any]
) -> None:
    gone, nas = changes["gone"].pk, changes["nas"].pk
    assert shown(admin_client.get(f"{URL}?device={gone}").content.decode()) == [
        "gone-box is offline", "an old warning"]  # fmt: skip
    assert shown(admin_client.get(f"{URL}?device={nas}&kind=config").content.decode()) == [
        "config file /srv/stack/compose.yaml changed (+1 \u22121 lines)"]  # fmt: skip
    assert shown(admin_client.get(f"{URL}?severity=warning").content.decode()) == [
        "nas-box: container web stopped (exit code 137)", "gone-box is offline",
        "an old warning"]  # fmt: skip
    assert "an old warning" not in shown(admin_client.get(f"{URL}?since=24h").content.decode())
    assert "No events match these filters." in admin_client.get(
        f"{URL}?severity=critical&kind=config").content.decode()  # fmt: skip


def test_a_wrong_filter_value_is_ignored_not_refused(admin_client: Client, changes: Any) -> None:
    response = admin_client.get(f"{URL}?device=nope&kind=critical&severity=warning")
    assert response.status_code == 200
    assert len(shown(response.content.decode())) == 3


def test_the_filter_fields_have_labels(admin_client: Client, changes: Any) -> None:
    html = admin_client.get(URL).content.decode()
    for name in ("device", "kind", "severity", "since"):
        assert f'<label for="filter-{name}">' in html
        assert f'id="filter-{name}"' in html


def test_the_timeline_is_paginated_and_only_its_first_page_is_live(admin_client: Client) -> None:
    device = make_device("chatty")
    for n in range(120):
        event(device, "port.opened", summary=f"port {n} opened", ago=dt.timedelta(minutes=n))
    first = admin_client.get(URL).content.decode()
    assert shown(first)[0] == "port 0 opened" and len(shown(first)) == 50
    assert "page 1 of 3" in first and 'data-console-stream="/ws/stream"' in first
    assert 'href="?since=7d&amp;page=2"' in first
    third = admin_client.get(f"{URL}?page=3").content.decode()
    assert shown(third)[-1] == "port 119 opened" and len(shown(third)) == 20
    assert "data-console-stream" not in third


def test_a_device_filter_subscribes_to_that_device_only(
    admin_client: Client, changes: dict[str, Any]
) -> None:
    nas = changes["nas"].pk
    html = admin_client.get(f"{URL}?device={nas}&kind=config&severity=info").content.decode()
    assert f'data-topics="device:{nas}"' in html
    assert f'data-min-severity="info" data-device="{nas}" data-kind="config"' in html


def test_staff_without_the_event_permission_are_refused(bare_staff_client: Client) -> None:
    assert bare_staff_client.get(URL).status_code == 403


def test_the_page_reads_a_bounded_number_of_queries(
    admin_client: Client, changes: Any, django_assert_max_num_queries: Any
) -> None:
    admin_client.get(URL)
    with django_assert_max_num_queries(10):
        admin_client.get(URL)
