"""Our verdict rules (``devices.smart_assessment``), one test or table per rule.

Growth rules are tested both ways: a value above zero with no history warns, the same value
again with history does not, and a grown value does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from devices.parsers.smart import Attribute, SmartReport, make_attribute
from devices.smart_assessment import FAILED, PASSED, UNKNOWN, WARNING, assess, counter_growth

HEALTHY = SmartReport(
    device="/dev/sda", device_type="sat", model="M", serial="S", firmware="F", protocol="ATA",
    capacity_bytes=10**12, rotation_rpm=7200, ssd=False, smart_available=True,
    smart_enabled=True, smart_passed=True, sleeping=False, temperature_c=30, power_on_hours=100,
    power_cycles=5, reallocated_sectors=0, pending_sectors=0, offline_uncorrectable=0,
    crc_errors=0, reallocated_events=0, media_errors=0, percentage_used=0,
    available_spare_pct=100, available_spare_threshold_pct=10, critical_warning=0,
    exit_status=0, messages=[], attributes=[],
)  # fmt: skip


def report(**changes: Any) -> SmartReport:
    """A healthy drive's report with ``changes``."""
    return dataclasses.replace(HEALTHY, **changes)


def failing_attribute() -> Attribute:
    return make_attribute(5, "Reallocated_Sector_Ct", 9, 9, 10, "3000", None)


def test_a_healthy_drive_passes() -> None:
    assert assess(HEALTHY) == (PASSED, [])


# --- failed --------------------------------------------------------------------------------------


def test_failed_when_smartctl_health_check_failed() -> None:
    # when
    verdict, reasons = assess(report(smart_passed=False))
    # then
    assert verdict == FAILED
    assert reasons == ["smartctl overall health self-assessment FAILED"]


@pytest.mark.parametrize(
    ("attribute", "verdict"),
    [
        pytest.param(failing_attribute(), FAILED, id="value-at-or-below-threshold"),
        pytest.param(
            make_attribute(187, "Reported_Uncorrect", 100, 100, 0, "0", "now"), FAILED, id="now"
        ),
        pytest.param(make_attribute(1, "Raw_Read", 1, 1, 0, "0", None), PASSED, id="threshold-0"),
        pytest.param(make_attribute(1, "Raw_Read", 50, 1, 10, "0", "past"), PASSED, id="past"),
    ],
)
def test_failed_when_an_attribute_is_failing_now(attribute: Attribute, verdict: str) -> None:
    assert assess(report(attributes=[attribute]))[0] == verdict


def test_failed_lists_the_warnings_too() -> None:
    # when
    verdict, reasons = assess(report(smart_passed=False, reallocated_sectors=8))
    # then
    assert verdict == FAILED
    assert reasons[1] == "reallocated sectors 8"


# --- warning: growth rules -----------------------------------------------------------------------

GROWTH_FIELDS = ["reallocated_sectors", "pending_sectors", "offline_uncorrectable", "media_errors"]


@pytest.mark.parametrize("field", GROWTH_FIELDS)
def test_warning_when_a_failure_predictor_is_above_zero_without_history(field: str) -> None:
    assert assess(report(**{field: 3}))[0] == WARNING


@pytest.mark.parametrize("field", GROWTH_FIELDS)
def test_a_constant_old_value_does_not_alarm_again(field: str) -> None:
    # given
    previous = report(**{field: 3})
    # then
    assert assess(report(**{field: 3}), previous) == (PASSED, [])


@pytest.mark.parametrize("field", GROWTH_FIELDS)
def test_warning_when_a_failure_predictor_grew(field: str) -> None:
    # given
    previous = report(**{field: 3})
    # when
    verdict, reasons = assess(report(**{field: 4}), previous)
    # then
    assert verdict == WARNING
    assert "4" in reasons[0]


def test_history_without_the_value_judges_like_no_history() -> None:
    assert assess(report(pending_sectors=2), report(pending_sectors=None))[0] == WARNING


# --- warning: NVMe -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "verdict", "reason"),
    [
        (0x00, PASSED, None),
        (0x04, WARNING, "NVMe critical warning 0x04: reliability degraded by media or internal "
         "errors"),
        (0x0A, WARNING, "NVMe critical warning 0x0a: temperature outside its limits, media placed "
         "in read-only mode"),
    ],
)  # fmt: skip
def test_warning_when_nvme_critical_warning_bits_are_set(
    bits: int, verdict: str, reason: str | None
) -> None:
    # when
    got_verdict, reasons = assess(report(protocol="NVMe", critical_warning=bits))
    # then
    assert got_verdict == verdict
    assert reasons == ([reason] if reason else [])


@pytest.mark.parametrize(("spare", "verdict"), [(4, WARNING), (5, PASSED), (100, PASSED)])
def test_warning_when_available_spare_is_below_threshold(spare: int, verdict: str) -> None:
    # when
    got = assess(report(available_spare_pct=spare, available_spare_threshold_pct=5))
    # then
    assert got[0] == verdict


@pytest.mark.parametrize(("used", "verdict"), [(89, PASSED), (90, WARNING), (104, WARNING)])
def test_warning_when_percentage_used_is_high(used: int, verdict: str) -> None:
    assert assess(report(percentage_used=used))[0] == verdict


# --- warning: CRC --------------------------------------------------------------------------------


def test_crc_errors_without_history_never_alarm() -> None:
    assert assess(report(crc_errors=12)) == (PASSED, [])


def test_constant_crc_errors_do_not_alarm() -> None:
    assert assess(report(crc_errors=12), report(crc_errors=12)) == (PASSED, [])


def test_warning_when_crc_errors_grow() -> None:
    # when
    verdict, reasons = assess(report(crc_errors=13), report(crc_errors=12))
    # then
    assert verdict == WARNING
    assert reasons == ["CRC errors grew from 12 to 13 (check cable)"]


# --- unknown -------------------------------------------------------------------------------------

NO_DATA: dict[str, Any] = {"smart_passed": None, "attributes": []}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({**NO_DATA, "sleeping": True}, "drive is in standby; not woken to read SMART"),
        ({"smart_available": False, "smart_passed": None}, "SMART is unavailable on this device"),
        (NO_DATA, "no SMART health data in the output"),
        ({**NO_DATA, "messages": ["Smartctl open device: /dev/sda failed: Permission denied"]},
         "smartctl read no health data: Smartctl open device: /dev/sda failed: Permission denied"),
    ],
)  # fmt: skip
def test_unknown_when_there_is_nothing_to_judge(changes: dict[str, Any], reason: str) -> None:
    assert assess(report(**changes)) == (UNKNOWN, [reason])


def test_a_sleeping_drive_with_known_data_is_still_judged() -> None:
    assert assess(report(sleeping=True))[0] == PASSED


def test_counter_growth_names_only_the_counters_that_grew() -> None:
    before = report(reallocated_sectors=8, pending_sectors=0, crc_errors=3, percentage_used=95)
    now = report(reallocated_sectors=8, pending_sectors=2, crc_errors=5, percentage_used=95)
    grown = counter_growth(now, before)
    assert grown == ["pending sectors 2 (was 0)", "CRC errors grew from 3 to 5 (check cable)"]
    # wear is a state, not a counter: it is never part of the growth the store holds
    assert counter_growth(before, before) == []
