"""The stream served by a real daphne to a real WebSocket client, fed from another process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from django.db import connection

from collectors.events import record_event
from collectors.models import EventKind, Severity
from devices.models import Device
from tests.harness.daphne import running_daphne

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def daphne(own_channel_layer: str, tmp_path: Path) -> Iterator[str]:
    """daphne on the test database and our channel-layer prefix; yields its ws:// URL."""
    with running_daphne(own_channel_layer, tmp_path / "daphne.log") as server:
        yield server.ws


def test_daphne_streams_a_worker_event_to_a_websocket_client(
    daphne: str, read_token: str, device: Device
) -> None:
    async def scenario() -> list[Any]:
        headers = {"Authorization": f"Bearer {read_token}"}
        async with websockets.connect(daphne, additional_headers=headers) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps({"action": "subscribe", "topics": [f"device:{device.pk}"]}))
            subscribed = json.loads(await asyncio.wait_for(ws.recv(), 10))
            # when the worker side (this process, not daphne's) records an event
            await asyncio.to_thread(_record_and_close)
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return [hello, subscribed, event]

    def _record_and_close() -> None:
        try:
            record_event(
                device=device, kind=EventKind.DEVICE, type="device.offline",
                severity=Severity.CRITICAL, summary="nas is offline",
            )  # fmt: skip
        finally:
            connection.close()

    # when
    hello, subscribed, event = asyncio.run(scenario())
    # then
    assert hello["type"] == "hello" and hello["user"] == "rita"
    assert subscribed == {"type": "subscribed", "topics": [f"device:{device.pk}"]}
    assert event["type"] == "event" and event["topic"] == f"device:{device.pk}"
    assert event["data"]["summary"] == "nas is offline"


def test_daphne_closes_an_unauthenticated_socket_with_4401(daphne: str, settings: Any) -> None:
    async def scenario() -> tuple[Any, int | None]:
        async with websockets.connect(daphne) as ws:
            await ws.send(json.dumps({"action": "auth", "token": "ifr_nope_nope"}))
            error = json.loads(await asyncio.wait_for(ws.recv(), 10))
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return error, ws.close_code

    error, code = asyncio.run(scenario())
    assert error["error"] == "unauthenticated" and code == 4401
