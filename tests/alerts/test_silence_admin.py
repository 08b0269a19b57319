"""The admin's "silence" action on the alert list: an intermediate page asks how long and why,
then one silence per rule and device of the selected alerts, remembered with who made it; the
alerts are marked silenced and stay quiet when they fire again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from collectors.alerts.engine import fire
from collectors.alerts.models import Alert, AlertRule, AlertState, Channel, Silence
from collectors.models import Severity
from devices.models import Device
from tests.alerts.conftest import NotifyQueue

pytestmark = pytest.mark.django_db

ALERTS = "/admin/collectors/alert/"


@pytest.fixture
def admin_client() -> tuple[Client, User]:
    user = User.objects.create_superuser("root", password="pw-123-root")
    client = Client()
    client.force_login(user)
    return client, user


def open_alert(rule: AlertRule, device: Device, subject: str) -> Alert:
    now = timezone.now()
    return Alert.objects.create(rule=rule, device=device, subject=subject,
                                severity=Severity.WARNING, summary=f"{device.name}: {subject}",
                                first_fired_at=now, last_fired_at=now)  # fmt: skip


def silence(client: Client, alerts: list[Alert], **form: Any) -> Any:
    return client.post(ALERTS, {"action": "silence", "_selected_action": [a.pk for a in alerts],
                                **form})  # fmt: skip


def test_silencing_asks_how_long_and_why_then_makes_one_silence_per_rule_and_device(
    admin_client: tuple[Client, User], nas: Device, pool_rule: AlertRule, webhook: Channel,
    notify_queue: NotifyQueue, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    client, user = admin_client
    backup = Device.objects.create(name="backup", address="127.0.0.2")
    tank, usb = open_alert(pool_rule, nas, "pool:tank"), open_alert(pool_rule, nas, "pool:usb")
    other = open_alert(pool_rule, backup, "pool:tank")
    # when the action is chosen on three alerts
    page = silence(client, [tank, usb, other])
    # then a page asks how long and why, listing them, and nothing is silenced yet
    assert page.status_code == 200
    text = page.content.decode()
    assert "Silence alerts" in text and "nas: pool:usb" in text and 'name="reason"' in text
    assert not Silence.objects.exists()
    # when it is filled in
    before = timezone.now()
    response = silence(client, [tank, usb, other], apply="Silence", duration="240",
                       reason="swapping the HBA")  # fmt: skip
    after = timezone.now()
    # then one silence per rule and device, by whom and why, for four hours
    assert response.status_code == 302
    made = Silence.objects.order_by("device__name")
    assert [(s.rule, s.device, s.reason, s.created_by) for s in made] == [
        (pool_rule, backup, "swapping the HBA", user), (pool_rule, nas, "swapping the HBA", user)
    ]  # fmt: skip
    for s in made:
        assert before + dt.timedelta(hours=4) <= s.until <= after + dt.timedelta(hours=4)
    assert set(Alert.objects.values_list("silenced", flat=True)) == {True}
    # and when the pool fires again, it is recorded but nobody is told
    with django_capture_on_commit_callbacks(execute=True):
        again = fire(pool_rule, nas, "pool:tank", severity=Severity.CRITICAL,
                     summary="nas: pool tank is FAULTED", now=timezone.now())  # fmt: skip
    assert again.pk == tank.pk and again.severity == Severity.CRITICAL and again.silenced
    assert notify_queue.take() == []


def test_a_silence_until_a_given_time(
    admin_client: tuple[Client, User], nas: Device, pool_rule: AlertRule
) -> None:
    client, _ = admin_client
    alert = open_alert(pool_rule, nas, "pool:tank")
    silence(client, [alert], apply="Silence", until="2030-01-02 08:00", reason="until the move")
    assert Silence.objects.get().until == dt.datetime(2030, 1, 2, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"reason": "why not"}, "Give either a duration or an end time."),
        ({"duration": "60", "until": "2030-01-01 00:00", "reason": "both"},
         "Give either a duration or an end time."),
        ({"until": "2020-01-01 00:00", "reason": "too late"}, "The end time is already past."),
        ({"duration": "60"}, "This field is required."),
    ],
)  # fmt: skip
def test_a_silence_without_an_end_a_reason_or_in_the_past_is_refused(
    admin_client: tuple[Client, User], nas: Device, pool_rule: AlertRule,
    form: dict[str, str], error: str,
) -> None:  # fmt: skip
    client, _ = admin_client
    alert = open_alert(pool_rule, nas, "pool:tank")
    page = silence(client, [alert], apply="Silence", **form)
    assert page.status_code == 200 and error in page.content.decode()
    assert not Silence.objects.exists()
    assert Alert.objects.get().state == AlertState.FIRING and not Alert.objects.get().silenced
