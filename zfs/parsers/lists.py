"""Parsers for ``zpool list`` and ``zfs list``: pool capacity and health, datasets and snapshots.

Both are pure (text in, frozen dataclasses out) and strict: a row that does not have the layout's
shape raises ``ParseError`` with that line. ``-`` (a FAULTED pool, a snapshot's mount point) is
None. Sizes are exact bytes with ``-p``; without it ZFS prints rounded human sizes (``1.81T``)
in binary units, which are read too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from collectors.parsing import ParseError

ZPOOL_LIST_KIND = "zpool-list"
ZFS_LIST_KIND = "zfs-list"

# ZFS's nicenum: 1024-based, one letter, "B" only after a plain number (newer OpenZFS: "0B").
_HUMAN = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?)([KMGTPEZ]?)B?")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_UNITS |= {"E": 1024**6, "Z": 1024**7}
_UINT = re.compile(r"[0-9]{1,20}")
_NONE = ("-",)  # what ZFS prints for a value that does not apply
_PCT = re.compile(r"([0-9]{1,3})%?")
_RATIO = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,9})?)x?")
_POOL_NAME = re.compile(r"[^\s@#]+")
# Dataset names may hold spaces (zfs_namecheck allows them); -H separates columns with tabs.
_PART = r"[^\s@#](?:[^\t\n@#]*[^\s@#])?"
_DATASET_NAME = re.compile(rf"{_PART}(?:[@#]{_PART})?")
_NO_POOLS = "no pools available"
_NO_DATASETS = "no datasets available"

POOL_HEALTH = frozenset(
    {"ONLINE", "DEGRADED", "FAULTED", "OFFLINE", "REMOVED", "UNAVAIL", "SUSPENDED"}
    | {"AVAIL", "INUSE"}  # spares
)
DATASET_TYPES = frozenset({"filesystem", "volume", "snapshot", "bookmark"})

# `zpool list -H` columns: CKPOINT appeared in ZoL 0.8, so older hosts print 10 columns.
_H_COLUMNS = ["NAME", "SIZE", "ALLOC", "FREE", "CKPOINT", "EXPANDSZ", "FRAG", "CAP", "DEDUP"]
_H_COLUMNS += ["HEALTH", "ALTROOT"]
_H_COLUMNS_OLD = [c for c in _H_COLUMNS if c != "CKPOINT"]
_KNOWN_COLUMNS = frozenset(_H_COLUMNS)


@dataclass(frozen=True, slots=True)
class VdevList:
    """One vdev row of ``zpool list -v`` (a mirror, raidz, disk, or a ``logs``/``cache`` label).

    Rows are listed flat in output order: ``zpool list -Hv`` indents every level with the same
    tab, so the tree depth is not recoverable there.
    """

    name: str
    size_bytes: int | None
    alloc_bytes: int | None
    free_bytes: int | None
    fragmentation_pct: int | None
    capacity_pct: int | None
    dedup_ratio: float | None
    health: str | None


@dataclass(frozen=True, slots=True)
class PoolList:
    """One pool of ``zpool list``: capacity, fragmentation, dedup ratio and health."""

    name: str
    size_bytes: int | None
    alloc_bytes: int | None
    free_bytes: int | None
    fragmentation_pct: int | None
    capacity_pct: int | None
    dedup_ratio: float | None
    health: str | None
    vdevs: list[VdevList] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset, volume, snapshot or bookmark of ``zfs list``; sizes in bytes."""

    name: str
    type: str | None
    dataset: str
    snapshot: str | None
    used_bytes: int | None
    available_bytes: int | None
    referenced_bytes: int | None
    mountpoint: str | None
    created_at: dt.datetime | None


def human_bytes(kind: str, token: str, line: str, lineno: int) -> int | None:
    """Bytes from ``-p`` integers or ZFS human sizes (``1.81T``, binary units); ``-`` is None."""
    if token in _NONE:
        return None
    if _UINT.fullmatch(token):
        return int(token)
    match = _HUMAN.fullmatch(token)
    if not match:
        raise ParseError(kind, f"expected a size, got {token[:40]!r}", line, lineno)
    return round(float(match.group(1)) * _UNITS[match.group(2)])


