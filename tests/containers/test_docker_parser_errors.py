"""Every docker parser on bad input: empty, garbage, binary, truncated, another command's output.

Also the shared samples as a whole: the guard that notices a new one, and that each container
kind's facts serialise.
"""

from __future__ import annotations

import json

import pytest

from collectors.parsing import to_jsonable
from tests.containers import (
    CONTAINER_PARSERS,
    DOCKER_PARSERS,
    DOCKER_SAMPLE_KIND,
    ENGINE_PARSERS,
)
from tests.parser_kit import BINARY, EMPTY, JUNK, assert_refused, bad_input_cases, shell_error
from tests.samples import SAMPLES_DIR, sample

# --- samples -------------------------------------------------------------------------------------


def test_every_docker_sample_is_either_ours_or_an_engine_sample() -> None:
    if SAMPLES_DIR is None:
        pytest.skip("shared samples folder not found; set INFRA_SAMPLES_DIR")
    on_disk = {f"docker/{path.name}" for path in (SAMPLES_DIR / "docker").iterdir()}
    assert on_disk == set(DOCKER_SAMPLE_KIND)


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [(relpath, kind) for relpath, kind in DOCKER_SAMPLE_KIND.items() if kind in CONTAINER_PARSERS],
)
def test_sample_facts_are_jsonable(relpath: str, kind: str) -> None:
    facts = CONTAINER_PARSERS[kind](sample(relpath))
    assert facts
    json.dumps(to_jsonable(facts), allow_nan=False)


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        # every container parser on every docker sample of another kind
        *(
            (relpath, kind)
            for relpath, own_kind in DOCKER_SAMPLE_KIND.items()
            for kind in CONTAINER_PARSERS
            if kind != own_kind
        ),
        # the engine parsers on one another's samples and on container samples
        ("docker/dockercli_docs_system_df.txt", "docker-info"),
        ("docker/dockercli_docs_info_linux_25.0.txt", "docker-version"),
        ("docker/dockercli_docs_version_28.5_desktop.txt", "docker-df"),
        ("docker/inspec_docker_inspect_nginx_running.json", "docker-info"),
        ("docker/dockercli_docs_system_df_format_json.txt", "docker-version"),
        ("docker/dockercli_golden_info_format_json_no_swarm.json", "docker-df"),
    ],
)
def test_another_commands_output_is_a_parse_error(relpath: str, kind: str) -> None:
    assert_refused(DOCKER_PARSERS[kind], kind, sample(relpath))


# --- bad input, for every parser -----------------------------------------------------------------

DOCKER_ERROR = (
    "permission denied while trying to connect to the Docker daemon socket at "
    'unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": '
    "dial unix /var/run/docker.sock: connect: permission denied\n"
)
TRUNCATED = {
    "docker-ps": '{"ID":"a762a2b37a1d","Names":"web","Image":"ngi',
    "docker-stats": '{"BlockIO":"0B / 13.3kB","CPUPerc":"0.0',
    "docker-inspect": '[\n    {\n        "Id": "36a981f1ec0d",\n        "State": {\n',
    "compose-ls": '[{"Name":"myapp","Status":"runn',
    "docker-info": '{"ID":"EKHL","Containers":0,"ContainersRunning":0,"Images":0,"Driver":"over',
    "docker-version": '{"Client":{"Version":"17.03.0-ce","ApiVersion":"1.26"},"Server":{"Vers',
    "docker-df": '{"Active":"2","Reclaimable":"2.498GB (94%)","Size":"2.631GB","TotalCo',
}
WRONG_SHAPE = {  # JSON, but not the value the command prints
    "docker-ps": '[{"ID":"a762a2b37a1d","Names":"web","Image":"nginx"}]',
    "docker-stats": '["ed37317fbf42"]',
    "docker-inspect": '{"Id":"36a981f1ec0d","State":{"Status":"running"}}',
    "compose-ls": '{"Name":"myapp","Status":"running(2)"}',
}
CONTAINER_BAD_INPUTS = {**JUNK, "docker error": DOCKER_ERROR}
# Binary output has its own test below: the engine parsers need not name its first line.
ENGINE_BAD_INPUTS = {
    "garbage": JUNK["garbage"],
    "html": JUNK["html"],
    "shell error": shell_error("docker"),
}


# docker ps and docker stats print nothing when there is no container: see their own tests.
@pytest.mark.parametrize(
    ("kind", "text"),
    bad_input_cases(
        ["docker-info", "docker-version", "docker-df", "docker-inspect", "compose-ls"], EMPTY
    ),
)
def test_empty_output_is_a_parse_error_naming_the_kind(kind: str, text: str) -> None:
    assert_refused(DOCKER_PARSERS[kind], kind, text)


@pytest.mark.parametrize(
    ("kind", "text"),
    bad_input_cases(
        CONTAINER_PARSERS,
        CONTAINER_BAD_INPUTS,
        {"truncated": TRUNCATED, "wrong shape": WRONG_SHAPE},
    ),
)
def test_unreadable_output_is_a_parse_error_naming_the_line(kind: str, text: str) -> None:
    # when
    error = assert_refused(CONTAINER_PARSERS[kind], kind, text)
    # then
    assert error.line is not None
    assert error.line in text
    assert error.lineno is not None
    assert str(error).startswith(f"{kind}: ")


@pytest.mark.parametrize(
    ("kind", "text"), bad_input_cases(ENGINE_PARSERS, ENGINE_BAD_INPUTS, {"truncated": TRUNCATED})
)
def test_unreadable_engine_output_is_a_parse_error_naming_its_first_line(
    kind: str, text: str
) -> None:
    # when
    error = assert_refused(ENGINE_PARSERS[kind], kind, text)
    # then
    assert error.line == text.splitlines()[0]
    assert error.lineno == 1


@pytest.mark.parametrize("kind", list(ENGINE_PARSERS))
def test_binary_output_is_a_parse_error(kind: str) -> None:
    assert_refused(ENGINE_PARSERS[kind], kind, BINARY)
