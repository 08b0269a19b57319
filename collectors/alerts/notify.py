"""Delivering one notification to one channel: the message, the HTTP call (webhook, ntfy,
Gotify), the email or the Apprise call, the recorded attempt.

Only the channel's configured URL (or recipients) is ever used. Every attempt, good or bad, is a
`NotificationAttempt` row; retrying is the Celery task's business, not this module's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from collectors.alerts import via_apprise
from collectors.alerts.models import (
    Alert,
    AttemptStatus,
    Channel,
    ChannelKind,
    NotificationAttempt,
    NotificationReason,
)
from collectors.models import Severity

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Infra-Signature"
USER_AGENT = "Infrastructor-Alerts/1"
NTFY_PRIORITY = {Severity.CRITICAL: "5", Severity.WARNING: "4", Severity.INFO: "3"}
NTFY_TAGS = {Severity.CRITICAL: "rotating_light", Severity.WARNING: "warning",
             Severity.INFO: "information_source"}  # fmt: skip
# Gotify's priorities run 0-10; Android shows a notification from 4 and makes noise from 8.
GOTIFY_PRIORITY = {Severity.CRITICAL: 8, Severity.WARNING: 5, Severity.INFO: 2}


class DeliveryError(Exception):
    """The channel did not take the notification (network error or a non-2xx answer)."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclass(frozen=True)
class Message:
    """What a notification says, whatever the channel: what, where, since when, a link."""

    title: str
    text: str
    severity: str
    payload: dict[str, Any]


def device_url(device_id: int | None) -> str | None:
    if device_id is None:
        return None
    path = reverse("admin:devices_device_change", args=[device_id])
    return f"{settings.PUBLIC_URL.rstrip('/')}{path}"


def alert_message(alert: Alert, reason: str) -> Message:
    device = alert.device.name if alert.device else None
    state = alert.state if reason != NotificationReason.RESOLVED else "resolved"
    link = device_url(alert.device_id)
    since = alert.first_fired_at.isoformat()
    payload = {
        "alert": alert.pk,
        "rule": alert.rule.name,
        "device": device,
        "subject": alert.subject,
        "severity": alert.severity,
        "summary": alert.summary,
        "since": since,
        "state": state,
        "reason": reason,
        "occurrences": alert.occurrences,
        "value": alert.value,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "url": link,
    }
    prefix: dict[str, str] = {
        NotificationReason.RESOLVED: "Resolved",
        NotificationReason.REPEAT: "Still firing",
    }
    title = f"{prefix.get(reason, alert.severity.upper())}: {alert.rule.name}"
    if device:
        title += f" on {device}"
    lines = [alert.summary, f"Since {alert.first_fired_at:%Y-%m-%d %H:%M} UTC"]
    if alert.occurrences > 1:
        lines.append(f"Seen {alert.occurrences} times")
    if link:
        lines.append(link)
    severity = Severity.INFO if reason == NotificationReason.RESOLVED else alert.severity
    return Message(title=title, text="\n".join(lines), severity=severity, payload=payload)


def probe_message(channel: Channel) -> Message:
    now = timezone.now()
    return Message(
        title="Infrastructor test notification",
        text=f"Channel {channel.name} works ({now:%Y-%m-%d %H:%M} UTC).",
        severity=Severity.INFO,
        payload={"alert": None, "rule": None, "device": None, "severity": Severity.INFO,
                 "summary": f"test notification for channel {channel.name}",
                 "since": now.isoformat(), "state": "test", "reason": "test", "url": None},
    )  # fmt: skip


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _header_safe(text: str) -> str:
    """HTTP headers are Latin-1 on the wire; summaries may hold anything (°C, names)."""
    return text.encode("latin-1", "replace").decode("latin-1").replace("\n", " ")[:250]