def _pct(kind: str, token: str, line: str, lineno: int) -> int | None:
    if token in _NONE:
        return None
    match = _PCT.fullmatch(token)
    if not match:
        raise ParseError(kind, f"expected a percentage, got {token[:40]!r}", line, lineno)
    return int(match.group(1))


def _ratio(kind: str, token: str, line: str, lineno: int) -> float | None:
    if token in _NONE:
        return None
    match = _RATIO.fullmatch(token)
    if not match:
        raise ParseError(kind, f"expected a ratio like 1.00x, got {token[:40]!r}", line, lineno)
    return float(match.group(1))


def _lines(kind: str, text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; empty output is an error."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(kind, "empty output")
    return lines


def _pool_row(columns: list[str], tokens: list[str], line: str, lineno: int) -> PoolList:
    kind = ZPOOL_LIST_KIND
    if len(tokens) == len(columns) - 1 and columns[-1] == "ALTROOT":
        tokens = [*tokens, "-"]  # vdev rows leave the ALTROOT column out
    if len(tokens) != len(columns):
        raise ParseError(kind, f"expected {len(columns)} columns, got {len(tokens)}", line, lineno)
    row = dict(zip(columns, tokens, strict=True))
    name = row["NAME"]
    if not _POOL_NAME.fullmatch(name):
        raise ParseError(kind, f"bad pool or vdev name {name[:40]!r}", line, lineno)
    health = row.get("HEALTH", "-")
    if health != "-" and health not in POOL_HEALTH:
        raise ParseError(kind, f"unknown health {health[:40]!r}", line, lineno)
    return PoolList(
        name=name,
        size_bytes=human_bytes(kind, row.get("SIZE", "-"), line, lineno),
        alloc_bytes=human_bytes(kind, row.get("ALLOC", "-"), line, lineno),
        free_bytes=human_bytes(kind, row.get("FREE", "-"), line, lineno),
        fragmentation_pct=_pct(kind, row.get("FRAG", "-"), line, lineno),
        capacity_pct=_pct(kind, row.get("CAP", "-"), line, lineno),
        dedup_ratio=_ratio(kind, row.get("DEDUP", "-"), line, lineno),
        health=None if health == "-" else health,
    )


def parse_zpool_list(text: str) -> list[PoolList]:
    """Parse ``zpool list -Hp`` (tab-separated, 10 or 11 columns), or the same with a header
    line (``zpool list -p``, columns read from the header), with ``-v`` vdev rows.

    A row that starts with whitespace is a vdev of the pool above it. ``no pools available`` is
    an empty list, and so is empty output: OpenZFS's ``zpool list -H`` prints nothing at all
    when there is no pool (without ``-H`` it says so).
    """
    kind = ZPOOL_LIST_KIND
    if not text.strip():
        return []
    lines = _lines(kind, text)
    if len(lines) == 1 and lines[0][1].strip() == _NO_POOLS:
        return []
    lineno, line = lines[0]
    header = line.split()
    tabbed = header[0] != "NAME"
    if not tabbed:
        if not set(header) <= _KNOWN_COLUMNS or len(set(header)) != len(header):
            raise ParseError(kind, "unknown or repeated column in header", line, lineno)
        columns = header
        lines = lines[1:]
    else:
        # -H: the first row tells whether this zpool has the CKPOINT column
        by_count = {len(_H_COLUMNS): _H_COLUMNS, len(_H_COLUMNS_OLD): _H_COLUMNS_OLD}
        width = len(line.strip().split("\t"))
        if width not in by_count:
            raise ParseError(kind, "expected 10 or 11 tab-separated columns", line, lineno)
        columns = by_count[width]
    pools: list[PoolList] = []
    vdevs: list[VdevList] = []
    for lineno, line in lines:
        is_vdev = line[:1].isspace()
        tokens = line.strip().split("\t") if tabbed else line.split()
        row = _pool_row(columns, tokens, line, lineno)
        if not is_vdev:
            if pools:
                pools[-1] = _with_vdevs(pools[-1], vdevs)
            pools.append(row)
            vdevs = []
        elif not pools:
            raise ParseError(kind, "vdev row before any pool", line, lineno)
        else:
            vdevs.append(VdevList(*[getattr(row, f) for f in VdevList.__slots__]))
    if not pools:
        raise ParseError(kind, "no pool rows")
    pools[-1] = _with_vdevs(pools[-1], vdevs)
    return pools


def _with_vdevs(pool: PoolList, vdevs: list[VdevList]) -> PoolList:
    return replace(pool, vdevs=list(vdevs))


def _epoch(kind: str, token: str, line: str, lineno: int) -> dt.datetime | None:
    if token in _NONE:
        return None
    if not _UINT.fullmatch(token):
        raise ParseError(kind, f"expected epoch seconds, got {token[:40]!r}", line, lineno)
    try:
        return dt.datetime.fromtimestamp(int(token), tz=dt.UTC)
    except (OverflowError, ValueError, OSError) as e:
        raise ParseError(kind, "creation time out of range", line, lineno) from e


def _dataset_row(tokens: list[str], line: str, lineno: int) -> Dataset:
    kind = ZFS_LIST_KIND
    if len(tokens) == 7:
        name, type_, used, avail, refer, mountpoint, creation = tokens
    elif len(tokens) == 3:
        name, used, creation = tokens
        avail = refer = mountpoint = "-"
        type_ = "snapshot" if "@" in name else "bookmark" if "#" in name else "-"
    else:
        raise ParseError(kind, "expected 7 or 3 tab-separated columns", line, lineno)
    if not _DATASET_NAME.fullmatch(name):
        raise ParseError(kind, f"bad dataset name {name[:40]!r}", line, lineno)
    if type_ != "-" and type_ not in DATASET_TYPES:
        raise ParseError(kind, f"unknown dataset type {type_[:40]!r}", line, lineno)
    marker = {"snapshot": "@", "bookmark": "#"}.get(type_, "")
    if (marker and marker not in name) or (not marker and ("@" in name or "#" in name)):
        raise ParseError(kind, f"name does not fit type {type_!r}", line, lineno)
    dataset, _, snapshot = name.partition(marker) if marker else (name, "", "")
    return Dataset(
        name=name,
        type=None if type_ == "-" else type_,
        dataset=dataset,
        snapshot=snapshot or None,
        used_bytes=human_bytes(kind, used, line, lineno),
        available_bytes=human_bytes(kind, avail, line, lineno),
        referenced_bytes=human_bytes(kind, refer, line, lineno),
        mountpoint=None if mountpoint in ("-", "none") else mountpoint,
        created_at=_epoch(kind, creation, line, lineno),
    )


def parse_zfs_list(text: str) -> list[Dataset]:
    """Parse ``zfs list -Hp -t all -o name,type,used,avail,refer,mountpoint,creation``.

    The layout is told by the column count: 7 is our command; 3 is
    ``zfs list -Hp -t snapshot -o name,used,creation``, where the type is inferred from the
    name (``@`` snapshot, ``#`` bookmark) and the other fields are None. Every row must have
    the same count. ``no datasets available`` is an empty list, and so is empty output (current
    OpenZFS prints that line to stderr, leaving stdout empty).
    """
    kind = ZFS_LIST_KIND
    if not text.strip():
        return []
    lines = _lines(kind, text)
    if len(lines) == 1 and lines[0][1].strip() == _NO_DATASETS:
        return []
    width = len(lines[0][1].split("\t"))
    datasets = []
    for lineno, line in lines:
        tokens = line.split("\t")
        if len(tokens) != width:
            raise ParseError(kind, f"expected {width} columns like line 1", line, lineno)
        datasets.append(_dataset_row(tokens, line, lineno))
    return datasets
