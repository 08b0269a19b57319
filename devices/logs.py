"""Logs read on demand from a device and never stored: the systemd journal, a whitelisted log
file, or a container's output. The API calls `read_logs` (MCP will too).

Every value is checked against a strict rule here, then shlex-quoted; values that journalctl
takes go in the `--option=value` form, so none can pose as an option. Each read is one audited
`run_operation` (`logs.journal`, `logs.file`; a container read is `containers.services`'
`container.logs`).

At most LOG_MAX_BYTES of text come back, and it is the newest that is kept: the device sends the
output through `tail -c`, after a line with a random marker. When the marker arrived, nothing was
cut; when it did not, the first line is a piece of a line and is dropped, and the read says
`truncated`. The source's own exit status is carried past the pipe (POSIX sh has no pipefail).

`grep` is plain text matched without regard to case in every source (journalctl's `-g` gets it
escaped). `lines` is the newest N matching lines, except for containers, where docker's own
`--tail` applies before the filter.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import secrets
import shlex
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from collectors.models import Operation, OperationStatus, Trigger
from collectors.operations import OperationOutput, run_operation
from collectors.parsing import ParseError, to_jsonable
from containers import services as container_services
from containers.models import Container, ContainerState
from containers.services import InvalidInput
from devices.models import Device
from devices.parsers.journal import JournalEntry, parse_journal

__all__ = [
    "JOURNAL",
    "MAX_LINES",
    "PARAMETER_NAMES",
    "SOURCES",
    "InvalidInput",
    "LogRead",
    "read_logs",
    "validated_grep",
    "validated_lines",
    "validated_path",
    "validated_priority",
    "validated_since",
    "validated_unit",
]

JOURNAL, FILE, CONTAINER = "journal", "file", "container"
SOURCES = (JOURNAL, FILE, CONTAINER)
# Which parameters each source takes; any other one given is a mistake worth a 400.
PARAMETERS = {
    JOURNAL: ("unit", "priority", "since", "grep", "lines"),
    FILE: ("path", "grep", "lines"),
    CONTAINER: ("container", "since", "grep", "lines"),
}
PARAMETER_NAMES = ("unit", "priority", "since", "grep", "lines", "path", "container")
DEFAULT_LINES = 200
MAX_LINES = 5000
MAX_GREP_CHARS = 200
MAX_PATH_CHARS = 1024
PRIORITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

# Unit names (letters, digits, `:_.@-`, `\` of escaped names) and the `*`/`?` globs journalctl -u
# takes; never starting with `-`.
_UNIT = re.compile(r"[A-Za-z0-9_.:@\\*?][A-Za-z0-9_.:@\\*?-]{0,255}")
_RELATIVE_UNITS = "(?:sec|s|min|m|h|d|w)"
# What journalctl --since takes, narrowed to forms that cannot surprise: keywords, @epoch,
# -1h30min, "2 hours"-style "1h ago", and a date with optional time and optional " UTC"
# (without it, the device's own time zone applies).
_SINCE = re.compile(
    r"today|yesterday|now"
    r"|@[0-9]{1,11}"
    rf"|-(?:[0-9]{{1,6}}{_RELATIVE_UNITS}){{1,4}}"
    rf"|[0-9]{{1,6}}{_RELATIVE_UNITS} ago"
    r"|(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?P<time> [0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?(?: UTC)?"
)
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._+@:-]{1,255}")
_CONTAINER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_GLOB_CHARS = frozenset("*?[")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Exit codes of the scripts below (sysexits.h where one fits) -> error type.
_EXIT_ERROR_TYPES = {
    127: "command_not_found",
    126: "permission_denied",
    77: "permission_denied",  # EX_NOPERM
    66: "not_found",  # EX_NOINPUT
    65: "not_a_regular_file",  # EX_DATAERR
}

# journalctl with -q does not warn that a user outside these groups sees only its own entries:
# refuse instead of answering with a silently partial journal. Root, the groups systemd's ACLs
# name, or any readable system journal file (a custom ACL) may read.
_JOURNAL_PREFLIGHT = r"""
command -v journalctl >/dev/null 2>&1 || { echo 'journalctl: command not found' >&2; exit 127; }
groups=$(id -Gn 2>/dev/null | tr ' ' '\n')
if [ "$(id -u)" != 0 ] && ! echo "$groups" | grep -qxE 'systemd-journal|adm|wheel'; then
  readable=
  for f in /var/log/journal/*/system.journal /run/log/journal/*/system.journal; do
    [ -r "$f" ] && readable=1
  done
  if [ -z "$readable" ]; then
    echo "permission denied: $(id -un) may not read the system journal" \
      "(add it to the systemd-journal or adm group)" >&2
    exit 77
  fi
