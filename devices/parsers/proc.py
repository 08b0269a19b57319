"""Parsers for Linux ``/proc`` files read with ``cat``: stat, meminfo, loadavg, uptime, net/dev and
diskstats.

Every ``parse_*`` function is pure (text in, frozen dataclasses out). The formats are stable kernel
ABI, so the parsers are strict: a line that does not have the file's shape raises ``ParseError``
with that line, instead of being skipped and silently producing wrong facts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from collectors.parsing import ParseError

PROC_STAT_KIND = "proc-stat"
MEMINFO_KIND = "meminfo"
LOADAVG_KIND = "loadavg"
UPTIME_KIND = "uptime"
NET_DEV_KIND = "net-dev"
DISKSTATS_KIND = "diskstats"

_UINT = re.compile(r"[0-9]+")
_UFLOAT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_STAT_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_CPU_NAME = re.compile(r"cpu[0-9]*")
_MEMINFO_LINE = re.compile(r"([^\s:]+):\s*([0-9]+)(?:\s+(kB))?")
_NET_DEV_HEADER = re.compile(r"Inter-\|.*|face\s*\|.*")
_RUNNABLE = re.compile(r"([0-9]+)/([0-9]+)")


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Time one CPU (``cpu0``...) or all of them (``cpu``) spent in each state, in jiffies.

    Columns after ``idle`` appeared in later kernels (iowait 2.5.41, irq/softirq 2.6.0, steal
    2.6.11) and are None when the line lacks them.
    """

    name: str
    user: int
    nice: int
    system: int
    idle: int
    iowait: int | None
    irq: int | None
    softirq: int | None
    steal: int | None


@dataclass(frozen=True, slots=True)
class ProcStat:
    """Kernel activity counters since boot, from ``/proc/stat``."""

    cpu: CpuTimes
    cpus: list[CpuTimes]
    boot_time: int | None
    processes: int | None
    procs_running: int | None
    procs_blocked: int | None
    context_switches: int | None


@dataclass(frozen=True, slots=True)
class MemInfo:
    """Memory and swap usage from ``/proc/meminfo``, in bytes."""

    mem_total_bytes: int
    mem_free_bytes: int | None
    mem_available_bytes: int | None
    buffers_bytes: int | None
    cached_bytes: int | None
    swap_total_bytes: int | None
    swap_free_bytes: int | None


@dataclass(frozen=True, slots=True)
class LoadAvg:
    """Load averages and scheduler counts from ``/proc/loadavg``."""

    load_1: float
    load_5: float
    load_15: float
    running: int
    total: int
    last_pid: int | None


@dataclass(frozen=True, slots=True)
class Uptime:
    """Seconds since boot, and idle seconds summed over all CPUs, from ``/proc/uptime``."""

    uptime_s: float
    idle_s: float


@dataclass(frozen=True, slots=True)
class NetDev:
    """Counters of one network interface since boot, from ``/proc/net/dev``."""

    name: str
    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_dropped: int
    rx_fifo: int
    rx_frame: int
    rx_compressed: int
    rx_multicast: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_dropped: int
    tx_fifo: int
    tx_colls: int
    tx_carrier: int
    tx_compressed: int


@dataclass(frozen=True, slots=True)
class DiskStat:
    """I/O counters of one block device or partition since boot, from ``/proc/diskstats``.

    Discard counters exist from kernel 4.18 and flush counters from 5.5; older kernels print
    fewer columns and those fields are None.
    """

    major: int
    minor: int
    name: str
    reads_completed: int
    reads_merged: int
    sectors_read: int
    read_time_ms: int
    writes_completed: int
    writes_merged: int
    sectors_written: int
    write_time_ms: int
    io_in_progress: int
    io_time_ms: int
    weighted_io_time_ms: int
    discards_completed: int | None
    discards_merged: int | None
    sectors_discarded: int | None
    discard_time_ms: int | None
    flush_requests_completed: int | None
    flush_time_ms: int | None


