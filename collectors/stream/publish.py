"""Publishing to the live stream from sync code (Celery workers, services, the admin).

One message goes to every topic it concerns (an event to `events`, `fleet`, `device:<id>` and,
when critical, `events:critical`); it carries a random id and the list of those topics, so a
socket subscribed to several of them delivers it once (see consumer.StreamConsumer).

The stream is a nicety: when Redis is down, publishing logs and returns, and for a few seconds
after a failure does not even try, so a poll that raises ten events does not wait on ten
connection attempts.

Sends run on one event loop per process, in a thread of its own: channels-redis keeps its
connections per loop, so they are reused from one message to the next (`async_to_sync` would
make a loop, a thread and a Redis connection for every message: 10-19 ms of a poll's CPU).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer
from django.db import transaction

from collectors.stream import topics as t

if TYPE_CHECKING:
    from collectors.models import CollectionRun
    from devices.models import Device

__all__ = [
    "LAYER_MESSAGE_TYPE",
    "collection_ended",
    "layer_message",
    "publish",
    "publish_on_commit",
]

log = logging.getLogger(__name__)

# The channel-layer message type; channels dispatches it to StreamConsumer.stream_message.
LAYER_MESSAGE_TYPE = "stream.message"
# Seconds publishing is skipped after the channel layer failed.
_BACKOFF_S = 10.0
# Seconds one publish may wait on the channel layer.
_SEND_TIMEOUT_S = 5.0
_down_until = 0.0
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop, started on first use (again after a fork: a forked child
    has the parent's loop object but not its thread)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="stream-publisher", daemon=True)
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def layer_message(topics: Sequence[str], type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": LAYER_MESSAGE_TYPE,
        "id": uuid.uuid4().hex,
        "topics": list(topics),
        "message": {"type": type, "data": data},
    }


def publish(topics: Sequence[str], type: str, data: dict[str, Any]) -> None:
    """Send `{"type": type, "data": data}` to the subscribers of `topics`, now. Never raises."""
    global _down_until
    layer = get_channel_layer()
    if layer is None or not topics or time.monotonic() < _down_until:
        return
    message = layer_message(topics, type, data)
    groups = [t.parse(name).group for name in topics]
    sent = 0

    async def send_rest() -> None:
        nonlocal sent
        for group in groups[sent:]:
            await layer.group_send(group, message)
            sent += 1

    for attempt in (1, 2):
        future = asyncio.run_coroutine_threadsafe(send_rest(), _publisher_loop())
        try:
            future.result(timeout=_SEND_TIMEOUT_S)
        except Exception as e:  # the channel layer may raise anything its backend raises
            future.cancel()
            # Once more at once, unless it timed out: after Redis restarted, the first command
            # on a pooled connection finds it closed, and the retry gets a new one.
            if attempt == 1 and not isinstance(e, TimeoutError):
                continue
            _down_until = time.monotonic() + _BACKOFF_S
            log.warning("could not publish %s to %s", type, list(topics), exc_info=True)
        return


def publish_on_commit(topics: Sequence[str], type: str, data: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (at once outside a transaction); nothing
    is sent for a transaction that rolls back."""
    topics = list(topics)
    transaction.on_commit(lambda: publish(topics, type, data))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def collection_ended(device: Device, run: CollectionRun, *, status_before: str) -> None:
    """What the stream says about a finished collection, sent after the commit: the run's end
    (`device:<id>`), its failure if any kind failed (`fleet`, `device:<id>`), the device's status
    when it changed (`fleet`, `device:<id>`) and the poll's system sample (`metrics:<id>`).

    Call it inside the collection's transaction, after the run row and the device are saved."""
    from collectors.models import KindStatus, RunStatus
    from devices.models import SystemSample

    on_device = [t.device(device.pk)]
    publish_on_commit(
        on_device,
        "collection.finished",
        {"device": device.pk, "run": run.pk, "status": run.status, "duration_ms": run.duration_ms},
    )
    failed = [
        name
        for name, result in run.kind_results.items()
        if isinstance(result, dict) and result.get("status") == KindStatus.ERROR
    ]
    if run.status == RunStatus.FAILED or failed:
        publish_on_commit(
            [t.FLEET, *on_device],
            "collection.failed",
            {"device": device.pk, "run": run.pk, "kinds": failed, "error": run.error},
        )
    if device.status != status_before:
        publish_on_commit(
            [t.FLEET, *on_device],
            "device.status",
            {
                "device": device.pk,
                "name": device.name,
                "status": device.status,
                "previous": status_before,
                "last_seen_at": _iso(device.last_seen_at),
            },
        )
    sample = (
        SystemSample.objects.filter(device=device, collected_at__gte=run.started_at)
        .order_by("-collected_at")
        .first()
    )
    if sample is not None:
        publish_on_commit([t.metrics(device.pk)], "metrics", metrics_data(sample))


def metrics_data(sample: Any) -> dict[str, Any]:
    """A SystemSample as the stream sends it: every gauge under its model name, plus the
    `cpu_percent` and `memory_percent` the protocol promises."""
    data: dict[str, Any] = {"device": sample.device_id, "time": _iso(sample.collected_at)}
    data |= {"cpu_percent": sample.cpu_pct, "memory_percent": sample.mem_used_pct}
    for field in sample._meta.concrete_fields:
        if field.name not in ("id", "device", "collected_at"):
            data[field.name] = getattr(sample, field.attname)
    return data
