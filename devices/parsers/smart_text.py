"""Reader for the plain-text output of smartctl 6.x/7.x (``smartctl -a`` / ``-x`` without ``-j``).

Older hosts (Debian 9, CentOS 7, appliances) ship a smartctl without JSON. The text is a banner,
then ``=== START OF ... SECTION ===`` blocks of ``Key: value`` lines, the ATA attribute table, the
NVMe health log or the SCSI counters. Numbers are printed with the host's locale separators
(``12,000,138,625,024``, ``2 000 398 934 016``, ``500.107.862.016``, ``2'000'398'934'016``), so
digits are read after removing every separator. Text carries no exit status (``exit_status``
None) and names the device only when the capture starts with the ``# smartctl ... /dev/X`` line.
"""

from __future__ import annotations

import re

from collectors.parsing import ParseError

# Module import: smart.py imports this module too; names are looked up at call time.
from devices.parsers import smart

_BANNER = re.compile(r"smartctl (?:pre-)?[0-9]+\.[0-9]+\b")
_COMMAND = re.compile(r"#\s*smartctl\b(.*)")
_KEY_VALUE = re.compile(r"(\S[^:]{0,60}?):\s*(.*)")
# smartctl -a:  "  5 Reallocated_Sector_Ct   0x0033   100   100   010    Pre-fail  Always  -  0"
_ATTRIBUTE_LONG = re.compile(
    r"\s*([0-9]{1,3})\s+(\S+)\s+0x[0-9a-fA-F]{4}\s+([0-9]{1,3})\s+([0-9]{1,3})\s+"
    r"([0-9]{1,3}|---)\s+\S+\s+\S+\s+(\S+)\s+(.*)"
)
# smartctl -x:  "  5 Reallocated_Sector_Ct   PO--CK   100   100   010    -    0"
_ATTRIBUTE_BRIEF = re.compile(
    r"\s*([0-9]{1,3})\s+(\S+)\s+[A-Z+-]{6,7}\s+([0-9]{1,3})\s+([0-9]{1,3})\s+"
    r"([0-9]{1,3}|---)\s+(\S+)\s+(.*)"
)
_LEGEND = re.compile(r"\s+\|")
_SCSI_COUNTER = re.compile(r"(read|write|verify):\s+(.*)")
_SCSI_POWER_ON = re.compile(r"Accumulated power on time, hours:minutes ([0-9]{1,12}):[0-9]{1,2}")
_NUMBER = re.compile(r"(0x[0-9a-fA-F]{1,16})|([0-9][0-9 ,.'\u2019\u00a0\u202f]{0,40})")
_SEPARATORS = re.compile(r"[ ,.'\u2019\u00a0\u202f]")
_MESSAGE = re.compile(
    r"(Smartctl open device|Device is in|Warning:|SMART Status not supported|"
    r"Read Device Identity failed|Please specify device type|A mandatory SMART command failed|"
    r"Smartctl: Device Read Identity Failed|=======>|.*Unable to detect device type)"
)

# NVMe health-log labels, as the keys smartctl's JSON uses (so text and JSON compare).
_NVME_KEYS = {
    "critical warning": "critical_warning",
    "temperature": "temperature",
    "available spare": "available_spare",
    "available spare threshold": "available_spare_threshold",
    "percentage used": "percentage_used",
    "data units read": "data_units_read",
    "data units written": "data_units_written",
    "host read commands": "host_reads",
    "host write commands": "host_writes",
    "controller busy time": "controller_busy_time",
    "power cycles": "power_cycles",
    "power on hours": "power_on_hours",
    "unsafe shutdowns": "unsafe_shutdowns",
    "media and data integrity errors": "media_errors",
    "error information log entries": "num_err_log_entries",
    "warning comp. temperature time": "warning_temp_time",
    "critical comp. temperature time": "critical_comp_time",
}
_WHEN_FAILED = {"FAILING_NOW": "now", "NOW": "now", "IN_THE_PAST": "past", "PAST": "past"}


