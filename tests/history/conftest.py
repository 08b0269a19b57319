"""Shared helpers of the history tests: devices, raw series, and rollups computed in Python."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest

from devices.history.families import SYSTEM
from devices.history.rollup import floor_time
from devices.models import AuthMethod, Device, SystemSample, Transport

# A Monday, midnight UTC: every tier's buckets start on it.
T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@pytest.fixture
def devices(db: None) -> list[Device]:
    return [
        Device.objects.create(
            name=f"box-{n}",
            address="localhost",
            transport=Transport.LOCAL,
            auth_method=AuthMethod.AGENT,
        )
        for n in range(2)
    ]


def sample(device: Device, when: dt.datetime, n: int) -> SystemSample:
    """A sample whose values vary with `n` (some of them null now and then)."""
    return SystemSample(
        device=device, collected_at=when, cpu_pct=None if n % 7 == 3 else (n * 7.3) % 100,
        cpu_user_pct=(n * 3.1) % 50,
        mem_used_bytes=1_000_000 + (n * 7919) % 50_000, mem_total_bytes=2_000_000 + n % 3,
        load_1=None if n % 5 == 0 else n % 11 / 4, procs_running=n % 9, uptime_s=1000.0 + n,
    )  # fmt: skip


def expected_rollups(
    rows: Iterable[SystemSample], resolution_s: int
) -> dict[tuple[int, dt.datetime], dict[str, Any]]:
    """The rollup of every (device, bucket), computed in Python from the raw rows."""
    buckets: dict[tuple[int, dt.datetime], list[SystemSample]] = defaultdict(list)
    for row in rows:
        buckets[(row.device_id, floor_time(row.collected_at, resolution_s))].append(row)
    expected = {}
    for key, members in buckets.items():
        members.sort(key=lambda r: r.collected_at)
        values: dict[str, Any] = {"samples": len(members)}
        for g in SYSTEM.gauges:
            present = [getattr(r, g) for r in members if getattr(r, g) is not None]
            values |= {
                f"{g}_min": min(present) if present else None,
                f"{g}_avg": sum(present) / len(present) if present else None,
                f"{g}_max": max(present) if present else None,
            }
        for name in SYSTEM.lasts:
            present = [getattr(r, name) for r in members if getattr(r, name) is not None]
            values[f"{name}_last"] = present[-1] if present else None
        expected[key] = values
    return expected


def stored_rollups(resolution_s: int) -> dict[tuple[int, dt.datetime], dict[str, Any]]:
    columns = ["samples", *SYSTEM.aggregate_columns()]
    return {
        (r["device_id"], r["bucket_start"]): {c: r[c] for c in columns}
        for r in SYSTEM.rollup._default_manager.filter(resolution_s=resolution_s).values(
            "device_id", "bucket_start", *columns
        )
    }


def assert_same(
    stored: dict[tuple[int, dt.datetime], dict[str, Any]],
    expected: dict[tuple[int, dt.datetime], dict[str, Any]],
) -> None:
    assert stored.keys() == expected.keys()
    for key, values in expected.items():
        for column, want in values.items():
            got = stored[key][column]
            if isinstance(want, float) and got is not None:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (key, column)
            else:
                assert got == want, (key, column)
