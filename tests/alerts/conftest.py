"""Alerting test kit: a real local HTTP receiver, the notification queue read from Redis, and a
small cast (a device, a rule, channels)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings

from collectors.alerts.models import AlertRule, Channel, ChannelKind
from collectors.models import EventKind, Severity
from devices.models import Device
from tests.conftest import WorkerProcess


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every POST and answers `statuses` in turn
    (the last one repeats): a webhook target and an ntfy-compatible topic at once."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    port: int = 0
    broken_paths: set[str] = field(default_factory=set)  # these always answer 500

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def answer(self, path: str) -> int:
        if path in self.broken_paths:
            return 500
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                code = state.answer(self.path)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class NotifyQueue:
    """The Celery queue notifications go to in a test: our own name, read straight from Redis
    (no worker takes them), so a test sees exactly what the engine enqueued."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.redis = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)

    def take(self) -> list[tuple[int | None, int, str]]:
        """Every queued send_notification call, oldest first, as (alert, channel, reason)."""
        taken = []
        while (raw := self.redis.rpop(self.name)) is not None:
            assert isinstance(raw, bytes)
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            assert message["headers"]["task"] == "collectors.send_notification"
            taken.append((args[0], args[1], args[2]))
        return taken

    def drop(self) -> None:
        self.redis.delete(self.name, f"_kombu.binding.{self.name}")


@pytest.fixture
def notify_queue(settings: Any) -> Iterator[NotifyQueue]:
    queue = NotifyQueue(f"test-alerts-{uuid.uuid4().hex[:12]}")
    settings.CELERY_TASK_DEFAULT_QUEUE = queue.name
    yield queue
    queue.drop()


@pytest.fixture
def alert_worker(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
                 settings: Any) -> WorkerProcess:  # fmt: skip
    """A real worker with short retry delays, taking the notifications this test sends."""
    monkeypatch.setenv("NOTIFY_MAX_RETRIES", "2")
    monkeypatch.setenv("NOTIFY_RETRY_BACKOFF_SECONDS", "1")
    worker: WorkerProcess = request.getfixturevalue("celery_worker")
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    return worker


@pytest.fixture
def nas(db: None) -> Device:
    return Device.objects.create(name="nas", address="127.0.0.1", tags=["storage"], site="home")


@pytest.fixture
def only_rules(db: None) -> None:
    """Tests that make their own rules switch the built-in ones off."""
    AlertRule.objects.update(enabled=False)


@pytest.fixture
def pool_rule(only_rules: None) -> AlertRule:
    return AlertRule.objects.create(
        name="pool unhealthy", event_kind=EventKind.ZFS, event_types=["pool.degraded",
        "pool.faulted"], resolve_on=["pool.recovered"], min_severity=Severity.WARNING,
        repeat_minutes=60,
    )  # fmt: skip


@pytest.fixture
def webhook(db: None, receiver: Receiver) -> Channel:
    return Channel.objects.create(
        name="hook", kind=ChannelKind.WEBHOOK, url=receiver.url("/hook"), secret="s3cret"
    )


@pytest.fixture
def ntfy(db: None, receiver: Receiver) -> Channel:
    return Channel.objects.create(name="phone", kind=ChannelKind.NTFY, url=receiver.url("/alerts"))