def parse_smartctl_text(text: str) -> smart.SmartReport:
    """One drive's report from smartctl's plain text (assessment left to ``parse_smartctl``)."""
    kind = smart.SMARTCTL_KIND
    lines = text.splitlines()
    device, device_type, start = _banner(lines)
    fields: dict[str, str] = {}
    support: list[str] = []
    messages: list[str] = []
    attributes: list[smart.Attribute] = []
    nvme: dict[str, int] = {}
    scsi_uncorrected: list[int] = []
    sections = 0
    section = ""
    for lineno, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        if not stripped:
            section = ""
            continue
        if section == "attributes":
            if not _LEGEND.match(line):
                attributes.append(_attribute(line, lineno))
            continue
        if stripped.startswith("=== START OF"):
            sections += 1
        elif stripped.startswith("ID#"):
            section = "attributes"
        elif stripped.startswith("SMART/Health Information"):
            section = "nvme"
        elif (power_on := _SCSI_POWER_ON.match(stripped)) is not None:
            fields.setdefault("power on hours", power_on.group(1))
        elif _MESSAGE.match(stripped):
            messages.append(stripped)
        elif (counter := _SCSI_COUNTER.match(stripped)) is not None:
            uncorrected = _number(counter.group(2).split()[-1])
            if uncorrected is None:
                raise ParseError(kind, "SCSI error counter without a count", line, lineno)
            scsi_uncorrected.append(uncorrected)
        elif (pair := _KEY_VALUE.match(stripped)) is not None:
            key = " ".join(pair.group(1).split()).lower()
            value = pair.group(2).strip()
            if section == "nvme":
                _nvme_entry(nvme, key, value)
            elif key == "smart support is":
                support.append(value)
            elif value:
                fields.setdefault(key, value)
    if not sections and not messages:
        raise ParseError(kind, "no information or SMART section and no message")
    return _report(
        fields, support, messages, attributes, nvme, scsi_uncorrected, device, device_type
    )


def parse_scan_text(text: str) -> list[smart.ScanDevice]:
    """Devices from plain ``smartctl --scan``: ``/dev/sda -d sat # /dev/sda [SAT], ATA device``."""
    found = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"(/\S+) -d (\S+) # (.*?)(?:, (\S+) device)?\s*", line)
        if match is None:
            raise ParseError(smart.SMARTCTL_SCAN_KIND, "not a scan line", line, lineno)
        protocol = match.group(4)
        found.append(
            smart.ScanDevice(
                name=match.group(1),
                info_name=match.group(3),
                type=match.group(2),
                protocol=protocol if protocol in smart.PROTOCOLS else None,
            )
        )
    if not found:
        raise ParseError(smart.SMARTCTL_SCAN_KIND, "empty output")
    return found


def _banner(lines: list[str]) -> tuple[str | None, str | None, int]:
    """``(device, -d type, index after the banner)``; refuses text that is not smartctl's."""
    device = device_type = None
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        command = _COMMAND.match(line.strip())
        if command is not None:
            argv = command.group(1).split()
            device = next((arg for arg in argv if arg.startswith("/dev/")), None)
            if "-d" in argv[:-1]:
                device_type = argv[argv.index("-d") + 1]
            continue
        if _BANNER.match(line.strip()) is None:
            raise ParseError(smart.SMARTCTL_KIND, "not smartctl output", line, index + 1)
        return device, device_type, index + 1
    raise ParseError(smart.SMARTCTL_KIND, "empty output")


def _attribute(line: str, lineno: int) -> smart.Attribute:
    match = _ATTRIBUTE_LONG.fullmatch(line) or _ATTRIBUTE_BRIEF.fullmatch(line)
    if match is None:
        raise ParseError(smart.SMARTCTL_KIND, "not an attribute row", line, lineno)
    attr_id, name, value, worst, threshold, when_failed, raw_string = match.groups()
    return smart.make_attribute(
        int(attr_id),
        name,
        int(value),
        int(worst),
        None if threshold == "---" else int(threshold),
        raw_string.strip(),
        _WHEN_FAILED.get(when_failed.upper()),
    )


def _nvme_entry(nvme: dict[str, int], key: str, value: str) -> None:
    number = _number(value)
    if number is None:
        return
    sensor = re.fullmatch(r"temperature sensor ([0-9]{1,2})", key)
    if sensor is not None:
        nvme[f"temperature_sensors_{sensor.group(1)}"] = number
    else:
        nvme[_NVME_KEYS.get(key, re.sub(r"[^a-z0-9]+", "_", key).strip("_"))] = number


def _number(value: str) -> int | None:
    """The integer a value starts with, locale separators removed; hex for ``0x..``."""
    match = _NUMBER.match(value.strip())
    if match is None:
        return None
    if match.group(1):
        return int(match.group(1), 16)
    digits = _SEPARATORS.sub("", match.group(2))
    return int(digits) if digits.isdigit() and digits.isascii() else None


