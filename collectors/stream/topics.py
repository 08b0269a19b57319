"""Topics clients subscribe to, and the channel-layer group each one maps to.

Topics are what the protocol speaks (`device:5`); groups are what channels-redis accepts (ASCII
letters, digits, `.`, `-`, `_`): `device.5`. Parsing is pure; whether a device exists is asked by
the consumer in one query for all the ids of a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ALERTS",
    "EVENTS",
    "EVENTS_CRITICAL",
    "FLEET",
    "MAX_TOPICS",
    "InvalidTopic",
    "Topic",
    "device",
    "metrics",
    "parse",
]

FLEET = "fleet"
EVENTS = "events"
EVENTS_CRITICAL = "events:critical"
ALERTS = "alerts"
_PLAIN = {FLEET: "fleet", EVENTS: "events", EVENTS_CRITICAL: "events.critical", ALERTS: "alerts"}
_PER_DEVICE = re.compile(r"^(device|metrics):([1-9][0-9]{0,17})$")

# One socket cannot make the server hold more than this many group memberships.
MAX_TOPICS = 100


class InvalidTopic(ValueError):
    """Not a topic of the protocol (the id part, when there is one, is not a positive integer)."""


@dataclass(frozen=True)
class Topic:
    name: str
    group: str
    device_id: int | None = None


def parse(name: object) -> Topic:
    if not isinstance(name, str):
        raise InvalidTopic(repr(name))
    if name in _PLAIN:
        return Topic(name, _PLAIN[name])
    match = _PER_DEVICE.match(name)
    if match is None:
        raise InvalidTopic(name)
    prefix, device_id = match.group(1), int(match.group(2))
    return Topic(name, f"{prefix}.{device_id}", device_id)


def device(device_id: int) -> str:
    return f"device:{device_id}"


def metrics(device_id: int) -> str:
    return f"metrics:{device_id}"
