"""Edges schemathesis found: they stay fixed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/events/?since=2486-10-18T00:30:03.2235-19:03",  # Python accepts it, PostgreSQL not
        "/api/collection-runs/?started_before=2026-01-01T00:00:00%2B23:59",
        "/api/zfs/snapshots/?created_after=0001-01-01T00:00:00%2B01:00",  # before year 1 in UTC
        "/api/devices/1/metrics/?since=9999-12-31T23:59:59-23:00",
        "/api/drives/1/history/?since=99999999999999999999d",
    ],
)
def test_odd_times_are_answers_not_server_errors(url: str, viewer_client: APIClient) -> None:
    response = viewer_client.get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)


def test_an_api_url_that_matches_no_route_is_a_json_404(viewer_client: APIClient) -> None:
    response = viewer_client.get("/api/devices/0.5/latest/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
