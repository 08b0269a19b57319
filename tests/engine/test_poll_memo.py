"""What one collection reads twice from the database (SWAG instances, watched files' defaults)
is read once inside it, and every time outside one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collectors.store import memoized, poll_memo
from devices.configs import default_patterns
from devices.models import Device
from proxies.discovery import find_sources


def test_outside_a_collection_nothing_is_kept() -> None:
    calls: list[int] = []
    for _ in range(3):
        memoized("x", 1, lambda: calls.append(1))
    assert len(calls) == 3


def test_inside_a_collection_each_value_is_computed_once_per_name_and_device() -> None:
    calls: list[tuple[str, int]] = []

    def compute(name: str, device: int) -> str:
        calls.append((name, device))
        return f"{name}@{device}"

    with poll_memo():
        for _ in range(3):
            assert memoized("a", 1, lambda: compute("a", 1)) == "a@1"
            assert memoized("a", 2, lambda: compute("a", 2)) == "a@2"
            assert memoized("b", 1, lambda: compute("b", 1)) == "b@1"
    assert calls == [("a", 1), ("a", 2), ("b", 1)]
    with poll_memo():  # the next collection reads afresh
        memoized("a", 1, lambda: compute("a", 1))
    assert len(calls) == 4


@pytest.mark.django_db
def test_a_collection_reads_swag_instances_and_config_defaults_once() -> None:
    device = Device.objects.create(name="nas", address="127.0.0.1")
    with poll_memo():
        first = default_patterns(device)
        find_sources(device)
        with CaptureQueriesContext(connection) as queries:
            assert default_patterns(device) is first
            find_sources(device)
        assert queries.captured_queries == []
    with CaptureQueriesContext(connection) as outside:
        find_sources(device)
    assert outside.captured_queries
