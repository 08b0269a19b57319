"""Parser for ``df`` output: one entry per mounted filesystem with its size, use and mount point.

The collector runs ``df -P -B1 -T`` (POSIX columns, byte counts, filesystem type). The parser
also reads the other common forms, taking the unit from the size column's header: ``df -PT`` and
``df -Pk`` (``1024-blocks``), plain ``df`` (``1K-blocks``), ``-B`` sizes (``1M-blocks`` with
``12046M`` values, ``1kB-blocks``...), BusyBox, and ``df -h`` (``Size``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from collectors.parsing import ParseError

DF_KIND = "df"

_HEADER = re.compile(
    r"Filesystem\s+(?:(?P<type>Type)\s+)?(?P<size>\S+)\s+Used\s+(?:Avail|Available)\s+"
    r"(?:Use%|Capacity)\s+Mounted\s+on"
)
# GNU prints "1K-blocks", "1B-blocks", "1M-blocks", "1kB-blocks" (SI), "1KiB-blocks"; POSIX mode
# prints the block size in bytes ("1024-blocks", "1-blocks", "512-blocks").
_BLOCKS_HEADER = re.compile(r"(?P<count>[0-9]+)(?P<prefix>[kKMGTPEZYRQ]?)(?P<suffix>iB|B)?-blocks")
# Exponents of size prefixes: K (or SI's k) = 1, M = 2, ...
_POWERS = {"": 0, "k": 1} | {prefix: n for n, prefix in enumerate("KMGTPEZYRQ", start=1)}
_HUMAN_VALUE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<prefix>[kKMGTPEZYRQ]?)")
_MISSING = "-"  # GNU df prints "-" for sizes a filesystem does not report
_VALUE = r"(?:[0-9][0-9.]*[A-Za-z]*|-)"
_PCT = r"(?:[0-9]+%|-)"
_ROW = re.compile(
    rf"(?P<fs>\S.*?)\s+(?P<size>{_VALUE})\s+(?P<used>{_VALUE})\s+(?P<avail>{_VALUE})"
    rf"\s+(?P<pct>{_PCT})\s+(?P<mount>\S.*)"
)
_ROW_WITH_TYPE = re.compile(
    rf"(?P<fs>\S.*?)\s+(?P<type>\S+)\s+(?P<size>{_VALUE})\s+(?P<used>{_VALUE})"
    rf"\s+(?P<avail>{_VALUE})\s+(?P<pct>{_PCT})\s+(?P<mount>\S.*)"
)


@dataclass(frozen=True, slots=True)
class Filesystem:
    """One line of ``df``: sizes in bytes (None where df prints ``-``), type None without ``-T``.

    Sizes read from ``df -h`` are approximate: df rounds them to 2-3 significant digits.
    """

    filesystem: str
    type: str | None
    size_bytes: int | None
    used_bytes: int | None
    available_bytes: int | None
    used_pct: int | None
    mountpoint: str


@dataclass(frozen=True, slots=True)
class _Units:
    """How to turn the size columns into bytes, as announced by the header."""

    block_bytes: int | None  # None for human-readable sizes ("1.5G")
    value_suffix: str  # what GNU appends to each value with -BM etc. ("M"); "" when nothing


def _units(header: str, lineno: int, column: str) -> _Units:
    if column == "Size":
        return _Units(block_bytes=None, value_suffix="")
    match = _BLOCKS_HEADER.fullmatch(column)
    if match is None:
        raise ParseError(DF_KIND, f"unknown size column {column[:40]!r}", header, lineno)
    prefix, suffix = match.group("prefix"), match.group("suffix") or ""
    count = _int(match.group("count"), header, lineno)
    if count == 0:
        raise ParseError(DF_KIND, "block size of 0", header, lineno)
    # "kB"/"MB" are powers of 1000; "K"/"M"/"KiB" are powers of 1024.
    base = 1000 if prefix and suffix == "B" else 1024
    return _Units(
        block_bytes=count * base ** _POWERS[prefix],
        value_suffix=prefix + suffix,
    )


def _bytes(token: str, units: _Units, line: str, lineno: int) -> int | None:
    if token == _MISSING:
        return None
    if units.block_bytes is None:
        human = _HUMAN_VALUE.fullmatch(token)
        if human is None:
            raise ParseError(DF_KIND, f"unreadable size {token[:40]!r}", line, lineno)
        # Binary units, as GNU df -h uses; df -H (powers of 1000) cannot be told apart by its
        # header and is read the same way.
        number = Decimal(human.group("number"))
        return int(number * 1024 ** _POWERS[human.group("prefix")])
    if units.value_suffix and token.endswith(units.value_suffix):
        token = token[: -len(units.value_suffix)]
    return _int(token, line, lineno) * units.block_bytes


def _int(token: str, line: str, lineno: int) -> int:
    if not (token.isascii() and token.isdigit()):
        raise ParseError(DF_KIND, f"expected a number, got {token[:40]!r}", line, lineno)
    try:
        return int(token)
    except ValueError as e:  # int() refuses strings of more than 4300 digits
        raise ParseError(DF_KIND, "number too long", line, lineno) from e


def _filesystem(match: re.Match[str], units: _Units, line: str, lineno: int) -> Filesystem:
    pct = match.group("pct")
    return Filesystem(
        filesystem=match.group("fs"),
        type=match.groupdict().get("type"),
        size_bytes=_bytes(match.group("size"), units, line, lineno),
        used_bytes=_bytes(match.group("used"), units, line, lineno),
        available_bytes=_bytes(match.group("avail"), units, line, lineno),
        used_pct=None if pct == _MISSING else _int(pct[:-1], line, lineno),
        mountpoint=match.group("mount"),
    )


def parse_df(text: str) -> list[Filesystem]:
    """Parse ``df -P -B1 -T`` (or the other forms named in the module docstring).

    A mount point may contain spaces: it is everything after the use% column. Non-POSIX df may
    print a long filesystem name alone on its line with the numbers, indented, on the next one;
    the two lines are joined.
    """
    lines = [
        (n, line.rstrip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()
    ]
    if not lines:
        raise ParseError(DF_KIND, "empty output")
    header_no, header = lines[0]
    header_match = _HEADER.fullmatch(header.strip())
    if header_match is None:
        raise ParseError(DF_KIND, "expected the df header line", header, header_no)
    units = _units(header, header_no, header_match.group("size"))
    row = _ROW_WITH_TYPE if header_match.group("type") else _ROW

    filesystems: list[Filesystem] = []
    pending: tuple[int, str] | None = None  # a filesystem name whose numbers are on the next line
    for lineno, line in lines[1:]:
        if pending is not None:
            first_no, first = pending
            pending = None
            if not line[0].isspace():
                raise ParseError(DF_KIND, "unreadable line", first, first_no)
            joined = f"{first.strip()} {line.strip()}"
            match = row.fullmatch(joined)
            if match is None:
                raise ParseError(DF_KIND, "unreadable wrapped line", joined, first_no)
            filesystems.append(_filesystem(match, units, joined, first_no))
            continue
        match = row.fullmatch(line)
        if match is None:
            pending = (lineno, line)
            continue
        filesystems.append(_filesystem(match, units, line, lineno))
    if pending is not None:
        raise ParseError(DF_KIND, "line without sizes (truncated output?)", pending[1], pending[0])
    return filesystems
