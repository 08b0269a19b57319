"""``parse_smartctl`` on smartctl's JSON (7.x) and ``parse_smartctl_scan`` on ``--scan -j``.

Every JSON sample under ``shared/samples/smartctl`` parses with values read from the file; bad
input is refused with a ``ParseError``; mutated JSON raises nothing else.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.parsers.smart import (
    SMARTCTL_KIND,
    SMARTCTL_SCAN_KIND,
    SmartReport,
    parse_smartctl,
    parse_smartctl_scan,
)
from tests.parser_kit import (
    EMPTY,
    FUZZ,
    JUNK,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.samples import SAMPLES_DIR, sample

TB = 10**12

# Values read from each file: model, serial, capacity, temperature, power-on hours, protocol,
# smartctl's verdict and ours.
JSON_SAMPLES: dict[str, dict[str, Any]] = {
    "netdata_ata_hdd_wd_red_pro_18tb.json": {
        "device": "/dev/sda", "device_type": "sat", "protocol": "ATA",
        "model": "WDC WD181KRYZ-01AGBB0", "serial": "REDACTED", "capacity_bytes": 18000207937536,
        "rotation_rpm": 7200, "ssd": False, "temperature_c": 49, "power_on_hours": 8244,
        "power_cycles": 12, "reallocated_sectors": 0, "pending_sectors": 0, "crc_errors": 0,
        "smart_passed": True, "exit_status": 0, "assessment": "passed",
    },
    "netdata_nvme_seagate_firecuda530.json": {
        "device": "/dev/nvme0", "device_type": "nvme", "protocol": "NVMe",
        "model": "Seagate FireCuda 530 ZP4000GM30023", "capacity_bytes": 4000787030016,
        "ssd": True, "temperature_c": 39, "power_on_hours": 3113, "power_cycles": 2,
        "media_errors": 0, "percentage_used": 0, "available_spare_pct": 100,
        "available_spare_threshold_pct": 5, "critical_warning": 0, "smart_passed": True,
        "assessment": "passed",
    },
    "netdata_scsi_sda.json": {
        "protocol": "SCSI", "device_type": "scsi", "model": "REDACTED",
        "capacity_bytes": 4000787030016, "rotation_rpm": 7200, "temperature_c": 34,
        "power_on_hours": 1641, "power_cycles": 4, "reallocated_sectors": 0, "media_errors": 0,
        "smart_passed": True, "assessment": "passed",
    },
    "sce_ata_hdd_hgst_hus724020ale640_exit64.json": {
        "protocol": "ATA", "model": "HGST HUS724020ALE640", "capacity_bytes": 2000398934016,
        "temperature_c": 26, "power_on_hours": 83425, "power_cycles": 81, "crc_errors": 12,
        "smart_passed": True, "exit_status": 64,
        # 12 old CRC errors and no history: a constant CRC count never alarms.
        "assessment": "passed",
    },
    "sce_ata_hdd_seagate_exos_x16_16tb.json": {
        "protocol": "ATA", "model": "ST16000NM001G-2KK103", "capacity_bytes": 16000900661248,
        "temperature_c": 26, "power_on_hours": 13114, "pending_sectors": 0,
        "smart_passed": True, "smart_available": True, "assessment": "passed",
    },
    "sce_ata_hdd_seagate_st3200820as_errorlog_exit64.json": {
        "protocol": "ATA", "model": "ST3200820AS", "capacity_bytes": 200048565760,
        "rotation_rpm": None, "ssd": None, "temperature_c": 33, "power_on_hours": 100161,
        "reallocated_sectors": 0, "smart_passed": True, "exit_status": 64,
        "assessment": "passed",
    },
    "sce_ata_hdd_toshiba_x300_6tb.json": {
        "protocol": "ATA", "model": "TOSHIBA HDWE160", "capacity_bytes": 6001175126016,
        "temperature_c": 25, "power_on_hours": 47234, "reallocated_events": 0,
        "smart_passed": True, "assessment": "passed",
    },
    "sce_ata_hdd_wd_hc550_16tb_exit64.json": {
        "device": "/dev/sdx", "protocol": "ATA", "model": "WDC  WUH721816ALE6L4",
        "capacity_bytes": 16000900661248, "temperature_c": 26, "power_on_hours": 20117,
        "crc_errors": 1, "smart_passed": True, "exit_status": 64, "assessment": "passed",
    },
    "sce_ata_hdd_wd_red_wd20efrx.json": {
        "protocol": "ATA", "model": "WDC WD20EFRX-68EUZN0", "capacity_bytes": 2000398934016,
        "rotation_rpm": 5400, "temperature_c": 34, "power_on_hours": 47657,
        "offline_uncorrectable": 0, "smart_passed": True, "assessment": "passed",
    },
    "sce_ata_ssd_samsung_pm883_480g.json": {
        "protocol": "ATA", "model": "SAMSUNG MZ7LH480HAHQ-00005", "capacity_bytes": 480103981056,
        "rotation_rpm": None, "ssd": True, "temperature_c": 26, "power_on_hours": 7753,
        # Wear_Leveling_Count normalised 99 -> 1% used.
        "percentage_used": 1, "smart_passed": True, "assessment": "passed",
    },
    "sce_nvme_crucial_p2_250g.json": {
        "protocol": "NVMe", "model": "CT250P2SSD8", "capacity_bytes": 250059350016,
        "temperature_c": 26, "power_on_hours": 10147, "media_errors": 0,
        "available_spare_threshold_pct": 5, "smart_passed": True, "assessment": "passed",
    },
    "sce_nvme_intel_optane_p1600x_58g.json": {
        "protocol": "NVMe", "model": "INTEL SSDPEK1A058GA", "capacity_bytes": 58977157120,
        "temperature_c": 44, "power_on_hours": 3752, "available_spare_threshold_pct": 0,
        "smart_enabled": True, "smart_passed": True, "assessment": "passed",
    },
    "sce_nvme_samsung_970evoplus_250g.json": {
        "protocol": "NVMe", "model": "Samsung SSD 970 EVO Plus 250GB",
        "capacity_bytes": 250059350016, "temperature_c": 35, "power_on_hours": 3149,
        "power_cycles": 16, "smart_passed": True, "assessment": "passed",
    },
    "sce_scsi_sas_hitachi_h109060.json": {
        "protocol": "SCSI", "model": "HITACHI H109060SESUN600G", "firmware": "A31A",
        "capacity_bytes": 600127266816, "rotation_rpm": 10020, "temperature_c": 26,
        "power_on_hours": 22364, "power_cycles": 70, "media_errors": 0,
        "smart_passed": True, "assessment": "passed",
    },
    "sce_scsi_seagate_st373453lc_v7.4.json": {
        "protocol": "SCSI", "model": "SEAGATE ST373453LC", "capacity_bytes": 73407820800,
        "rotation_rpm": 15015, "temperature_c": 34, "power_on_hours": 91691,
        "smart_available": True, "smart_enabled": False, "smart_passed": True,
        "assessment": "passed",
    },
    "scrutiny_ata_hdd_wd140edfz.json": {
        "protocol": "ATA", "model": "WDC WD140EDFZ-11A0VA0", "serial": "9RK1XXXX",
        "firmware": "81.00A81", "capacity_bytes": 14000519643136, "temperature_c": 32,
        "power_on_hours": 1730, "reallocated_sectors": 0, "smart_passed": True,
        "assessment": "passed",
    },
    "scrutiny_ata_ssd_850pro_type_ata.json": {
        "device_type": "ata", "protocol": "ATA", "model": "X SSD 850 PRO 128GB",
        "serial": "S24ZN902000L", "capacity_bytes": 128035676160, "ssd": True,
        "temperature_c": 32, "power_on_hours": 846, "percentage_used": 1,
        "smart_passed": True, "assessment": "passed",
    },
    "scrutiny_ata_ssd_samsung860evo_full.json": {
        "protocol": "ATA", "model": "Samsung SSD 860 EVO 500GB", "serial": "S3YZNB0KB00864E",
        "capacity_bytes": 500107862016, "ssd": True, "temperature_c": 36,
        "power_on_hours": 14551, "percentage_used": 19, "smart_passed": True,
        "assessment": "passed",
    },
    "scrutiny_attributes_only_sat.json": {
        "device": "/dev/sdc", "protocol": "ATA", "model": None, "serial": None,
        "temperature_c": 29, "power_on_hours": None, "power_cycles": 354,
        "reallocated_events": 2111, "smart_passed": None, "assessment": "passed",
    },
    "scrutiny_health_only_pass.json": {
        "device": "/dev/sdc", "protocol": "ATA", "model": None, "temperature_c": None,
        "smart_passed": True, "assessment": "passed",
    },
    "scrutiny_info_nvme_kioxia.json": {
        "device": "/dev/nvme4", "protocol": "NVMe", "model": "KCD61LUL3T84",
        "serial": "61Q0A05UT7B8", "firmware": "8002", "capacity_bytes": 3840755982336,
        "smart_available": None, "smart_passed": None, "assessment": "unknown",
    },
    "scrutiny_nvme_corsair_mp510.json": {
        "protocol": "NVMe", "model": "Force MP510", "serial": "yes", "firmware": "ECFM12.3",
        "capacity_bytes": 480103981056, "temperature_c": 38, "power_on_hours": 6487,
        "percentage_used": 1, "smart_passed": True, "assessment": "passed",
    },
    "scrutiny_nvme_intel660p.json": {
        "device": "/dev/testfoobarpass", "protocol": "NVMe", "model": "INTEL SSDPEKNW010T8",
        "serial": "BTNH93710FS91P0B", "capacity_bytes": 1024209543168, "temperature_c": 36,
        "power_on_hours": 2401, "power_cycles": 266, "available_spare_threshold_pct": 10,
        "smart_passed": True, "assessment": "passed",
    },
    "scrutiny_open_failed_exit2.json": {
        "device": None, "protocol": None, "model": None, "smart_available": None,
        "smart_passed": None, "sleeping": False, "exit_status": 2, "assessment": "unknown",
    },
    "scrutiny_scsi_intel_raid1_volume_windows.json": {
        "protocol": "SCSI", "model": "Intel Raid 1 Volume", "serial": "Volume1",
        "capacity_bytes": 1000202043392, "temperature_c": None, "smart_available": None,
        "smart_passed": None, "exit_status": 4, "assessment": "unknown",
    },
    "scrutiny_scsi_sas_seagate_st4000nm0043.json": {
        "device": "/dev/sdg", "protocol": "SCSI", "model": "SEAGATE ST4000NM0043",
        "serial": "Z1Z5DWJK0000XXXXXXXX", "capacity_bytes": 4000787030016,
        "temperature_c": 34, "power_on_hours": 43549, "exit_status": None,
        # 56 blocks in the grown defect list: remapped sectors, as ATA attribute 5.
        "reallocated_sectors": 56, "smart_passed": True, "assessment": "warning",
    },
}  # fmt: skip

# One key ATA attribute per file: (id, raw number, normalised value).
KEY_ATTRIBUTES = {
    "netdata_ata_hdd_wd_red_pro_18tb.json": (194, 49, 43),
    "sce_ata_hdd_hgst_hus724020ale640_exit64.json": (199, 12, 200),
    "sce_ata_hdd_seagate_exos_x16_16tb.json": (188, 51540393996, 100),
    "scrutiny_attributes_only_sat.json": (9, 2725, 97),
    "scrutiny_ata_ssd_samsung860evo_full.json": (177, 278, 81),
}

SCAN_SAMPLES = {
    "netdata_scan_nvme.json": [("/dev/nvme0", "/dev/nvme0", "nvme", "NVMe")],
    "netdata_scan_sat.json": [
        ("/dev/sda", "/dev/sda [SAT]", "sat", "ATA"),
        ("/dev/sdc", "/dev/sdc [SAT]", "sat", "ATA"),
    ],
    "scrutiny_scan_megaraid.json": [
        ("/dev/bus/0", "/dev/bus/0 [megaraid_disk_00]", "megaraid,0", "SCSI"),
        ("/dev/bus/0", "/dev/bus/0 [megaraid_disk_01]", "megaraid,1", "SCSI"),
    ],
    "scrutiny_scan_nvme.json": [("/dev/nvme0", "/dev/nvme0", "nvme", "NVMe")],
    "scrutiny_scan_simple.json": [
        (f"/dev/sd{letter}", f"/dev/sd{letter}", "scsi", "SCSI") for letter in "abcdefg"
    ],
}


def _parse(name: str) -> SmartReport:
    return parse_smartctl(sample(f"smartctl/{name}"))


def test_every_json_sample_is_covered() -> None:
    if SAMPLES_DIR is None:
        pytest.skip("shared samples folder not found; set INFRA_SAMPLES_DIR")
    # given
    on_disk = {path.name for path in (SAMPLES_DIR / "smartctl").glob("*.json")}
    # then
    assert on_disk == set(JSON_SAMPLES) | set(SCAN_SAMPLES)


@pytest.mark.parametrize("name", sorted(JSON_SAMPLES))
def test_json_sample_parses_with_the_values_in_the_file(name: str) -> None:
    # when
    report = _parse(name)
    # then
    for field, expected in JSON_SAMPLES[name].items():
        assert getattr(report, field) == expected, field


@pytest.mark.parametrize("name", sorted(KEY_ATTRIBUTES))
def test_key_ata_attribute_is_read_from_its_raw_string(name: str) -> None:
    # given
    attr_id, raw, value = KEY_ATTRIBUTES[name]
    # when
    attribute = next(a for a in _parse(name).attributes if a.id == attr_id)
    # then
    assert (attribute.raw, attribute.value, attribute.failing_now) == (raw, value, False)


def test_nvme_health_log_becomes_named_attributes_without_ids() -> None:
    # when
    report = _parse("sce_nvme_samsung_970evoplus_250g.json")
    # then
    by_name = {a.name: a for a in report.attributes}
    assert all(a.id is None for a in report.attributes)
    assert by_name["unsafe_shutdowns"].raw == 12
    assert by_name["num_err_log_entries"].value == 22
    assert by_name["temperature_sensors_2"].value == 39


def test_open_failure_keeps_smartctl_messages_and_is_not_an_error() -> None:
    # when
    report = _parse("scrutiny_open_failed_exit2.json")
    # then
    assert report.messages == [
        "Smartctl open device: /dev/sda failed: \\\\.\\PhysicalDrive0: Open failed, Error=5"
    ]
    assert report.attributes == []
    assert "Open failed" in report.assessment_reasons[0]


def test_a_drive_in_standby_is_sleeping_not_an_error() -> None:
    # given: what smartctl -n standby -j prints for a spun-down drive
    text = json.dumps(
        {
            "json_format_version": [1, 0],
            "smartctl": {
                "version": [7, 3],
                "exit_status": 2,
                "messages": [{"string": "Device is in STANDBY mode, exit(2)", "severity": "info"}],
            },
            "device": {
                "name": "/dev/sdb",
                "info_name": "/dev/sdb [SAT]",
                "type": "sat",
                "protocol": "ATA",
            },
        }
    )
    # when
    report = parse_smartctl(text)
    # then
    assert report.sleeping is True
    assert (report.device, report.smart_passed, report.temperature_c) == ("/dev/sdb", None, None)
    assert report.assessment == "unknown"
    assert "standby" in report.assessment_reasons[0]


def test_a_failing_attribute_and_a_failed_health_check_fail_the_drive() -> None:
    # given: the WD Red sample with attribute 5 at its threshold and smartctl saying FAILED
    data = json.loads(sample("smartctl/sce_ata_hdd_wd_red_wd20efrx.json"))
    data["smart_status"] = {"passed": False}
    row = next(r for r in data["ata_smart_attributes"]["table"] if r["id"] == 5)
    row.update(value=140, when_failed="now", raw={"value": 1200, "string": "1200"})
    # when
    report = parse_smartctl(json.dumps(data))
    # then
    assert report.smart_passed is False
    assert report.reallocated_sectors == 1200
    assert next(a for a in report.attributes if a.id == 5).failing_now is True
    assert report.assessment == "failed"
    assert len(report.assessment_reasons) == 3


@pytest.mark.parametrize("name", sorted(SCAN_SAMPLES))
def test_scan_sample_lists_its_devices(name: str) -> None:
    # when
    devices = parse_smartctl_scan(sample(f"smartctl/{name}"))
    # then
    assert [(d.name, d.info_name, d.type, d.protocol) for d in devices] == SCAN_SAMPLES[name]


def test_plain_scan_lines_are_read_too() -> None:
    # when
    devices = parse_smartctl_scan(
        "/dev/sda -d sat # /dev/sda [SAT], ATA device\n"
        "/dev/nvme0 -d nvme # /dev/nvme0, NVMe device\n"
    )
    # then
    assert [(d.name, d.type, d.protocol) for d in devices] == [
        ("/dev/sda", "sat", "ATA"),
        ("/dev/nvme0", "nvme", "NVMe"),
    ]


# --- bad input -----------------------------------------------------------------------------------

NOT_SMARTCTL_JSON = {
    "json-list": "[1, 2, 3]\n",
    "other-json": '{"blockdevices": [{"name": "sda"}]}\n',
    "truncated": '{"json_format_version": [1, 0], "smartctl": {"version": [7, 0], "argv": ["s',
}
PARSERS = {SMARTCTL_KIND: parse_smartctl, SMARTCTL_SCAN_KIND: parse_smartctl_scan}


@pytest.mark.parametrize(
    ("kind", "text"),
    bad_input_cases(
        PARSERS, {**EMPTY, **JUNK, "not-installed": shell_error("smartctl"), **NOT_SMARTCTL_JSON}
    ),
)
def test_bad_input_is_refused(kind: str, text: str) -> None:
    assert_refused(PARSERS[kind], kind, text)


def test_a_scan_is_not_a_report() -> None:
    text = sample("smartctl/netdata_scan_sat.json")
    assert_refused(parse_smartctl, SMARTCTL_KIND, text)


def test_a_report_is_not_a_scan() -> None:
    text = sample("smartctl/scrutiny_health_only_pass.json")
    assert_refused(parse_smartctl_scan, SMARTCTL_SCAN_KIND, text)


def test_an_attribute_row_without_an_id_is_refused() -> None:
    # given
    data = json.loads(sample("smartctl/scrutiny_attributes_only_sat.json"))
    del data["ata_smart_attributes"]["table"][0]["id"]
    # then
    assert_refused(parse_smartctl, SMARTCTL_KIND, json.dumps(data))


# --- property ------------------------------------------------------------------------------------

JSON_TOKENS = [
    "{", "}", "[", "]", '"', ",", ":", "null", "true", "0", "-1", "1e400", '"x"',
    '"raw"', '"value"', '"id"', '"table"', '"device"', '"smartctl"', "9" * 30,
]  # fmt: skip
TEMPLATE = (
    '{"smartctl":{"exit_status":0,"messages":[{"string":"m"}]},'
    '"device":{"name":"/dev/sda","type":"sat","protocol":"ATA"},"model_name":"M",'
    '"user_capacity":{"bytes":100},"rotation_rate":0,"smart_status":{"passed":true},'
    '"temperature":{"current":30},"power_on_time":{"hours":5},'
    '"nvme_smart_health_information_log":{"media_errors":0,"temperature_sensors":[1,2]},'
    '"ata_smart_attributes":{"table":[{"id":5,"name":"Reallocated_Sector_Ct","value":100,'
    '"worst":100,"thresh":10,"when_failed":"","raw":{"value":0,"string":"0"}}]}}'
)


# A real sample too, when the samples folder is there (hypothesis strategies are built at import).
REAL = (
    (SAMPLES_DIR / "smartctl" / "netdata_nvme_seagate_firecuda530.json").read_text()
    if SAMPLES_DIR
    else TEMPLATE
)


@settings(FUZZ, max_examples=150)
@given(
    st.one_of(
        mutated(TEMPLATE, tokens_of(JSON_TOKENS)),
        mutated(REAL, tokens_of(JSON_TOKENS)),
        st.text(max_size=40).map("{".__add__),
    )
)
def test_mutated_json_raises_only_parse_errors(text: str) -> None:
    assert_parses_or_raises(parse_smartctl, SMARTCTL_KIND, text)
    assert_parses_or_raises(parse_smartctl_scan, SMARTCTL_SCAN_KIND, text)