def _capacity(fields: dict[str, str]) -> int | None:
    for key in ("user capacity", "total nvm capacity", "namespace 1 size/capacity"):
        if key in fields:
            return _number(fields[key].split("[")[0].replace("bytes", ""))
    return None


def _report(
    fields: dict[str, str],
    support: list[str],
    messages: list[str],
    attributes: list[smart.Attribute],
    nvme: dict[str, int],
    scsi_uncorrected: list[int],
    device: str | None,
    device_type: str | None,
) -> smart.SmartReport:
    scsi = "vendor" in fields or "product" in fields or "smart health status" in fields
    protocol = "ATA" if "device model" in fields or attributes else None
    if nvme or "nvme version" in fields or "model number" in fields:
        protocol = "NVMe"
    elif protocol is None and scsi:
        protocol = "SCSI"
    rate = fields.get("rotation rate", "")
    rpm, ssd = smart.rotation(0 if "Solid State" in rate else _number(rate))
    if protocol == "NVMe":
        ssd = True
    model = fields.get("device model") or fields.get("model number")
    if model is None and scsi:
        model = " ".join(fields[k] for k in ("vendor", "product") if fields.get(k)) or None
    health = fields.get("smart overall-health self-assessment test result")
    scsi_health = fields.get("smart health status")
    passed = None
    if health is not None:
        passed = health.upper().startswith("PASSED")
    elif scsi_health is not None:
        passed = scsi_health.upper() == "OK"
    available = None
    if any(s.startswith("Unavailable") for s in support):
        available = False
    elif any(s.startswith("Available") for s in support) or attributes or nvme:
        available = True
    enabled = None
    if any(s.startswith("Disabled") for s in support):
        enabled = False
    elif any(s.startswith("Enabled") for s in support) or attributes or nvme:
        enabled = True
    temperature = nvme.get("temperature") if protocol == "NVMe" else None
    if temperature is None and "current drive temperature" in fields:
        temperature = _number(fields["current drive temperature"])
    if temperature is None:
        temperature = smart.ata_temperature(attributes)
    power_on = nvme.get("power_on_hours", smart.ata_raw(attributes, smart.ATA_POWER_ON_HOURS))
    if power_on is None and "power on hours" in fields:
        power_on = _number(fields["power on hours"])
    cycles = nvme.get("power_cycles", smart.ata_raw(attributes, smart.ATA_POWER_CYCLES))
    if cycles is None and "accumulated start-stop cycles" in fields:
        cycles = _number(fields["accumulated start-stop cycles"])
    reallocated = smart.ata_raw(attributes, smart.ATA_REALLOCATED_SECTORS)
    if reallocated is None and "elements in grown defect list" in fields:
        reallocated = _number(fields["elements in grown defect list"])
    media_errors = nvme.get("media_errors")
    if media_errors is None and scsi_uncorrected:
        media_errors = sum(scsi_uncorrected)
    nvme_attributes = [
        smart.make_attribute(None, key, value, None, None, str(value), None)
        for key, value in nvme.items()
    ]
    percentage_used = nvme.get("percentage_used")
    if percentage_used is None:
        percentage_used = smart.ata_wear_used_pct(attributes, ssd)
    return smart.SmartReport(
        device=device,
        device_type=device_type,
        model=model,
        serial=fields.get("serial number"),
        firmware=fields.get("firmware version") or fields.get("revision"),
        protocol=protocol,
        capacity_bytes=_capacity(fields),
        rotation_rpm=rpm,
        ssd=ssd,
        smart_available=available,
        smart_enabled=enabled,
        smart_passed=passed,
        sleeping=smart.is_sleeping(messages),
        temperature_c=smart.plausible_temperature(temperature),
        power_on_hours=power_on,
        power_cycles=cycles,
        reallocated_sectors=reallocated,
        pending_sectors=smart.ata_raw(attributes, smart.ATA_PENDING_SECTORS),
        offline_uncorrectable=smart.ata_raw(attributes, smart.ATA_OFFLINE_UNCORRECTABLE),
        crc_errors=smart.ata_raw(attributes, smart.ATA_CRC_ERRORS),
        reallocated_events=smart.ata_raw(attributes, smart.ATA_REALLOCATED_EVENTS),
        media_errors=media_errors,
        percentage_used=percentage_used,
        available_spare_pct=nvme.get("available_spare"),
        available_spare_threshold_pct=nvme.get("available_spare_threshold"),
        critical_warning=nvme.get("critical_warning"),
        exit_status=None,
        messages=messages,
        attributes=attributes + nvme_attributes,
    )