def _lines(kind: str, text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; empty output is an error."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(kind, "empty output")
    return lines


def _uint(kind: str, token: str, line: str, lineno: int) -> int:
    if not _UINT.fullmatch(token):
        raise ParseError(kind, f"expected a non-negative integer, got {token[:40]!r}", line, lineno)
    try:
        return int(token)
    except ValueError as e:  # int() refuses strings of more than 4300 digits
        raise ParseError(kind, "number too long", line, lineno) from e


def _ufloat(kind: str, token: str, line: str, lineno: int) -> float:
    if not _UFLOAT.fullmatch(token):
        raise ParseError(kind, f"expected a non-negative number, got {token[:40]!r}", line, lineno)
    value = float(token)
    if not math.isfinite(value):
        raise ParseError(kind, "number too large", line, lineno)
    return value


def _only_line(kind: str, text: str) -> tuple[int, str]:
    """The single line of a one-line file such as ``/proc/loadavg``."""
    lines = _lines(kind, text)
    if len(lines) > 1:
        lineno, line = lines[1]
        raise ParseError(kind, "expected a single line", line, lineno)
    return lines[0]


def _optional(values: list[int], index: int) -> int | None:
    return values[index] if index < len(values) else None


_STAT_SCALARS = frozenset({"btime", "processes", "procs_running", "procs_blocked", "ctxt"})


def parse_proc_stat(text: str) -> ProcStat:
    """Parse ``cat /proc/stat``: CPU time per state (aggregate and per CPU), boot time, counters.

    Lines that are not needed (intr, softirq, page, swap...) are skipped, but every line must
    still be a name followed by integers, as the kernel always prints it.
    """
    kind = PROC_STAT_KIND
    cpu: CpuTimes | None = None
    cpus: list[CpuTimes] = []
    scalars: dict[str, int] = {}
    for lineno, line in _lines(kind, text):
        key, *tokens = line.split()
        if not _STAT_KEY.fullmatch(key) or not tokens:
            raise ParseError(kind, "expected a name followed by numbers", line, lineno)
        values = [_uint(kind, token, line, lineno) for token in tokens]
        if _CPU_NAME.fullmatch(key):
            if len(values) < 4:
                raise ParseError(kind, "cpu line lacks user/nice/system/idle", line, lineno)
            times = CpuTimes(
                name=key,
                user=values[0],
                nice=values[1],
                system=values[2],
                idle=values[3],
                iowait=_optional(values, 4),
                irq=_optional(values, 5),
                softirq=_optional(values, 6),
                steal=_optional(values, 7),
            )
            if key != "cpu":
                cpus.append(times)
            elif cpu is None:
                cpu = times
            else:
                raise ParseError(kind, "second aggregate cpu line", line, lineno)
        elif key in _STAT_SCALARS:
            if len(values) != 1 or key in scalars:
                raise ParseError(kind, f"expected one {key} value", line, lineno)
            scalars[key] = values[0]
    if cpu is None:
        raise ParseError(kind, "no aggregate 'cpu' line")
    return ProcStat(
        cpu=cpu,
        cpus=cpus,
        boot_time=scalars.get("btime"),
        processes=scalars.get("processes"),
        procs_running=scalars.get("procs_running"),
        procs_blocked=scalars.get("procs_blocked"),
        context_switches=scalars.get("ctxt"),
    )


_MEMINFO_FIELDS = {
    "MemTotal": "mem_total_bytes",
    "MemFree": "mem_free_bytes",
    "MemAvailable": "mem_available_bytes",
    "Buffers": "buffers_bytes",
    "Cached": "cached_bytes",
    "SwapTotal": "swap_total_bytes",
    "SwapFree": "swap_free_bytes",
}


def parse_meminfo(text: str) -> MemInfo:
    """Parse ``cat /proc/meminfo``; the kernel's "kB" are KiB, so values are multiplied by 1024.

    MemAvailable only exists from kernel 3.14 and is None before that.
    """
    kind = MEMINFO_KIND
    found: dict[str, int] = {}
    for lineno, line in _lines(kind, text):
        match = _MEMINFO_LINE.fullmatch(line.strip())
        if match is None:
            raise ParseError(kind, "expected 'Name: value [kB]'", line, lineno)
        key, value, unit = match.groups()
        field = _MEMINFO_FIELDS.get(key)
        if field is None:
            continue
        if unit != "kB":
            raise ParseError(kind, f"{key} has no kB unit", line, lineno)
        if field in found:
            raise ParseError(kind, f"{key} appears twice", line, lineno)
        found[field] = _uint(kind, value, line, lineno) * 1024
    if "mem_total_bytes" not in found:
        raise ParseError(kind, "no MemTotal line")
    return MemInfo(
        mem_total_bytes=found["mem_total_bytes"],
        mem_free_bytes=found.get("mem_free_bytes"),
        mem_available_bytes=found.get("mem_available_bytes"),
        buffers_bytes=found.get("buffers_bytes"),
        cached_bytes=found.get("cached_bytes"),
        swap_total_bytes=found.get("swap_total_bytes"),
        swap_free_bytes=found.get("swap_free_bytes"),
    )


def parse_loadavg(text: str) -> LoadAvg:
    """Parse ``cat /proc/loadavg``, e.g. ``0.21 0.37 0.39 1/719 19737``."""
    kind = LOADAVG_KIND
    lineno, line = _only_line(kind, text)
    tokens = line.split()
    if len(tokens) not in (4, 5):
        raise ParseError(
            kind, "expected 'load1 load5 load15 running/total [last_pid]'", line, lineno
        )
    loads = [_ufloat(kind, token, line, lineno) for token in tokens[:3]]
    runnable = _RUNNABLE.fullmatch(tokens[3])
    if runnable is None:
        raise ParseError(kind, f"expected running/total, got {tokens[3][:40]!r}", line, lineno)
    last_pid = _uint(kind, tokens[4], line, lineno) if len(tokens) == 5 else None
    return LoadAvg(
        load_1=loads[0],
        load_5=loads[1],
        load_15=loads[2],
        running=_uint(kind, runnable.group(1), line, lineno),
        total=_uint(kind, runnable.group(2), line, lineno),
        last_pid=last_pid,
    )


def parse_uptime(text: str) -> Uptime:
    """Parse ``cat /proc/uptime`` (two numbers of seconds).

    The ``uptime`` command's output (`` 10:25:20 up 16:03, 2 users, ...``) is a different format
    and is refused.
    """
    kind = UPTIME_KIND
    lineno, line = _only_line(kind, text)
    tokens = line.split()
    if len(tokens) != 2:
        raise ParseError(kind, "expected 'uptime_seconds idle_seconds'", line, lineno)
    uptime_s, idle_s = (_ufloat(kind, token, line, lineno) for token in tokens)
    return Uptime(uptime_s=uptime_s, idle_s=idle_s)


def parse_net_dev(text: str) -> list[NetDev]:
    """Parse ``cat /proc/net/dev``: one entry per interface, 8 receive and 8 transmit counters.

    The name ends at the last colon of the line: aliases like ``ibr10:30`` keep theirs, and large
    counters may touch the colon (``eth0:68210035552 ...``).
    """
    kind = NET_DEV_KIND
    interfaces: list[NetDev] = []
    for lineno, line in _lines(kind, text):
        if _NET_DEV_HEADER.fullmatch(line.strip()):
            continue
        name_part, colon, counters = line.rpartition(":")
        name = name_part.strip()
        if not colon or not name or any(ch.isspace() for ch in name):
            raise ParseError(kind, "expected 'interface: counters'", line, lineno)
        tokens = counters.split()
        if len(tokens) != 16:
            raise ParseError(kind, f"expected 16 counters, got {len(tokens)}", line, lineno)
        # The dataclass fields follow the kernel's column order.
        interfaces.append(NetDev(name, *(_uint(kind, token, line, lineno) for token in tokens)))
    return interfaces


def parse_diskstats(text: str) -> list[DiskStat]:
    """Parse ``cat /proc/diskstats``: one entry per block device or partition.

    A line has 14 fields (major, minor, name and 11 counters), 18 from kernel 4.18 (discards) or
    20 from 5.5 (flushes). Columns beyond 20, if a future kernel adds some, are ignored.
    """
    kind = DISKSTATS_KIND
    disks: list[DiskStat] = []
    for lineno, line in _lines(kind, text):
        fields = line.split()
        if len(fields) < 14:
            raise ParseError(kind, f"expected at least 14 fields, got {len(fields)}", line, lineno)
        if len(fields) in (15, 16, 17, 19):
            raise ParseError(kind, f"unexpected number of fields ({len(fields)})", line, lineno)
        major = _uint(kind, fields[0], line, lineno)
        minor = _uint(kind, fields[1], line, lineno)
        v = [_uint(kind, token, line, lineno) for token in fields[3:]]
        disks.append(
            DiskStat(
                major=major,
                minor=minor,
                name=fields[2],
                reads_completed=v[0],
                reads_merged=v[1],
                sectors_read=v[2],
                read_time_ms=v[3],
                writes_completed=v[4],
                writes_merged=v[5],
                sectors_written=v[6],
                write_time_ms=v[7],
                io_in_progress=v[8],
                io_time_ms=v[9],
                weighted_io_time_ms=v[10],
                discards_completed=_optional(v, 11),
                discards_merged=_optional(v, 12),
                sectors_discarded=_optional(v, 13),
                discard_time_ms=_optional(v, 14),
                flush_requests_completed=_optional(v, 15),
                flush_time_ms=_optional(v, 16),
            )
        )
    return disks
