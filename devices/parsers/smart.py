"""Parser for ``smartctl --json=c -x -n standby /dev/X`` (and plain text of older smartctl).

``parse_smartctl`` reads one drive's report: JSON when the output starts with ``{``, else the
plain text of smartctl 6.x/7.x (``devices.parsers.smart_text``). Both readers fill the same
``SmartReport``; our own verdict (``devices.smart_assessment``) is applied here, once, without
history. ``parse_smartctl_scan`` reads ``smartctl --scan -j``.

Not errors but states of a slot: a drive in standby that smartctl did not wake (``sleeping``,
most fields None) and a device smartctl could not open (exit bit 1, only ``messages``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

from collectors.parsing import ParseError

# Module imports (not ``from ... import name``) because smart_text builds our dataclasses: the
# two modules refer to each other only at call time, so either may be imported first.
from devices import smart_assessment
from devices.parsers import smart_text

SMARTCTL_KIND = "smartctl"
SMARTCTL_SCAN_KIND = "smartctl-scan"

PROTOCOLS = ("ATA", "NVMe", "SCSI")

# smartctl's exit status bits (man smartctl, "RETURN VALUES").
EXIT_OPEN_FAILED_OR_LOW_POWER = 1 << 1
EXIT_DISK_FAILING = 1 << 3

# ATA attribute ids of the counters we lift out of the table.
ATA_REALLOCATED_SECTORS = 5
ATA_POWER_ON_HOURS = 9
ATA_POWER_CYCLES = 12
ATA_TEMPERATURE = 194
ATA_AIRFLOW_TEMPERATURE = 190
ATA_REALLOCATED_EVENTS = 196
ATA_PENDING_SECTORS = 197
ATA_OFFLINE_UNCORRECTABLE = 198
ATA_CRC_ERRORS = 199

# SSD wear: (id, name) pairs whose *normalised* value counts life left from 100 down to 0, so
# percentage used = 100 - value. Checked in this order; the name must match because vendors
# reuse ids (e.g. 231 is temperature on some drives, "Unknown_SSD_Attribute" on others).
ATA_WEAR_ATTRIBUTES = (
    (231, "SSD_Life_Left"),
    (233, "Media_Wearout_Indicator"),
    (177, "Wear_Leveling_Count"),
)

_SLEEP_MESSAGE = re.compile(r"Device is in (STANDBY|SLEEP)", re.IGNORECASE)
_LEADING_INT = re.compile(r"\s*(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})")


@dataclass(frozen=True, slots=True)
class Attribute:
    """One row of the ATA attribute table, or one NVMe health-log entry (``id`` None).

    ``raw`` is the leading number of ``raw_string`` (``"49 (Min/Max 24/56)"`` -> 49), which is
    what the attribute means; smartctl's packed 48-bit raw value is not useful for these.
    ``when_failed`` is ``"now"``, ``"past"`` or None (never), as in smartctl's JSON.
    """

    id: int | None
    name: str
    value: int | None
    worst: int | None
    threshold: int | None
    raw: int | None
    raw_string: str
    when_failed: str | None
    failing_now: bool


@dataclass(frozen=True, slots=True)
class SmartReport:
    """One drive's S.M.A.R.T. report and our verdict on it.

    ``media_errors``: NVMe "media and data integrity errors"; for SCSI the sum of uncorrected
    read/write/verify errors (the SCSI grown defect list goes to ``reallocated_sectors``, since
    both count blocks the drive had to remap). ``percentage_used``: NVMe's own figure; for an
    ATA SSD ``100 - normalised value`` of the first of ``ATA_WEAR_ATTRIBUTES`` present.
    ``exit_status`` is only known from JSON.
    """

    device: str | None
    device_type: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    protocol: str | None
    capacity_bytes: int | None
    rotation_rpm: int | None
    ssd: bool | None
    smart_available: bool | None
    smart_enabled: bool | None
    smart_passed: bool | None
    sleeping: bool
    temperature_c: int | None
    power_on_hours: int | None
    power_cycles: int | None
    reallocated_sectors: int | None
    pending_sectors: int | None
    offline_uncorrectable: int | None
    crc_errors: int | None
    reallocated_events: int | None
    media_errors: int | None
    percentage_used: int | None
    available_spare_pct: int | None
    available_spare_threshold_pct: int | None
    critical_warning: int | None
    exit_status: int | None
    messages: list[str]
    attributes: list[Attribute]
    assessment: str = smart_assessment.UNKNOWN
    assessment_reasons: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScanDevice:
    """One device found by ``smartctl --scan``: what to pass as ``/dev/X -d type``."""

    name: str
    info_name: str | None
    type: str | None
    protocol: str | None


def parse_smartctl(text: str) -> SmartReport:
    """One drive's report from smartctl's JSON or plain-text output, with our assessment."""
    if text.lstrip().startswith("{"):
        report = _parse_json_report(_load_json(text, SMARTCTL_KIND))
    else:
        report = smart_text.parse_smartctl_text(text)
    verdict, reasons = smart_assessment.assess(report)
    return dataclasses.replace(report, assessment=verdict, assessment_reasons=reasons)


def parse_smartctl_scan(text: str) -> list[ScanDevice]:
    """Devices listed by ``smartctl --scan -j`` (or the plain ``--scan`` lines)."""
    if not text.lstrip().startswith("{"):
        return smart_text.parse_scan_text(text)
    data = _load_json(text, SMARTCTL_SCAN_KIND)
    devices = data.get("devices")
    if not isinstance(devices, list):
        raise ParseError(SMARTCTL_SCAN_KIND, "JSON without a 'devices' list")
    found = []
    for entry in devices:
        name = _str(entry, "name") if isinstance(entry, dict) else None
        if name is None:
            raise ParseError(SMARTCTL_SCAN_KIND, f"device entry without a name: {entry!r:.80}")
        found.append(
            ScanDevice(
                name=name,
                info_name=_str(entry, "info_name"),
                type=_str(entry, "type"),
                protocol=_protocol(_str(entry, "protocol")),
            )
        )
    return found


# --- shared by the JSON and text readers ---------------------------------------------------------


def leading_int(raw_string: str) -> int | None:
    """The number a raw value starts with: ``"38 (Min/Max 22/40)"`` -> 38, ``"0x0a"`` -> 10."""
    match = _LEADING_INT.match(raw_string)
    if match is None:
        return None
    token = match.group(1)
    return int(token, 16) if token.startswith("0x") else int(token)


def make_attribute(
    attr_id: int | None,
    name: str,
    value: int | None,
    worst: int | None,
    threshold: int | None,
    raw_string: str,
    when_failed: str | None,
) -> Attribute:
    """An attribute row; failing now when smartctl says so or the value fell to its threshold.

    A threshold of 0 means "never fails" (informational attributes), so it never triggers.
    """
    failing = when_failed == "now" or (
        value is not None and threshold is not None and threshold > 0 and value <= threshold
    )
    return Attribute(
        id=attr_id,
        name=name,
        value=value,
        worst=worst,
        threshold=threshold,
        raw=leading_int(raw_string),
        raw_string=raw_string,
        when_failed=when_failed,
        failing_now=failing,
    )


def ata_raw(attributes: list[Attribute], attr_id: int) -> int | None:
    """The raw number of ATA attribute ``attr_id``, None when the drive does not report it."""
    for attribute in attributes:
        if attribute.id == attr_id:
            return attribute.raw
    return None


def ata_wear_used_pct(attributes: list[Attribute], ssd: bool | None) -> int | None:
    """Percentage of rated life used, from the first known wear attribute of an SSD."""
    if ssd is False:
        return None
    for attr_id, name in ATA_WEAR_ATTRIBUTES:
        for attribute in attributes:
            value = attribute.value
            matches = attribute.id == attr_id and attribute.name == name
            if matches and value is not None and 0 <= value <= 100:
                return 100 - value
    return None


def ata_temperature(attributes: list[Attribute]) -> int | None:
    """Drive temperature from attribute 194, else 190 (airflow), in Celsius."""
    for attr_id in (ATA_TEMPERATURE, ATA_AIRFLOW_TEMPERATURE):
        value = ata_raw(attributes, attr_id)
        if value is not None and 0 < value < 150:
            return value
    return None


def rotation(rpm: int | None) -> tuple[int | None, bool | None]:
    """``(rotation_rpm, ssd)`` from smartctl's rotation rate, where 0 means solid state."""
    if rpm is None:
        return None, None
    if rpm == 0:
        return None, True
    return rpm, False


