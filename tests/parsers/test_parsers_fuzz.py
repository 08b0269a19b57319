"""Property tests: whatever text the system parsers get, they return facts or raise ParseError.

An IndexError, ValueError or KeyError escaping a parser would crash a collection instead of
recording "this device printed something we do not understand", so any other exception fails.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.parser_kit import (
    FUZZ,
    arbitrary_text,
    assert_parses_or_raises,
    mutated,
    plausible_lines,
    tokens_of,
)
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
tokens = tokens_of(TOKENS, numbers)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=arbitrary_text)
def test_arbitrary_text_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    assert_parses_or_raises(PARSERS[kind], kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=plausible_lines(tokens))
def test_plausible_lines_give_facts_or_a_parse_error(kind: str, text: str) -> None:
    assert_parses_or_raises(PARSERS[kind], kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(data=st.data())
def test_damaged_real_output_gives_facts_or_a_parse_error(kind: str, data: st.DataObject) -> None:
    # given
    text = data.draw(mutated(TEMPLATES[kind], tokens))
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
def test_each_fuzz_template_is_itself_valid(kind: str) -> None:
    assert PARSERS[kind](TEMPLATES[kind])
