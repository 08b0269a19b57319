"""Recording events and broadcasting them to live clients (collectors.stream) after the
transaction commits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from collectors.alerts import engine as alert_engine
from collectors.models import Event, Severity
from collectors.stream import topics
from collectors.stream.publish import publish

if TYPE_CHECKING:
    from devices.models import Device

log = logging.getLogger(__name__)


def record_event(
    *,
    kind: str,
    type: str,
    summary: str,
    device: Device | None = None,
    severity: str = Severity.INFO,
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> Event:
    """Store an event; it is broadcast once (and only if) the surrounding transaction commits."""
    event = Event.objects.create(
        device=device,
        kind=kind,
        type=type,
        severity=severity,
        summary=summary[:500],
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
    )
    log.info("event %s: %s", type, summary, extra={"device": device.name if device else None})
    transaction.on_commit(lambda: broadcast_event(event))
    # Alerting reads the committed event after commit (see collectors.alerts.engine).
    alert_engine.event_recorded(event)
    return event


def event_data(event: Event) -> dict[str, Any]:
    """An event as the live stream sends it (the `data` of a `{"type": "event"}` message)."""
    return {
        "id": event.pk,
        "device": event.device_id,
        "device_name": event.device.name if event.device_id and event.device else None,
        "kind": event.kind,
        "type": event.type,
        "severity": event.severity,
        "summary": event.summary,
        "data": event.data,
        "occurred_at": event.occurred_at.isoformat(),
    }


def event_topics(event: Event) -> list[str]:
    names = [topics.EVENTS, topics.FLEET]
    if event.severity == Severity.CRITICAL:
        names.append(topics.EVENTS_CRITICAL)
    if event.device_id:
        names.append(topics.device(event.device_id))
    return names


def broadcast_event(event: Event) -> None:
    """Send a committed event to the live stream; a Redis outage is logged, never raised."""
    publish(event_topics(event), "event", event_data(event))
