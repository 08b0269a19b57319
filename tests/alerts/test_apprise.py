"""Apprise channels: delivery through Apprise's own json:// and form:// services to a real
receiver on 127.0.0.1, URLs checked on save and never shown back, routing, quiet hours, the
admin's test action, and a dead URL retried by a real Celery worker and recorded.

Only loopback URLs are ever given to Apprise here: no public service is called."""

from __future__ import annotations

import datetime as dt
import socket
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from collectors.alerts.engine import notify
from collectors.alerts.models import (
    Alert,
    AlertRule,
    AttemptStatus,
    Channel,
    ChannelKind,
    NotificationAttempt,
)
from collectors.alerts.notify import deliver
from collectors.alerts.tasks import enqueue_notification
from collectors.models import Severity
from devices.models import Device
from tests.alerts.conftest import NotifyQueue, Receiver
from tests.conftest import WorkerProcess, wait_until

DISCORD = "discord://123456789/abcdefghijklmnop"  # never called: only checked and masked
NIGHT = dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def json_url(receiver: Receiver, path: str = "/apprise") -> str:
    return f"json://127.0.0.1:{receiver.port}{path}"


@pytest.fixture
def alert(nas: Device, pool_rule: AlertRule) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        rule=pool_rule, device=nas, subject="pool:tank", severity=Severity.CRITICAL,
        summary="nas: pool tank is FAULTED", first_fired_at=now, last_fired_at=now,
    )  # fmt: skip


@pytest.fixture
def apprise(db: None, receiver: Receiver) -> Channel:
    return Channel.objects.create(name="chat", kind=ChannelKind.APPRISE, secret=json_url(receiver))


