"""Every system parser on bad input: empty, garbage, binary, truncated, another kind's output."""

from __future__ import annotations

import pytest

from tests.parser_kit import EMPTY, JUNK, assert_refused, bad_input_cases, shell_error
from tests.parsers import OTHER_SAMPLES, PARSERS, SAMPLES_BY_KIND, kind_of_sample
from tests.samples import SAMPLES_DIR, sample


def test_every_sample_of_these_kinds_is_covered() -> None:
    if SAMPLES_DIR is None:
        pytest.skip("shared samples folder not found; set INFRA_SAMPLES_DIR")
    # given
    on_disk = {
        f"{folder}/{path.name}"
        for folder in ("proc", "os-release", "tools")
        for path in (SAMPLES_DIR / folder).iterdir()
    }
    # when
    found = {p for p in on_disk if kind_of_sample(p) is not None}
    # then
    assert found == {p for paths in SAMPLES_BY_KIND.values() for p in paths}


# --- bad input, for every parser -----------------------------------------------------------------

TRUNCATED = {
    "proc-stat": "cpu  6002 152 8398 3444436 448 0 1174 0 0 0\ncpu0 2784 137",
    "meminfo": "MemTotal:        3997272 kB\nMemFree:  ",
    "loadavg": "0.00 0.01",
    "uptime": "46901.13",
    "net-dev": (
        "Inter-|   Receive |  Transmit\n face |bytes    packets errs|bytes\n"
        " ens33: 60600053  109378    0"
    ),
    "diskstats": "   8       0 sda 14200 3361 892828",
    "df": "Filesystem  1K-blocks    Used Available Use% Mounted on\n/dev/sda2   20508240 5748",
    "os-release": 'NAME="Ubuntu"\nVERSION="18.04.5 LTS',
}
BAD_INPUTS = {**JUNK, "shell error": shell_error("cat")}


@pytest.mark.parametrize(("kind", "text"), bad_input_cases(PARSERS, EMPTY))
def test_empty_output_is_a_parse_error_naming_the_kind(kind: str, text: str) -> None:
    assert_refused(PARSERS[kind], kind, text)


@pytest.mark.parametrize(
    ("kind", "text"), bad_input_cases(PARSERS, BAD_INPUTS, {"truncated": TRUNCATED})
)
def test_unreadable_output_is_a_parse_error_naming_the_line(kind: str, text: str) -> None:
    # when
    error = assert_refused(PARSERS[kind], kind, text)
    # then
    assert error.line is not None
    assert error.lineno is not None
    assert error.line in text.splitlines() or error.line.split()[0] in text


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        (relpath, kind)
        for relpath in [*(p for paths in SAMPLES_BY_KIND.values() for p in paths), *OTHER_SAMPLES]
        for kind in PARSERS
        if kind_of_sample(relpath) != kind
    ],
)
def test_a_sample_of_another_kind_is_a_parse_error(relpath: str, kind: str) -> None:
    assert_refused(PARSERS[kind], kind, sample(relpath))
