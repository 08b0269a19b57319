"""What every parser shares: the typed error and small helpers for turning facts into JSON.

Parsers are pure functions ``text -> facts`` (dataclasses with units in field names). They never
touch the ORM, the network or the clock, so they can be tested on captured outputs and run by
``manage.py parse`` without a database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


class ParseError(ValueError):
    """Output a parser does not understand.

    ``kind`` names the collection kind, ``line`` the offending line (or None when the problem is
    the output as a whole, e.g. empty) and ``lineno`` its 1-based number when known.
    """

    def __init__(
        self, kind: str, message: str, line: str | None = None, lineno: int | None = None
    ) -> None:
        self.kind = kind
        self.message = message
        self.line = line
        self.lineno = lineno
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.lineno is not None:
            where = f" at line {self.lineno}"
        shown = ""
        if self.line is not None:
            text = self.line if len(self.line) <= 120 else self.line[:117] + "..."
            shown = f": {text!r}"
        return f"{self.kind}: {self.message}{where}{shown}"


def to_jsonable(value: Any) -> Any:
    """Facts (dataclasses, lists, dicts, datetimes) as plain JSON-serialisable values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
