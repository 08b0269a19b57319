"""Argument types shared by the MCP read tools: their pydantic descriptions become the tools'
JSON schema, so agents see what each argument means."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

DeviceName = Annotated[
    str | None, Field(description="Only this device (its name, as list_devices shows it)")
]


Limit = Annotated[int, Field(ge=1, le=500, description="Page size (1-500)")]


Offset = Annotated[int, Field(ge=0, description="Rows to skip; use next_offset for more")]


Since = Annotated[
    str | None, Field(description="ISO 8601 time (UTC unless zoned) or a duration back: 24h, 7d")
]


Search = Annotated[str | None, Field(description="Words to look for (any case)")]


Severity = Literal["info", "warning", "critical"]
