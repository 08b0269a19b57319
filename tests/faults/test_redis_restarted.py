"""Redis (the live stream's channel layer, the cache) restarted and down during collections:
collections keep storing, the failed publishes cost nothing but the messages, and once Redis is
back the stream publishes again. On a redis-server of our own, never the shared one."""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import connection

from collectors.engine import collect
from collectors.models import CollectionRun, RunStatus
from collectors.stream import publish
from collectors.stream import topics as t
from devices.models import Device, SystemSample
from devices.parsers import parse_uptime
from tests.conftest import device_for, wait_until
from tests.harness.redis_server import RedisServer
from tests.harness.sshd import SshdFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

KINDS = ["uptime", "loadavg"]


@pytest.fixture
def own_redis(redis_server: RedisServer, settings: Any, monkeypatch: pytest.MonkeyPatch
              ) -> RedisServer:  # fmt: skip
    """The channel layer and the cache on our redis-server; a short publish backoff."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"][0]["address"] = redis_server.url()
    settings.CHANNEL_LAYERS = layers  # channels drops its cached layer on this change
    settings.CACHES = {"default": settings.CACHES["default"] | {"LOCATION": redis_server.url(1)}}
    monkeypatch.setattr(publish, "_BACKOFF_S", 0.5)
    monkeypatch.setattr(publish, "_down_until", 0.0)
    return redis_server


class Listener:
    """A channel-layer client subscribed to devices' topics, like a WebSocket consumer. Its own
    event loop throughout: channels-redis binds a layer's receive buffer to one loop."""

    def __init__(self, *devices: Device) -> None:
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.groups = [t.parse(t.device(d.pk)).group for d in devices]
        self.channel: str = self.loop.run_until_complete(self.layer.new_channel())
        self.subscribe()

    def subscribe(self) -> None:
        """(Again after a restart: a Redis without persistence forgets memberships, and a
        consumer joins its groups again when it reconnects.)"""
        for group in self.groups:
            self.loop.run_until_complete(self.layer.group_add(group, self.channel))

    def received(self, quiet_s: float = 1.0) -> list[tuple[str, int]]:
        """(type, device) of every message waiting, once none came for `quiet_s`."""

        async def drain() -> list[dict[str, Any]]:
            messages = []
            while True:
                try:
                    messages.append(await asyncio.wait_for(self.layer.receive(self.channel),
                                                           quiet_s))  # fmt: skip
                except TimeoutError:
                    return messages

        return [(m["message"]["type"], m["message"]["data"]["device"])
                for m in self.loop.run_until_complete(drain())]  # fmt: skip

    def close(self) -> None:
        # Its connections end with the redis-server, stopped right after.
        self.loop.close()


@pytest.fixture
def listen(own_redis: RedisServer) -> Iterator[Callable[..., Listener]]:
    made: list[Listener] = []

    def make(*devices: Device) -> Listener:
        made.append(Listener(*devices))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


def _in_thread(device: Device, kinds: list[str], runs: dict[str, CollectionRun | None]
               ) -> threading.Thread:  # fmt: skip
    def poll() -> None:
        try:
            runs[device.name] = collect(device, kinds, trigger="cli")
        finally:
            connection.close()

    thread = threading.Thread(target=poll)
    thread.start()
    return thread


def test_collections_keep_storing_while_redis_restarts_and_the_stream_resumes_after(
    own_redis: RedisServer, listen: Callable[..., Listener], sshd_factory: SshdFactory,
    client_key: Any, extra_kind: Any, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # given two devices, each collected once, and a listener that hears about both
    caplog.set_level(logging.WARNING, logger="collectors.stream.publish")
    extra_kind("slow-uptime", "sleep 3; cat /proc/uptime", parse_uptime)
    first = device_for(sshd_factory(), client_key, name="first")
    second = device_for(sshd_factory(), client_key, name="second")
    listener = listen(first, second)
    for device in (first, second):
        run = collect(device, KINDS, trigger="cli")
        assert run is not None and run.status == RunStatus.OK, run and run.kind_results
    assert ("collection.finished", first.pk) in listener.received()
    # when Redis restarts in the middle of a collection of the first device
    runs: dict[str, CollectionRun | None] = {}
    thread = _in_thread(first, [*KINDS, "slow-uptime"], runs)
    running = wait_until(lambda: CollectionRun.objects.filter(
        device=first, status=RunStatus.RUNNING).first())  # fmt: skip
    own_redis.restart()
    listener.subscribe()  # an empty Redis: consumers join their groups again
    running.refresh_from_db()
    assert running.status == RunStatus.RUNNING  # the restart happened mid-collection
    thread.join()
    # then that collection was stored whole, and published on a new connection
    during = runs["first"]
    assert during is not None and during.status == RunStatus.OK, during and during.kind_results
    assert ("collection.finished", first.pk) in listener.received()
    assert not any("could not publish" in r.getMessage() for r in caplog.records)
    # when Redis is down while the second device is collected
    own_redis.stop()
    down = collect(second, KINDS, trigger="cli")
    # then it is stored all the same, and the failed publish is logged, not raised
    assert down is not None and down.status == RunStatus.OK, down and down.kind_results
    assert any("could not publish" in r.getMessage() for r in caplog.records)
    # when Redis is back (empty: consumers join their groups again)
    own_redis.start()
    listener.subscribe()
    wait_until(lambda: time.monotonic() >= publish._down_until, interval=0.1)  # backoff over
    after = [collect(device, KINDS, trigger="cli") for device in (first, second)]
    # then the stream publishes again, for both devices
    assert all(run is not None and run.status == RunStatus.OK for run in after)
    heard = listener.received()
    assert ("collection.finished", first.pk) in heard
    assert ("collection.finished", second.pk) in heard
    # and no collection was lost on the way: three stored per device, every run OK
    for device in (first, second):
        assert SystemSample.objects.filter(device=device).count() == 3
    statuses = set(CollectionRun.objects.values_list("status", flat=True))
    assert statuses == {RunStatus.OK}
