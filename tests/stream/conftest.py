"""The live stream's cast: a token holder, a device, a channel layer of our own, and a client."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from collectors.stream import publish
from devices.models import AuthMethod, Device, Transport
from infrastructor.asgi import application
from infrastructor.models import ApiToken, Scope

Headers = list[tuple[bytes, bytes]]


@pytest.fixture(autouse=True)
def own_channel_layer(settings: Any) -> str:
    """A channel-layer prefix of our own: a platform on this Redis has `events` groups too."""
    default = settings.CHANNEL_LAYERS["default"]
    prefix = f"test-stream-{secrets.token_hex(4)}"
    settings.CHANNEL_LAYERS = {
        "default": default | {"CONFIG": default["CONFIG"] | {"prefix": prefix}}
    }
    publish._down_until = 0.0  # a test that took Redis down must not mute the next one
    return prefix


@pytest.fixture
def reader(db: None) -> User:
    return User.objects.create_user("rita", password="reader-pass-123")


@pytest.fixture
def read_token(reader: User) -> str:
    _, clear = ApiToken.issue(user=reader, name="stream", scope=Scope.READ)
    return clear


@pytest.fixture
def device(db: None) -> Device:
    return Device.objects.create(
        name="nas", address="localhost", transport=Transport.LOCAL, auth_method=AuthMethod.AGENT
    )


def bearer(token: str) -> Headers:
    return [(b"authorization", f"Bearer {token}".encode())]


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario from a sync test: sync code it awaits through sync_to_async runs on
    this thread, on the test's database connection, like a request would."""
    async_to_sync(scenario)()


@asynccontextmanager
async def socket(
    headers: Headers | None = None, *, frames_buffered: int = 0
) -> AsyncIterator[WebsocketCommunicator]:
    """A client on the real ASGI application (origin check, session and auth middleware).

    With `frames_buffered`, the connection holds that many unread frames and then makes the
    server's send wait (a client that stopped reading, behind a server with backpressure)."""
    client = WebsocketCommunicator(application, "/ws/stream", headers=headers or [])
    client._output_queue = asyncio.Queue(maxsize=frames_buffered)
    connected, _ = await client.connect(timeout=5)
    assert connected
    try:
        yield client
    finally:
        await client.disconnect()


@asynccontextmanager
async def authenticated(
    token: str, *, frames_buffered: int = 0
) -> AsyncIterator[WebsocketCommunicator]:
    async with socket(bearer(token), frames_buffered=frames_buffered) as client:
        hello = await client.receive_json_from(timeout=5)
        assert hello["type"] == "hello"
        yield client


async def request(client: WebsocketCommunicator, message: dict[str, Any]) -> dict[str, Any]:
    await client.send_json_to(message)
    reply: dict[str, Any] = await client.receive_json_from(timeout=5)
    return reply


async def subscribe(client: WebsocketCommunicator, *topics: str) -> None:
    reply = await request(client, {"action": "subscribe", "topics": list(topics)})
    assert reply["type"] == "subscribed", reply


async def receive(client: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = await client.receive_json_from(timeout=timeout)
    return message


async def drain(client: WebsocketCommunicator, quiet_s: float = 0.5) -> list[dict[str, Any]]:
    """Every message that arrives until none has for `quiet_s`."""
    messages = []
    while not await client.receive_nothing(timeout=quiet_s):
        messages.append(json.loads((await client.receive_output())["text"]))
    return messages


async def until(
    client: WebsocketCommunicator, last: Callable[[dict[str, Any]], bool], timeout: float = 10
) -> list[dict[str, Any]]:
    """Every message up to and including the first for which `last` is true."""
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not messages or not last(messages[-1]):
            messages.append(await receive(client, timeout=timeout))
    return messages
