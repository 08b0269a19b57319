"""Email (Django's locmem backend) and Gotify (a real local receiver) channels, quiet hours that
defer non-critical notifications to their end, and metric rules and channels over the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from collectors.alerts.engine import notify, release_deferred
from collectors.alerts.models import (
    Alert,
    AlertRule,
    AttemptStatus,
    Channel,
    ChannelKind,
    NotificationAttempt,
)
from collectors.alerts.notify import deliver
from collectors.models import Severity
from devices.models import Device
from tests.alerts.conftest import NotifyQueue, Receiver

pytestmark = pytest.mark.django_db

# 23:30 in Paris in winter: inside 22:00-07:00, which ends at 06:00 UTC the next morning
NIGHT = dt.datetime(2026, 11, 25, 22, 30, tzinfo=dt.UTC)
MORNING = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def alert(nas: Device, pool_rule: AlertRule) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        rule=pool_rule, device=nas, subject="mount:/srv", severity=Severity.WARNING,
        summary="nas: filesystem /srv used 95 % (> 90 %)", value=95.0, first_fired_at=now,
        last_fired_at=now,
    )  # fmt: skip


def test_email_goes_through_djangos_backend_to_every_recipient(alert: Alert, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERTS_EMAIL_FROM = "infra@example.org"
    settings.PUBLIC_URL = "https://infra.example.org"
    channel = Channel.objects.create(name="mail", kind=ChannelKind.EMAIL,
                                     recipients=["ops@example.org", "me@example.org"])  # fmt: skip
    # when
    attempt = deliver(alert.pk, channel.pk, "firing")
    # then
    assert attempt is not None and attempt.status == AttemptStatus.OK
    assert attempt.http_status is None
    (sent,) = mail.outbox
    assert sent.subject == "WARNING: pool unhealthy on nas"
    assert sent.to == ["ops@example.org", "me@example.org"]
    assert sent.from_email == "infra@example.org"
    assert alert.summary in sent.body and "Since " in sent.body
    assert f"https://infra.example.org/admin/devices/device/{alert.device_id}/change/" in sent.body


def test_an_email_that_cannot_be_sent_is_a_recorded_failure(alert: Alert, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    channel = Channel.objects.create(name="mail", kind=ChannelKind.EMAIL, recipients=["a@b.c"])
    attempt = deliver(alert.pk, channel.pk, "firing")
    assert attempt is not None and attempt.status == AttemptStatus.FAILED
    assert "refused" in attempt.error.lower()


def test_gotify_gets_title_message_and_priority_with_the_app_token(
    alert: Alert, receiver: Receiver
) -> None:
    channel = Channel.objects.create(name="gotify", kind=ChannelKind.GOTIFY,
                                     url=receiver.url("/gotify/"), secret="AbC.123")  # fmt: skip
    # when
    attempt = deliver(alert.pk, channel.pk, "firing")
    # then
    assert attempt is not None and attempt.status == AttemptStatus.OK
    (got,) = receiver.received
    assert got.path == "/gotify/message?token=AbC.123"
    body = got.json()
    assert body["title"] == "WARNING: pool unhealthy on nas"
    assert body["message"].startswith(alert.summary)
    assert body["priority"] == 5
    assert body["extras"]["client::notification"]["click"]["url"].endswith(
        f"/admin/devices/device/{alert.device_id}/change/"
    )
    deliver(alert.pk, channel.pk, "resolved")
    assert receiver.received[1].json()["priority"] == 2


@pytest.fixture
def quiet(receiver: Receiver, db: None) -> Channel:
    return Channel.objects.create(name="phone", kind=ChannelKind.NTFY, url=receiver.url("/n"),
                                  quiet_start=dt.time(22), quiet_end=dt.time(7),
                                  quiet_timezone="Europe/Paris")  # fmt: skip


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    def run(fn: Callable[..., Any], *args: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args)

    return run


def test_quiet_hours_defer_a_warning_to_the_morning_and_send_only_the_latest(
    alert: Alert, quiet: Channel, notify_queue: NotifyQueue, committed: Callable[..., Any]
) -> None:
    # when a warning fires and is reminded at night
    committed(notify, alert, "firing", NIGHT)
    committed(notify, alert, "repeat", NIGHT + dt.timedelta(hours=4))
    # then nothing is sent, both are recorded as deferred until the morning
    assert notify_queue.take() == []
    deferred = NotificationAttempt.objects.filter(status=AttemptStatus.DEFERRED)
    assert [(d.reason, d.deferred_until) for d in deferred.order_by("at")] == [
        ("firing", MORNING), ("repeat", MORNING)]  # fmt: skip
    # still night: the reminder tick keeps them
    assert committed(release_deferred, MORNING - dt.timedelta(minutes=1)) == 0
    # when the quiet hours are over, the newest one goes out, once
    assert committed(release_deferred, MORNING) == 1
    assert notify_queue.take() == [(alert.pk, quiet.pk, "repeat")]
    assert committed(release_deferred, MORNING + dt.timedelta(minutes=1)) == 0
    assert not deferred.filter(released_at__isnull=True).exists()


def test_a_condition_that_came_and_went_during_the_night_is_not_told_in_the_morning(
    alert: Alert, quiet: Channel, notify_queue: NotifyQueue, committed: Callable[..., Any]
) -> None:
    committed(notify, alert, "firing", NIGHT)
    committed(notify, alert, "resolved", NIGHT + dt.timedelta(hours=1))
    assert committed(release_deferred, MORNING) == 0
    assert notify_queue.take() == []


def test_critical_alerts_bypass_quiet_hours_unless_the_channel_says_otherwise(
    alert: Alert, quiet: Channel, notify_queue: NotifyQueue, committed: Callable[..., Any]
) -> None:
    Alert.objects.filter(pk=alert.pk).update(severity=Severity.CRITICAL)
    alert.refresh_from_db()
    committed(notify, alert, "firing", NIGHT)
    assert notify_queue.take() == [(alert.pk, quiet.pk, "firing")]
    Channel.objects.filter(pk=quiet.pk).update(critical_bypasses=False)
    committed(notify, alert, "repeat", NIGHT)
    assert notify_queue.take() == []
    # outside quiet hours everything goes at once
    committed(notify, alert, "repeat", MORNING + dt.timedelta(hours=3))
    assert notify_queue.take() == [(alert.pk, quiet.pk, "repeat")]


def test_a_metric_rule_is_created_over_the_api_and_checked_like_in_the_admin(
    operator_client: APIClient, viewer_client: APIClient
) -> None:
    rule = {"name": "srv almost full", "rule_type": "metric", "metric": "fs_used_pct",
            "comparison": ">", "threshold": 90, "clear_threshold": 85, "for_minutes": 10,
            "subject_pattern": "/srv*", "severity": "critical", "repeat_minutes": 120}  # fmt: skip
    assert viewer_client.post("/api/alert-rules/", rule, format="json").status_code == 403
    # when
    created = operator_client.post("/api/alert-rules/", rule, format="json")
    # then
    assert created.status_code == 201, created.json()
    assert {k: created.json()[k] for k in rule} == rule | {"threshold": 90.0,
                                                           "clear_threshold": 85.0}  # fmt: skip
    # and a clear threshold past the threshold is refused, by field
    bad = operator_client.patch(f"/api/alert-rules/{created.json()['id']}/",
                                {"clear_threshold": 95}, format="json")  # fmt: skip
    assert bad.status_code == 400 and "clear_threshold" in bad.json()


def test_channels_with_recipients_and_quiet_hours_over_the_api(operator_client: APIClient) -> None:
    email = {"name": "mail", "kind": "email", "recipients": ["ops@example.org"],
             "quiet_start": "22:00:00", "quiet_end": "07:00:00",
             "quiet_timezone": "Europe/Paris", "critical_bypasses": True}  # fmt: skip
    created = operator_client.post("/api/channels/", email, format="json")
    assert created.status_code == 201, created.json()
    assert {k: created.json()[k] for k in email} == email
    no_one = operator_client.post("/api/channels/", {"name": "x", "kind": "email"}, format="json")
    assert no_one.status_code == 400 and "recipients" in no_one.json()
    nowhere = operator_client.post("/api/channels/", email | {"name": "y",
                                   "quiet_timezone": "Mars/Olympus"}, format="json")  # fmt: skip
    assert nowhere.status_code == 400 and "quiet_timezone" in nowhere.json()
