"""Storing the drive survey: drives by serial, their health history, and the events that matter.

Per poll, for each drive smartctl read:

- identity is the serial (smartctl's, else lsblk's); a drive without one is known by its slot;
- a sleeping drive (``-n standby``) keeps its last verdict and gets no history point: we did not
  look, so nothing changed as far as we know;
- the verdict comes from ``devices.smart_assessment`` with the drive's last reading as history.
  Defect counters that grew raise a warning that is *held* for ``DRIVE_WARNING_HOLD_DAYS`` after
  the last growth: it does not flap off at the next poll (the counter did not shrink), and a
  drive that stays stable for the hold period passes again, with one ``drive.recovered``;
- events fire on changes only: ``drive.failing``, ``drive.warning`` (again only when a counter
  grows further), ``drive.recovered``, ``drive.temperature_high`` (cleared 3 degrees lower),
  ``drive.replaced`` (a new drive in the slot of one that is gone), ``drive.missing``.

A drive that could not be read (permission, garbage) keeps everything it had; the reason is on
the drive (``last_error``) and in the run's audit notes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.parsing import to_jsonable
from collectors.store import StoreContext
from devices import smart_assessment
from devices.history.families import DRIVES
from devices.history.tiers import RAW, horizon
from devices.models import Drive, DriveSample, Verdict
from devices.parsers.blockdev import BlockDevice
from devices.parsers.drives import KIND, DriveReading, DriveSurvey
from devices.parsers.smart import SmartReport
from devices.retention import prune_raw

log = logging.getLogger(__name__)

TEMPERATURE_HYSTERESIS_C = 3
# Reading errors that make the whole survey unable to tell which drives are there.
_BLIND = frozenset({"permission_denied", "command_not_found"})

# The counters smart_assessment compares against history, copied from the drive's last reading.
_HISTORY_FIELDS = (
    "reallocated_sectors",
    "pending_sectors",
    "offline_uncorrectable",
    "media_errors",
    "crc_errors",
)
_HEALTH_FIELDS = (
    "smart_passed",
    "temperature_c",
    "power_on_hours",
    "power_cycles",
    *_HISTORY_FIELDS,
    "percentage_used",
    "available_spare_pct",
)


def store_drives(ctx: StoreContext, survey: DriveSurvey) -> None:
    known = list(Drive.objects.filter(device=ctx.device, removed_at__isnull=True))
    by_slot = {d.slot: d for d in known}
    seen: dict[int, Drive] = {}
    arrived: set[int] = set()  # new drives, or drives back from being missing
    for reading in survey.readings:
        drive, is_arrival = _store_reading(ctx, survey, reading, by_slot)
        if drive is not None:
            seen[drive.pk] = drive
            if is_arrival:
                arrived.add(drive.pk)
    for problem in (survey.scan_error, survey.lsblk_error):
        if problem:
            ctx.note(KIND, problem)
    # Missing is judged only from a survey where smartctl worked: without it, drive names come
    # from lsblk (nvme0n1, not nvme0) and unreadable drives have no identity.
    if survey.scan_error or any(r.error_type in _BLIND for r in survey.readings):
        return
    if not survey.readings and known:
        ctx.note(KIND, "the survey found no drives at all; the known drives are kept as they were")
        return
    _detect_gone(ctx, [d for d in known if d.pk not in seen], seen, arrived)


def _store_reading(
    ctx: StoreContext, survey: DriveSurvey, reading: DriveReading, by_slot: dict[str, Drive]
) -> tuple[Drive | None, bool]:
    now = ctx.collected_at
    report = reading.report
    disk = survey.disk(reading)
    if reading.error_type is not None or report is None:
        ctx.note(KIND, f"{reading.slot}: {reading.error_type}: {reading.error}")
        occupant = by_slot.get(reading.slot)
        if occupant is not None:  # still there, as far as we can tell; keep what we know
            occupant.last_seen_at = now
            occupant.last_error_type = reading.error_type or "unreadable"
            occupant.last_error = reading.error or ""
            occupant.save(update_fields=["last_seen_at", "last_error_type", "last_error"])
        return occupant, False

    serial = (report.serial or (disk.serial if disk else None) or "").strip()
    if serial:
        drive = Drive.objects.filter(identity=f"sn:{serial}").first()
    else:
        drive = by_slot.get(reading.slot)
        if drive is None and report.sleeping:
            ctx.note(KIND, f"{reading.slot}: asleep and not identified yet; read when awake")
            return None, False
        drive = (
            drive or Drive.objects.filter(identity=f"slot:{ctx.device.pk}:{reading.slot}").first()
        )
    is_new = drive is None
    returned = drive is not None and (
        drive.removed_at is not None or drive.device_id != ctx.device.pk
    )
    if drive is None:
        identity = f"sn:{serial}" if serial else f"slot:{ctx.device.pk}:{reading.slot}"
        drive = Drive(identity=identity, first_seen_at=now)
    elif drive.device_id != ctx.device.pk:
        log.info(
            "drive %s moved from device %s to %s", drive.identity, drive.device_id, ctx.device.pk
        )
    _apply_identity(drive, reading, report, disk, serial)
    drive.device = ctx.device
    drive.last_seen_at = now
    drive.removed_at = None
    drive.last_error_type = drive.last_error = ""

    if report.sleeping and not _has_data(report):
        drive.sleeping = True
        drive.save()
        return drive, is_new or returned
    _apply_health(ctx, drive, report, is_new)
    return drive, is_new or returned


def _has_data(report: SmartReport) -> bool:
    return report.smart_passed is not None or bool(report.attributes)


def _apply_identity(
    drive: Drive,
    reading: DriveReading,
    report: SmartReport,
    disk: BlockDevice | None,
    serial: str,
) -> None:
    if serial:  # a sleeping drive tells no serial; keep the one we know
        drive.serial = serial[:128]
    drive.slot = reading.slot[:255]
    drive.device_type = reading.device_type[:40]
    model = report.model or (disk.model if disk else None)
    if model:
        drive.model = model.strip()[:255]
    if report.firmware:
        drive.firmware = report.firmware[:64]
    if report.protocol:
        drive.protocol = report.protocol
    capacity = report.capacity_bytes or (disk.size_bytes if disk else None)
    if capacity:
        drive.capacity_bytes = capacity
    if report.rotation_rpm is not None or report.ssd is not None:
        drive.rotation_rpm, drive.ssd = report.rotation_rpm, report.ssd
    elif disk is not None and disk.rotational is not None and drive.ssd is None:
        drive.ssd = not disk.rotational
    if disk is not None and disk.transport:
        drive.transport = disk.transport[:16]


def _previous(drive: Drive, report: SmartReport) -> SmartReport | None:
    """The drive's last reading, as far as the assessment rules compare against it."""
    if drive.read_at is None:
        return None
    return dataclasses.replace(report, **{f: getattr(drive, f) for f in _HISTORY_FIELDS})


