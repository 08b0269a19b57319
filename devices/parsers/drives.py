"""Parser for the ``drives`` survey: ``lsblk`` plus one ``smartctl`` report per drive, in one exec.

The survey is one shell section (``SURVEY_COMMAND``). It prints the block device tree, then asks
``smartctl --scan`` which drives there are (with the ``-d`` type each needs: ``sat``, ``nvme``,
``megaraid,N`` behind a RAID controller...) or, when the scan finds nothing, every whole disk
lsblk lists; then it reads each drive with ``smartctl --json=c -x -n standby``, falling back to
the plain-text report when smartctl is too old for ``--json``. ``-n standby`` means a sleeping
disk is reported as sleeping, never spun up by our poll.

Each part is framed by a line of its own (``@@IFR-DRIVES lsblk``, ``@@IFR-DRIVE <path> <type>``,
``@@IFR-DRIVE-EXIT <code>``); smartctl and lsblk never print a line starting with ``@@``.

A drive whose report cannot be read (no permission, garbage) is not an error of the survey: it
becomes a ``DriveReading`` with ``error_type`` set, so one bad drive never hides the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.parsing import ParseError
from devices.parsers.blockdev import BlockDevice, parse_lsblk
from devices.parsers.smart import SmartReport, parse_smartctl

KIND = "drives"

# Values that reach the per-drive command come from the device's own smartctl/lsblk output; the
# shell only passes them on if they look like device paths and -d types (double-quoted too).
SURVEY_COMMAND = r"""
S=""; [ "$(id -u)" = 0 ] || S="sudo -n"
echo "@@IFR-DRIVES lsblk"
lsblk -J -b -o NAME,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,MOUNTPOINT 2>/dev/null
o=$($S smartctl --scan </dev/null 2>&1); rc=$?
[ "$rc" = 0 ] || printf '@@IFR-DRIVES scan-failed %s %s\n' "$rc" "$(printf '%s' "$o" | head -n 1)"
L=$([ "$rc" = 0 ] && printf '%s\n' "$o" | awk '$1 ~ /^\/dev\/[A-Za-z0-9\/_.-]+$/ \
  && $2 == "-d" && $3 ~ /^[A-Za-z0-9,_+.-]+$/ {print $1, $3}')
[ -n "$L" ] || L=$(lsblk -d -n -o NAME,TYPE 2>/dev/null | awk '$2 == "disk" \
  && $1 ~ /^[A-Za-z0-9_.-]+$/ && $1 !~ /^(zram|loop|ram|nbd|rbd)/ {print "/dev/" $1, "auto"}')
printf '%s\n' "$L" | while read -r d t; do
  [ -n "$d" ] || continue
  echo "@@IFR-DRIVE $d $t"
  o=$($S smartctl --json=c -x -n standby -d "$t" "$d" </dev/null 2>&1); rc=$?
  case "$o" in *"UNRECOGNIZED OPTION"*|*"unrecognized option"*)
    o=$($S smartctl -x -n standby -d "$t" "$d" </dev/null 2>&1); rc=$? ;;
  esac
  printf '%s\n' "$o"
  echo "@@IFR-DRIVE-EXIT $rc"
done
true
""".strip()

_LSBLK = "@@IFR-DRIVES lsblk"
_SCAN_FAILED = re.compile(r"^@@IFR-DRIVES scan-failed (\d{1,3}) ?(.*)$")
_DRIVE = re.compile(r"^@@IFR-DRIVE (/dev/[A-Za-z0-9/_.-]{1,200}) ([A-Za-z0-9,_+.-]{1,40})$")
_EXIT = re.compile(r"^@@IFR-DRIVE-EXIT (\d{1,3})$")

# -d types that say nothing about where a drive sits; others (megaraid,N, cciss,N...) do.
_PLAIN_TYPES = frozenset({"auto", "ata", "sat", "scsi", "nvme", "sntasmedia", "sntjmicron"})

_PERMISSION = re.compile(
    r"permission denied|a password is required|operation not permitted|"
    r"a terminal is required|not in the sudoers|may not run sudo",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(r"smartctl: (command )?not found|smartctl: No such file", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DriveReading:
    """What smartctl said about one drive path, or why it said nothing useful.

    ``error_type`` is None for a usable report (a sleeping drive is usable: ``report.sleeping``),
    else ``permission_denied``, ``command_not_found``, ``parse_error`` or ``incomplete``.
    """

    path: str
    device_type: str
    exit_code: int | None
    report: SmartReport | None
    error_type: str | None = None
    error: str | None = None

    @property
    def slot(self) -> str:
        """Where the drive sits on its host: the path, plus the -d type when that says more."""
        if self.device_type in _PLAIN_TYPES:
            return self.path
        return f"{self.path} -d {self.device_type}"


@dataclass(frozen=True, slots=True)
class DriveSurvey:
    """``scan_error`` is set when ``smartctl --scan`` itself failed (no permission, say): the
    drives were then taken from lsblk, and the survey cannot tell that a drive went missing."""

    block_devices: list[BlockDevice]
    readings: list[DriveReading]
    scan_error: str | None = None
    lsblk_error: str | None = None

    def disk(self, reading: DriveReading) -> BlockDevice | None:
        """lsblk's whole-disk entry for a reading: by serial, else by kernel name."""
        disks = [d for d in self.block_devices if d.type == "disk"]
        serial = reading.report.serial if reading.report else None
        if serial:
            for disk in disks:
                if disk.serial and disk.serial.strip() == serial.strip():
                    return disk
        name = reading.path.removeprefix("/dev/")
        return next((d for d in disks if d.name == name), None)


