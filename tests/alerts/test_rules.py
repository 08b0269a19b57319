"""Which events a rule fires on, which resolve it, which devices it covers, and what an alert is
about: plain model logic, no database."""

from __future__ import annotations

import pytest

from collectors.alerts.models import AlertRule, Silence, subject_of
from collectors.models import Event, EventKind, Severity
from devices.models import Device


def event(type_: str, severity: str = Severity.WARNING, kind: str = EventKind.ZFS,
          **data: object) -> Event:  # fmt: skip
    return Event(kind=kind, type=type_, severity=severity, summary=type_, data=data)


def rule(**fields: object) -> AlertRule:
    return AlertRule(name="r", **fields)


@pytest.mark.parametrize(
    ("fields", "evt", "fires"),
    [
        ({"event_types": ["pool.degraded"]}, event("pool.degraded"), True),
        ({"event_types": ["pool.degraded"]}, event("pool.faulted"), False),
        ({"event_types": ["pool.*"]}, event("pool.faulted", Severity.CRITICAL), True),
        ({"event_types": []}, event("anything.at_all"), True),
        ({"event_kind": EventKind.DRIVE}, event("pool.degraded"), False),
        ({"min_severity": Severity.CRITICAL}, event("pool.degraded", Severity.WARNING), False),
        ({"min_severity": Severity.WARNING}, event("container.stopped", Severity.INFO), False),
        ({"min_severity": Severity.INFO}, event("container.stopped", Severity.INFO), True),
    ],
)
def test_a_rule_fires_on_kind_type_pattern_and_at_least_its_severity(
    fields: dict[str, object], evt: Event, fires: bool
) -> None:
    assert rule(**fields).fires_on(evt) is fires


def test_a_rule_is_resolved_by_its_resolve_types_only() -> None:
    r = rule(event_types=["drive.failing", "drive.warning"], resolve_on=["drive.recovered"])
    assert r.resolved_by(event("drive.recovered", Severity.INFO, EventKind.DRIVE))
    assert not r.resolved_by(event("drive.missing", Severity.WARNING, EventKind.DRIVE))


def test_device_tag_and_site_filters_limit_a_rule_to_the_devices_they_name() -> None:
    nas = Device(pk=1, name="nas", tags=["storage"], site="home")
    web = Device(pk=2, name="web", tags=["www"], site="dc")
    assert rule().covers(nas) and rule().covers(None)
    assert rule(device_id=1).covers(nas) and not rule(device_id=1).covers(web)
    assert rule(tag="storage").covers(nas) and not rule(tag="storage").covers(web)
    assert rule(site="dc").covers(web) and not rule(site="dc").covers(nas)
    assert not rule(site="dc").covers(None)  # a filtered rule ignores device-less events


@pytest.mark.parametrize(
    ("data", "subject"),
    [
        ({"pool": "tank", "state": "DEGRADED"}, "pool:tank"),
        ({"container": "web", "container_pk": 4}, "container:web"),
        ({"drive": 7, "serial": "WD-123", "slot": "/dev/sda"}, "serial:WD-123"),
        ({"drive": 7, "serial": "", "slot": "/dev/sda"}, "drive:7"),
        ({"error_type": "timeout", "failures": 2}, ""),
    ],
)
def test_an_alert_is_about_the_pool_container_or_drive_its_event_names(
    data: dict[str, object], subject: str
) -> None:
    assert subject_of(Event(kind=EventKind.ZFS, type="x", data=data)) == subject


def test_a_silence_matches_by_device_rule_and_tag_all_of_which_must_hold() -> None:
    nas = Device(pk=1, name="nas", tags=["storage"])
    r1, r2 = AlertRule(pk=1, name="a"), AlertRule(pk=2, name="b")
    assert Silence(device_id=1).matches(r1, nas)
    assert not Silence(device_id=2).matches(r1, nas)
    assert Silence(rule_id=2).matches(r2, nas) and not Silence(rule_id=2).matches(r1, nas)
    assert Silence(tag="storage").matches(r1, nas) and not Silence(tag="www").matches(r1, nas)
    assert not Silence(device_id=1, rule_id=2).matches(r1, nas)
    assert not Silence(device_id=1).matches(r1, None)
