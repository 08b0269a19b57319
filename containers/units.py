"""Docker's human-readable sizes and percentages, decoded to bytes and numbers.

The docker CLI prints sizes with go-units: binary units for memory (`1.5GiB`, `196KiB`) and SI
units for I/O and disk (`12.3kB`, `4MB`, and `16.43 MB` with a space in older versions). Both are
read exactly as written: `kB`/`KB` = 1000, `KiB` = 1024.
"""

from __future__ import annotations

import math
import re

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*((?:[kKmMgGtTpPeE]i?)?[bB])?\s*$")
_SI = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_BINARY = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50, "E": 2**60}
_EMPTY = {"", "--", "-", "N/A", "n/a"}


class UnitError(ValueError):
    """A value that is not a size or percentage; parsers turn it into a ParseError."""


def parse_size(text: str) -> int | None:
    """`'1.5GiB'` -> 1610612736, `'12.3kB'` -> 12300, `'0B'` -> 0, `'--'` -> None."""
    if text.strip() in _EMPTY:
        return None
    match = _SIZE.match(text)
    if not match:
        raise UnitError(f"not a size: {text!r}")
    number = float(match.group(1))
    unit = (match.group(2) or "B").upper()
    prefix = unit[0] if unit[0] != "B" else ""
    factor = _BINARY[prefix] if "I" in unit else _SI[prefix]
    value = number * factor
    if not math.isfinite(value):
        raise UnitError(f"size out of range: {text!r}")
    return round(value)


def parse_size_pair(text: str) -> tuple[int | None, int | None]:
    """`'2.352MiB / 982.5MiB'` -> (used, limit); `'539kB / 606kB'` -> (rx, tx)."""
    left, sep, right = text.partition("/")
    if not sep:
        raise UnitError(f"expected 'A / B': {text!r}")
    return parse_size(left), parse_size(right)


def parse_percent(text: str) -> float | None:
    """`'0.03%'` -> 0.03, `'--'` -> None."""
    value = text.strip()
    if value in _EMPTY:
        return None
    if not value.endswith("%"):
        raise UnitError(f"not a percentage: {text!r}")
    try:
        number = float(value[:-1])
    except ValueError as e:
        raise UnitError(f"not a percentage: {text!r}") from e
    if not math.isfinite(number):
        raise UnitError(f"not a percentage: {text!r}")
    return number
