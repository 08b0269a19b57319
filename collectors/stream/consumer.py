"""`/ws/stream`: one socket, authenticated once, subscribed to any number of topics (up to 100).

Authentication, the first that applies: the Django session (the admin's cookie); an
`Authorization: Bearer|Token ifr_...` header on the handshake; a first message
`{"action": "auth", "token": "ifr_..."}` within STREAM_AUTH_TIMEOUT_SECONDS. Any token scope may
watch. A bad token, a message before authentication or the timeout: an
`{"type": "error", "error": "unauthenticated"}` message, then close code 4401.

A message published to several topics arrives once per group the socket is in; it is delivered
once, under the first of the message's topics in the socket's subscription order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from collectors.stream import topics as t
from collectors.stream.outbox import Outbox

__all__ = ["CLOSE_UNAUTHENTICATED", "StreamConsumer"]

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
# Ids of recently delivered messages, to drop the copies that arrive through other groups.
_SEEN_IDS = 1024
# channels-redis forgets group members after its group_expiry (a day by default): re-join
# well before that, so a socket open for a week still receives.
_REJOIN_S = 3600.0


def bearer_token(scope: dict[str, Any]) -> str | None:
    """The credential of an `Authorization: Bearer|Token <value>` handshake header, if any."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            keyword, _, raw = value.decode("latin-1").strip().partition(" ")
            if keyword.lower() in ("bearer", "token") and raw.strip():
                return raw.strip()
            return ""  # present but malformed: a bad credential, not a missing one
    return None


@database_sync_to_async
def _user_for_token(raw: str) -> str | None:
    from infrastructor.auth import resolve_token

    token = resolve_token(raw)
    return token.user.get_username() if token is not None else None


@database_sync_to_async
def _existing_devices(ids: set[int]) -> set[int]:
    from devices.models import Device

    return set(Device.objects.filter(pk__in=ids).values_list("pk", flat=True))


class StreamConsumer(AsyncWebsocketConsumer):
    """The live stream socket; the protocol is described in README.md ("Live stream")."""

    async def connect(self) -> None:
        self.user_name: str | None = None
        self.closed = False
        self.subscriptions: dict[str, t.Topic] = {}  # insertion order is subscription order
        self.outbox = Outbox(settings.STREAM_QUEUE_SIZE)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.tasks: list[asyncio.Task[None]] = []
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated and user.is_active:
            await self._welcome(user.get_username())
            return
        raw = bearer_token(self.scope)
        if raw is not None:
            await self._authenticate(raw)
            return
        self._spawn(self._auth_deadline())

    async def disconnect(self, code: int) -> None:
        self.closed = True
        for task in self.tasks:
            task.cancel()
        await self._set_groups(set())

    # --- authentication -----------------------------------------------------------------------

    async def _authenticate(self, raw: object) -> None:
        name = await _user_for_token(raw) if isinstance(raw, str) and raw else None
        if self.closed:  # the deadline passed while the token was looked up
            return
        if name is None:
            await self._reject("invalid, expired or revoked API token")
        else:
            await self._welcome(name)

    async def _auth_deadline(self) -> None:
        timeout = float(settings.STREAM_AUTH_TIMEOUT_SECONDS)
        await asyncio.sleep(timeout)
        if self.user_name is None and not self.closed:
            await self._reject(f"no credentials within {timeout:g} s")

    async def _reject(self, detail: str) -> None:
        self.closed = True
        await self._send_now({"type": "error", "error": "unauthenticated", "detail": detail})
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _welcome(self, user_name: str) -> None:
        self.user_name = user_name
        for task in self.tasks:  # the auth deadline
            task.cancel()
        heartbeat_s = float(settings.STREAM_HEARTBEAT_SECONDS)
        await self._send_now({"type": "hello", "user": user_name, "heartbeat_s": heartbeat_s})
        # From here on only the sender task writes to the socket.
        self._spawn(self._sender())
        self._spawn(self._heartbeat(heartbeat_s))

    # --- client requests ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        try:
            request = json.loads(text_data if text_data is not None else bytes_data or b"")
        except ValueError:
            request = None
        action = request.get("action") if isinstance(request, dict) else None
        if self.user_name is None:
            if action == "auth":
                await self._authenticate(request.get("token"))
            else:
                await self._reject('authenticate first: {"action": "auth", "token": "..."}')
            return
        if action == "ping":
            self.outbox.put_control({"type": "pong"})
        elif action in ("subscribe", "unsubscribe", "replace"):
            await self._change(action, request.get("topics"))
        else:
            self._error("invalid_message", detail="expected a JSON object with a known action")

    def _error(self, error: str, **extra: Any) -> None:
        self.outbox.put_control({"type": "error", "error": error, **extra})

    async def _change(self, action: str, names: object) -> None:
        if not isinstance(names, list):
            self._error("invalid_message", detail="topics must be a list of strings")
            return
        valid: dict[str, t.Topic] = {}
        for name in names:
            try:
                topic = t.parse(name)
            except t.InvalidTopic:
                self._error("invalid_topic", topic=name)
                continue
            valid.setdefault(topic.name, topic)
        if action != "unsubscribe":  # leaving a deleted device's topic is fine
            ids = {topic.device_id for topic in valid.values() if topic.device_id is not None}
            existing = await _existing_devices(ids) if ids else set()
            for name, topic in list(valid.items()):
                if topic.device_id is not None and topic.device_id not in existing:
                    self._error("invalid_topic", topic=name)
                    del valid[name]
        current = self.subscriptions
        if action == "subscribe":
            wanted = current | {name: topic for name, topic in valid.items() if name not in current}
        elif action == "unsubscribe":
            wanted = {name: topic for name, topic in current.items() if name not in valid}
        else:
            wanted = valid
        if len(wanted) > t.MAX_TOPICS:
            self._error("too_many_topics", limit=t.MAX_TOPICS)
            wanted = current
        await self._set_groups({topic.group for topic in wanted.values()})
        self.subscriptions = wanted
        self.outbox.put_control({"type": "subscribed", "topics": sorted(wanted)})

    async def _set_groups(self, groups: set[str]) -> None:
        joined = {topic.group for topic in self.subscriptions.values()}
        for group in groups - joined:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in joined - groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- from the channel layer to the client -------------------------------------------------

    async def stream_message(self, message: dict[str, Any]) -> None:
        """A published message (collectors.stream.publish): queue it, never wait on the client."""
        if self.user_name is None or self.closed or message["id"] in self.seen:
            return
        published_to = message["topics"]
        topic = next((name for name in self.subscriptions if name in published_to), None)
        if topic is None:  # a copy still in flight from a group this socket just left
            return
        self.seen[message["id"]] = None
        if len(self.seen) > _SEEN_IDS:
            self.seen.popitem(last=False)
        body = message["message"]
        self.outbox.put({"type": body["type"], "topic": topic, "data": body["data"]})

    async def _sender(self) -> None:
        while True:
            await self.outbox.wait()
            while (item := self.outbox.pop()) is not None:
                await self._send_now(item)

    async def _heartbeat(self, interval_s: float) -> None:
        rejoined = time.monotonic()
        while True:
            await asyncio.sleep(interval_s)
            self.outbox.heartbeat()
            if time.monotonic() - rejoined > _REJOIN_S:
                rejoined = time.monotonic()
                for topic in self.subscriptions.values():
                    await self.channel_layer.group_add(topic.group, self.channel_name)

    async def _send_now(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, default=str))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        task.add_done_callback(_log_failure)
        self.tasks.append(task)


def _log_failure(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        if (error := task.exception()) is not None:
            log.error("live stream task failed", exc_info=error)
