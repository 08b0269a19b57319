"""Property tests: whatever text the docker engine parsers (info, version, system df) get, they
return facts or raise ParseError. The damaged outputs are the shared samples and the hand-written
ones of tests.containers.engine_outputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.containers import DOCKER_SAMPLES_BY_KIND
from tests.containers import ENGINE_PARSERS as PARSERS
from tests.containers.engine_outputs import HAND_WRITTEN
from tests.parser_kit import (
    FUZZ,
    arbitrary_text,
    assert_parses_or_raises,
    mutated,
    token_soup,
    tokens_of,
)
from tests.samples import sample

# Tokens that steer the parsers into their interesting branches.
TOKENS = [
    "Client:", "Server:", "ERROR:", "WARNING:", " Engine:", "  Version:", " Server Version:",
    " Total Memory:", " CPUs:", "  Running:", "Cannot connect to the Docker daemon", "{", "}",
    "[", "]", '"', ":", ",", "null", "true", "-1", "1e400", "NaN", "1.5GiB", "16.43 MB", " (70%)",
    "(", ")", "%", "TYPE", "TOTAL", "  ", "\t", "\n", " ", "\x00", "\u2028", "\U0001f4a9",
]  # fmt: skip
tokens = tokens_of(TOKENS)

FUZZ_ENGINE = settings(FUZZ, max_examples=150)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ_ENGINE
@given(text=arbitrary_text)
def test_arbitrary_text_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    assert_parses_or_raises(PARSERS[kind], kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ_ENGINE
@given(text=token_soup(tokens))
def test_token_soup_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    assert_parses_or_raises(PARSERS[kind], kind, text)


@pytest.mark.parametrize(
    ("kind", "relpath"), [(kind, path) for kind in PARSERS for path in DOCKER_SAMPLES_BY_KIND[kind]]
)
@FUZZ_ENGINE
@given(data=st.data())
def test_damaged_sample_gives_facts_or_a_parse_error(
    kind: str, relpath: str, data: st.DataObject
) -> None:
    # given
    text = data.draw(mutated(sample(relpath), tokens))
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)


@pytest.mark.parametrize(
    ("kind", "template"),
    [(kind, text) for kind, texts in HAND_WRITTEN.items() for text in texts],
)
@FUZZ_ENGINE
@given(data=st.data())
def test_damaged_hand_written_output_gives_facts_or_a_parse_error(
    kind: str, template: str, data: st.DataObject
) -> None:
    # given
    text = data.draw(mutated(template, tokens))
    # then
    assert_parses_or_raises(PARSERS[kind], kind, text)
