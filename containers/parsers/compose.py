"""Parser for ``docker compose ls -a --format json``: the Compose projects on a host.

Compose v2 prints a JSON array, ``[]`` when there is no project; ``null`` is read as no project
too. Early v2 releases had no ConfigFiles field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from collectors.parsing import ParseError
from containers.parsers.ps import load_json

COMPOSE_LS_KIND = "compose-ls"

# Status is "running(2), exited(1)": each container state with its count, in compose's order.
_STATE_COUNT = re.compile(r"([a-z]+)\(([0-9]{1,9})\)")


@dataclass(frozen=True, slots=True)
class ComposeProjectFacts:
    """One Compose project: its status text, containers counted per state, its files.

    ``counts`` holds only the states compose printed (``{"running": 2, "exited": 1}``); a
    state that is absent has no container in it.
    """

    name: str
    status: str
    counts: dict[str, int]
    config_files: list[str]


def parse_compose_status(status: str) -> dict[str, int]:
    """``'running(2), exited(1)'`` -> ``{'running': 2, 'exited': 1}``. Raises ValueError."""
    counts: dict[str, int] = {}
    for part in (piece.strip() for piece in status.split(",")):
        if not part:
            continue
        match = _STATE_COUNT.fullmatch(part)
        if match is None:
            raise ValueError(f"not a 'state(count)' status: {part[:40]!r}")
        state, count = match.group(1), int(match.group(2))
        counts[state] = counts.get(state, 0) + count
    return counts


def _field(project: dict[str, Any], key: str, index: int, line: str, lineno: int) -> str:
    value = project.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(COMPOSE_LS_KIND, f"[{index}].{key} is not a string", line, lineno)
    return value


def _project(raw: Any, index: int, line: str, lineno: int) -> ComposeProjectFacts:
    if not isinstance(raw, dict):
        raise ParseError(COMPOSE_LS_KIND, f"[{index}] is not an object", line, lineno)
    name = _field(raw, "Name", index, line, lineno).strip()
    if not name:
        raise ParseError(COMPOSE_LS_KIND, f"[{index}] has no Name", line, lineno)
    if "Status" not in raw:
        raise ParseError(COMPOSE_LS_KIND, f"[{index}] has no Status", line, lineno)
    status = _field(raw, "Status", index, line, lineno).strip()
    try:
        counts = parse_compose_status(status)
    except ValueError as e:
        raise ParseError(COMPOSE_LS_KIND, f"[{index}] ({name}): {e}", line, lineno) from e
    config_files = _field(raw, "ConfigFiles", index, line, lineno)
    return ComposeProjectFacts(
        name=name,
        status=status,
        counts=counts,
        config_files=[path.strip() for path in config_files.split(",") if path.strip()],
    )


def parse_compose_ls(text: str) -> list[ComposeProjectFacts]:
    """Parse ``docker compose ls -a --format json``: a JSON array of {Name, Status, ConfigFiles}.

    Empty output is a ParseError (compose always prints at least ``[]``), as is anything that is
    not an array of objects.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(COMPOSE_LS_KIND, "empty output")
    document = load_json(COMPOSE_LS_KIND, text)
    if document is None:
        return []
    lineno, line = lines[0]
    if not isinstance(document, list):
        raise ParseError(COMPOSE_LS_KIND, "expected a JSON array", line, lineno)
    # compose prints the array on one line, so the first line is the one to show
    return [_project(raw, index, line, lineno) for index, raw in enumerate(document)]
