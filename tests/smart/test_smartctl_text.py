"""``parse_smartctl`` on the plain text of smartctl 6.4-7.4 (ATA, SAT, NVMe, SCSI, MegaRAID).

Every text sample parses with values read from the file; the text and JSON of comparable drives
give comparable facts; bad text is refused; mutated text raises nothing but ``ParseError``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.parsers.smart import SMARTCTL_KIND, SmartReport, parse_smartctl
from tests.parser_kit import (
    FUZZ,
    assert_parses_or_raises,
    assert_refused,
    mutated,
    plausible_lines,
    tokens_of,
)
from tests.samples import SAMPLES_DIR, sample

BANNER = (
    "smartctl 7.2 2020-12-30 r5155 [x86_64-linux-5.10.0-19-amd64] (local build)\n"
    "Copyright (C) 2002-20, Bruce Allen, Christian Franke, www.smartmontools.org\n\n"
)

TEXT_SAMPLES: dict[str, dict[str, Any]] = {
    "text_ata_hdd_oos12000g_smartctl7.1.txt": {
        "protocol": "ATA", "model": "OOS12000G", "serial": "00008AXB", "firmware": "OOS1",
        "capacity_bytes": 12000138625024, "rotation_rpm": 7200, "ssd": False,
        "temperature_c": 38, "power_on_hours": 252, "power_cycles": 9, "reallocated_sectors": 0,
        "pending_sectors": 0, "crc_errors": 0, "smart_available": True, "smart_enabled": True,
        "smart_passed": True, "exit_status": None, "device": None, "assessment": "passed",
    },
    "text_ata_ssd_liteon_smartctl6.6.txt": {
        "protocol": "ATA", "model": "LITEONIT LCT-512L9S-11 2.5 7mm 512GB",
        "serial": "TW0HN71H5508549A1220", "capacity_bytes": 512110190592, "rotation_rpm": None,
        "ssd": True, "temperature_c": None, "power_on_hours": 2376, "power_cycles": 1000,
        # Wear_Leveling_Count normalised 100: nothing used yet.
        "percentage_used": 0, "smart_passed": True, "assessment": "passed",
    },
    "text_megaraid_sata_hdd_hgst_hus724040.txt": {
        "protocol": "ATA", "model": "HGST HUS724040ALE640", "serial": "PKXXXXXXXXXXGB",
        "capacity_bytes": 4000787030016, "temperature_c": 33, "power_on_hours": 47396,
        "power_cycles": 85, "reallocated_events": 0, "smart_passed": True,
        "assessment": "passed",
    },
    "text_nvme_samsung_970evoplus_proxmox.txt": {
        "protocol": "NVMe", "model": "Samsung SSD 970 EVO Plus 500GB",
        "serial": "S4EVNX0NA32843N", "firmware": "2B2QEXM7", "capacity_bytes": 500107862016,
        "ssd": True, "temperature_c": 41, "power_on_hours": 15, "power_cycles": 9,
        "media_errors": 0, "percentage_used": 0, "available_spare_pct": 100,
        "available_spare_threshold_pct": 10, "critical_warning": 0, "smart_passed": True,
        "assessment": "passed",
    },
    "text_nvme_wd_sn850x_2tb.txt": {
        "protocol": "NVMe", "model": "WDS200T1X0E-00AFY0", "serial": "215119800624",
        "capacity_bytes": 2000398934016, "temperature_c": 42, "power_on_hours": 6433,
        "power_cycles": 67, "percentage_used": 1, "media_errors": 0, "smart_passed": True,
        "assessment": "passed",
    },
    "text_sat_hdd_st2000nm000a_smartctl6.4.txt": {
        "protocol": "ATA", "model": "ST2000NM000A-2J2100", "serial": "WS10SM2A",
        "capacity_bytes": 2000398934016, "temperature_c": 31, "power_on_hours": 1380,
        "power_cycles": 39, "offline_uncorrectable": 0, "smart_passed": True,
        "assessment": "passed",
    },
    "text_sat_ssd_hikvision_c100.txt": {
        "protocol": "ATA", "model": "HS-SSD-C100 120G", "serial": "30087840294",
        "capacity_bytes": 120034123776, "ssd": True, "temperature_c": 32, "power_on_hours": 133,
        "percentage_used": 0, "smart_passed": True, "assessment": "passed",
    },
    "text_scsi_megaraid_virtual_disk.txt": {
        "protocol": "SCSI", "model": "Intel RS3DC080", "firmware": "4.23",
        "serial": "00907d49075932d81f9044090ab00506", "capacity_bytes": 118999744512,
        "temperature_c": None, "smart_available": False, "smart_passed": None,
        "assessment": "unknown",
    },
    "text_scsi_sas_hdd_huh721212al4204.txt": {
        "protocol": "SCSI", "model": "HGST HUH721212AL4204", "serial": "8DG3J2ZD",
        "firmware": "C3D0", "capacity_bytes": 12000138625024, "rotation_rpm": 7200,
        "temperature_c": 32, "power_cycles": 1051, "reallocated_sectors": 0, "media_errors": 0,
        "smart_available": True, "smart_passed": True, "assessment": "passed",
    },
    "text_scsi_unsupported_device.txt": {
        "device": "/dev/sda", "protocol": "SCSI", "model": "AVAGO MR9361-16i",
        "capacity_bytes": 959119884288, "smart_available": False, "temperature_c": None,
        "assessment": "unknown",
    },
}  # fmt: skip

# One key attribute per file: (id or NVMe name, raw number).
KEY_ATTRIBUTES: dict[str, tuple[int | str, int]] = {
    "text_ata_hdd_oos12000g_smartctl7.1.txt": (1, 176373483),
    "text_megaraid_sata_hdd_hgst_hus724040.txt": (3, 594),
    "text_sat_hdd_st2000nm000a_smartctl6.4.txt": (242, 13287203134),
    "text_sat_ssd_hikvision_c100.txt": (173, 4296605716),
    "text_nvme_wd_sn850x_2tb.txt": ("host_writes", 1698774134),
    "text_nvme_samsung_970evoplus_proxmox.txt": ("data_units_written", 1954515),
}

# (text sample, JSON sample) of comparable drives.
COMPARABLE = [
    ("text_nvme_samsung_970evoplus_proxmox.txt", "sce_nvme_samsung_970evoplus_250g.json"),
    ("text_megaraid_sata_hdd_hgst_hus724040.txt", "sce_ata_hdd_hgst_hus724020ale640_exit64.json"),
    ("text_scsi_sas_hdd_huh721212al4204.txt", "netdata_scsi_sda.json"),
]
COMPARED_FIELDS = (
    "protocol", "ssd", "rotation_rpm", "smart_available", "smart_passed", "reallocated_sectors",
    "pending_sectors", "media_errors", "percentage_used", "available_spare_threshold_pct",
    "critical_warning", "assessment",
)  # fmt: skip


def _parse(name: str) -> SmartReport:
    return parse_smartctl(sample(f"smartctl/{name}"))


def test_every_text_sample_is_covered() -> None:
    if SAMPLES_DIR is None:
        pytest.skip("shared samples folder not found; set INFRA_SAMPLES_DIR")
    assert {p.name for p in (SAMPLES_DIR / "smartctl").glob("*.txt")} == set(TEXT_SAMPLES)


@pytest.mark.parametrize("name", sorted(TEXT_SAMPLES))
def test_text_sample_parses_with_the_values_in_the_file(name: str) -> None:
    # when
    report = _parse(name)
    # then
    for field, expected in TEXT_SAMPLES[name].items():
        assert getattr(report, field) == expected, field


@pytest.mark.parametrize("name", sorted(KEY_ATTRIBUTES))
def test_key_attribute_is_read(name: str) -> None:
    # given
    key, raw = KEY_ATTRIBUTES[name]
    # when
    attributes = _parse(name).attributes
    # then
    found = next(a for a in attributes if (a.id if isinstance(key, int) else a.name) == key)
    assert found.raw == raw
    assert found.failing_now is False


@pytest.mark.parametrize(("text_name", "json_name"), COMPARABLE)
def test_text_and_json_of_comparable_drives_give_comparable_facts(
    text_name: str, json_name: str
) -> None:
    # when
    from_text, from_json = _parse(text_name), _parse(json_name)
    # then
    for field in COMPARED_FIELDS:
        assert getattr(from_text, field) == getattr(from_json, field), field
    assert {a.id for a in from_text.attributes} == {a.id for a in from_json.attributes}
    assert {a.name for a in from_text.attributes} == {a.name for a in from_json.attributes}


def test_controller_messages_are_kept() -> None:
    # when
    report = _parse("text_megaraid_sata_hdd_hgst_hus724040.txt")
    # then
    assert report.messages == [
        "SMART Status not supported: ATA return descriptor not supported by controller firmware",
        "Warning: This result is based on an Attribute check.",
    ]


def test_a_drive_in_standby_is_sleeping_not_an_error() -> None:
    # when
    report = parse_smartctl(BANNER + "Device is in STANDBY mode, exit(2)\n")
    # then
    assert report.sleeping is True
    assert (report.model, report.smart_passed, report.temperature_c) == (None, None, None)
    assert report.assessment == "unknown"


def test_an_open_failure_is_a_report_with_its_message() -> None:
    # when
    report = parse_smartctl(BANNER + "Smartctl open device: /dev/sda failed: Permission denied\n")
    # then
    assert report.messages == ["Smartctl open device: /dev/sda failed: Permission denied"]
    assert (report.smart_available, report.sleeping, report.assessment) == (None, False, "unknown")
    assert "Permission denied" in report.assessment_reasons[0]


def test_failing_attribute_and_failed_health_check_fail_the_drive() -> None:
    # given
    text = sample("smartctl/text_ata_hdd_oos12000g_smartctl7.1.txt")
    healthy = "  5 Reallocated_Sector_Ct   0x0033   100   100   010    Pre-fail  Always       -  "
    failing = "  5 Reallocated_Sector_Ct   0x0033   005   005   010    Pre-fail  Always FAILING_NOW"
    text = text.replace("test result: PASSED", "test result: FAILED!")
    text = text.replace(healthy + "     0", failing + " 2000")
    # when
    report = parse_smartctl(text)
    # then
    attribute = next(a for a in report.attributes if a.id == 5)
    assert (attribute.value, attribute.raw, attribute.when_failed) == (5, 2000, "now")
    assert report.smart_passed is False
    assert report.assessment == "failed"


def test_brief_attribute_format_of_smartctl_x_is_read() -> None:
    # given
    text = BANNER + (
        "=== START OF READ SMART DATA SECTION ===\n"
        "ID# ATTRIBUTE_NAME          FLAGS    VALUE WORST THRESH FAIL RAW_VALUE\n"
        "  5 Reallocated_Sector_Ct   PO--CK   100   100   010    -    8\n"
        "197 Current_Pending_Sector  -O--CK   200   200   000    -    0\n"
        "                            ||||||_ K auto-keep\n"
        "                            |||||__ C event count\n"
    )
    # when
    report = parse_smartctl(text)
    # then
    assert [(a.id, a.raw) for a in report.attributes] == [(5, 8), (197, 0)]
    assert (report.reallocated_sectors, report.assessment) == (8, "warning")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(BANNER, id="banner-only"),
        pytest.param("Copyright (C) 2002-20, Bruce Allen\n", id="no-banner"),
        pytest.param(
            BANNER + "=== START OF READ SMART DATA SECTION ===\nID# ATTRIBUTE_NAME\n  5 Realloc\n",
            id="mangled-attribute-row",
        ),
    ],
)
def test_bad_text_is_refused(text: str) -> None:
    assert_refused(parse_smartctl, SMARTCTL_KIND, text)


def test_a_mangled_row_is_named_with_its_line_number() -> None:
    # given
    text = BANNER + "=== START OF READ SMART DATA SECTION ===\nID# ATTRIBUTE_NAME\n  5 x 0x0033\n"
    # when
    error = assert_refused(parse_smartctl, SMARTCTL_KIND, text)
    # then
    assert (error.line, error.lineno) == ("  5 x 0x0033", 6)


# --- property ------------------------------------------------------------------------------------

TEXT_TOKENS = [
    "smartctl 7.1", "=== START OF", "ID#", "SMART/Health Information", "\n", ":", "0x0033",
    "Pre-fail", "Always", "FAILING_NOW", "In_the_past", "---", "Device is in STANDBY mode",
    "read:", "User Capacity:", "1,000", "2\u2019000", "0x", "|", "9" * 40, "\u00a0", "%",
    "Rotation Rate:", "Solid State Device", "Temperature Sensor 9:", "SMART support is:",
]  # fmt: skip
OOS = (
    (SAMPLES_DIR / "smartctl" / "text_ata_hdd_oos12000g_smartctl7.1.txt").read_text()
    if SAMPLES_DIR
    else BANNER
)
NVME = (
    (SAMPLES_DIR / "smartctl" / "text_nvme_wd_sn850x_2tb.txt").read_text()
    if SAMPLES_DIR
    else BANNER
)


@settings(FUZZ, max_examples=150)
@given(
    st.one_of(
        mutated(OOS, tokens_of(TEXT_TOKENS)),
        mutated(NVME, tokens_of(TEXT_TOKENS)),
        plausible_lines(tokens_of(TEXT_TOKENS)).map(BANNER.__add__),
    )
)
def test_mutated_text_raises_only_parse_errors(text: str) -> None:
    assert_parses_or_raises(parse_smartctl, SMARTCTL_KIND, text)
