"""Parser for ``docker stats --no-stream --no-trunc --format '{{json .}}'`` and its default table.

Both forms carry docker's human-readable strings (``2.352MiB / 982.5MiB``, ``539kB / 606kB``,
``0.03%``); they are decoded with ``containers.units``. Docker prints ``--`` for a container
whose stats it could not read (one that just stopped); those values are None.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from collectors.parsing import ParseError
from containers.units import UnitError, parse_percent, parse_size, parse_size_pair

DOCKER_STATS_KIND = "docker-stats"

# `docker stats` redraws the screen with ANSI sequences when streaming; drop any that slip in.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COLUMN_GAP = re.compile(r"\s{2,}")
_PIDS = re.compile(r"[0-9]{1,12}")

# Table header -> JSON key of the same value. "CONTAINER" is the ID column of docker < 1.13;
# Windows prints "PRIV WORKING SET" (a single size) instead of "MEM USAGE / LIMIT".
_TABLE_COLUMNS = {
    "CONTAINER ID": "ID",
    "CONTAINER": "ID",
    "NAME": "Name",
    "CPU %": "CPUPerc",
    "MEM USAGE / LIMIT": "MemUsage",
    "PRIV WORKING SET": "MemUsage",
    "MEM %": "MemPerc",
    "NET I/O": "NetIO",
    "BLOCK I/O": "BlockIO",
    "PIDS": "PIDs",
}


@dataclass(frozen=True, slots=True)
class StatsEntry:
    """One container's resource use at one moment; network and block I/O are totals since start.

    ``name`` is None only for old table output that has no NAME column.
    """

    id: str
    name: str | None
    cpu_pct: float | None
    mem_used_bytes: int | None
    mem_limit_bytes: int | None
    mem_pct: float | None
    net_rx_bytes: int | None
    net_tx_bytes: int | None
    block_read_bytes: int | None
    block_write_bytes: int | None
    pids: int | None


def _pair(value: str) -> tuple[int | None, int | None]:
    # An invalid entry prints NetIO/BlockIO as a bare "--" but MemUsage as "-- / --".
    if value.strip() in ("", "--"):
        return None, None
    return parse_size_pair(value)


_USED_KEYS = (
    "ID",
    "Container",
    "Name",
    "CPUPerc",
    "MemUsage",
    "MemPerc",
    "NetIO",
    "BlockIO",
    "PIDs",
)


def _entry(obj: dict[str, Any], line: str, lineno: int) -> StatsEntry:
    values: dict[str, str] = {}
    for key in _USED_KEYS:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise ParseError(DOCKER_STATS_KIND, f"{key} is not a string", line, lineno)
        values[key] = value or ""
    container_id = (values["ID"] or values["Container"]).strip()
    if not container_id:
        raise ParseError(DOCKER_STATS_KIND, "no container ID", line, lineno)
    pids_text = values["PIDs"].strip()
    if pids_text not in ("", "--") and not _PIDS.fullmatch(pids_text):
        raise ParseError(DOCKER_STATS_KIND, f"PIDs is not a number: {pids_text!r}", line, lineno)
    mem_usage = values["MemUsage"]
    name = values["Name"].strip()  # "--" when docker lost track of the container
    try:
        if "/" in mem_usage:
            mem_used, mem_limit = _pair(mem_usage)
        else:
            mem_used, mem_limit = parse_size(mem_usage) if mem_usage else None, None
        net_rx, net_tx = _pair(values["NetIO"])
        block_read, block_write = _pair(values["BlockIO"])
        cpu_pct = parse_percent(values["CPUPerc"])
        mem_pct = parse_percent(values["MemPerc"])
    except UnitError as e:
        raise ParseError(DOCKER_STATS_KIND, str(e), line, lineno) from e
    return StatsEntry(
        id=container_id,
        name=name if name not in ("", "--") else None,
        cpu_pct=cpu_pct,
        mem_used_bytes=mem_used,
        mem_limit_bytes=mem_limit,
        mem_pct=mem_pct,
        net_rx_bytes=net_rx,
        net_tx_bytes=net_tx,
        block_read_bytes=block_read,
        block_write_bytes=block_write,
        pids=int(pids_text) if pids_text not in ("", "--") else None,
    )


def _from_json_lines(lines: list[tuple[int, str]]) -> list[StatsEntry]:
    entries: list[StatsEntry] = []
    for lineno, line in lines:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as e:
            raise ParseError(DOCKER_STATS_KIND, "not a JSON object", line, lineno) from e
        if not isinstance(obj, dict):
            raise ParseError(DOCKER_STATS_KIND, "not a JSON object", line, lineno)
        if "CPUPerc" not in obj:
            # docker prints every field; without CPUPerc this is another command's JSON
            raise ParseError(DOCKER_STATS_KIND, "not a stats object (no CPUPerc)", line, lineno)
        entries.append(_entry(obj, line, lineno))
    return entries


def _from_table(lines: list[tuple[int, str]]) -> list[StatsEntry]:
    header_lineno, header = lines[0]
    columns = _COLUMN_GAP.split(header.strip())
    unknown = [column for column in columns if column not in _TABLE_COLUMNS]
    if unknown or len(set(columns)) != len(columns):
        raise ParseError(
            DOCKER_STATS_KIND, f"unexpected table header {unknown[:1]}", header, header_lineno
        )
    keys = [_TABLE_COLUMNS[column] for column in columns]
    if "ID" not in keys:
        raise ParseError(
            DOCKER_STATS_KIND, "table without a container column", header, header_lineno
        )
    entries: list[StatsEntry] = []
    for lineno, line in lines[1:]:
        cells = _COLUMN_GAP.split(line.strip())
        if cells == columns:
            continue  # a repeated header
        if len(cells) != len(columns):
            raise ParseError(
                DOCKER_STATS_KIND,
                f"expected {len(columns)} columns, got {len(cells)}",
                line,
                lineno,
            )
        entries.append(_entry(dict(zip(keys, cells, strict=True)), line, lineno))
    return entries


def parse_docker_stats(text: str) -> list[StatsEntry]:
    """Parse ``docker stats --no-stream`` output: JSON lines (``--format '{{json .}}'``) or the
    default table (columns separated by two or more spaces). Empty output means no running
    containers.
    """
    lines = [
        (lineno, clean)
        for lineno, line in enumerate(text.splitlines(), start=1)
        if (clean := _ANSI.sub("", line)).strip()
    ]
    if not lines:
        return []
    first = lines[0][1].lstrip()
    if first.startswith("{"):
        return _from_json_lines(lines)
    if first.startswith("CONTAINER"):
        return _from_table(lines)
    raise ParseError(
        DOCKER_STATS_KIND, "neither JSON lines nor a stats table", lines[0][1], lines[0][0]
    )
