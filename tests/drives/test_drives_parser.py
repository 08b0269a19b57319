"""The drive survey's parser: frames around real lsblk and smartctl outputs, per-drive errors,
and the promise that any text gives a survey or a ParseError."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.parsers.drives import KIND, SURVEY_COMMAND, parse_drives
from tests.parser_kit import FUZZ, assert_parses_or_raises, assert_refused, mutated, tokens_of
from tests.samples import sample

LSBLK_JSON = """{"blockdevices": [
 {"name":"sda","type":"disk","size":2000398934016,"model":"WDC WD20EFRX-68EUZN0",
  "serial":"WD-WCC4M0000001","rota":true,"tran":"sata","mountpoint":null,
  "children":[{"name":"sda1","type":"part","size":2000397868544,"model":null,"serial":null,
  "rota":true,"tran":null,"mountpoint":"/mnt/disk1"}]},
 {"name":"nvme0n1","type":"disk","size":250059350016,"model":"Samsung SSD 970 EVO Plus 250GB",
  "serial":"S4EUNX0N000001","rota":false,"tran":"nvme","mountpoint":null}
]}"""


def survey(*parts: str, lsblk: str = LSBLK_JSON) -> str:
    return "\n".join(["@@IFR-DRIVES lsblk", lsblk, *parts]) + "\n"


def drive(path: str, dtype: str, text: str, rc: int | None = 0) -> str:
    frame = f"@@IFR-DRIVE {path} {dtype}\n{text.rstrip()}"
    return frame if rc is None else f"{frame}\n@@IFR-DRIVE-EXIT {rc}"


def test_each_drive_report_is_read_and_matched_to_its_lsblk_disk() -> None:
    # given: real reports for a SATA disk (JSON), an NVMe drive (JSON) and an old smartctl (text)
    text = survey(
        drive("/dev/sda", "sat", sample("smartctl/sce_ata_hdd_wd_red_wd20efrx.json")),
        drive("/dev/nvme0", "nvme", sample("smartctl/sce_nvme_samsung_970evoplus_250g.json")),
        drive("/dev/sdc", "sat", sample("smartctl/text_sat_hdd_st2000nm000a_smartctl6.4.txt")),
        drive(
            "/dev/bus/0",
            "megaraid,16",
            sample("smartctl/text_megaraid_sata_hdd_hgst_hus724040.txt"),
        ),
    )
    # when
    result = parse_drives(text)
    # then
    assert [d.name for d in result.block_devices] == ["sda", "nvme0n1"]
    sda, nvme, old, raid = result.readings
    assert sda.report is not None and sda.error_type is None
    assert sda.report.model == "WDC WD20EFRX-68EUZN0" and sda.report.temperature_c == 34
    disk = result.disk(sda)  # matched by name
    assert disk is not None and disk.transport == "sata"
    assert nvme.report is not None and nvme.report.protocol == "NVMe"
    assert old.report is not None and old.report.serial == "WS10SM2A"
    assert (sda.slot, nvme.slot, raid.slot) == (
        "/dev/sda",
        "/dev/nvme0",
        "/dev/bus/0 -d megaraid,16",
    )
    assert raid.report is not None and raid.report.model == "HGST HUS724040ALE640"


def test_an_nvme_controller_is_matched_to_its_namespace_by_serial() -> None:
    report = sample("smartctl/sce_nvme_samsung_970evoplus_250g.json").replace(
        '"serial_number": "REDACTED"', '"serial_number": "S4EUNX0N000001"'
    )
    result = parse_drives(survey(drive("/dev/nvme0", "nvme", report)))
    disk = result.disk(result.readings[0])
    assert disk is not None and disk.name == "nvme0n1"


@pytest.mark.parametrize(
    ("output", "rc", "error_type", "words"),
    [
        ("sudo: a password is required", 1, "permission_denied", "sudoers rule from the README"),
        ("sh: 1: smartctl: not found", 127, "command_not_found", "not installed"),
        (
            "smartctl 7.3 2022-02-28 r5338 [x86_64-linux-6.1.0] (local build)\n"
            "Smartctl open device: /dev/sda failed: Permission denied",
            2,
            "permission_denied",
            "needs root",
        ),
        ("\x00\x01 not smartctl at all", 0, "parse_error", "smartctl"),
    ],
)
def test_a_drive_that_cannot_be_read_is_a_reading_with_a_clear_error(
    output: str, rc: int, error_type: str, words: str
) -> None:
    result = parse_drives(survey(drive("/dev/sda", "sat", output, rc)))
    [reading] = result.readings
    assert reading.report is None and reading.error_type == error_type
    assert reading.error is not None and words in reading.error


def test_the_open_failure_in_a_real_json_report_is_unreadable_not_a_crash() -> None:
    result = parse_drives(
        survey(drive("/dev/sda", "auto", sample("smartctl/scrutiny_open_failed_exit2.json"), 2))
    )
    [reading] = result.readings
    assert reading.error_type in ("unreadable", "permission_denied")
    assert reading.error


def test_a_report_cut_off_before_its_exit_line_is_incomplete_and_the_next_still_counts() -> None:
    text = survey(
        drive("/dev/sda", "sat", '{"json_format_version": [1, 0], "smartctl": {', rc=None),
        drive("/dev/sdb", "sat", sample("smartctl/sce_ata_hdd_seagate_exos_x16_16tb.json")),
    )
    first, second = parse_drives(text).readings
    assert first.error_type == "incomplete"
    assert second.report is not None and second.report.model == "ST16000NM001G-2KK103"


def test_a_failed_scan_and_a_broken_lsblk_are_recorded_not_fatal() -> None:
    text = "\n".join(
        [
            "@@IFR-DRIVES lsblk",
            "lsblk: unknown column: MOUNTPOINT",
            "@@IFR-DRIVES scan-failed 1 sudo: a password is required",
        ]
    )
    result = parse_drives(text)
    assert result.readings == [] and result.block_devices == []
    assert result.scan_error == "smartctl --scan exited 1: sudo: a password is required"
    assert result.lsblk_error is not None and result.lsblk_error.startswith("lsblk")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello\n",
        "smartctl 7.3\n=== START OF INFORMATION SECTION ===\n",
        "@@IFR-DRIVES lsblk\n@@IFR-DRIVE-EXIT 0\n",
        "@@IFR-DRIVES lsblk\n@@IFR-DRIVE sda sat\n",
    ],
)
def test_output_that_is_not_the_survey_is_refused(text: str) -> None:
    assert_refused(parse_drives, KIND, text)


def test_the_survey_command_is_valid_posix_sh() -> None:
    result = subprocess.run(["sh", "-n", "-c", SURVEY_COMMAND], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


TOKENS = ["@@IFR-DRIVES lsblk", "@@IFR-DRIVE /dev/sda sat", "@@IFR-DRIVE-EXIT 0", "{", "}", "\n"]


@FUZZ
@given(data=st.data())
def test_damaged_survey_output_gives_a_survey_or_a_parse_error(data: st.DataObject) -> None:
    template = survey(
        drive("/dev/sda", "sat", sample("smartctl/scrutiny_health_only_pass.json")),
        drive("/dev/sdb", "sat", sample("smartctl/text_ata_ssd_liteon_smartctl6.6.txt")),
    )
    text = data.draw(mutated(template, tokens_of(TOKENS)))
    assert_parses_or_raises(parse_drives, KIND, text)