def plausible_temperature(celsius: int | None) -> int | None:
    """None for 0 C: RAID virtual disks and bridges without a sensor report 0."""
    return celsius if celsius else None


def is_sleeping(messages: list[str]) -> bool:
    """True when smartctl left a drive in standby/sleep (``-n standby``) instead of waking it."""
    return any(_SLEEP_MESSAGE.search(message) for message in messages)


# --- JSON ----------------------------------------------------------------------------------------


def _load_json(text: str, kind: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ParseError(kind, f"invalid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ParseError(kind, "JSON is not an object")
    if "devices" in data and "device" not in data:
        if kind == SMARTCTL_SCAN_KIND:
            return data
        raise ParseError(kind, "this is 'smartctl --scan' output, not a drive's report")
    if not isinstance(data.get("smartctl"), dict) and not isinstance(data.get("device"), dict):
        raise ParseError(kind, "JSON without a 'smartctl' or 'device' object: not smartctl output")
    return data


def _parse_json_report(data: dict[str, Any]) -> SmartReport:
    smartctl = _dict(data, "smartctl")
    device = _dict(data, "device")
    exit_status = _int(smartctl, "exit_status")
    messages = [
        m["string"]
        for m in _list(smartctl, "messages")
        if isinstance(m, dict) and isinstance(m.get("string"), str)
    ]
    power_mode = _str(_dict(data, "power_mode"), "string") or ""
    sleeping = is_sleeping(messages) or bool(re.search("STANDBY|SLEEP", power_mode, re.I))
    rpm, ssd = rotation(_int(data, "rotation_rate"))
    protocol = _protocol(_str(device, "protocol"))
    if protocol == "NVMe":
        ssd = True
    attributes = _json_ata_attributes(data)
    nvme_log = _dict(data, "nvme_smart_health_information_log")
    attributes += _json_nvme_attributes(nvme_log)
    support = _dict(data, "smart_support")
    has_data = bool(attributes) or "smart_status" in data
    smart_passed = _bool(_dict(data, "smart_status"), "passed")
    if smart_passed is None and exit_status is not None and exit_status & EXIT_DISK_FAILING:
        smart_passed = False
    scsi_errors = _scsi_uncorrected(_dict(data, "scsi_error_counter_log"))
    reallocated = ata_raw(attributes, ATA_REALLOCATED_SECTORS)
    if reallocated is None:
        reallocated = _int(data, "scsi_grown_defect_list")
    return SmartReport(
        device=_str(device, "name"),
        device_type=_str(device, "type"),
        model=_json_model(data),
        serial=_str(data, "serial_number"),
        firmware=_first(
            _str(data, "firmware_version"), _str(data, "scsi_revision"), _str(data, "revision")
        ),
        protocol=protocol,
        capacity_bytes=_first(
            _int(_dict(data, "user_capacity"), "bytes"), _int(data, "nvme_total_capacity")
        ),
        rotation_rpm=rpm,
        ssd=ssd,
        smart_available=_bool(support, "available") if support else (True if has_data else None),
        smart_enabled=_bool(support, "enabled") if support else (True if has_data else None),
        smart_passed=smart_passed,
        sleeping=sleeping,
        temperature_c=plausible_temperature(_int(_dict(data, "temperature"), "current")),
        power_on_hours=_int(_dict(data, "power_on_time"), "hours"),
        power_cycles=_first(
            _int(data, "power_cycle_count"),
            _int(_dict(data, "scsi_start_stop_cycle_counter"), "accumulated_start_stop_cycles"),
        ),
        reallocated_sectors=reallocated,
        pending_sectors=ata_raw(attributes, ATA_PENDING_SECTORS),
        offline_uncorrectable=ata_raw(attributes, ATA_OFFLINE_UNCORRECTABLE),
        crc_errors=ata_raw(attributes, ATA_CRC_ERRORS),
        reallocated_events=ata_raw(attributes, ATA_REALLOCATED_EVENTS),
        media_errors=_int(nvme_log, "media_errors") if nvme_log else scsi_errors,
        percentage_used=_int(nvme_log, "percentage_used")
        if nvme_log
        else ata_wear_used_pct(attributes, ssd),
        available_spare_pct=_int(nvme_log, "available_spare"),
        available_spare_threshold_pct=_int(nvme_log, "available_spare_threshold"),
        critical_warning=_int(nvme_log, "critical_warning"),
        exit_status=exit_status,
        messages=messages,
        attributes=attributes,
    )


def _json_model(data: dict[str, Any]) -> str | None:
    model = _first(_str(data, "model_name"), _str(data, "scsi_model_name"))
    if model is None:
        vendor = _first(_str(data, "scsi_vendor"), _str(data, "vendor"))
        product = _first(_str(data, "scsi_product"), _str(data, "product"))
        model = " ".join(part for part in (vendor, product) if part) or None
    return model


def _json_ata_attributes(data: dict[str, Any]) -> list[Attribute]:
    attributes = []
    for row in _list(_dict(data, "ata_smart_attributes"), "table"):
        if not isinstance(row, dict) or _int(row, "id") is None:
            raise ParseError(SMARTCTL_KIND, f"ATA attribute without an id: {row!r:.80}")
        raw = _dict(row, "raw")
        raw_string = _str(raw, "string")
        if raw_string is None:
            raw_value = _int(raw, "value")
            raw_string = "" if raw_value is None else str(raw_value)
        attributes.append(
            make_attribute(
                _int(row, "id"),
                _str(row, "name") or "Unknown_Attribute",
                _int(row, "value"),
                _int(row, "worst"),
                _int(row, "thresh"),
                raw_string,
                _str(row, "when_failed") or None,
            )
        )
    return attributes


def _json_nvme_attributes(log: dict[str, Any]) -> list[Attribute]:
    attributes = []
    for key, value in log.items():
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values, start=1):
            if not isinstance(item, int) or isinstance(item, bool):
                continue
            name = f"{key}_{index}" if isinstance(value, list) else key
            attributes.append(make_attribute(None, name, item, None, None, str(item), None))
    return attributes


def _scsi_uncorrected(log: dict[str, Any]) -> int | None:
    counts = [
        _int(_dict(log, op), "total_uncorrected_errors") for op in ("read", "write", "verify")
    ]
    known = [count for count in counts if count is not None]
    return sum(known) if known else None


def _first(*values: Any) -> Any:
    """The first value that is not None (``or`` would skip a legitimate 0)."""
    return next((value for value in values if value is not None), None)


def _protocol(value: str | None) -> str | None:
    return value if value in PROTOCOLS else None


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return (value.strip() or None) if isinstance(value, str) else None
