"""Parsers for ``zfs get -Hp all DATASET`` (dataset properties) and ``zpool iostat`` (pool
capacity, operations and bandwidth since import).

Both are pure and strict: a row out of shape raises ``ParseError`` with that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from collectors.parsing import ParseError
from zfs.parsers.lists import human_bytes

ZFS_GET_KIND = "zfs-get"
ZPOOL_IOSTAT_KIND = "zpool-iostat"

_PROPERTY = re.compile(r"[A-Za-z0-9_.:@+\-]+")
_DATASET = re.compile(r"[^\s@#](?:[^\t\n]*[^\s])?")
_NONE = ("-",)  # what ZFS prints for a value that does not apply
_INT = re.compile(r"-?[0-9]{1,20}")
_SOURCES = frozenset({"-", "default", "local", "temporary", "received", "none"})
_INHERITED = "inherited from "
_IOSTAT_GROUPS = ["capacity", "operations", "bandwidth"]
_IOSTAT_COLUMNS = ["pool", "alloc", "free", "read", "write", "read", "write"]
_DASHES = re.compile(r"-+(?:\s+-+)*")
_COUNT = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?)([KMGTPE]?)")
_SI = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


@dataclass(frozen=True, slots=True)
class Property:
    """One property of a dataset; ``value_int`` is the value when it is an integer (``-p``)."""

    dataset: str
    property: str
    value: str
    source: str | None
    value_int: int | None


@dataclass(frozen=True, slots=True)
class PoolIostat:
    """One pool (or vdev) of ``zpool iostat``: space in bytes, average ops and bytes per second
    since import. Vdev rows of ``-v`` are listed flat, in output order, under their pool."""

    name: str
    alloc_bytes: int | None
    free_bytes: int | None
    read_ops: int | None
    write_ops: int | None
    read_bytes_per_s: int | None
    write_bytes_per_s: int | None
    vdevs: list[PoolIostat] = field(default_factory=list)


def _lines(kind: str, text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; empty output is an error."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(kind, "empty output")
    return lines


def parse_zfs_get(text: str) -> list[Property]:
    """Parse ``zfs get -Hp all DATASET``: dataset, property, value and source, tab-separated.

    A value may be empty (``mlslabel``) or hold spaces; source ``-`` (a read-only or computed
    property) is None.
    """
    kind = ZFS_GET_KIND
    properties = []
    for lineno, line in _lines(kind, text):
        tokens = line.split("\t")
        if len(tokens) != 4:
            raise ParseError(kind, "expected 4 tab-separated columns", line, lineno)
        dataset, name, value, source = tokens
        if not _DATASET.fullmatch(dataset):
            raise ParseError(kind, f"bad dataset name {dataset[:40]!r}", line, lineno)
        if not _PROPERTY.fullmatch(name):
            raise ParseError(kind, f"bad property name {name[:40]!r}", line, lineno)
        if source not in _SOURCES and not (
            source.startswith(_INHERITED) and len(source) > len(_INHERITED)
        ):
            raise ParseError(kind, f"unknown source {source[:40]!r}", line, lineno)
        properties.append(
            Property(
                dataset=dataset,
                property=name,
                value=value,
                source=None if source == "-" else source,
                value_int=int(value) if _INT.fullmatch(value) else None,
            )
        )
    return properties


def _count(kind: str, token: str, line: str, lineno: int) -> int | None:
    """Operations per second: ZFS abbreviates them like sizes but they are counts, so ``1.2K``
    is read as 1200 (SI), not 1228."""
    if token in _NONE:
        return None
    match = _COUNT.fullmatch(token)
    if not match:
        raise ParseError(kind, f"expected an operation count, got {token[:40]!r}", line, lineno)
    return round(float(match.group(1)) * _SI[match.group(2)])


def _iostat_row(tokens: list[str], line: str, lineno: int) -> PoolIostat:
    kind = ZPOOL_IOSTAT_KIND
    if len(tokens) != len(_IOSTAT_COLUMNS):
        raise ParseError(kind, f"expected {len(_IOSTAT_COLUMNS)} columns", line, lineno)
    name, alloc, free, read_ops, write_ops, read_bw, write_bw = tokens
    if name == "-" or "@" in name or "#" in name:
        raise ParseError(kind, f"bad pool or vdev name {name[:40]!r}", line, lineno)
    return PoolIostat(
        name=name,
        alloc_bytes=human_bytes(kind, alloc, line, lineno),
        free_bytes=human_bytes(kind, free, line, lineno),
        read_ops=_count(kind, read_ops, line, lineno),
        write_ops=_count(kind, write_ops, line, lineno),
        read_bytes_per_s=human_bytes(kind, read_bw, line, lineno),
        write_bytes_per_s=human_bytes(kind, write_bw, line, lineno),
    )


def parse_zpool_iostat(text: str) -> list[PoolIostat]:
    """Parse ``zpool iostat`` or ``zpool iostat -v`` (one report, human units).

    The two header lines are required; dashed separator lines are skipped. Sizes and bandwidth
    are binary (``349K`` is 349 * 1024 bytes/s); operations are SI counts (see ``_count``).
    A repeated header (an interval report) is refused: we read the since-import report only.
    """
    kind = ZPOOL_IOSTAT_KIND
    lines = _lines(kind, text)
    if len(lines) < 2:
        raise ParseError(kind, "expected two header lines", lines[0][1], lines[0][0])
    (groups_no, groups), (columns_no, columns) = lines[:2]
    if groups.split() != _IOSTAT_GROUPS:
        message = "expected the header 'capacity operations bandwidth'"
        raise ParseError(kind, message, groups, groups_no)
    if columns.split() != _IOSTAT_COLUMNS:
        raise ParseError(kind, "expected the column header line", columns, columns_no)
    pools: list[PoolIostat] = []
    for lineno, line in lines[2:]:
        if _DASHES.fullmatch(line.strip()):
            continue
        tokens = line.split()
        if tokens and tokens[0] in (_IOSTAT_GROUPS[0], _IOSTAT_COLUMNS[0]):
            raise ParseError(kind, "repeated header (interval report)", line, lineno)
        row = _iostat_row(tokens, line, lineno)
        if not line[:1].isspace():
            pools.append(row)
        elif not pools:
            raise ParseError(kind, "vdev row before any pool", line, lineno)
        else:
            pools[-1].vdevs.append(row)
    if not pools:
        raise ParseError(kind, "no pool rows")
    return pools
