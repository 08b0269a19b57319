"""The `alerts` topic: an alert opening, being acknowledged and resolving reaches its
subscribers live; a repeat firing of an alert already open does not."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import transaction

from collectors.alerts.engine import acknowledge_alert
from collectors.alerts.models import Alert, AlertRule
from collectors.events import record_event
from collectors.models import EventKind, Severity
from devices.models import Device
from tests.stream.conftest import authenticated, drain, run, subscribe, until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pool_rule(db: None) -> AlertRule:
    AlertRule.objects.update(enabled=False)  # the built-in ones
    return AlertRule.objects.create(
        name="pool unhealthy", event_kind=EventKind.ZFS, event_types=["pool.degraded"],
        resolve_on=["pool.recovered"], min_severity=Severity.WARNING, repeat_minutes=60,
    )  # fmt: skip


def pool_event(device: Device, type_: str, severity: str) -> None:
    with transaction.atomic():
        record_event(
            device=device, kind=EventKind.ZFS, type=type_, severity=severity,
            summary=f"tank: {type_}", data={"pool": "tank"},
        )  # fmt: skip


def test_an_alert_opening_acknowledged_and_resolved_is_streamed_once_each(
    read_token: str, device: Device, pool_rule: AlertRule, reader: User
) -> None:
    async def scenario() -> None:
        async with authenticated(read_token) as client:
            await subscribe(client, "alerts")
            # when the pool degrades, twice (the second is a repeat of an open alert)
            await sync_to_async(pool_event)(device, "pool.degraded", Severity.CRITICAL)
            opened = (await until(client, lambda m: m["type"] == "alert"))[-1]
            await sync_to_async(pool_event)(device, "pool.degraded", Severity.CRITICAL)
            assert [m for m in await drain(client) if m["type"] == "alert"] == []
            # then acknowledged, then resolved
            alert = await sync_to_async(Alert.objects.get)()
            await sync_to_async(acknowledge_alert)(alert, user=reader, note="on it")
            acked = (await until(client, lambda m: m["type"] == "alert"))[-1]
            await sync_to_async(pool_event)(device, "pool.recovered", Severity.INFO)
            resolved = (await until(client, lambda m: m["type"] == "alert"))[-1]
            # then
            assert opened["topic"] == "alerts"
            assert opened["data"] | {"first_fired_at": None, "last_fired_at": None} == {
                "id": alert.pk, "rule": pool_rule.pk, "rule_name": "pool unhealthy",
                "device": device.pk, "device_name": "nas", "subject": alert.subject,
                "state": "firing", "severity": "critical", "summary": "tank: pool.degraded",
                "value": None, "occurrences": 1, "first_fired_at": None,
                "last_fired_at": None, "resolved_at": None,
            }  # fmt: skip
            assert (acked["data"]["state"], acked["data"]["occurrences"]) == ("acknowledged", 2)
            assert resolved["data"]["state"] == "resolved" and resolved["data"]["resolved_at"]

    run(scenario)
