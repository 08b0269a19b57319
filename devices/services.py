"""State changes of devices. The admin, the API, Celery tasks and MCP all call these."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.transports.base import TransportError, fingerprint
from devices.models import Device, DeviceStatus
from devices.secrets import encrypt_private_key

log = logging.getLogger(__name__)


def backoff_delay(failures: int) -> dt.timedelta:
    """Exponential backoff after consecutive failures: base, 2x base, 4x base... capped."""
    base = settings.COLLECT_BACKOFF_BASE_SECONDS
    seconds = min(base * (2 ** max(failures - 1, 0)), settings.COLLECT_BACKOFF_MAX_SECONDS)
    return dt.timedelta(seconds=seconds)


def _set_status(device: Device, status: str, reason: str, now: dt.datetime) -> bool:
    changed = device.status != status
    device.status = status
    device.status_reason = reason[:500]
    if changed:
        device.status_changed_at = now
    return changed


# No savepoint of its own: a collection calls it inside its store transaction, once per poll.
@transaction.atomic(savepoint=False)
def note_contact(device: Device, *, host_key: str | None) -> None:
    """The device answered: pin its host key on first contact and bring it online."""
    now = timezone.now()
    was = device.status
    fields = ["last_seen_at", "consecutive_failures", "next_attempt_at", "status", "status_reason"]
    device.last_seen_at = now
    device.consecutive_failures = 0
    device.next_attempt_at = None
    if host_key and not device.host_key:
        device.host_key = host_key
        device.host_key_pinned_at = now
        fields += ["host_key", "host_key_pinned_at"]
        log.info("pinned host key %s for %s", fingerprint(host_key), device.name)
    if was == DeviceStatus.MAINTENANCE:
        device.save(update_fields=[*fields, "updated_at"])
        return
    if _set_status(device, DeviceStatus.ONLINE, "", now):
        fields.append("status_changed_at")
        summary = f"{device.name} is online"
        if was == DeviceStatus.OFFLINE:
            summary = f"{device.name} is back online"
        record_event(
            device=device,
            kind=EventKind.DEVICE,
            type="device.online",
            severity=Severity.INFO,
            summary=summary,
            data={"previous_status": was},
        )
    device.save(update_fields=[*fields, "updated_at"])


@transaction.atomic(savepoint=False)
def note_failure(device: Device, *, error_type: str, message: str) -> None:
    """The device could not be collected: back off, and after repeated failures mark it offline."""
    now = timezone.now()
    Device.objects.filter(pk=device.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    device.refresh_from_db(fields=["consecutive_failures", "status"])
    device.next_attempt_at = now + backoff_delay(device.consecutive_failures)
    fields = ["next_attempt_at", "status", "status_reason", "status_changed_at", "updated_at"]
    reason = f"{error_type}: {message}"
    if device.status in (DeviceStatus.MAINTENANCE, DeviceStatus.HOST_KEY_CHANGED):
        device.save(update_fields=["next_attempt_at", "updated_at"])
        return
    if device.consecutive_failures >= settings.COLLECT_OFFLINE_AFTER_FAILURES:
        if _set_status(device, DeviceStatus.OFFLINE, reason, now):
            record_event(
                device=device,
                kind=EventKind.DEVICE,
                type="device.offline",
                severity=Severity.CRITICAL,
                summary=f"{device.name} is offline: {message}"[:500],
                data={"error_type": error_type, "failures": device.consecutive_failures},
            )
    else:
        device.status_reason = reason[:500]
    device.save(update_fields=fields)


@transaction.atomic
def note_host_key_changed(device: Device, *, offered: str) -> None:
    """Stop collecting until a person trusts the new key (no blind auto-accept)."""
    now = timezone.now()
    first_time = device.offered_host_key != offered or device.status != "host_key_changed"
    device.offered_host_key = offered
    reason = (
        f"host key changed: pinned {fingerprint(device.host_key)}, offered {fingerprint(offered)}"
    )
    _set_status(device, DeviceStatus.HOST_KEY_CHANGED, reason, now)
    device.save(
        update_fields=["offered_host_key", "status", "status_reason", "status_changed_at",
                       "updated_at"]
    )  # fmt: skip
    if first_time:
        record_event(
            device=device,
            kind=EventKind.DEVICE,
            type="device.host_key_changed",
            severity=Severity.CRITICAL,
            summary=f"{device.name} presented a different SSH host key; collection stopped",
            data={"pinned": fingerprint(device.host_key), "offered": fingerprint(offered)},
        )


@transaction.atomic
def trust_offered_host_key(device: Device, *, actor: str) -> bool:
    """Accept the key the device now presents. Returns False when there is nothing to trust."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if not device.offered_host_key:
        return False
    old = device.host_key
    device.host_key = device.offered_host_key
    device.host_key_pinned_at = timezone.now()
    device.offered_host_key = ""
    device.next_attempt_at = None
    _set_status(device, DeviceStatus.UNKNOWN, f"new host key trusted by {actor}", timezone.now())
    device.save()
    record_event(
        device=device,
        kind=EventKind.DEVICE,
        type="device.host_key_trusted",
        severity=Severity.WARNING,
        summary=f"new host key of {device.name} trusted by {actor}",
        data={"old": fingerprint(old), "new": fingerprint(device.host_key), "actor": actor},
    )
    return True


def set_stored_private_key(device: Device, private_key: str) -> None:
    """Validate and encrypt a private key onto the device (not saved here)."""
    device.encrypted_private_key = encrypt_private_key(private_key)


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    duration_ms: int
    host_key_fingerprint: str | None
    error_type: str | None = None
    error: str | None = None


def check_connection(device: Device) -> ConnectionTest:
    """Open a fresh connection and run `true`: proves address, key and host key, stores nothing
    but the outcome (contact or failure) on the device."""
    from collectors.engine import open_connection  # the engine depends on us, not the reverse

    started = time.monotonic()
    try:
        conn = open_connection(device, fresh=True)
        try:
            result = conn.run("true\n", settings.SSH_CONNECT_TIMEOUT)
        finally:
            conn.close()
    except TransportError as e:
        from collectors.engine import note_transport_error

        note_transport_error(device, e)
        return ConnectionTest(
            False, int((time.monotonic() - started) * 1000), None, e.error_type, str(e)
        )
    key = conn.host_key
    note_contact(device, host_key=key)
    return ConnectionTest(
        result.exit_code == 0,
        int((time.monotonic() - started) * 1000),
        fingerprint(key) if key else None,
        None if result.exit_code == 0 else "command_failed",
        None if result.exit_code == 0 else f"`true` exited with {result.exit_code}",
    )
