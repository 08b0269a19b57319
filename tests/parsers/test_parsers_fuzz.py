"""Property tests: whatever text the system parsers get, they return facts or raise ParseError.

An IndexError, ValueError or KeyError escaping a parser would crash a collection instead of
recording "this device printed something we do not understand", so any other exception fails.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.parsing import ParseError, to_jsonable
from tests.parsers import PARSERS

# A well-formed output per kind, for mutation.
TEMPLATES = {
    "proc-stat": (
        "cpu  6002 152 8398 3444436 448 0 1174 0 0 0\ncpu0 2784 137 4367 1732802 225 0 221 0 0 0\n"
        "intr 2496709 18 73 0\nctxt 4622716\nbtime 1662154781\nprocesses 9831\nprocs_running 1\n"
    ),
    "meminfo": "MemTotal:        3997272 kB\nMemFree:         2760316 kB\nHugePages_Total:  0\n",
    "loadavg": "0.00 0.01 0.03 2/111 2039\n",
    "uptime": "46901.13 46856.66\n",
    "net-dev": (
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
        "drop fifo colls carrier compressed\n"
        "    lo:   13222     152    0    0    0     0          0         0    13222     152    0 "
        "   0    0     0       0          0\n"
        "eth0:68210035552 520993275 0 0 0 0 0 0 9315587528 43451486 0 0 0 0 0 0\n"
    ),
    "diskstats": "   8       0 sda 14200 3361 892828 5058 18736 13416 715384 12604 0 24940 17663\n",
    "df": (
        "Filesystem     Type 1-blocks    Used Available Capacity Mounted on\n"
        "/dev/sda2      ext4 20508240 5748028  13695408      30% /\n"
        "/dev/mapper/long-name\n        xfs 10 5 5 50% /mnt/with space\n"
    ),
    "os-release": "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n# comment\nVERSION_ID='18.04'\n",
}

# Tokens that steer parsers into their interesting branches.
TOKENS = [
    "cpu", "cpu0", "cpu1", "btime", "ctxt", "intr", "processes", "procs_running",
    "MemTotal:", "MemAvailable:", "SwapFree:", "kB", "HugePages_Total:",
    "Inter-|", "face", "|", ":", "lo:", "eth0:", "ibr10:30:",
    "Filesystem", "Type", "1K-blocks", "1-blocks", "1M-blocks", "Size", "Used", "Available",
    "Avail", "Use%", "Capacity", "Mounted", "on", "-", "50%", "1.5G", "12046M", "/",
    "ID=", "NAME=", "DISTRIB_ID=", "ID_LIKE=", '"', "'", "\\", "#", "=",
    "2/345", "0.00", "1e5", "nan", "-1", "+1", "1_000", "\x00", "\u00a0", "\u2028", "\U0001f4a9",
]  # fmt: skip

numbers = st.one_of(
    st.integers(min_value=0, max_value=2**70).map(str),
    st.floats(min_value=0, max_value=1e12, allow_nan=False).map(lambda f: f"{f:.2f}"),
)
tokens = st.one_of(st.sampled_from(TOKENS), numbers, st.text(max_size=6))
separators = st.sampled_from([" ", "  ", "\t", ":", "", " : "])


@st.composite
def plausible_lines(draw: st.DrawFn) -> str:
    """Lines of structural tokens and numbers, joined by spaces, tabs or colons."""
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        parts = draw(st.lists(tokens, min_size=1, max_size=22))
        lines.append(draw(separators).join(parts))
    return "\n".join(lines)


@st.composite
def mutated(draw: st.DrawFn, template: str) -> str:
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


def _facts_or_parse_error(kind: str, text: str) -> None:
    try:
        facts = PARSERS[kind](text)
    except ParseError as error:
        assert error.kind == kind
        assert str(error)
        return
    json.dumps(to_jsonable(facts))


FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=st.text())
def test_arbitrary_text_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=plausible_lines())
def test_plausible_lines_give_facts_or_a_parse_error(kind: str, text: str) -> None:
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(data=st.data())
def test_damaged_real_output_gives_facts_or_a_parse_error(kind: str, data: st.DataObject) -> None:
    # given
    text = data.draw(mutated(TEMPLATES[kind]))
    # then
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
def test_each_fuzz_template_is_itself_valid(kind: str) -> None:
    assert PARSERS[kind](TEMPLATES[kind])
