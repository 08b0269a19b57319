"""`manage.py history_stats` measures every table and tier."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from devices.history.families import SYSTEM
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
