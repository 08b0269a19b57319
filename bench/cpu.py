"""Poller-side CPU of one timed poll: this process, its reaped children, and named processes.

`resource.getrusage` covers this process (every thread: the worker pool and paramiko's transport
threads) and the children it has waited for (with their own waited-for descendants, so an
`ansible` run includes its forks and their ssh clients). Long-lived helpers that nobody reaps
during the poll (ControlMasters, Ansible's ControlPersist masters, PostgreSQL backends) are read
from /proc/<pid>/stat before and after.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float | None:
    """utime + stime of a live process (all its threads), None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    # Fields 14 and 15 of stat(5); fields[0] here is field 3 (state).
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def pids_with(marker: str) -> list[int]:
    """Processes whose command line contains `marker` (a directory only this run uses)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _rusage_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Sample:
    wall_s: float
    self_s: float
    children_s: float
    helpers_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def _helpers_s(before: dict[int, float], pids: Iterable[int]) -> float:
    """CPU the helpers spent since `before`; one started meanwhile counts in full."""
    total = 0.0
    for pid in pids:
        now = process_cpu_s(pid)
        if now is not None:
            total += now - before.get(pid, 0.0)
    return total


def _snapshot(pids: Iterable[int]) -> dict[int, float]:
    return {pid: cpu for pid in pids if (cpu := process_cpu_s(pid)) is not None}


def timed(
    poll: Callable[[], object],
    helpers: Callable[[], Iterable[int]] = list,
    side: Callable[[], Iterable[int]] = list,
) -> Sample:
    """Run one poll; wall time, CPU of ours / our children / `helpers`, and of `side` processes
    (reported apart: PostgreSQL's backends are the database's CPU, not the poller's)."""
    helpers_before, side_before = _snapshot(helpers()), _snapshot(side())
    self_before, children_before = (
        _rusage_s(resource.RUSAGE_SELF),
        _rusage_s(resource.RUSAGE_CHILDREN),
    )
    started = time.perf_counter()
    poll()
    wall = time.perf_counter() - started
    sample = Sample(
        wall_s=wall,
        self_s=_rusage_s(resource.RUSAGE_SELF) - self_before,
        children_s=_rusage_s(resource.RUSAGE_CHILDREN) - children_before,
        helpers_s=_helpers_s(helpers_before, helpers()),
    )
    sample.extra["side_s"] = _helpers_s(side_before, side())
    return sample
