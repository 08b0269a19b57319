"""Parser tests. The parsers under test come from the kind registry, so the wiring is tested too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.kinds import registry

SYSTEM_KINDS = ("proc-stat", "meminfo", "loadavg", "uptime", "net-dev", "diskstats", "df",
                "os-release")  # fmt: skip

PARSERS: dict[str, Callable[[str], Any]] = {
    name: registry.get(name).parser for name in SYSTEM_KINDS
}