def _request(channel: Channel, message: Message) -> urllib.request.Request:
    if channel.kind == ChannelKind.WEBHOOK:
        body = json.dumps(message.payload).encode()
        headers = {"Content-Type": "application/json"}
        if channel.secret:
            headers[SIGNATURE_HEADER] = sign(channel.secret, body)
    elif channel.kind == ChannelKind.GOTIFY:
        body = json.dumps(gotify_payload(message)).encode()
        headers = {"Content-Type": "application/json"}
        query = urllib.parse.urlencode({"token": channel.secret})
        url = f"{channel.url.rstrip('/')}/message?{query}"
        headers["User-Agent"] = USER_AGENT
        return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    elif channel.kind == ChannelKind.NTFY:
        body = message.text.encode()
        headers = {
            "Title": _header_safe(message.title),
            "Priority": NTFY_PRIORITY.get(Severity(message.severity), "3"),
            "Tags": NTFY_TAGS.get(Severity(message.severity), "information_source"),
            "Content-Type": "text/plain; charset=utf-8",
        }
        if message.payload.get("url"):
            headers["Click"] = message.payload["url"]
        if channel.secret:
            headers["Authorization"] = f"Bearer {channel.secret}"
    else:
        raise DeliveryError(f"unknown channel kind {channel.kind!r}")
    headers["User-Agent"] = USER_AGENT
    # post() allows http(s) URLs only (and the model's validator too).
    return urllib.request.Request(channel.url, data=body, headers=headers, method="POST")  # noqa: S310


def gotify_payload(message: Message) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": message.title,
        "message": message.text,
        "priority": GOTIFY_PRIORITY.get(Severity(message.severity), 2),
    }
    if message.payload.get("url"):
        payload["extras"] = {"client::notification": {"click": {"url": message.payload["url"]}}}
    return payload


def send_email(channel: Channel, message: Message) -> None:
    """Through Django's email backend (SMTP in production, locmem in tests)."""
    if not channel.recipients:
        raise DeliveryError("no recipients")
    try:
        send_mail(
            subject=message.title[:250].replace("\n", " "),
            message=message.text,
            from_email=settings.ALERTS_EMAIL_FROM or None,
            recipient_list=list(channel.recipients),
            fail_silently=False,
        )
    except (smtplib.SMTPException, OSError) as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from e


def send_apprise(channel: Channel, message: Message) -> None:
    """Through Apprise to every URL of the channel, within the notification timeout."""
    if not channel.secret:
        raise DeliveryError("no Apprise URLs")
    outcome = via_apprise.send(
        channel.secret, title=message.title, body=message.text, severity=message.severity,
        reason=str(message.payload.get("reason") or ""),
        timeout_s=float(settings.NOTIFY_TIMEOUT_SECONDS),
    )  # fmt: skip
    if not outcome.ok:
        raise DeliveryError(outcome.error)


def post(channel: Channel, message: Message) -> int:
    """Send; returns the HTTP status of a 2xx answer, raises DeliveryError otherwise."""
    if not channel.url.startswith(("http://", "https://")):
        raise DeliveryError("only http and https URLs are called")
    request = _request(channel, message)
    try:
        # The scheme is checked above (and by the model's validator): no file:// or ftp://.
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.NOTIFY_TIMEOUT_SECONDS
        ) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"HTTP {e.code} {e.reason}", http_status=e.code) from e
    except (urllib.error.URLError, OSError) as e:
        raise DeliveryError(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from e


def deliver(
    alert_id: int | None, channel_id: int, reason: str, *, attempt: int = 1
) -> NotificationAttempt | None:
    """Try once to tell one channel about one alert (or send a test when `alert_id` is None).
    Returns the recorded attempt, or None when the alert or channel is gone or switched off."""
    channel = Channel.objects.filter(pk=channel_id, enabled=True).first()
    if channel is None:
        return None
    alert = None
    if alert_id is not None:
        alert = Alert.objects.select_related("rule", "device").filter(pk=alert_id).first()
        if alert is None:
            return None
    message = alert_message(alert, reason) if alert else probe_message(channel)
    started = time.monotonic()
    status, http_status, error = AttemptStatus.OK, None, ""
    try:
        if channel.kind == ChannelKind.EMAIL:
            send_email(channel, message)
        elif channel.kind == ChannelKind.APPRISE:
            send_apprise(channel, message)
        else:
            http_status = post(channel, message)
    except DeliveryError as e:
        status, http_status, error = AttemptStatus.FAILED, e.http_status, str(e)[:500]
        log.warning("notification to %s failed (attempt %d): %s", channel.name, attempt, error)
    return NotificationAttempt.objects.create(
        alert=alert, channel=channel, reason=reason, attempt=attempt, status=status,
        http_status=http_status, error=error, at=timezone.now(),
        duration_ms=int((time.monotonic() - started) * 1000),
    )  # fmt: skip
