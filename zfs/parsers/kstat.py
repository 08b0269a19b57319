"""Parsers for ZFS on Linux kstat files under ``/proc/spl/kstat/zfs``: ARC statistics, a pool's
state, a pool's I/O counters (older ZoL) and a dataset's objset counters.

A kstat file starts with a header line of seven numbers (id, type, flags, ndata, data size,
creation and snapshot times in ns). Named kstats (type 1) follow with ``name type data`` and one
line per value; I/O kstats (type 3) with a line of column names and a line of values. The
parsers are strict: a line out of shape raises ``ParseError`` with that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.parsing import ParseError

ARCSTATS_KIND = "arcstats"
POOL_STATE_KIND = "zpool-kstat-state"
POOL_IO_KIND = "zpool-kstat-io"
OBJSET_KIND = "zfs-kstat-objset"

_KSTAT_NAMED = 1
_KSTAT_IO = 3
_HEADER = re.compile(r"[0-9]{1,20} ([0-9]{1,3}) 0x[0-9a-fA-F]{1,16}(?: [0-9]{1,20}){4}")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UINT = re.compile(r"[0-9]{1,20}")
_SINT = re.compile(r"-?[0-9]{1,20}")
# kstat data types: 0 char, 1 int32, 2 uint32, 3 int64, 4 uint64, 5 long, 6 ulong, 7 string.
_SIGNED_TYPES = frozenset({1, 3, 5})
_UNSIGNED_TYPES = frozenset({2, 4, 6})
_TEXT_TYPES = frozenset({0, 7})
POOL_STATES = frozenset(
    {"ONLINE", "DEGRADED", "FAULTED", "OFFLINE", "REMOVED", "UNAVAIL", "SUSPENDED"}
)


@dataclass(frozen=True, slots=True)
class ArcStats:
    """The ARC (ZFS's RAM cache) from ``arcstats``: sizes in bytes, hit counters since boot.

    ``target_bytes`` is ``c``, the size the ARC is adapting towards. The L2ARC fields are None
    when the kernel module does not report them; ``values`` holds every numeric counter.
    """

    size_bytes: int
    max_bytes: int
    min_bytes: int
    target_bytes: int
    hits: int
    misses: int
    hit_ratio_pct: float | None
    mru_size_bytes: int | None
    mfu_size_bytes: int | None
    l2_size_bytes: int | None
    l2_hits: int | None
    l2_misses: int | None
    values: dict[str, int]


@dataclass(frozen=True, slots=True)
class PoolKstatState:
    """A pool's health from ``/proc/spl/kstat/zfs/<pool>/state`` (ONLINE, DEGRADED...)."""

    state: str


@dataclass(frozen=True, slots=True)
class PoolIo:
    """A pool's I/O counters since import, from the per-pool ``io`` kstat of older ZoL."""

    nread_bytes: int
    nwritten_bytes: int
    reads: int
    writes: int
    values: dict[str, int]


@dataclass(frozen=True, slots=True)
class Objset:
    """One dataset's I/O counters since import, from ``<pool>/objset-0x...``."""

    dataset_name: str
    writes: int
    nwritten_bytes: int
    reads: int
    nread_bytes: int
    nunlinks: int
    nunlinked: int
    values: dict[str, int]


def _lines(kind: str, text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; empty output is an error."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(kind, "empty output")
    return lines


def _body(kind: str, text: str, kstat_type: int) -> list[tuple[int, str]]:
    """The lines after the kstat header, which must announce ``kstat_type``."""
    lines = _lines(kind, text)
    lineno, line = lines[0]
    match = _HEADER.fullmatch(line.strip())
    if not match:
        raise ParseError(kind, "expected a kstat header of seven numbers", line, lineno)
    if int(match.group(1)) != kstat_type:
        raise ParseError(kind, f"expected kstat type {kstat_type}", line, lineno)
    return lines[1:]


def _named(kind: str, text: str) -> tuple[dict[str, int], dict[str, str]]:
    """Numeric and text values of a named kstat, by name."""
    lines = _body(kind, text, _KSTAT_NAMED)
    if not lines or lines[0][1].split() != ["name", "type", "data"]:
        lineno, line = lines[0] if lines else (None, None)
        raise ParseError(kind, "expected the column line 'name type data'", line, lineno)
    numbers: dict[str, int] = {}
    texts: dict[str, str] = {}
    for lineno, line in lines[1:]:
        parts = line.split(None, 2)
        if len(parts) < 2 or not _KEY.fullmatch(parts[0]) or not _UINT.fullmatch(parts[1]):
            raise ParseError(kind, "expected 'name type data'", line, lineno)
        name, data_type, data = parts[0], int(parts[1]), parts[2].strip() if len(parts) > 2 else ""
        if name in numbers or name in texts:
            raise ParseError(kind, f"repeated name {name!r}", line, lineno)
        if data_type in _TEXT_TYPES:
            texts[name] = data
        elif data_type in _SIGNED_TYPES | _UNSIGNED_TYPES:
            pattern = _SINT if data_type in _SIGNED_TYPES else _UINT
            if not pattern.fullmatch(data):
                raise ParseError(kind, f"expected an integer, got {data[:40]!r}", line, lineno)
            numbers[name] = int(data)
        else:
            raise ParseError(kind, f"unknown kstat data type {data_type}", line, lineno)
    return numbers, texts


def _required(kind: str, values: dict[str, int], *names: str) -> list[int]:
    missing = [name for name in names if name not in values]
    if missing:
        raise ParseError(kind, f"missing counters: {', '.join(missing)}")
    return [values[name] for name in names]


def parse_arcstats(text: str) -> ArcStats:
    """Parse ``cat /proc/spl/kstat/zfs/arcstats``.

    ``size``, ``c``, ``c_min``, ``c_max``, ``hits`` and ``misses`` exist in every ZoL release
    and are required; the others are None when absent. ``hit_ratio_pct`` is
    ``hits / (hits + misses)`` in percent, None before the first access.
    """
    kind = ARCSTATS_KIND
    values, _ = _named(kind, text)
    size, c_max, c_min, c, hits, misses = _required(
        kind, values, "size", "c_max", "c_min", "c", "hits", "misses"
    )
    accesses = hits + misses
    return ArcStats(
        size_bytes=size,
        max_bytes=c_max,
        min_bytes=c_min,
        target_bytes=c,
        hits=hits,
        misses=misses,
        hit_ratio_pct=100 * hits / accesses if accesses > 0 else None,
        mru_size_bytes=values.get("mru_size"),
        mfu_size_bytes=values.get("mfu_size"),
        l2_size_bytes=values.get("l2_size"),
        l2_hits=values.get("l2_hits"),
        l2_misses=values.get("l2_misses"),
        values=values,
    )


def parse_kstat_pool_state(text: str) -> PoolKstatState:
    """Parse ``cat /proc/spl/kstat/zfs/<pool>/state``: a single word such as ``DEGRADED``."""
    kind = POOL_STATE_KIND
    lines = _lines(kind, text)
    lineno, line = lines[0]
    if len(lines) > 1:
        lineno, line = lines[1]
        raise ParseError(kind, "expected a single line", line, lineno)
    state = line.strip()
    if state not in POOL_STATES:
        raise ParseError(kind, "unknown pool state", line, lineno)
    return PoolKstatState(state)


def parse_kstat_pool_io(text: str) -> PoolIo:
    """Parse ``cat /proc/spl/kstat/zfs/<pool>/io`` (ZoL before 0.8.0 removed it): a line of
    column names and a line of unsigned values, the same count."""
    kind = POOL_IO_KIND
    lines = _body(kind, text, _KSTAT_IO)
    if len(lines) != 2:
        lineno, line = lines[-1] if lines else (None, None)
        raise ParseError(kind, "expected a line of names and a line of values", line, lineno)
    (names_no, names_line), (values_no, values_line) = lines
    names, tokens = names_line.split(), values_line.split()
    for name in names:
        if not _KEY.fullmatch(name):
            raise ParseError(kind, f"bad column name {name[:40]!r}", names_line, names_no)
    if len(set(names)) != len(names):
        raise ParseError(kind, "repeated column name", names_line, names_no)
    if len(tokens) != len(names):
        raise ParseError(kind, f"expected {len(names)} values", values_line, values_no)
    for token in tokens:
        if not _UINT.fullmatch(token):
            message = f"expected an unsigned integer, got {token[:40]!r}"
            raise ParseError(kind, message, values_line, values_no)
    values = {name: int(token) for name, token in zip(names, tokens, strict=True)}
    nread, nwritten, reads, writes = _required(kind, values, "nread", "nwritten", "reads", "writes")
    return PoolIo(nread, nwritten, reads, writes, values)


def parse_kstat_objset(text: str) -> Objset:
    """Parse ``cat /proc/spl/kstat/zfs/<pool>/objset-0x<id>`` (ZoL 0.8+), a named kstat whose
    ``dataset_name`` is a string and the rest counters."""
    kind = OBJSET_KIND
    values, texts = _named(kind, text)
    if not texts.get("dataset_name"):
        raise ParseError(kind, "missing dataset_name")
    counters = _required(
        kind, values, "writes", "nwritten", "reads", "nread", "nunlinks", "nunlinked"
    )
    writes, nwritten, reads, nread, nunlinks, nunlinked = counters
    return Objset(
        dataset_name=texts["dataset_name"],
        writes=writes,
        nwritten_bytes=nwritten,
        reads=reads,
        nread_bytes=nread,
        nunlinks=nunlinks,
        nunlinked=nunlinked,
        values=values,
    )
