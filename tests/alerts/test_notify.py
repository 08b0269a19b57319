"""Delivery to a real HTTP receiver on 127.0.0.1: the webhook's JSON and HMAC signature, ntfy's
text and headers, and failures recorded as attempts."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest
from django.utils import timezone

from collectors.alerts.models import (
    Alert,
    AlertRule,
    AttemptStatus,
    Channel,
    ChannelKind,
    NotificationAttempt,
)
from collectors.alerts.notify import deliver
from collectors.alerts.tasks import retry_delay
from collectors.models import Severity
from devices.models import Device
from tests.alerts.conftest import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(nas: Device, pool_rule: AlertRule) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        rule=pool_rule, device=nas, subject="pool:tank", severity=Severity.WARNING,
        summary="nas: pool tank is DEGRADED (95 °C somewhere)", first_fired_at=now,
        last_fired_at=now,
    )  # fmt: skip


def test_the_webhook_gets_the_alert_as_json_signed_with_the_channel_secret(
    alert: Alert, webhook: Channel, receiver: Receiver, settings
) -> None:
    settings.PUBLIC_URL = "https://infra.example.org/"
    # when
    attempt = deliver(alert.pk, webhook.pk, "firing")
    # then
    assert attempt is not None and attempt.status == AttemptStatus.OK
    assert attempt.http_status == 200 and attempt.attempt == 1
    (got,) = receiver.on("/hook")
    expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Infra-Signature"] == f"sha256={expected}"
    body = got.json()
    assert body["alert"] == alert.pk and body["rule"] == "pool unhealthy"
    assert (body["device"], body["severity"], body["state"]) == ("nas", "warning", "firing")
    assert body["summary"] == alert.summary and body["since"] == alert.first_fired_at.isoformat()
    assert (
        body["url"] == f"https://infra.example.org/admin/devices/device/{alert.device_id}/change/"
    )


def test_a_webhook_without_a_secret_is_sent_unsigned(
    alert: Alert, webhook: Channel, receiver: Receiver
) -> None:
    Channel.objects.filter(pk=webhook.pk).update(secret="")
    deliver(alert.pk, webhook.pk, "firing")
    assert "X-Infra-Signature" not in receiver.on("/hook")[0].headers


def test_ntfy_gets_the_text_with_title_priority_and_tags(
    alert: Alert, ntfy: Channel, receiver: Receiver
) -> None:
    attempt = deliver(alert.pk, ntfy.pk, "firing")
    assert attempt is not None and attempt.status == AttemptStatus.OK
    (got,) = receiver.on("/alerts")
    assert got.headers["Title"] == "WARNING: pool unhealthy on nas"
    assert (got.headers["Priority"], got.headers["Tags"]) == ("4", "warning")
    text = got.body.decode()
    assert text.startswith(alert.summary) and "Since " in text  # °C survives in the body


def test_a_resolution_is_told_as_such(alert: Alert, ntfy: Channel, receiver: Receiver) -> None:
    deliver(alert.pk, ntfy.pk, "resolved")
    got = receiver.on("/alerts")[0]
    assert got.headers["Title"].startswith("Resolved: ")
    assert got.headers["Priority"] == "3"


def test_a_failing_answer_is_recorded_with_its_status(
    alert: Alert, webhook: Channel, receiver: Receiver
) -> None:
    receiver.statuses = [500, 200]
    first = deliver(alert.pk, webhook.pk, "firing", attempt=1)
    second = deliver(alert.pk, webhook.pk, "firing", attempt=2)
    assert first is not None and second is not None
    assert (first.status, first.http_status) == (AttemptStatus.FAILED, 500)
    assert "HTTP 500" in first.error
    assert (second.status, second.attempt) == (AttemptStatus.OK, 2)
    assert NotificationAttempt.objects.filter(alert=alert).count() == 2


def test_an_unreachable_channel_is_a_recorded_failure_not_an_exception(
    alert: Alert, db: None
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = Channel.objects.create(name="dead", kind=ChannelKind.WEBHOOK,
                                  url=f"http://127.0.0.1:{port}/x")  # fmt: skip
    attempt = deliver(alert.pk, dead.pk, "firing")
    assert attempt is not None and attempt.status == AttemptStatus.FAILED
    assert attempt.http_status is None and "refused" in attempt.error.lower()


def test_a_disabled_channel_or_a_deleted_alert_sends_nothing(
    alert: Alert, webhook: Channel, receiver: Receiver
) -> None:
    Channel.objects.filter(pk=webhook.pk).update(enabled=False)
    assert deliver(alert.pk, webhook.pk, "firing") is None
    Channel.objects.filter(pk=webhook.pk).update(enabled=True)
    assert deliver(alert.pk + 1000, webhook.pk, "firing") is None
    assert receiver.received == []


def test_a_test_notification_needs_no_alert(webhook: Channel, receiver: Receiver) -> None:
    attempt = deliver(None, webhook.pk, "test")
    assert attempt is not None and attempt.status == AttemptStatus.OK and attempt.alert is None
    assert receiver.on("/hook")[0].json()["state"] == "test"


def test_retries_back_off_doubling_up_to_a_cap(settings) -> None:
    settings.NOTIFY_RETRY_BACKOFF_SECONDS = 30
    assert [retry_delay(n) for n in (0, 1, 2, 6, 20)] == [30, 60, 120, 1920, 1920]
