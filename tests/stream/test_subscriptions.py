"""Subscribing: topics, validation, replace and unsubscribe, and a slow client's queue."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from collectors.stream.publish import publish
from devices.models import Device
from tests.stream.conftest import (
    authenticated,
    drain,
    receive,
    request,
    run,
    subscribe,
    until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_invalid_topics_are_answered_one_by_one_and_the_socket_stays_open(
    read_token: str, device: Device
) -> None:
    async def scenario() -> None:
        async with authenticated(read_token) as client:
            # when
            asked = ["nope", "device:999999", "metrics:abc", "device:0", 7, "events",
                     f"device:{device.pk}"]  # fmt: skip
            await client.send_json_to({"action": "subscribe", "topics": asked})
            replies = [await receive(client) for _ in range(6)]
            # then
            assert replies[:5] == [
                {"type": "error", "error": "invalid_topic", "topic": topic}
                for topic in ["nope", "metrics:abc", "device:0", 7, "device:999999"]
            ]
            assert replies[5] == {
                "type": "subscribed", "topics": sorted([f"device:{device.pk}", "events"])
            }  # fmt: skip
            assert await request(client, {"action": "ping"}) == {"type": "pong"}
            assert (await request(client, {"action": "dance"}))["error"] == "invalid_message"
            await client.send_to(text_data="not json")
            assert (await receive(client))["error"] == "invalid_message"

    run(scenario)


def test_subscribe_unsubscribe_and_replace_change_what_arrives(
    read_token: str, device: Device
) -> None:
    metrics_topic = f"metrics:{device.pk}"
    sample = {"device": device.pk, "cpu_percent": 12.5}

    async def scenario() -> None:
        async with authenticated(read_token) as client:
            # given
            reply = await request(client, {"action": "subscribe", "topics": ["fleet", "events"]})
            assert reply == {"type": "subscribed", "topics": ["events", "fleet"]}
            # when / then: unsubscribe leaves the rest
            reply = await request(client, {"action": "unsubscribe", "topics": ["events"]})
            assert reply == {"type": "subscribed", "topics": ["fleet"]}
            # when / then: replace swaps the whole set
            reply = await request(client, {"action": "replace", "topics": [metrics_topic]})
            assert reply == {"type": "subscribed", "topics": [metrics_topic]}
            await sync_to_async(publish)(["events", "fleet"], "event", {"id": 1})
            await sync_to_async(publish)([metrics_topic], "metrics", sample)
            assert await drain(client) == [
                {"type": "metrics", "topic": metrics_topic, "data": sample}
            ]

    run(scenario)


def test_more_than_a_hundred_topics_are_refused_whole(read_token: str, device: Device) -> None:
    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, "events")
            # when
            many = [f"device:{device.pk}", f"metrics:{device.pk}", "fleet"] * 40
            await client.send_json_to({"action": "subscribe", "topics": many})
            # then duplicates count once: 3 + 1 topics are fine
            assert (await receive(client))["topics"] == sorted({*many, "events"})
            ids = await sync_to_async(_devices)(100)
            await client.send_json_to(
                {"action": "subscribe", "topics": [f"device:{pk}" for pk in ids]}
            )
            assert await receive(client) == {
                "type": "error", "error": "too_many_topics", "limit": 100
            }  # fmt: skip
            assert (await receive(client))["topics"] == sorted({*many, "events"})

    run(scenario)


def _devices(count: int) -> list[int]:
    made = Device.objects.bulk_create(
        Device(name=f"d{i}", address=f"10.0.0.{i}") for i in range(count)
    )
    return [d.pk for d in made]


def test_a_message_for_several_subscribed_topics_arrives_once_under_the_first_subscribed(
    read_token: str, device: Device
) -> None:
    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, f"device:{device.pk}", "events")
            # when
            await sync_to_async(publish)(
                ["events", "fleet", f"device:{device.pk}"], "event", {"id": 5}
            )
            # then
            assert await drain(client) == [
                {"type": "event", "topic": f"device:{device.pk}", "data": {"id": 5}}
            ]

    run(scenario)


def test_a_slow_client_loses_its_oldest_messages_counted_by_the_heartbeat_and_others_get_all(
    read_token: str, device: Device, settings: Any
) -> None:
    settings.STREAM_QUEUE_SIZE = 2
    settings.STREAM_HEARTBEAT_SECONDS = 0.3
    topic = f"metrics:{device.pk}"

    async def scenario() -> None:
        # given a client whose connection takes one frame and then stops reading
        slow_client = authenticated(read_token, frames_buffered=1)
        async with slow_client as slow, authenticated(read_token) as brisk:
            await subscribe(slow, topic)
            await subscribe(brisk, topic)
            # when twenty messages are published
            for n in range(20):
                await sync_to_async(publish)([topic], "metrics", {"n": n})
            await asyncio.sleep(0.5)
            # then the reading client got every one, in order
            received = await until(brisk, lambda m: m.get("data") == {"n": 19})
            assert [m["data"]["n"] for m in received if m["type"] == "metrics"] == list(range(20))
            # and the slow one, once it reads again, the newest ones and a count of the rest
            received = await until(slow, lambda m: m.get("data") == {"n": 19})
            received += await until(slow, lambda m: m["type"] == "heartbeat")
            kept = [m["data"]["n"] for m in received if m["type"] == "metrics"]
            dropped = received[-1]["dropped"]
            assert kept[-1] == 19 and kept == sorted(kept)
            assert dropped > 0 and len(kept) + dropped == 20

    run(scenario)
