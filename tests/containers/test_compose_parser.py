"""The ``docker compose ls`` parser on hand-written outputs and on bad projects."""

from __future__ import annotations

import pytest

from containers.parsers import parse_compose_ls
from tests.parser_kit import assert_refused

# Hand-written: no capture of `docker compose ls --format json` exists in the shared samples; this
# follows compose v2's documented output (a one-line JSON array).
COMPOSE_LS = (
    '[{"Name":"myapp","Status":"running(2)","ConfigFiles":"/srv/myapp/compose.yaml"},'
    '{"Name":"media","Status":"exited(3), running(1)",'
    '"ConfigFiles":"/srv/media/compose.yml,/srv/media/compose.gpu.yml"}]\n'
)


def test_compose_ls_reads_projects_with_counts_per_state() -> None:
    # when
    myapp, media = parse_compose_ls(COMPOSE_LS)
    # then
    assert (myapp.name, myapp.status, myapp.counts) == ("myapp", "running(2)", {"running": 2})
    assert myapp.config_files == ["/srv/myapp/compose.yaml"]
    assert media.counts == {"exited": 3, "running": 1}
    assert media.config_files == ["/srv/media/compose.yml", "/srv/media/compose.gpu.yml"]


@pytest.mark.parametrize("text", ["[]\n", "null\n"])
def test_compose_ls_without_projects(text: str) -> None:
    assert parse_compose_ls(text) == []


def test_compose_ls_of_early_v2_without_config_files() -> None:
    [project] = parse_compose_ls('[{"Name":"old","Status":"running(1)"}]')
    assert project.config_files == []


@pytest.mark.parametrize(
    "text",
    [
        '[{"Name":"x","Status":"running 2"}]',
        '[{"Name":"","Status":"running(2)"}]',
        '[{"Name":"x"}]',
        '[{"Name":"x","Status":"running(1)","ConfigFiles":["/a"]}]',
        '["x"]',
    ],
    ids=["bad-status", "no-name", "no-status", "files-list", "not-object"],
)
def test_compose_ls_bad_projects_are_parse_errors(text: str) -> None:
    error = assert_refused(parse_compose_ls, "compose-ls", text)
    assert (error.line, error.lineno) == (text, 1)
