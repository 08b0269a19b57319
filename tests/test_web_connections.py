"""The web process reuses its PostgreSQL and Redis connections across requests.

Under daphne each request runs in a thread of its own. With connections kept per thread every
request opened a PostgreSQL backend (and a Redis connection for the rate limiter) and left it
behind; the pool (settings DB_POOL_*) and the shared cache client make them per process.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from infrastructor.models import ApiToken, Scope
from tests.harness.daphne import running_daphne

REQUESTS = 40


def _backends_started_since(since: dt.datetime) -> int:
    """PostgreSQL backends on this test database opened after `since`, ours excluded."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_start >= %s AND pid <> pg_backend_pid()",
            [since],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_requests_through_daphne_share_a_few_pooled_connections(
    django_user_model: Any, tmp_path: Path
) -> None:
    user = django_user_model.objects.create_user("pool", password="x")
    _, token = ApiToken.issue(user=user, name="pool", scope=Scope.READ)
    with running_daphne("pooltest", tmp_path / "web.log") as web:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx2.Client(base_url=web.http, headers=headers, timeout=30) as client:
            client.get("/api/devices/").raise_for_status()  # the pool opens
            started = timezone.now()
            for _ in range(REQUESTS):
                client.get("/api/devices/").raise_for_status()

            def fetch(_: int) -> int:
                return client.get("/api/devices/").status_code

            with ThreadPoolExecutor(8) as pool:  # concurrent requests, many daphne threads
                assert set(pool.map(fetch, range(REQUESTS))) == {200}
        opened = _backends_started_since(started)
    # One backend per request before the pool (80 here); now at most what 8 concurrent requests
    # hold at once, usually none at all.
    assert opened <= 8, f"{opened} new PostgreSQL backends for {2 * REQUESTS} requests"


def test_threads_share_one_redis_client() -> None:
    found: list[object] = []

    def client_of_this_thread() -> None:
        found.append(caches["default"]._cache)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=client_of_this_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client_of_this_thread()
    assert len(found) == 5
    assert len({id(client) for client in found}) == 1
