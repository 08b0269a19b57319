"""`GET /health` against the real database, Redis and Celery workers."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from collectors.tasks import BEAT_TICK_CACHE_KEY, dispatch_group
from devices.models import Device
from tests.conftest import REPO, WorkerProcess

pytestmark = pytest.mark.django_db

# A Redis database no worker listens on: Celery's Redis transport prefixes broadcasts (the ping)
# with the database number, so workers of a platform on this machine (db 0) never answer there.
EMPTY_BROKER = "redis://127.0.0.1:6379/13"


@pytest.fixture(autouse=True)
def own_cache(settings: Any) -> Iterator[None]:
    """A cache key prefix of our own: a platform's beat on this Redis writes the same tick key."""
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"}
    }
    yield
    cache.delete(BEAT_TICK_CACHE_KEY)


@pytest.fixture
def beat_tick() -> None:
    """Beat's last tick, recorded the way beat's task records it."""
    dispatch_group("no-such-group")  # records the tick, enqueues nothing


def health_in_subprocess(**env: str) -> tuple[int, dict[str, Any]]:
    """`GET /health` served by another process configured by environment, as a deployment is."""
    db = connection.settings_dict
    script = (
        "import django, json; django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.test import Client\n"
        "r = Client().get('/health')\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n"
    )
    base = {
        "DJANGO_SETTINGS_MODULE": "infrastructor.settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "LOG_DIR": "",
        "LOG_LEVEL": "CRITICAL",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=os.environ | base | env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["status"], answer["body"]


def test_health_needs_no_authentication(outsider_client: Any) -> None:
    # when
    response = outsider_client.get("/health")
    # then
    assert response.status_code in (200, 503)
    body = response.json()
    assert set(body["checks"]) == {"database", "redis", "workers", "beat", "devices"}
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}


def test_health_refuses_anything_but_get(client: Client) -> None:
    assert client.post("/health").status_code == 405


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_everything_ok_is_200_with_a_worker_and_a_recent_beat_tick(
    celery_worker: WorkerProcess, beat_tick: None, client: Client
) -> None:
    # when
    response = client.get("/health")
    # then
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert all(check["ok"] for check in body["checks"].values()), body
    assert body["checks"]["workers"]["workers"]  # named, not just counted
    last_tick = dt.datetime.fromisoformat(body["checks"]["beat"]["last_tick"])
    assert timezone.now() - last_tick < dt.timedelta(minutes=1)
    assert body["checks"]["devices"] == {"ok": True, "monitored": 0, "stale": 0}


@pytest.mark.integration
def test_no_worker_answering_is_503_with_workers_not_ok() -> None:
    # when: a process whose broker no worker listens on
    status, body = health_in_subprocess(CELERY_BROKER_URL=EMPTY_BROKER)
    # then
    assert status == 503
    assert body["status"] == "degraded"
    assert body["checks"]["workers"] == {"ok": False, "workers": []}
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


def test_a_beat_that_has_not_ticked_for_long_is_not_ok(client: Client, settings: Any) -> None:
    # given
    settings.SYSTEM_METRICS_INTERVAL = 30
    old = timezone.now() - dt.timedelta(seconds=121)
    cache.set(BEAT_TICK_CACHE_KEY, old.isoformat(), timeout=None)
    # when
    response = client.get("/health")
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"ok": False, "last_tick": old.isoformat()}


def test_a_beat_that_never_ticked_is_not_ok(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"ok": False, "last_tick": None}


def test_a_monitored_device_never_seen_is_counted_stale(client: Client, settings: Any) -> None:
    # given
    settings.STALE_AFTER_SECONDS = 600
    now = timezone.now()
    Device.objects.create(name="never-seen", address="10.0.0.1")
    Device.objects.create(name="seen-long-ago", address="10.0.0.2",
                          last_seen_at=now - dt.timedelta(seconds=601))  # fmt: skip
    Device.objects.create(name="fresh", address="10.0.0.3", last_seen_at=now)
    Device.objects.create(name="switched-off", address="10.0.0.4", enabled=False)
    # when
    response = client.get("/health")
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["devices"] == {"ok": False, "monitored": 3, "stale": 2}


def test_a_database_that_cannot_be_reached_is_reported() -> None:
    # when: a process whose database is nowhere
    status, body = health_in_subprocess(DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    # then
    assert status == 503
    database = body["checks"]["database"]
    assert database["ok"] is False
    assert database["error"].startswith("OperationalError")
    assert "devices" not in body["checks"]  # not counted without a database
    assert body["checks"]["redis"]["ok"] is True
