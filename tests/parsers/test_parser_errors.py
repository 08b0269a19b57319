"""Every system parser on bad input: empty, garbage, binary, truncated, another kind's output."""

from __future__ import annotations

import pytest

from collectors.parsing import ParseError
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
BAD_INPUTS = {
    "garbage": "hello world\n",
    "binary": bytes(range(256)).decode("latin-1"),
    "html": "<html><body>502 Bad Gateway</body></html>\n",
    "shell error": "sh: 1: cat: not found\n",
}


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("text", ["", "\n\n   \n"], ids=["empty", "blank"])
def test_empty_output_is_a_parse_error_naming_the_kind(kind: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](text)
    assert caught.value.kind == kind


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("bad", [*BAD_INPUTS, "truncated"])
def test_unreadable_output_is_a_parse_error_naming_the_line(kind: str, bad: str) -> None:
    # given
    text = TRUNCATED[kind] if bad == "truncated" else BAD_INPUTS[bad]
    # when
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](text)
    # then
    assert caught.value.kind == kind
    assert caught.value.line is not None
    assert caught.value.lineno is not None
    assert caught.value.line in text.splitlines() or caught.value.line.split()[0] in text


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
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](sample(relpath))
    assert caught.value.kind == kind
