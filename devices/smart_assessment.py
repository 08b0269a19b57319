"""Our own verdict on a drive's S.M.A.R.T. report: ``passed``, ``warning``, ``failed``, ``unknown``.

smartctl's own PASSED/FAILED only flips when a vendor threshold is crossed, which is usually too
late: Backblaze's drive statistics show that most failed drives first report non-zero
reallocated (5), pending (197) or offline-uncorrectable (198) sectors, or uncorrectable errors
(187/188), while smartctl still says PASSED. So we warn on those early signals, but judge growth
against the drive's own history (``previous``) so a constant old value does not alarm on every
poll, which is the false-alarm complaint users make about Scrutiny.

The rules run in order: any *failed* rule makes the verdict ``failed``; else any *warning* rule
makes it ``warning``; else a report with nothing to judge is ``unknown``; else ``passed``. Each
rule returns a reason (a sentence for the operator) or None. Pure: no ORM, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.parsers.smart import SmartReport

PASSED = "passed"
WARNING = "warning"
FAILED = "failed"
UNKNOWN = "unknown"

WEAR_WARNING_PCT = 90

# NVMe critical warning bits (NVMe base spec, SMART/Health log byte 0).
CRITICAL_WARNING_BITS = {
    0: "available spare below threshold",
    1: "temperature outside its limits",
    2: "reliability degraded by media or internal errors",
    3: "media placed in read-only mode",
    4: "volatile memory backup failed",
    5: "persistent memory region read-only",
}

Rule = Callable[["SmartReport", "SmartReport | None"], "str | None"]


def assess(report: SmartReport, previous: SmartReport | None = None) -> tuple[str, list[str]]:
    """The verdict and its reasons; ``previous`` is the drive's last report, when known."""
    failed = _reasons(FAILED_RULES, report, previous)
    warnings = _reasons(WARNING_RULES, report, previous)
    if failed:
        return FAILED, failed + warnings
    if warnings:
        return WARNING, warnings
    unknown = nothing_to_judge(report)
    if unknown is not None:
        return UNKNOWN, [unknown]
    return PASSED, []


def _reasons(
    rules: tuple[Rule, ...], report: SmartReport, previous: SmartReport | None
) -> list[str]:
    return [reason for rule in rules if (reason := rule(report, previous)) is not None]


def _grew(current: int | None, before: int | None) -> bool:
    """Worth a warning: above zero with no history, or higher than last time."""
    if current is None:
        return False
    if before is None:
        return current > 0
    return current > before


# --- failed --------------------------------------------------------------------------------------