@pytest.mark.django_db
def test_apprise_delivers_title_text_and_type_to_every_url_of_the_channel(
    alert: Alert, receiver: Receiver, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://infra.example.org"
    # given one channel with two Apprise URLs: JSON and a form post
    form = f"form://127.0.0.1:{receiver.port}/form"
    channel = Channel.objects.create(
        name="chat", kind=ChannelKind.APPRISE, secret=f"{json_url(receiver)}, {form}"
    )
    # when
    attempt = deliver(alert.pk, channel.pk, "firing")
    # then both got it once, and it is recorded as delivered
    assert attempt is not None and attempt.status == AttemptStatus.OK, attempt and attempt.error
    assert attempt.http_status is None and attempt.error == ""
    (got,) = receiver.on("/apprise")
    body = got.json()
    assert body["title"] == "CRITICAL: pool unhealthy on nas"
    assert body["message"].splitlines()[0] == "nas: pool tank is FAULTED"
    assert (
        f"https://infra.example.org/admin/devices/device/{alert.device_id}/change/"
        in (body["message"])
    )
    assert body["type"] == "failure"  # Apprise's word for critical
    (posted,) = receiver.on("/form")
    fields = urllib.parse.parse_qs(posted.body.decode())
    assert fields["title"] == ["CRITICAL: pool unhealthy on nas"]


@pytest.mark.django_db
def test_a_resolution_is_a_success_and_a_warning_a_warning(
    alert: Alert, apprise: Channel, receiver: Receiver
) -> None:
    deliver(alert.pk, apprise.pk, "resolved")
    Alert.objects.filter(pk=alert.pk).update(severity=Severity.WARNING)
    deliver(alert.pk, apprise.pk, "repeat")
    first, second = (r.json() for r in receiver.on("/apprise"))
    assert (first["type"], first["title"]) == ("success", "Resolved: pool unhealthy on nas")
    assert (second["type"], second["title"]) == ("warning", "Still firing: pool unhealthy on nas")


@pytest.mark.django_db
def test_a_url_nobody_answers_is_a_recorded_failure_naming_the_service(
    alert: Alert, receiver: Receiver
) -> None:
    # given a channel whose second URL is a closed port
    dead = f"json://127.0.0.1:{closed_port()}/x"
    channel = Channel.objects.create(
        name="half", kind=ChannelKind.APPRISE, secret=f"{json_url(receiver)} {dead}"
    )
    # when
    attempt = deliver(alert.pk, channel.pk, "firing")
    # then the live URL got it, the attempt failed (to be retried) and says why
    assert attempt is not None and attempt.status == AttemptStatus.FAILED
    assert attempt.error.startswith("JSON: ") and "connection error" in attempt.error.lower()
    assert len(receiver.on("/apprise")) == 1


@pytest.mark.django_db
def test_urls_are_checked_on_save_write_only_and_shown_masked(operator_client: APIClient) -> None:
    # when a URL Apprise does not understand is given
    bad = {"name": "chat", "kind": "apprise", "secret": f"{DISCORD} nosuchservice://abc"}
    response = operator_client.post("/api/channels/", bad, format="json")
    # then it is refused with a clear error on that field
    assert response.status_code == 400
    assert "Apprise does not understand the nosuchservice:// URL" in response.json()["secret"][0]
    assert not Channel.objects.exists()
    # and none at all is refused too
    empty = {"name": "chat", "kind": "apprise", "secret": ""}
    response = operator_client.post("/api/channels/", empty, format="json")
    assert "at least one Apprise URL" in response.json()["secret"][0]
    # when the URLs are good
    response = operator_client.post("/api/channels/", bad | {"secret": DISCORD}, format="json")
    # then they are stored, never returned, and shown only as Apprise masks them
    assert response.status_code == 201, response.content
    body = response.json()
    assert "secret" not in body and body["has_secret"] is True
    assert body["apprise_urls"] == ["discord://1...9/a...p/"]
    assert "abcdefghijklmnop" not in response.content.decode()
    channel = Channel.objects.get()
    assert channel.secret == DISCORD
    # and an edit that leaves the URLs out keeps them
    response = operator_client.patch(f"/api/channels/{channel.pk}/", {"enabled": False},
                                     format="json")  # fmt: skip
    assert response.status_code == 200 and Channel.objects.get().secret == DISCORD


@pytest.mark.django_db
def test_routing_and_quiet_hours_apply_to_apprise_channels(
    alert: Alert, apprise: Channel, webhook: Channel, notify_queue: NotifyQueue,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # given a rule routed to the Apprise channel only
    alert.rule.channels.set([apprise])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        notify(alert, "firing", NIGHT)
    # then only it is queued
    assert notify_queue.take() == [(alert.pk, apprise.pk, "firing")]
    # given quiet hours at night that critical alerts do not bypass
    Channel.objects.filter(pk=apprise.pk).update(
        quiet_start=dt.time(22), quiet_end=dt.time(7), critical_bypasses=False
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        notify(alert, "firing", NIGHT)
    # then it waits for the morning
    assert notify_queue.take() == []
    deferred = NotificationAttempt.objects.get(channel=apprise)
    assert deferred.status == AttemptStatus.DEFERRED
    assert deferred.deferred_until == dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_admin_sends_a_test_through_apprise_and_never_shows_the_urls(
    apprise: Channel, receiver: Receiver
) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-123-root"))
    # when
    body = {"action": "send_test", "_selected_action": [apprise.pk]}
    response = client.post("/admin/collectors/channel/", body, follow=True)
    # then
    assert "Chat: delivered." in response.content.decode()
    assert receiver.on("/apprise")[0].json()["title"] == "Infrastructor test notification"
    assert NotificationAttempt.objects.get().status == AttemptStatus.OK
    page = client.get(f"/admin/collectors/channel/{apprise.pk}/change/").content.decode()
    assert f"json://127.0.0.1:{receiver.port}/apprise" in page  # json:// has nothing to elide
    # and a Discord URL's tokens are not on the page
    Channel.objects.filter(pk=apprise.pk).update(secret=DISCORD)
    page = client.get(f"/admin/collectors/channel/{apprise.pk}/change/").content.decode()
    assert "discord://1...9/a...p/" in page and "abcdefghijklmnop" not in page


@pytest.mark.django_db
def test_the_admin_form_refuses_a_url_apprise_does_not_understand() -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-123-root"))
    form = {"name": "chat", "kind": "apprise", "url": "", "secret": "nosuchservice://abc",
            "recipients": "", "enabled": "on", "is_default": "on",
            "quiet_timezone": "UTC", "critical_bypasses": "on"}  # fmt: skip
    response = client.post("/admin/collectors/channel/add/", form)
    assert response.status_code == 200
    assert "Apprise does not understand the nosuchservice:// URL" in response.content.decode()
    assert not Channel.objects.exists()
    response = client.post("/admin/collectors/channel/add/", form | {"secret": DISCORD})
    assert response.status_code == 302 and Channel.objects.get().secret == DISCORD


@pytest.mark.integration
def test_a_dead_apprise_url_is_retried_by_the_worker_and_every_attempt_recorded(
    transactional_db: None, nas: Device, pool_rule: AlertRule, receiver: Receiver,
    alert_worker: WorkerProcess,
) -> None:  # fmt: skip
    # given a live Apprise channel and one pointing at a closed port
    now = timezone.now()
    alert = Alert.objects.create(rule=pool_rule, device=nas, subject="pool:tank",
                                 severity=Severity.WARNING, summary="nas: pool tank is DEGRADED",
                                 first_fired_at=now, last_fired_at=now)  # fmt: skip
    live = Channel.objects.create(name="live", kind=ChannelKind.APPRISE, secret=json_url(receiver))
    dead = Channel.objects.create(name="dead", kind=ChannelKind.APPRISE,
                                  secret=f"json://127.0.0.1:{closed_port()}/x")  # fmt: skip
    # when both are sent through the worker
    enqueue_notification(alert.pk, live.pk, "firing")
    enqueue_notification(alert.pk, dead.pk, "firing")
    # then the live one arrives once, the dead one is tried 1 + 2 times, each recorded
    wait_until(lambda: len(receiver.on("/apprise")) == 1)
    tried = wait_until(
        lambda: list(NotificationAttempt.objects.filter(channel=dead).order_by("attempt"))
        if NotificationAttempt.objects.filter(channel=dead).count() == 3 else None
    )  # fmt: skip
    assert [(a.attempt, a.status) for a in tried] == [(n, AttemptStatus.FAILED) for n in (1, 2, 3)]
    assert all("connection error" in a.error.lower() for a in tried)
    assert NotificationAttempt.objects.get(channel=live).status == AttemptStatus.OK
    assert receiver.on("/apprise")[0].json()["title"] == "WARNING: pool unhealthy on nas"


def test_the_openapi_schema_names_the_apprise_kind_and_its_masked_urls(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schemas = yaml.safe_load(out.read_text())["components"]["schemas"]
    assert "apprise" in schemas["ChannelKindEnum"]["enum"]
    urls = schemas["Channel"]["properties"]["apprise_urls"]
    assert (urls["type"], urls["items"]["type"], urls["readOnly"]) == ("array", "string", True)
