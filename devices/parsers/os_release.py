"""Parser for ``cat /etc/os-release`` (falling back to ``/etc/lsb-release``): which distribution a
host runs.

Both files are shell-style ``KEY=VALUE`` assignments (see os-release(5)): values may be unquoted,
single-quoted (literal) or double-quoted (where a backslash escapes a double quote, a backslash,
a dollar sign or a backtick), and ``#`` starts a comment. Variables are not expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.parsing import ParseError

OS_RELEASE_KIND = "os-release"

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")
_DOUBLE_QUOTED_ESCAPES = frozenset('$`"\\')


@dataclass(frozen=True, slots=True)
class OsRelease:
    """Distribution identity; every field is None when the file does not set it."""

    id: str | None
    id_like: list[str] | None
    name: str | None
    version_id: str | None
    version: str | None
    version_codename: str | None
    pretty_name: str | None


def _double_quoted(raw: str, start: int, line: str, lineno: int) -> tuple[str, int]:
    """The text of a double-quoted string opening at ``raw[start]``, and the index after it."""
    out: list[str] = []
    i = start + 1
    while i < len(raw):
        ch = raw[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in _DOUBLE_QUOTED_ESCAPES:
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise ParseError(OS_RELEASE_KIND, "unterminated double quote", line, lineno)


def _unquote(raw: str, line: str, lineno: int) -> str:
    """A shell word's value: quotes removed, escapes resolved, a trailing ``# comment`` dropped.

    Unquoted whitespace inside a value is invalid per os-release(5) but kept as is: a sloppy
    vendor file should not stop collection.
    """
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == '"':
            text, i = _double_quoted(raw, i, line, lineno)
            out.append(text)
        elif ch == "'":
            end = raw.find("'", i + 1)
            if end < 0:
                raise ParseError(OS_RELEASE_KIND, "unterminated single quote", line, lineno)
            out.append(raw[i + 1 : end])
            i = end + 1
        elif ch == "\\":
            out.append(raw[i + 1 : i + 2])
            i += 2
        elif ch.isspace():
            rest = raw[i:].lstrip()
            if not rest or rest.startswith("#"):
                break
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_os_release(text: str) -> OsRelease:
    """Parse ``cat /etc/os-release`` or ``cat /etc/lsb-release``.

    os-release keys win; lsb-release keys fill what is missing (DISTRIB_ID gives ``name`` and,
    lowercased, ``id``; DISTRIB_RELEASE ``version_id``; DISTRIB_CODENAME ``version_codename``;
    DISTRIB_DESCRIPTION ``pretty_name``). Empty values count as missing.
    """
    kind = OS_RELEASE_KIND
    values: dict[str, str] = {}
    seen_line = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        seen_line = True
        if stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(stripped)
        if match is None:
            raise ParseError(kind, "expected KEY=VALUE", line, lineno)
        value = _unquote(match.group(2), line, lineno)
        if value:
            values[match.group(1)] = value
        else:
            values.pop(match.group(1), None)
    if not seen_line:
        raise ParseError(kind, "empty output")
    if not {"ID", "NAME", "DISTRIB_ID"} & values.keys():
        raise ParseError(kind, "no ID, NAME or DISTRIB_ID")

    distrib_id = values.get("DISTRIB_ID")
    id_like = values.get("ID_LIKE", "").split()
    return OsRelease(
        id=values.get("ID") or (distrib_id.lower() if distrib_id else None),
        id_like=id_like or None,
        name=values.get("NAME") or distrib_id,
        version_id=values.get("VERSION_ID") or values.get("DISTRIB_RELEASE"),
        version=values.get("VERSION"),
        version_codename=values.get("VERSION_CODENAME") or values.get("DISTRIB_CODENAME"),
        pretty_name=values.get("PRETTY_NAME") or values.get("DISTRIB_DESCRIPTION"),
    )