def health_check_failed(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Failed when smartctl's overall health check failed.

    The drive itself says it is past a vendor threshold; vendors set these to predict failure
    within about a day, so there is nothing to wait for.
    """
    if report.smart_passed is False:
        return "smartctl overall health self-assessment FAILED"
    return None


def attribute_failing_now(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Failed when an attribute is failing now (normalised value at or below its threshold).

    That is the same test the drive uses for its own verdict, per attribute; some controllers
    (RAID, USB bridges) cannot pass the overall status, so we apply it ourselves.
    """
    failing = [a for a in report.attributes if a.failing_now]
    if not failing:
        return None
    names = ", ".join(f"{a.id} {a.name} ({a.value} <= {a.threshold})" for a in failing)
    return f"attributes failing now: {names}"


# --- warning -------------------------------------------------------------------------------------


def defective_sectors(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Warning when reallocated (5), pending (197) or offline-uncorrectable (198) sectors are
    above zero, or, with history, when they grew.

    Backblaze found these the strongest single predictors of failure: drives with any of them
    non-zero fail many times more often. But a drive that remapped a few sectors years ago and
    has been stable since is not news, so with history only growth alarms.
    """
    counters = (
        ("reallocated sectors", "reallocated_sectors"),
        ("pending sectors", "pending_sectors"),
        ("offline uncorrectable sectors", "offline_uncorrectable"),
    )
    grown = [
        f"{label} {getattr(report, field)}"
        + (f" (was {getattr(previous, field)})" if previous is not None else "")
        for label, field in counters
        if _grew(getattr(report, field), getattr(previous, field) if previous else None)
    ]
    return "; ".join(grown) if grown else None


def nvme_media_errors(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Warning when media errors (NVMe media and data integrity errors, SCSI uncorrected
    errors) are above zero, or with history when they grew.

    These are reads the drive could not correct: data was lost or had to come from redundancy.
    """
    before = previous.media_errors if previous is not None else None
    if _grew(report.media_errors, before):
        return f"media errors {report.media_errors}"
    return None


def critical_warning_bits(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Warning when any NVMe critical warning bit is set.

    The controller sets these itself (spare exhausted, overheating, read-only, degraded); each
    is the drive asking to be replaced or cooled.
    """
    bits = report.critical_warning
    if not bits:
        return None
    named = [text for bit, text in CRITICAL_WARNING_BITS.items() if bits & (1 << bit)]
    return f"NVMe critical warning 0x{bits:02x}: " + ", ".join(named or ["unknown bit"])


def spare_below_threshold(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Warning when the NVMe available spare fell below the vendor's threshold.

    Spare blocks replace worn-out ones; below the threshold the drive can soon go read-only.
    """
    spare, threshold = report.available_spare_pct, report.available_spare_threshold_pct
    if spare is not None and threshold is not None and spare < threshold:
        return f"available spare {spare}% below threshold {threshold}%"
    return None


def wear_high(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Warning when an SSD has used 90% or more of its rated write endurance.

    Past 100% flash cells are beyond their rated program/erase cycles; plan a replacement
    before that rather than after.
    """
    used = report.percentage_used
    if used is not None and used >= WEAR_WARNING_PCT:
        return f"{used}% of rated endurance used"
    return None


def crc_errors_growing(report: SmartReport, previous: SmartReport | None) -> str | None:
    """Warning only when UDMA CRC errors (199) grew since the last report.

    CRC errors are link (cable, backplane) errors, not media errors, and the counter never
    resets: a constant count is usually an old, already-fixed cable event, so without history
    or without growth it never alarms.
    """
    if previous is None or report.crc_errors is None or previous.crc_errors is None:
        return None
    if report.crc_errors > previous.crc_errors:
        return f"CRC errors grew from {previous.crc_errors} to {report.crc_errors} (check cable)"
    return None


# --- unknown -------------------------------------------------------------------------------------


def nothing_to_judge(report: SmartReport) -> str | None:
    """Unknown when the drive is asleep, lacks SMART or the output has no health data.

    A sleeping drive was deliberately not woken (``-n standby``); calling it passed would hide
    that we did not look.
    """
    has_data = report.smart_passed is not None or bool(report.attributes)
    if report.sleeping and not has_data:
        return "drive is in standby; not woken to read SMART"
    if report.smart_available is False:
        return "SMART is unavailable on this device"
    if not has_data and report.messages:
        return f"smartctl read no health data: {report.messages[0]}"
    if not has_data:
        return "no SMART health data in the output"
    return None


FAILED_RULES: tuple[Rule, ...] = (health_check_failed, attribute_failing_now)
WARNING_RULES: tuple[Rule, ...] = (
    defective_sectors,
    nvme_media_errors,
    critical_warning_bits,
    spare_below_threshold,
    wear_high,
    crc_errors_growing,
)

# Rules about counters that only ever grow: once they stop growing, the store holds their warning
# for DRIVE_WARNING_HOLD_DAYS, then lets the drive pass again (see devices.drives).
COUNTER_RULES: tuple[Rule, ...] = (defective_sectors, nvme_media_errors, crc_errors_growing)


def counter_growth(report: SmartReport, previous: SmartReport | None) -> list[str]:
    """Reasons from the counter rules alone: what grew since ``previous`` (or is above zero
    when there is no history)."""
    return _reasons(COUNTER_RULES, report, previous)