def parse_drives(text: str) -> DriveSurvey:
    """The survey's block devices and per-drive readings."""
    lines = text.splitlines()
    try:
        start = lines.index(_LSBLK)
    except ValueError:
        raise ParseError(
            KIND, "no '@@IFR-DRIVES lsblk' line: not the drive survey's output"
        ) from None
    frames: list[tuple[str, str, list[str]]] = []
    lsblk_lines: list[str] = []
    current: list[str] = lsblk_lines
    exits: list[int | None] = []
    scan_error: str | None = None
    for lineno, line in enumerate(lines[start + 1 :], start + 2):
        if match := _DRIVE.match(line):
            if len(exits) < len(frames):
                exits.append(None)  # the previous drive never printed its exit line
            current = []
            frames.append((match.group(1), match.group(2), current))
        elif match := _SCAN_FAILED.match(line):
            scan_error = f"smartctl --scan exited {match.group(1)}: {match.group(2)}"[:300]
            current = []
        elif match := _EXIT.match(line):
            if not frames or len(exits) == len(frames):
                raise ParseError(KIND, "exit line without a drive", line, lineno)
            exits.append(int(match.group(1)))
            current = []
        elif line.startswith("@@IFR-DRIVE"):
            raise ParseError(KIND, "malformed drive frame line", line, lineno)
        else:
            current.append(line)
    if len(exits) < len(frames):
        exits.append(None)
    lsblk_text = "\n".join(lsblk_lines).strip()
    block_devices: list[BlockDevice] = []
    lsblk_error = None
    try:
        block_devices = parse_lsblk(lsblk_text) if lsblk_text else []
    except ParseError as e:  # lsblk only adds detail (transport, size); the reports still count
        lsblk_error = str(e)
    readings = [
        _reading(path, dtype, "\n".join(body), code)
        for (path, dtype, body), code in zip(frames, exits, strict=True)
    ]
    return DriveSurvey(block_devices, readings, scan_error=scan_error, lsblk_error=lsblk_error)


def _reading(path: str, device_type: str, text: str, exit_code: int | None) -> DriveReading:
    def failed(error_type: str, error: str) -> DriveReading:
        return DriveReading(path, device_type, exit_code, None, error_type, error[:500])

    if exit_code is None:
        return failed("incomplete", "the report was cut off")
    stripped = text.strip()
    if not stripped.startswith("{"):
        # JSON reports carry errors inside; plain text starting with an error line does not.
        if exit_code == 127 or _NOT_FOUND.search(stripped[:300]):
            return failed("command_not_found", "smartctl is not installed (or not on PATH)")
        if _PERMISSION.search(stripped[:1000]):
            return failed(
                "permission_denied",
                "smartctl needs root: connect as root or add the sudoers rule from the README "
                f"({_first_line(stripped)})",
            )
    try:
        report = parse_smartctl(text)
    except ParseError as e:
        return failed("parse_error", str(e))
    if report.serial is None and report.model is None and not report.sleeping:
        message = report.messages[0] if report.messages else "no drive identity in the report"
        if _PERMISSION.search(message):
            return failed(
                "permission_denied",
                f"smartctl needs root: connect as root or add the sudoers rule ({message})",
            )
        return DriveReading(path, device_type, exit_code, report, "unreadable", message[:500])
    return DriveReading(path, device_type, exit_code, report)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]