def _apply_health(ctx: StoreContext, drive: Drive, report: SmartReport, is_new: bool) -> None:
    now = ctx.collected_at
    previous = _previous(drive, report)
    before = None if is_new or drive.read_at is None else drive.assessment
    verdict, reasons = smart_assessment.assess(report, previous)
    growth = smart_assessment.counter_growth(report, previous)
    hold = dt.timedelta(days=settings.DRIVE_WARNING_HOLD_DAYS)
    if growth:
        drive.counters_grew_at, drive.counters_reasons = now, growth
    elif drive.counters_grew_at is not None and now - drive.counters_grew_at < hold:
        until = (drive.counters_grew_at + hold).date().isoformat()
        since = drive.counters_grew_at.date().isoformat()
        held = [
            f"{r} (since {since}; held until {until} unless it grows)"
            for r in drive.counters_reasons
        ]
        reasons = reasons + held
        if verdict == Verdict.PASSED:
            verdict = Verdict.WARNING
    elif drive.counters_grew_at is not None:
        drive.counters_grew_at, drive.counters_reasons = None, []

    drive.sleeping = False
    drive.read_at = now
    drive.assessment, drive.assessment_reasons = verdict, reasons
    for name in _HEALTH_FIELDS:
        setattr(drive, name, getattr(report, name))
    drive.attributes = to_jsonable(report.attributes)
    drive.save()

    _verdict_events(ctx, drive, before, growth if previous is not None else [])
    _temperature_events(ctx, drive)
    last_table = (
        drive.samples.filter(attributes__isnull=False)
        .order_by("-collected_at")
        .values_list("collected_at", flat=True)
        .first()
    )
    every = dt.timedelta(hours=settings.DRIVE_ATTRIBUTES_EVERY_HOURS)
    keep_table = last_table is None or now - last_table >= every or verdict != before
    DriveSample.objects.create(
        drive=drive,
        collected_at=now,
        assessment=verdict,
        attributes=drive.attributes if keep_table else None,
        **{name: getattr(report, name) for name in _HEALTH_FIELDS},
    )


