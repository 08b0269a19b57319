"""Who may open the stream: a session, a token in the handshake or in the first message."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.stream.conftest import bearer, receive, request, run, socket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_token_in_the_handshake_header_opens_the_stream(read_token: str, settings: Any) -> None:
    settings.STREAM_HEARTBEAT_SECONDS = 7

    async def scenario() -> None:
        # when
        async with socket([(b"authorization", f"Token {read_token}".encode())]) as client:
            hello = await receive(client)
            # then
            assert hello == {"type": "hello", "user": "rita", "heartbeat_s": 7}
            assert await request(client, {"action": "ping"}) == {"type": "pong"}

    run(scenario)


def test_a_token_in_the_first_message_opens_the_stream(read_token: str) -> None:
    async def scenario() -> None:
        async with socket() as client:
            # when
            hello = await request(client, {"action": "auth", "token": read_token})
            # then
            assert hello["type"] == "hello" and hello["user"] == "rita"

    run(scenario)


def test_the_admin_session_cookie_opens_the_stream(db: None) -> None:
    # given a staff user logged in to the admin
    User.objects.create_user("olivia", password="operator-pass-123", is_staff=True)
    browser = Client()
    assert browser.login(username="olivia", password="operator-pass-123")
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()

    async def scenario() -> None:
        # when the console opens the socket with the browser's cookie (and its own origin)
        headers = [(b"cookie", cookie), (b"origin", b"http://localhost:9101")]
        async with socket(headers) as client:
            # then
            assert (await receive(client))["user"] == "olivia"

    run(scenario)


def test_a_socket_from_a_foreign_origin_is_refused(read_token: str) -> None:
    async def scenario() -> None:
        from channels.testing import WebsocketCommunicator

        from infrastructor.asgi import application

        headers = [*bearer(read_token), (b"origin", b"http://evil.example")]
        client = WebsocketCommunicator(application, "/ws/stream", headers=headers)
        connected, _ = await client.connect()
        assert not connected

    run(scenario)


def test_a_silent_socket_is_closed_with_4401_once_the_timeout_passes(settings: Any) -> None:
    settings.STREAM_AUTH_TIMEOUT_SECONDS = 0.3

    async def scenario() -> None:
        async with socket() as client:
            started = time.monotonic()
            # when nothing is sent, then
            error = await receive(client, timeout=5)
            closed = await client.receive_output(timeout=5)
            assert time.monotonic() - started < 2
            assert error["type"] == "error" and error["error"] == "unauthenticated"
            assert (closed["type"], closed["code"]) == ("websocket.close", 4401)

    run(scenario)


@pytest.mark.parametrize(
    "how",
    ["header", "first message", "another message first", "revoked token"],
)
def test_a_bad_credential_gets_a_reason_then_4401(read_token: str, how: str) -> None:
    from infrastructor.models import ApiToken

    if how == "revoked token":
        ApiToken.objects.update(revoked_at=timezone.now())

    async def scenario() -> None:
        headers = bearer("ifr_nope_nope") if how == "header" else []
        async with socket(headers) as client:
            if how == "first message":
                await client.send_json_to({"action": "auth", "token": "ifr_nope_nope"})
            elif how == "another message first":
                await client.send_json_to({"action": "subscribe", "topics": ["events"]})
            elif how == "revoked token":
                await client.send_json_to({"action": "auth", "token": read_token})
            # then
            error = await receive(client)
            assert error["type"] == "error" and error["error"] == "unauthenticated"
            assert error["detail"]
            assert (await client.receive_output(timeout=5))["code"] == 4401

    run(scenario)
