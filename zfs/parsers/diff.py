"""Parser for ``zfs diff -FHt SNAP OTHER``: what changed between two snapshots of a dataset.

Each line is tab-separated: the change time (ctime, ``seconds.nanoseconds``), the change
(``M`` modified, ``+`` added, ``-`` removed, ``R`` renamed), the file type (``F`` file, ``/``
directory, ``@`` symlink, ``|`` FIFO, ``=`` socket, ``B``/``C`` block/character device, ``>``
door, ``P`` event port, ``?`` unknown) and the path; a rename adds the new path, and a change of
a file's link count adds the delta, ``(+1)`` or ``(-1)``.

ZFS escapes every byte outside printable ASCII, spaces and backslashes included, as an octal
``\\NNNN`` (OpenZFS 2.x) or ``\\NNN`` (older releases and illumos). The two forms overlap only
when a control character is followed by a digit; the 4-digit reading wins there. Bytes that are
not UTF-8 come back as ``\\xNN``.

Only the ``-FHt`` layout is read: without ``-F`` a directory's ``/`` type and a path of ``/``
cannot be told apart. Empty output (or blank lines) means no changes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from collectors.parsing import ParseError

ZFS_DIFF_KIND = "zfs-diff"

CHANGE_TYPES = frozenset({"M", "+", "-", "R"})
FILE_TYPES = frozenset({"F", "/", "@", "|", "=", "B", "C", ">", "P", "?"})
_RENAMED = "R"
_MODIFIED = "M"
# printf("%10lld.%09lld"): space-padded seconds, always nine digits of nanoseconds.
_TIME = re.compile(r" *(-?[0-9]{1,12})\.([0-9]{9})")
_LINK_DELTA = re.compile(r"\(([+-][0-9]{1,10})\)")
_ESCAPE_4 = re.compile(r"0[0-3][0-7]{2}")
_ESCAPE_3 = re.compile(r"[0-3][0-7]{2}")
# stream_bytes() escapes control characters, space, backslash, DEL and every non-ASCII byte.
_SPACE, _BACKSLASH, _DEL = 0x20, 0x5C, 0x7F


@dataclass(frozen=True, slots=True)
class DiffChange:
    """One changed path between two snapshots."""

    change: str
    file_type: str
    path: str
    new_path: str | None
    link_delta: int | None
    changed_at: dt.datetime


def parse_zfs_diff(text: str) -> list[DiffChange]:
    """The changes of ``zfs diff -FHt``, in output order."""
    changes = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        changes.append(_parse_line(line, lineno))
    return changes


def _parse_line(line: str, lineno: int) -> DiffChange:
    fields = line.split("\t")
    if len(fields) not in (4, 5):
        raise ParseError(ZFS_DIFF_KIND, f"expected 4 or 5 columns, got {len(fields)}", line, lineno)
    stamp, change, file_type, path, *rest = fields
    changed_at = _time(stamp, line, lineno)
    if change not in CHANGE_TYPES:
        raise ParseError(ZFS_DIFF_KIND, f"unknown change type {change[:10]!r}", line, lineno)
    if file_type not in FILE_TYPES:
        raise ParseError(ZFS_DIFF_KIND, f"unknown file type {file_type[:10]!r}", line, lineno)
    new_path = link_delta = None
    if change == _RENAMED:
        if not rest:
            raise ParseError(ZFS_DIFF_KIND, "a rename without its new path", line, lineno)
        new_path = _path(rest[0], line, lineno)
    elif rest:
        delta = _LINK_DELTA.fullmatch(rest[0])
        if change != _MODIFIED or delta is None:
            raise ParseError(ZFS_DIFF_KIND, "unexpected fifth column", line, lineno)
        link_delta = int(delta.group(1))
    return DiffChange(
        change=change,
        file_type=file_type,
        path=_path(path, line, lineno),
        new_path=new_path,
        link_delta=link_delta,
        changed_at=changed_at,
    )


def _time(token: str, line: str, lineno: int) -> dt.datetime:
    match = _TIME.fullmatch(token)
    if match is None:
        raise ParseError(ZFS_DIFF_KIND, "expected a change time like 1700000000.123456789", line,
                         lineno)  # fmt: skip
    seconds, nanoseconds = int(match.group(1)), int(match.group(2))
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(
            microseconds=nanoseconds // 1000
        )
    except (OverflowError, OSError, ValueError) as e:
        raise ParseError(ZFS_DIFF_KIND, "change time out of range", line, lineno) from e


def _path(token: str, line: str, lineno: int) -> str:
    """A path with ZFS's octal escapes decoded. Paths are absolute (the dataset's mount point
    and the file's path in it)."""
    if not token.startswith("/"):
        raise ParseError(ZFS_DIFF_KIND, "expected an absolute path", line, lineno)
    raw = bytearray()
    i = 0
    while i < len(token):
        char = token[i]
        if char == "\\":
            value, width = _escape(token, i + 1)
            if value is None:
                raise ParseError(ZFS_DIFF_KIND, "a backslash that is not an octal escape", line,
                                 lineno)  # fmt: skip
            raw.append(value)
            i += 1 + width
            continue
        if char < " " or char == "\x7f":
            # ZFS escapes these; a raw one means this is not zfs diff's output.
            raise ParseError(ZFS_DIFF_KIND, "an unescaped control character in a path", line,
                             lineno)  # fmt: skip
        raw += char.encode("utf-8", errors="surrogatepass")
        i += 1
    return raw.decode("utf-8", errors="backslashreplace")


def _escape(token: str, start: int) -> tuple[int | None, int]:
    """The byte of the escape at `start` (after the backslash) and its width. Only bytes that
    ZFS escapes count: when the 4-digit reading is not one, the 3-digit reading is tried."""
    for pattern, width in ((_ESCAPE_4, 4), (_ESCAPE_3, 3)):
        if pattern.match(token, start):
            value = int(token[start : start + width], 8)
            if value <= _SPACE or value == _BACKSLASH or value >= _DEL:
                return value, width
    return None, 0
