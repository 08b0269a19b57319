"""Turning counters into percentages and rates. Pure functions, so resets and wraps are testable.

A counter that went down (reboot, driver reload, 32-bit wrap) gives None for that interval: a
gap in the chart, never a negative or absurd rate.
"""

from __future__ import annotations

from collections.abc import Mapping

CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def counter_delta(now: int | None, before: int | None) -> int | None:
    if now is None or before is None or now < before:
        return None
    return now - before


def rate(now: int | None, before: int | None, seconds: float) -> float | None:
    delta = counter_delta(now, before)
    if delta is None or seconds <= 0:
        return None
    return delta / seconds


def cpu_percentages(
    now: Mapping[str, int | None], before: Mapping[str, int | None] | None
) -> dict[str, float | None]:
    """Busy, user, system, iowait and steal % between two /proc/stat `cpu` lines."""
    empty: dict[str, float | None] = dict.fromkeys(
        ("cpu_pct", "cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct")
    )
    if before is None:
        return empty
    deltas: dict[str, int] = {}
    for name in CPU_FIELDS:
        value_now, value_before = now.get(name), before.get(name)
        if value_now is None and value_before is None:
            deltas[name] = 0
            continue
        delta = counter_delta(value_now, value_before)
        if delta is None:
            return empty
        deltas[name] = delta
    total = sum(deltas.values())
    if total <= 0:
        return empty

    def pct(*names: str) -> float:
        return round(100.0 * sum(deltas[n] for n in names) / total, 2)

    return {
        "cpu_pct": round(100.0 - pct("idle", "iowait"), 2),
        "cpu_user_pct": pct("user", "nice"),
        "cpu_system_pct": pct("system", "irq", "softirq"),
        "cpu_iowait_pct": pct("iowait"),
        "cpu_steal_pct": pct("steal"),
    }
