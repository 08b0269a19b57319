"""Recording events and broadcasting them to live clients after the transaction commits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from collectors.alerts import engine as alert_engine
from collectors.models import Event, Severity

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


def event_message(event: Event) -> dict[str, Any]:
    return {
        "type": "event.new",
        "event": {
            "id": event.pk,
            "device": event.device_id,
            "kind": event.kind,
            "type": event.type,
            "severity": event.severity,
            "summary": event.summary,
            "data": event.data,
            "occurred_at": event.occurred_at.isoformat(),
        },
    }


def broadcast(groups: list[str], message: dict[str, Any]) -> None:
    """Send to channel-layer groups. A live stream is a nicety: if Redis is down we log and go on;
    the collection path never fails because of it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # the channel layer may raise anything its backend raises
        log.warning("could not broadcast %s to %s", message.get("type"), groups, exc_info=True)


def broadcast_event(event: Event) -> None:
    groups = ["events", "fleet"]
    if event.severity == Severity.CRITICAL:
        groups.append("events.critical")
    if event.device_id:
        groups.append(f"device.{event.device_id}")
    broadcast(groups, event_message(event))
