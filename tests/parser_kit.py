"""What the parser tests share: byte units, bad inputs, hypothesis strategies and the two checks.

Every parser (the system ones in ``tests/parsers``, the docker ones in ``tests/containers``) owes
the same promise: on any text it returns facts that serialise to JSON, or raises a ``ParseError``
of its own kind. An IndexError, KeyError, TypeError or OverflowError escaping it would crash a
collection instead of recording "this device printed something we do not understand".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from collectors.parsing import ParseError, to_jsonable

Parser = Callable[[str], Any]

KiB = 1024
MiB = 1024**2
GiB = 1024**3


# --- bad input -----------------------------------------------------------------------------------

BINARY = bytes(range(256)).decode("latin-1")

# No output at all, by id.
EMPTY = {"empty": "", "blank": "\n\n   \n"}

# What a device may print instead of the command's output, by id.
JUNK = {
    "garbage": "hello world\n",
    "binary": BINARY,
    "html": "<html><body>502 Bad Gateway</body></html>\n",
}


def shell_error(command: str) -> str:
    """What ``sh`` prints when ``command`` is not installed."""
    return f"sh: 1: {command}: not found\n"


def bad_input_cases(
    kinds: Iterable[str],
    shared: Mapping[str, str],
    per_kind: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Any]:
    """``(kind, text)`` params: each ``shared`` input for every kind, then each per-kind table
    (e.g. ``{"truncated": {kind: text}}``). Ids read ``html-docker-ps``."""
    kinds = list(kinds)
    cases = [
        pytest.param(kind, text, id=f"{name}-{kind}")
        for name, text in shared.items()
        for kind in kinds
    ]
    cases += [
        pytest.param(kind, texts[kind], id=f"{name}-{kind}")
        for name, texts in (per_kind or {}).items()
        for kind in kinds
    ]
    return cases


def assert_refused(parser: Parser, kind: str, text: str) -> ParseError:
    """Asserts that ``parser`` raises a ParseError of ``kind`` on ``text``; returns the error."""
    with pytest.raises(ParseError) as caught:
        parser(text)
    error = caught.value
    assert error.kind == kind, f"ParseError of kind {error.kind!r}, expected {kind!r}: {error}"
    return error


def assert_parses_or_raises(
    parser: Parser, kind: str, text: str, *, allow_nan: bool = True
) -> None:
    """Asserts that ``parser`` returns JSON-able facts for ``text`` or raises a ParseError of
    ``kind`` with a message; any other exception propagates and fails the test."""
    try:
        facts = parser(text)
    except ParseError as error:
        assert error.kind == kind, f"ParseError of kind {error.kind!r}, expected {kind!r}: {error}"
        assert str(error), "ParseError without a message"
        return
    json.dumps(to_jsonable(facts), allow_nan=allow_nan)


# --- property tests ------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

arbitrary_text = st.text()


def tokens_of(vocabulary: list[str], *more: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A token: one of a parser's structural words, one drawn from ``more``, or any short text."""
    return st.one_of(st.sampled_from(vocabulary), *more, st.text(max_size=6))


SEPARATORS = [" ", "  ", "\t", ":", "", " : "]


@st.composite
def plausible_lines(draw: st.DrawFn, tokens: st.SearchStrategy[str]) -> str:
    """Lines of tokens, each line joined by spaces, tabs or colons."""
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        parts = draw(st.lists(tokens, min_size=1, max_size=22))
        lines.append(draw(st.sampled_from(SEPARATORS)).join(parts))
    return "\n".join(lines)


def token_soup(tokens: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Up to 30 tokens run together (a token may itself be a newline or a separator)."""
    return st.lists(tokens, max_size=30).map("".join)


@st.composite
def mutated(draw: st.DrawFn, template: str, tokens: st.SearchStrategy[str]) -> str:
    """A valid output with a few random edits: cut, deleted span, inserted token, doubled line."""
    text = template
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        operation = draw(st.sampled_from(["cut", "delete", "insert", "double"]))
        if operation == "cut":
            text = text[:position]
        elif operation == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)) :]
        elif operation == "insert":
            text = text[:position] + draw(tokens) + text[position:]
        else:
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            text = "".join([*lines[: index + 1], *lines[index:]])
    return text
