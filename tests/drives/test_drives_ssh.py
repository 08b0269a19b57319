"""Drives end to end over real SSH: a host whose `smartctl` serves real captured reports (and whose
`lsblk` is the real one), polled with the `drives` kind, read back through the API."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Event, RunStatus
from devices.models import Device, Drive, DriveSample
from tests.conftest import device_for
from tests.drives.shim import STANDBY, SmartHost, report, set_attribute
from tests.samples import sample

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

WD_RED = "sce_ata_hdd_wd_red_wd20efrx.json"
EXOS = "sce_ata_hdd_seagate_exos_x16_16tb.json"
SAMSUNG_NVME = "sce_nvme_samsung_970evoplus_250g.json"
TOSHIBA = "sce_ata_hdd_toshiba_x300_6tb.json"


@pytest.fixture
def smart() -> Iterator[SmartHost]:
    host = SmartHost()
    yield host
    host.close()


@pytest.fixture
def drive_host(smart: SmartHost, sshd_factory, client_key: Path) -> Device:
    smart.put("sda", report(WD_RED, serial="WD-RED-0001"))
    smart.put("sdb", report(EXOS, serial="ZL-EXOS-0002"))
    smart.put("nvme0", report(SAMSUNG_NVME, serial="S4EUNX0-0003"))
    host = sshd_factory(shims=smart.shims())
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    device.refresh_from_db()
    assert device.has_capability("smartctl")
    return device


def poll(device: Device) -> dict[str, object]:
    run = collect(device, ["drives"], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    return run.kind_results["drives"]


def events(type_: str) -> list[Event]:
    return list(Event.objects.filter(type=type_).order_by("occurred_at", "pk"))


def test_one_poll_shows_every_drive_with_its_verdict_and_history(
    smart: SmartHost, drive_host: Device, viewer_client: APIClient
) -> None:
    poll(drive_host)
    body = viewer_client.get("/api/drives/?ordering=slot").json()["results"]
    assert [(d["slot"], d["serial"], d["protocol"]) for d in body] == [
        ("/dev/nvme0", "S4EUNX0-0003", "NVMe"),
        ("/dev/sda", "WD-RED-0001", "ATA"),
        ("/dev/sdb", "ZL-EXOS-0002", "ATA"),
    ]
    red = body[1]
    assert red["model"] == "WDC WD20EFRX-68EUZN0" and red["assessment"] == "passed"
    assert red["temperature_c"] == 34 and red["reallocated_sectors"] == 0
    assert red["device_name"] == drive_host.name and red["sleeping"] is False
    assert "attributes" not in red  # the list stays light; the detail has the table
    detail = viewer_client.get(f"/api/drives/{red['id']}/").json()
    assert any(a["id"] == 5 and a["name"] == "Reallocated_Sector_Ct" for a in detail["attributes"])
    history = viewer_client.get(f"/api/drives/{red['id']}/history/").json()["points"]
    assert len(history) == 1 and history[0]["temperature_c"] == 34
    assert "attributes" not in history[0]
    with_table = viewer_client.get(f"/api/drives/{red['id']}/history/?attributes=true").json()
    assert len(with_table["points"][0]["attributes"]) > 10
    # every drive was read with -n standby and through sudo's rule, never waking a sleeper
    reads = [c for c in smart.calls() if "/dev/" in c and "--scan" not in c]
    assert len(reads) == 3 and all("-n standby" in c for c in reads)
    assert not Event.objects.filter(kind="drive").exists()


def test_a_failing_drive_raises_drive_failing_and_recovery_later(
    smart: SmartHost, drive_host: Device
) -> None:
    poll(drive_host)
    # when the WD Red's reallocated sectors reach the threshold and smartctl says FAILED
    failing = report(WD_RED, serial="WD-RED-0001", smart_status={"passed": False})
    set_attribute(failing, 5, 0, value=140, when_failed="now")  # failing by its threshold
    smart.put("sda", failing, rc=8)
    poll(drive_host)
    # then
    [event] = events("drive.failing")
    assert event.severity == "critical" and event.data["serial"] == "WD-RED-0001"
    assert "FAILED" in event.summary and event.device == drive_host
    assert Drive.objects.get(serial="WD-RED-0001").assessment == "failed"
    # and the same state again is not news
    poll(drive_host)
    assert len(events("drive.failing")) == 1
    # and when the drive is healthy again (say the sample was a controller glitch)
    smart.put("sda", report(WD_RED, serial="WD-RED-0001"))
    poll(drive_host)
    assert [e.data["previous"] for e in events("drive.recovered")] == ["failed"]


def test_growing_defect_counters_warn_once_per_growth_and_the_warning_is_held(
    smart: SmartHost, drive_host: Device, settings
) -> None:
    settings.DRIVE_WARNING_HOLD_DAYS = 7
    poll(drive_host)
    exos = report(EXOS, serial="ZL-EXOS-0002")
    set_attribute(exos, 197, 8)  # 8 pending sectors (hand-edited counter)
    smart.put("sdb", exos)
    poll(drive_host)
    [first] = events("drive.warning")
    assert "pending sectors 8 (was 0)" in first.summary
    # when the counter stays at 8: still a warning (held), but no new event
    poll(drive_host)
    drive = Drive.objects.get(serial="ZL-EXOS-0002")
    assert drive.assessment == "warning" and "held until" in drive.assessment_reasons[0]
    assert len(events("drive.warning")) == 1
    # when it grows again: a new warning
    set_attribute(exos, 197, 24)
    smart.put("sdb", exos)
    poll(drive_host)
    assert "pending sectors 24 (was 8)" in events("drive.warning")[-1].summary
    # when it stayed stable past the hold period: the drive passes again, once
    grew_at = Drive.objects.get(pk=drive.pk).counters_grew_at
    assert grew_at is not None
    Drive.objects.filter(pk=drive.pk).update(counters_grew_at=grew_at - dt.timedelta(days=8))
    poll(drive_host)
    assert Drive.objects.get(pk=drive.pk).assessment == "passed"
    assert [e.data["previous"] for e in events("drive.recovered")] == ["warning"]
    assert DriveSample.objects.filter(drive=drive).count() == 5


def test_a_sleeping_drive_is_not_woken_and_keeps_its_verdict(
    smart: SmartHost, drive_host: Device
) -> None:
    poll(drive_host)
    smart.put("sdb", copy.deepcopy(STANDBY), rc=2)
    audit = poll(drive_host)
    drive = Drive.objects.get(serial="ZL-EXOS-0002")
    assert drive.sleeping is True and drive.assessment == "passed"
    assert drive.temperature_c == 26  # the last reading, not erased
    assert DriveSample.objects.filter(drive=drive).count() == 1  # nothing read, nothing added
    assert "notes" not in audit and not Event.objects.filter(kind="drive").exists()


def test_a_new_serial_in_a_slot_is_a_replacement_and_a_vanished_drive_is_missing(
    smart: SmartHost, drive_host: Device
) -> None:
    poll(drive_host)
    smart.put("sda", report(TOSHIBA, serial="TOSH-0004"))
    smart.unplug("sdb")
    poll(drive_host)
    [replaced] = events("drive.replaced")
    assert replaced.data["serial"] == "WD-RED-0001" and replaced.data["new_serial"] == "TOSH-0004"
    [missing] = events("drive.missing")
    assert missing.data["serial"] == "ZL-EXOS-0002"
    old = Drive.objects.get(serial="WD-RED-0001")
    assert old.removed_at is not None and old.samples.count() == 1  # kept with its history
    assert Drive.objects.get(serial="TOSH-0004").slot == "/dev/sda"
    # when the drive comes back, it is the same drive (by serial), not a new one
    smart.put("sdb", report(EXOS, serial="ZL-EXOS-0002"))
    poll(drive_host)
    assert Drive.objects.filter(serial="ZL-EXOS-0002").count() == 1
    assert Drive.objects.get(serial="ZL-EXOS-0002").removed_at is None


def test_drives_renamed_by_a_reboot_are_neither_replaced_nor_missing(
    smart: SmartHost, drive_host: Device
) -> None:
    poll(drive_host)
    smart.put("sda", report(EXOS, serial="ZL-EXOS-0002"))
    smart.put("sdb", report(WD_RED, serial="WD-RED-0001"))
    poll(drive_host)
    assert not Event.objects.filter(kind="drive").exists()
    assert Drive.objects.get(serial="WD-RED-0001").slot == "/dev/sdb"


def test_without_a_sudo_rule_the_error_is_clear_and_nothing_is_lost(
    smart: SmartHost, drive_host: Device
) -> None:
    poll(drive_host)
    smart.deny_sudo()
    run = collect(drive_host, ["drives"], trigger="cli")
    assert run is not None
    notes = run.kind_results["drives"]["notes"]
    assert any("scan exited 1: sudo: a password is required" in n for n in notes), notes
    assert Drive.objects.filter(removed_at__isnull=True).count() == 3
    assert not events("drive.missing")


def test_a_hot_drive_warns_once_until_it_cools_down(
    smart: SmartHost, drive_host: Device, settings
) -> None:
    settings.DRIVE_TEMPERATURE_WARNING_C = 30  # the WD Red reads 34 C, the Exos 26 C
    poll(drive_host)
    poll(drive_host)
    [hot] = events("drive.temperature_high")
    assert hot.data["serial"] == "WD-RED-0001" and hot.data["limit_c"] == 30
    smart.put("sda", report(WD_RED, serial="WD-RED-0001", temperature={"current": 26}))
    poll(drive_host)
    assert len(events("drive.temperature_normal")) == 1


def test_an_old_smartctl_without_json_is_read_as_text(smart: SmartHost, drive_host: Device) -> None:
    smart.put("sdb", sample("smartctl/text_sat_hdd_st2000nm000a_smartctl6.4.txt"))
    poll(drive_host)
    drive = Drive.objects.get(serial="WS10SM2A")
    assert drive.model == "ST2000NM000A-2J2100" and drive.slot == "/dev/sdb"
    assert drive.assessment in ("passed", "warning") and drive.power_on_hours is not None


def test_the_admin_lists_drives_with_their_verdict_and_shows_a_drive_page(
    smart: SmartHost, drive_host: Device, admin_client
) -> None:
    poll(drive_host)
    failing = report(WD_RED, serial="WD-RED-0001", smart_status={"passed": False})
    set_attribute(failing, 5, 0, value=140, when_failed="now")
    smart.put("sda", failing, rc=8)
    poll(drive_host)
    listing = admin_client.get("/admin/devices/drive/?assessment=failed").content.decode()
    assert "WD-RED-0001" in listing and "ZL-EXOS-0002" not in listing
    assert "Failed" in listing
    drive = Drive.objects.get(serial="WD-RED-0001")
    page = admin_client.get(f"/admin/devices/drive/{drive.pk}/change/").content.decode()
    assert "smartctl overall health self-assessment FAILED" in page
    assert "Reallocated_Sector_Ct" in page and "color:#cf222e;font-weight:bold" in page
    assert page.count(" UTC</td><td>") == 2  # one history row per reading
