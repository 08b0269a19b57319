"""Numbers as people read them, shared by the console's pages and the MCP tools' answers."""

from __future__ import annotations


def format_bytes(value: float) -> str:
    """1536 -> "1.5 KiB" (binary units, one decimal; whole bytes below 1 KiB)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover (the loop returns)
