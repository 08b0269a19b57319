"""Parser for ``journalctl -o json``: one JSON object per line, one line per journal entry.

journalctl writes every field as a string, except that a value which is not printable UTF-8 is an
array of its byte values, a value too large to show (over 64 KiB without ``--all``) is ``null``,
and a field present several times in one entry is an array of its values. We keep the first
value, as ``sd_journal_get_data`` does.

The structure is strict (a line that is not an object, or an entry without
``__REALTIME_TIMESTAMP``, is not journal output); the values applications put in the journal are
not: a ``PRIORITY`` outside 0-7 or a ``_PID`` that is not a number becomes null rather than
failing the whole read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from collectors.parsing import ParseError

JOURNAL_KIND = "journal"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECONDS = re.compile(r"[0-9]{1,19}")
_PRIORITY = re.compile(r"[0-7]")
_PID = re.compile(r"[0-9]{1,10}")
# Printed instead of entries by journalctl without -q when nothing matches.
_NO_ENTRIES = "-- No entries --"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal entry. ``timestamp`` is when it was logged (UTC); ``unit`` is the systemd unit
    it came from, or its syslog identifier (``kernel``, ``sshd``) when it has no unit;
    ``priority`` is syslog's 0 (emerg) to 7 (debug); ``message`` is null when the entry has none
    or it was too large for journalctl to print. ``cursor`` is where to resume reading."""

    timestamp: dt.datetime
    unit: str | None
    priority: int | None
    message: str | None
    hostname: str | None
    pid: int | None
    cursor: str | None = None


def parse_journal(text: str) -> list[JournalEntry]:
    """Entries of ``journalctl -o json`` output, oldest first; no output means no entries."""
    entries: list[JournalEntry] = []
    # Only "\n" ends an entry: journalctl leaves U+2028, U+0085 and friends unescaped in strings.
    for lineno, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if not stripped or stripped == _NO_ENTRIES:
            continue
        entries.append(_entry(stripped, lineno))
    return entries


def _entry(line: str, lineno: int) -> JournalEntry:
    try:
        fields = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise ParseError(JOURNAL_KIND, "not a JSON object", line, lineno) from e
    if not isinstance(fields, dict):
        raise ParseError(JOURNAL_KIND, "not a JSON object", line, lineno)
    values = {name: _value(name, raw, line, lineno) for name, raw in fields.items()}
    realtime = values.get("__REALTIME_TIMESTAMP")
    if realtime is None or not _MICROSECONDS.fullmatch(realtime):
        raise ParseError(JOURNAL_KIND, "entry without a valid __REALTIME_TIMESTAMP", line, lineno)
    try:
        timestamp = _EPOCH + dt.timedelta(microseconds=int(realtime))
    except OverflowError as e:
        raise ParseError(JOURNAL_KIND, f"timestamp out of range: {realtime}", line, lineno) from e
    priority = values.get("PRIORITY")
    pid = values.get("_PID") or values.get("SYSLOG_PID")
    return JournalEntry(
        timestamp=timestamp,
        unit=values.get("_SYSTEMD_UNIT") or values.get("SYSLOG_IDENTIFIER"),
        priority=int(priority) if priority and _PRIORITY.fullmatch(priority) else None,
        message=values.get("MESSAGE"),
        hostname=values.get("_HOSTNAME"),
        pid=int(pid) if pid and _PID.fullmatch(pid) else None,
        cursor=values.get("__CURSOR"),
    )


def _value(name: str, raw: Any, line: str, lineno: int) -> str | None:
    """A field's (first) value as text: a string, bytes decoded with replacement, or None."""
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        if all(isinstance(item, int) and not isinstance(item, bool) for item in raw):
            return _bytes(name, raw, line, lineno)
        if _is_single(raw[0]):
            return _value(name, raw[0], line, lineno)
    raise _bad(name, line, lineno)


def _is_single(item: Any) -> bool:
    """One value of a repeated field: a string, null, or an array of byte values."""
    if item is None or isinstance(item, str):
        return True
    return isinstance(item, list) and all(
        isinstance(b, int) and not isinstance(b, bool) for b in item
    )


def _bytes(name: str, raw: list[int], line: str, lineno: int) -> str:
    if any(not 0 <= b <= 255 for b in raw):
        raise ParseError(JOURNAL_KIND, f"{name} holds a byte value outside 0-255", line, lineno)
    return bytes(raw).decode("utf-8", errors="replace")


def _bad(name: str, line: str, lineno: int) -> ParseError:
    return ParseError(
        JOURNAL_KIND, f"{name[:40]} is neither a string, a byte array nor null", line, lineno
    )