def _describe(drive: Drive) -> str:
    label = " ".join(part for part in (drive.model, drive.serial) if part) or "drive"
    return f"{drive.slot} ({label})"


def _event(
    ctx: StoreContext, drive: Drive, type_: str, severity: str, summary: str, **extra: Any
) -> None:
    data = {
        "drive": drive.pk,
        "serial": drive.serial,
        "model": drive.model,
        "slot": drive.slot,
        "assessment": drive.assessment,
        "reasons": drive.assessment_reasons,
        "temperature_c": drive.temperature_c,
    } | extra
    record_event(
        kind=EventKind.DRIVE,
        type=type_,
        severity=severity,
        summary=f"{ctx.device.name}: {summary}",
        device=ctx.device,
        data=data,
        occurred_at=ctx.collected_at,
    )


def _verdict_events(ctx: StoreContext, drive: Drive, before: str | None, growth: list[str]) -> None:
    verdict, first_reason = drive.assessment, (drive.assessment_reasons or [""])[0]
    if verdict == before and not (verdict == Verdict.WARNING and growth):
        return
    if verdict == Verdict.FAILED and before != Verdict.FAILED:
        _event(ctx, drive, "drive.failing", Severity.CRITICAL,
               f"{_describe(drive)} is failing: {first_reason}", previous=before)  # fmt: skip
    elif verdict == Verdict.WARNING:
        why = "; ".join(growth) if before == Verdict.WARNING else first_reason
        _event(ctx, drive, "drive.warning", Severity.WARNING,
               f"{_describe(drive)} shows signs of failure: {why}", previous=before)  # fmt: skip
    elif verdict == Verdict.PASSED and before in (Verdict.WARNING, Verdict.FAILED):
        _event(ctx, drive, "drive.recovered", Severity.INFO,
               f"{_describe(drive)} passes again (was {before})", previous=before)  # fmt: skip


def _temperature_events(ctx: StoreContext, drive: Drive) -> None:
    celsius = drive.temperature_c
    if celsius is None:
        return
    limit = (
        settings.DRIVE_NVME_TEMPERATURE_WARNING_C
        if drive.protocol == "NVMe"
        else settings.DRIVE_TEMPERATURE_WARNING_C
    )
    if not drive.temperature_high and celsius >= limit:
        drive.temperature_high = True
        _event(ctx, drive, "drive.temperature_high", Severity.WARNING,
               f"{_describe(drive)} is at {celsius} °C, limit {limit}", limit_c=limit)  # fmt: skip
    elif drive.temperature_high and celsius <= limit - TEMPERATURE_HYSTERESIS_C:
        drive.temperature_high = False
        _event(ctx, drive, "drive.temperature_normal", Severity.INFO,
               f"{_describe(drive)} cooled down to {celsius} °C", limit_c=limit)  # fmt: skip
    else:
        return
    drive.save(update_fields=["temperature_high"])


def _detect_gone(
    ctx: StoreContext, gone: list[Drive], seen: dict[int, Drive], arrived: set[int]
) -> None:
    """Drives this device had that the survey no longer shows: replaced when a newly arrived
    drive sits in the same slot, else missing. Kept for their history, marked removed."""
    arrivals_by_slot = {seen[pk].slot: seen[pk] for pk in arrived}
    for drive in gone:
        drive.removed_at = ctx.collected_at
        drive.save(update_fields=["removed_at"])
        successor = arrivals_by_slot.get(drive.slot)
        if successor is not None:
            _event(ctx, drive, "drive.replaced", Severity.WARNING,
                   f"{drive.slot}: {drive.serial or 'a drive'} was replaced by "
                   f"{successor.serial or 'a new drive'} ({successor.model})",
                   new_drive=successor.pk, new_serial=successor.serial)  # fmt: skip
        else:
            _event(ctx, drive, "drive.missing", Severity.WARNING,
                   f"{_describe(drive)} is no longer seen")  # fmt: skip


def prune_history(now: dt.datetime | None = None, *, batch_size: int = 5000) -> int:
    """Delete drive history past its raw retention (DRIVE_HISTORY_DAYS unless
    HISTORY_RETENTION_DRIVES says otherwise), in batches, once its rollups hold it; returns rows
    deleted. The nightly prune does the same for every family (devices.retention)."""
    now = now or timezone.now()
    return prune_raw(DRIVES, horizon(RAW, now, DRIVES), batch_size=batch_size, now=now)
