"""`manage.py history_stats` measures every table and tier of every family; the authenticated
health API shows the same figures."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from devices.history.families import FAMILIES, SYSTEM
from devices.history.rollup import GRACE, roll_up
from devices.models import Device, SystemSample
from tests.history.conftest import T0, sample


def _run(*args: str) -> str:
    out = StringIO()
    call_command("history_stats", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_history_stats_counts_rows_bytes_and_ages_per_table_and_tier(
    devices: list[Device],
) -> None:
    # given 3 hours of 30 s samples of one device, rolled up
    rows = [sample(devices[0], T0 + dt.timedelta(seconds=30 * i), i) for i in range(360)]
    SystemSample.objects.bulk_create(rows)
    for r in (300, 3600):
        roll_up(SYSTEM, r, now=T0 + dt.timedelta(hours=3) + GRACE)
    # when
    table = _run()
    figures = {(s["table"], s["tier"]): s for s in json.loads(_run("--json"))}
    # then
    raw = figures[("devices_systemsample", "raw")]
    five = figures[("devices_systemrollup", "5m")]
    hour = figures[("devices_systemrollup", "1h")]
    assert (raw["rows"], five["rows"], hour["rows"]) == (360, 36, 3)
    assert raw["oldest"] == T0.isoformat()
    assert raw["newest"] == (T0 + dt.timedelta(seconds=30 * 359)).isoformat()
    assert five["newest"] == (T0 + dt.timedelta(minutes=175)).isoformat()
    assert raw["bytes"] > 0 and five["bytes"] > hour["bytes"] > 0
    assert raw["bytes_per_value"] == round(raw["bytes"] / (360 * raw["values_per_row"]), 2)
    assert raw["values_per_row"] == 18 and five["values_per_row"] == 47
    assert figures[("devices_filesystemsample", "raw")]["rows"] == 0
    assert figures[("devices_filesystemsample", "raw")]["bytes_per_value"] is None
    lines = table.splitlines()
    assert lines[0].split() == ["table", "tier", "rows", "bytes", "bytes/value", "oldest", "newest"]
    assert any(line.split()[:3] == ["devices_systemrollup", "5m", "36"] for line in lines)


@pytest.mark.django_db
def test_every_family_is_measured_raw_and_per_tier(devices: list[Device]) -> None:
    # when
    figures = {(s["table"], s["tier"]) for s in json.loads(_run("--json"))}
    # then
    for family in FAMILIES:
        assert (family.raw_table, "raw") in figures
        assert {(family.rollup_table, "5m"), (family.rollup_table, "1h")} <= figures
    assert len(figures) == 3 * len(FAMILIES)


@pytest.mark.django_db
def test_the_same_figures_are_on_the_authenticated_health_api(
    viewer_client: APIClient, outsider_client: APIClient, devices: list[Device]
) -> None:
    # given an hour of rows of one family
    SystemSample.objects.bulk_create(
        [sample(devices[0], T0 + dt.timedelta(seconds=30 * i), i) for i in range(120)]
    )
    # when
    answer = viewer_client.get("/api/health/history/")
    refused = outsider_client.get("/api/health/history/")
    # then
    assert answer.status_code == 200 and refused.status_code in (401, 403)
    body = answer.json()
    by_table = {(t["table"], t["tier"]): t for t in body["tables"]}
    command = {(s["table"], s["tier"]): s for s in json.loads(_run("--json"))}
    assert by_table.keys() == command.keys()
    assert {k: v["rows"] for k, v in by_table.items()} == {k: v["rows"] for k, v in command.items()}
    assert by_table[("devices_systemsample", "raw")]["rows"] == 120
    assert body["totals"]["rows"] == 120 and body["totals"]["bytes"] > 0


@pytest.mark.django_db
def test_system_samples_keep_one_index_on_device_and_time() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'devices_systemsample'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"devices_systemsample_pkey", "sys_one_per_poll"}
