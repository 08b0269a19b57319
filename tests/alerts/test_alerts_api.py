"""The alerting API and admin: filters, acknowledge (operator scope), write-only secrets,
silences that name something, and the channel's "send test" action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from collectors.alerts.models import (
    Alert,
    AlertRule,
    AlertState,
    AttemptStatus,
    Channel,
    NotificationAttempt,
    Silence,
)
from collectors.models import Severity
from devices.models import Device
from tests.alerts.conftest import Receiver

pytestmark = pytest.mark.django_db


def open_alert(rule: AlertRule, device: Device, subject: str = "pool:tank") -> Alert:
    now = timezone.now()
    return Alert.objects.create(rule=rule, device=device, subject=subject,
                                severity=Severity.WARNING, summary=f"{subject} degraded",
                                first_fired_at=now, last_fired_at=now)  # fmt: skip


def test_alerts_are_listed_and_filtered_by_state_device_and_rule(
    nas: Device, pool_rule: AlertRule, viewer_client: APIClient
) -> None:
    firing = open_alert(pool_rule, nas)
    done = open_alert(pool_rule, nas, "pool:backup")
    Alert.objects.filter(pk=done.pk).update(state=AlertState.RESOLVED)
    # when / then
    ids = lambda **q: [a["id"] for a in viewer_client.get("/api/alerts/", q).json()["results"]]  # noqa: E731
    assert sorted(ids()) == sorted([firing.pk, done.pk])
    assert ids(state="firing") == [firing.pk]
    assert ids(open="false") == [done.pk]
    assert sorted(ids(device=nas.pk, rule=pool_rule.pk)) == sorted([firing.pk, done.pk])
    row = viewer_client.get(f"/api/alerts/{firing.pk}/").json()
    assert (row["rule_name"], row["device_name"], row["state"]) == ("pool unhealthy", "nas",
                                                                    "firing")  # fmt: skip


def test_an_operator_acknowledges_with_a_note_and_a_viewer_cannot(
    nas: Device, pool_rule: AlertRule, operator_client: APIClient, viewer_client: APIClient,
    operator_user: User,
) -> None:  # fmt: skip
    alert = open_alert(pool_rule, nas)
    url = f"/api/alerts/{alert.pk}/acknowledge/"
    assert viewer_client.post(url, {"note": "mine"}, format="json").status_code == 403
    response = operator_client.post(url, {"note": "new disk ordered"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["acknowledged_by"], body["acknowledge_note"]) == (
        "acknowledged", operator_user.username, "new disk ordered")  # fmt: skip
    assert operator_client.post(url, {}, format="json").status_code == 409  # already taken


def test_channel_secrets_are_write_only(operator_client: APIClient, db: None) -> None:
    response = operator_client.post(
        "/api/channels/",
        {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "k"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "secret" not in response.json() and response.json()["has_secret"] is True
    listed = operator_client.get("/api/channels/").json()["results"][0]
    assert "secret" not in listed
    assert Channel.objects.get().secret == "k"


def test_a_channel_url_must_be_http(operator_client: APIClient, db: None) -> None:
    response = operator_client.post(
        "/api/channels/", {"name": "x", "kind": "ntfy", "url": "file:///etc/passwd"}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()


def test_a_silence_must_name_something_and_remembers_who_made_it(
    nas: Device, operator_client: APIClient, operator_user: User
) -> None:
    until = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    empty = operator_client.post("/api/silences/", {"until": until, "reason": "x"}, format="json")
    assert empty.status_code == 400
    made = operator_client.post(
        "/api/silences/", {"device": nas.pk, "until": until, "reason": "moving"}, format="json"
    )
    assert made.status_code == 201, made.content
    assert Silence.objects.get().created_by == operator_user


def test_rules_are_edited_by_operators_only(
    operator_client: APIClient, viewer_client: APIClient, db: None
) -> None:
    body = {"name": "hot drive", "event_types": ["drive.temperature_high"],
            "resolve_on": ["drive.temperature_normal"], "min_severity": "warning"}  # fmt: skip
    assert viewer_client.post("/api/alert-rules/", body, format="json").status_code == 403
    response = operator_client.post("/api/alert-rules/", body, format="json")
    assert response.status_code == 201, response.content
    assert AlertRule.objects.get(name="hot drive").resolve_on == ["drive.temperature_normal"]


def test_the_admin_sends_a_test_and_acknowledges(
    nas: Device, pool_rule: AlertRule, webhook: Channel, receiver: Receiver
) -> None:
    admin = User.objects.create_superuser("root", password="pw-123-root")
    client = Client()
    client.force_login(admin)
    # when
    response = client.post("/admin/collectors/channel/",
                           {"action": "send_test", "_selected_action": [webhook.pk]})  # fmt: skip
    # then
    assert response.status_code == 302
    assert receiver.on("/hook")[0].json()["state"] == "test"
    assert NotificationAttempt.objects.get().status == AttemptStatus.OK
    # and an alert is acknowledged from its list
    alert = open_alert(pool_rule, nas)
    client.post("/admin/collectors/alert/",
                {"action": "acknowledge", "_selected_action": [alert.pk]})  # fmt: skip
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == admin
    assert client.get(f"/admin/collectors/alert/{alert.pk}/change/").status_code == 200
    assert client.get(f"/admin/collectors/channel/{webhook.pk}/change/").status_code == 200
