"""Topic parsing and the per-socket queue: pure, no I/O."""

from __future__ import annotations

import pytest

from collectors.stream import topics
from collectors.stream.consumer import bearer_token
from collectors.stream.outbox import Outbox


@pytest.mark.parametrize(
    ("name", "group", "device_id"),
    [
        ("fleet", "fleet", None),
        ("events", "events", None),
        ("events:critical", "events.critical", None),
        ("device:5", "device.5", 5),
        ("metrics:123", "metrics.123", 123),
    ],
)
def test_topics_map_to_ascii_group_names(name: str, group: str, device_id: int | None) -> None:
    assert topics.parse(name) == topics.Topic(name, group, device_id)


NOT_TOPICS = ["", "Fleet", "events:", "device:", "device:0", "device:05", "device:-1",
              "device:5 ", "metrics:x", "zfs:1", "device:5:1", 5, None]  # fmt: skip


@pytest.mark.parametrize("name", NOT_TOPICS)
def test_anything_else_is_not_a_topic(name: object) -> None:
    with pytest.raises(topics.InvalidTopic):
        topics.parse(name)


def test_a_full_outbox_drops_its_oldest_data_and_counts_it() -> None:
    # given
    outbox = Outbox(2)
    # when
    for n in range(5):
        outbox.put({"n": n})
    outbox.put_control({"type": "pong"})
    outbox.heartbeat()
    outbox.heartbeat()
    # then replies first, one heartbeat, then the newest data
    assert [outbox.pop() for _ in range(5)] == [
        {"type": "pong"}, {"type": "heartbeat", "dropped": 3}, {"n": 3}, {"n": 4}, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        ([(b"authorization", b"Bearer ifr_a_b")], "ifr_a_b"),
        ([(b"Authorization", b"token  ifr_a_b ")], "ifr_a_b"),
        ([(b"authorization", b"Basic dXNlcg==")], ""),
        ([(b"cookie", b"sessionid=x")], None),
    ],
)
def test_the_handshake_token_is_read_from_the_authorization_header(
    headers: list[tuple[bytes, bytes]], expected: str | None
) -> None:
    assert bearer_token({"headers": headers}) == expected