fi
""".lstrip()


@dataclass(frozen=True)
class LogRead:
    """One read: journal `entries`, or file/container `lines` (oldest first), and its audit row."""

    source: str
    output: OperationOutput
    entries: list[JournalEntry] | None = None
    lines: list[str] | None = None
    truncated: bool = False

    @property
    def operation(self) -> Operation:
        return self.output.operation

    @property
    def ok(self) -> bool:
        return self.operation.status == OperationStatus.OK

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": self.ok,
            "source": self.source,
            "operation": self.operation.pk,
            "error_type": self.operation.error_type or None,
            "error": self.operation.error or None,
        }
        if self.ok:
            rows: list[Any] = (self.entries if self.source == JOURNAL else self.lines) or []
            body["entries" if self.source == JOURNAL else "lines"] = to_jsonable(rows)
            body["count"] = len(rows)
            body["truncated"] = self.truncated
        return body


def read_logs(
    device: Device,
    source: str = JOURNAL,
    *,
    actor: str,
    trigger: str = Trigger.API,
    unit: str | None = None,
    priority: str | int | None = None,
    since: str | None = None,
    grep: str | None = None,
    lines: str | int | None = None,
    path: str | None = None,
    container: str | None = None,
) -> LogRead:
    """Read logs now. Raises InvalidInput (naming the field) before anything reaches the device;
    a read that ran but failed comes back with `ok` False and a typed `error_type`."""
    given = {"unit": unit, "priority": priority, "since": since, "grep": grep, "lines": lines,
             "path": path, "container": container}  # fmt: skip
    if source not in PARAMETERS:
        raise InvalidInput("source", f"source must be one of {', '.join(SOURCES)}")
    for name, value in given.items():
        if value not in (None, "") and name not in PARAMETERS[source]:
            raise InvalidInput(name, f"{name} does not apply to {source} logs")
    if source == JOURNAL:
        return _read_journal(
            device, actor=actor, trigger=trigger, unit=validated_unit(unit),
            priority=validated_priority(priority), since=validated_since(since),
            grep=validated_grep(grep), lines=validated_lines(lines),
        )  # fmt: skip
    if source == FILE:
        file_path, by_pattern = validated_path(path)
        return _read_file(
            device, actor=actor, trigger=trigger, file_path=file_path, by_pattern=by_pattern,
            grep=validated_grep(grep), lines=validated_lines(lines),
        )  # fmt: skip
    return _read_container(
        device, actor=actor, trigger=trigger, name=container, since=since,
        grep=validated_grep(grep), lines=validated_lines(lines),
    )  # fmt: skip


# --- validation ----------------------------------------------------------------------------------


def validated_lines(value: str | int | None) -> int:
    if value is None or value == "":
        return DEFAULT_LINES
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LINES:
        raise InvalidInput("lines", f"lines must be a whole number from 1 to {MAX_LINES}")
    return int(text)


def validated_unit(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _UNIT.fullmatch(value):
        raise InvalidInput(
            "unit", "unit must be a systemd unit name (letters, digits, :_.@-\\ and * or ?)"
        )
    return value


def validated_priority(value: str | int | None) -> int | None:
    """0 (emerg) to 7 (debug), or the name; journalctl shows this level and the more urgent."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in PRIORITIES:
        return PRIORITIES.index(text)
    if len(text) == 1 and text in "01234567":
        return int(text)
    raise InvalidInput("priority", f"priority must be 0-7 or one of {', '.join(PRIORITIES)}")


def validated_since(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    match = _SINCE.fullmatch(value)
    if match and match.group("date"):
        try:  # the pattern lets 2026-13-45 25:99 through; the calendar does not
            dt.date.fromisoformat(match.group("date"))
            if match.group("time"):
                dt.time.fromisoformat(match.group("time").strip())
        except ValueError:
            match = None
    if not match:
        raise InvalidInput(
            "since",
            "since must be today, yesterday, now, @<unix time>, a relative time like -1h or "
            "-1h30min or '2h ago', or 'YYYY-MM-DD [HH:MM[:SS]] [UTC]'",
        )
    return value


def validated_grep(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_GREP_CHARS or _CONTROL.search(value):
        raise InvalidInput(
            "grep", f"grep must be one line of at most {MAX_GREP_CHARS} printable characters"
        )
    return value


def validated_path(value: str | None) -> tuple[str, bool]:
    """The path and whether it was allowed by a pattern (then symlinks are refused on the device:
    a pattern's directory may hold files someone else named)."""
    if value is None or value == "":
        raise InvalidInput("path", "path is required for file logs")
    segments = value.split("/")
    if (
        len(value) > MAX_PATH_CHARS
        or segments[0] != ""
        or not all(_PATH_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments[1:])
    ):
        raise InvalidInput("path", "path must be an absolute path without . or .. segments")
    for allowed in settings.LOG_FILES_ALLOWED:
        if allowed == value:
            return value, False
        if _GLOB_CHARS & set(allowed) and _glob_matches(allowed, segments):
            return value, True
    raise InvalidInput("path", f"{value} is not in LOG_FILES_ALLOWED")


def _glob_matches(pattern: str, segments: list[str]) -> bool:
    """Segment by segment, so `*` never crosses a `/` (fnmatch's would)."""
    parts = pattern.split("/")
    return len(parts) == len(segments) and all(
        fnmatch.fnmatchcase(segment, part) for segment, part in zip(segments, parts, strict=True)
    )


# --- the three sources ---------------------------------------------------------------------------


def _read_journal(
    device: Device, *, actor: str, trigger: str, unit: str | None, priority: int | None,
    since: str | None, grep: str | None, lines: int,
) -> LogRead:  # fmt: skip
    argv = ["journalctl", "--no-pager", "-q", "-o", "json", "-n", str(lines)]
    if unit:
        argv.append(f"--unit={unit}")
    if priority is not None:
        argv.append(f"--priority={priority}")
    if since:
        argv.append(f"--since={since}")
    if grep:
        argv.append(f"--grep={_pcre_literal(grep)}")
    marker = _marker()
    command = _JOURNAL_PREFLIGHT + _capped(" ".join(shlex.quote(a) for a in argv), marker)
    output = run_operation(
        device, action="logs.journal", target=unit or "journal", command=command, actor=actor,
        trigger=trigger, arguments={"unit": unit, "priority": priority, "since": since,
                                    "grep": grep, "lines": lines},
    )  # fmt: skip
    if grep and _grep_matched_nothing(output, marker):
        _mark_ok(output.operation)
    if not output.ok:
        _type_failure(output)
        return LogRead(JOURNAL, output)
    kept, truncated = _uncapped(output.stdout, marker)
    try:
        entries = parse_journal("\n".join(kept))
    except ParseError as e:
        _mark_failed(output.operation, "parse_error", str(e))
        return LogRead(JOURNAL, output)
    return LogRead(JOURNAL, output, entries=entries, truncated=truncated)


def _read_file(
    device: Device, *, actor: str, trigger: str, file_path: str, by_pattern: bool,
    grep: str | None, lines: int,
) -> LogRead:  # fmt: skip
    checks = [
        f"p={shlex.quote(file_path)}",
        '[ -e "$p" ] || { echo "$p: no such file" >&2; exit 66; }',
        '[ -f "$p" ] || { echo "$p: not a regular file" >&2; exit 65; }',
        '[ -r "$p" ] || { echo "$p: permission denied" >&2; exit 77; }',
    ]
    if by_pattern:
        checks.insert(
            1, '[ ! -L "$p" ] || { echo "$p: a symbolic link (not followed)" >&2; exit 65; }'
        )
    if grep:
        read = f'grep -a -F -i -e {shlex.quote(grep)} -- "$p" | tail -n {lines}'
    else:
        read = f'tail -n {lines} -- "$p"'
    marker = _marker()
    output = run_operation(
        device, action="logs.file", target=file_path,
        command="\n".join(checks) + "\n" + _capped(read, marker), actor=actor, trigger=trigger,
        arguments={"path": file_path, "grep": grep, "lines": lines},
    )  # fmt: skip
    if not output.ok:
        _type_failure(output)
        return LogRead(FILE, output)
    kept, truncated = _uncapped(output.stdout, marker)
    return LogRead(FILE, output, lines=kept, truncated=truncated)


def _read_container(
    device: Device, *, actor: str, trigger: str, name: str | None, since: str | None,
    grep: str | None, lines: int,
) -> LogRead:  # fmt: skip
    if not name:
        raise InvalidInput("container", "container is required for container logs")
    if not _CONTAINER.fullmatch(name):
        raise InvalidInput("container", "container must be a docker container name")
    row = (
        Container.objects.filter(device=device, name=name)
        .exclude(state=ContainerState.REMOVED)
        .first()
    )
    if row is None:
        raise InvalidInput("container", f"no container named {name} on {device.name}")
    result = container_services.container_logs(
        row, actor=actor, tail=lines, since=since, grep=grep, trigger=trigger
    )
    if not result.output.ok:
        _type_failure(result.output)
        return LogRead(CONTAINER, result.output)
    # Capped here, after the transfer (containers.services has no byte cap; --tail bounds it).
    kept = _newest_within(result.lines, settings.LOG_MAX_BYTES)
    return LogRead(CONTAINER, result.output, lines=kept, truncated=len(kept) < len(result.lines))


# --- helpers -------------------------------------------------------------------------------------


def _pcre_literal(text: str) -> str:
    """`text` as a PCRE2 pattern matching itself, case-insensitively: a backslash before every
    ASCII character that is not a letter or digit is always a literal there."""
    escaped = "".join(f"\\{c}" if c.isascii() and not c.isalnum() else c for c in text)
    return "(?i)" + escaped


def _marker() -> str:
    return f"infra-logs-begin-{secrets.token_hex(8)}"


def _capped(command: str, marker: str) -> str:
    """`command` (a simple command or pipeline) with only the newest LOG_MAX_BYTES of its output
    sent, after `marker`, and its own exit status kept: fd 4 carries `$?` out of the pipe."""
    budget = settings.LOG_MAX_BYTES + len(marker) + 1
    return (
        "exec 3>&1\n"
        f"rc=$( {{ {{ printf '%s\\n' {marker}; {{ {command}; }} </dev/null; echo $? >&4; }}"
        f" | tail -c {budget} >&3; }} 4>&1 )\n"
        'exit "${rc:-1}"\n'
    )


def _uncapped(stdout: str, marker: str) -> tuple[list[str], bool]:
    """The whole lines of a capped output, and whether the oldest part was cut off.

    Without the marker the device sent the last LOG_MAX_BYTES + marker-length bytes: the first
    line is a piece, and of the rest only the newest lines within LOG_MAX_BYTES are kept."""
    head = marker + "\n"
    if stdout.startswith(head):
        return _lines(stdout[len(head) :]), False
    _, _, rest = stdout.partition("\n")
    return _newest_within(_lines(rest), settings.LOG_MAX_BYTES), True


def _lines(text: str) -> list[str]:
    """Lines split at newlines only (str.splitlines would also split at form feeds, U+2028...)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _newest_within(lines: list[str], max_bytes: int) -> list[str]:
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        used += len(line.encode()) + 1
        if used > max_bytes:
            break
        kept.append(line)
    kept.reverse()
    return kept


def _type_failure(output: OperationOutput) -> None:
    """Give a failed read a precise error type: the scripts' exit codes, or what stderr says."""
    op = output.operation
    if op.error_type != "command_failed" or op.exit_code is None:
        return  # a timeout or a transport error is already typed
    error_type = _EXIT_ERROR_TYPES.get(op.exit_code)
    said = output.stderr.lower()
    if error_type is None and ("permission denied" in said or "insufficient permissions" in said):
        error_type = "permission_denied"
    if error_type is not None:
        op.error_type = error_type
        op.save(update_fields=["error_type"])


def _grep_matched_nothing(output: OperationOutput, marker: str) -> bool:
    """journalctl >= 243 exits 1 when --grep matched nothing, as grep does (silently, with -q);
    its real errors say what went wrong on stderr."""
    return (
        output.operation.exit_code == 1
        and output.stdout == marker + "\n"
        and not output.stderr.strip()
    )


def _mark_ok(op: Operation) -> None:
    op.status, op.error_type, op.error = OperationStatus.OK, "", ""
    op.save(update_fields=["status", "error_type", "error"])


def _mark_failed(op: Operation, error_type: str, error: str) -> None:
    op.status, op.error_type, op.error = OperationStatus.FAILED, error_type, error[:2000]
    op.save(update_fields=["status", "error_type", "error"])
