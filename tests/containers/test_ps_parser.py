"""The ``docker ps`` parser on a captured output, on hand-written lines of every state, and on bad
fields; and the columns it reads: ports, labels and creation times."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from collectors.parsing import ParseError
from containers.parsers import PortMapping, parse_docker_ps
from containers.parsers.ps import parse_go_time, parse_labels, parse_ports
from tests.containers import ALL_V4
from tests.parser_kit import assert_refused
from tests.samples import sample

UTC = dt.UTC


def ps_line(**fields: str) -> str:
    """One ``docker ps --format '{{json .}}'`` line: a stopped container plus ``fields``."""
    base = {
        "Command": '"/init"',
        "CreatedAt": "2024-03-05 10:12:45 +0100 CET",
        "ID": "4f1c" * 16,
        "Image": "lscr.io/linuxserver/swag:latest",
        "Labels": "",
        "LocalVolumes": "0",
        "Mounts": "",
        "Names": "swag",
        "Networks": "bridge",
        "Ports": "",
        "RunningFor": "2 weeks ago",
        "Size": "0B",
        "State": "exited",
        "Status": "Exited (0) 2 days ago",
    }
    return json.dumps(base | fields)


# --- captured samples ----------------------------------------------------------------------------


def test_ps_sample_reads_the_nginx_container() -> None:
    # when
    [container] = parse_docker_ps(sample("docker/dockercli_docs_ps_format_json_nginx.txt"))
    # then
    assert container.id == "a762a2b37a1d"
    assert container.name == "boring_keldysh"
    assert container.names == ["boring_keldysh"]
    assert container.image == "nginx"
    assert container.command == "/docker-entrypoint.\u2026"  # docker's own "…" truncation
    assert (container.state, container.status) == ("running", "Up 3 seconds")
    assert (container.exit_code, container.health) == (None, None)
    assert container.ports == [PortMapping(80, "tcp", None, None)]
    assert container.labels == {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"}
    assert (container.compose_project, container.compose_service) == (None, None)
    assert container.created_at == dt.datetime(2021, 3, 9, 23, 15, 5, tzinfo=UTC)  # 00:15 CET
    assert container.mounts == []
    assert container.networks == ["bridge"]


# --- states, names, bad fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state", "exit_code", "health"),
    [
        ("Up 3 seconds", "running", None, None),
        ("Up Less than a second", "running", None, None),
        ("Up About a minute", "running", None, None),
        ("Up 2 hours (healthy)", "running", None, "healthy"),
        ("Up 3 minutes (unhealthy)", "running", None, "unhealthy"),
        ("Up 5 seconds (health: starting)", "running", None, "starting"),
        ("Up 10 minutes (Paused)", "paused", None, None),
        ("Exited (0) 2 days ago", "exited", 0, None),
        ("Exited (137) 5 minutes ago", "exited", 137, None),
        ("Exited (255) About an hour ago", "exited", 255, None),
        ("Restarting (1) 3 seconds ago", "restarting", 1, None),
        ("Created", "created", None, None),
        ("Removal In Progress", "removing", None, None),
        ("Dead", "dead", None, None),
        ("", None, None, None),
        ("Exited (99999999999) 1 hour ago", None, None, None),  # not an exit code docker prints
    ],
)
def test_ps_without_state_field_derives_state_from_status(
    status: str, state: str | None, exit_code: int | None, health: str | None
) -> None:
    # given: docker before 20.10 prints no State
    obj = json.loads(ps_line(Status=status))
    del obj["State"]
    # when
    [container] = parse_docker_ps(json.dumps(obj))
    # then
    assert (container.state, container.exit_code, container.health) == (state, exit_code, health)
    assert container.status == status


def test_ps_state_field_wins_and_is_lowercased() -> None:
    [container] = parse_docker_ps(ps_line(State="Paused", Status="Up 1 minute (Paused)"))
    assert container.state == "paused"


def test_ps_reads_a_compose_container() -> None:
    # given: a realistic compose-managed container (hand-written in docker 24's format)
    labels = (
        "com.docker.compose.config-hash=9f2c,com.docker.compose.project=proxy,"
        "com.docker.compose.project.config_files=/srv/proxy/compose.yaml,"
        "/srv/proxy/compose.override.yaml,com.docker.compose.service=swag,"
        "com.docker.compose.version=2.24.6,traefik.http.routers.x.rule=Host(`a.example.com`)"
    )
    line = ps_line(
        Labels=labels,
        Mounts="/srv/proxy/config,proxy_data",
        Networks="proxy_default,web",
        Ports="0.0.0.0:443->443/tcp, :::443->443/tcp, 0.0.0.0:80->80/tcp, :::80->80/tcp",
        State="running",
        Status="Up 2 weeks (healthy)",
    )
    # when
    [container] = parse_docker_ps(line + "\n\n")
    # then
    assert (container.compose_project, container.compose_service) == ("proxy", "swag")
    assert container.labels["com.docker.compose.project.config_files"] == (
        "/srv/proxy/compose.yaml,/srv/proxy/compose.override.yaml"
    )
    assert container.labels["traefik.http.routers.x.rule"] == "Host(`a.example.com`)"
    assert len(container.labels) == 6
    assert container.mounts == ["/srv/proxy/config", "proxy_data"]
    assert container.networks == ["proxy_default", "web"]
    assert container.ports == [
        PortMapping(443, "tcp", ALL_V4, 443),
        PortMapping(443, "tcp", "::", 443),
        PortMapping(80, "tcp", ALL_V4, 80),
        PortMapping(80, "tcp", "::", 80),
    ]
    assert (container.state, container.health, container.exit_code) == ("running", "healthy", None)
    assert container.created_at == dt.datetime(2024, 3, 5, 9, 12, 45, tzinfo=UTC)
    assert container.command == "/init"


@pytest.mark.parametrize(
    ("names", "name"),
    [("web", "web"), ("db,web/db", "db"), ("web/db,db", "db"), ("/legacy", "legacy")],
)
def test_ps_name_is_the_containers_own_name_not_a_link_alias(names: str, name: str) -> None:
    [container] = parse_docker_ps(ps_line(Names=names))
    assert container.name == name
    assert container.names == [n.lstrip("/") for n in names.split(",")]


def test_ps_empty_output_means_no_containers() -> None:
    assert parse_docker_ps("") == []
    assert parse_docker_ps("\n  \n") == []


def test_ps_reads_several_lines_and_names_the_bad_one() -> None:
    # given
    text = "\n".join([ps_line(Names="a"), ps_line(Names="b"), '{"ID": "x", "Names": "c"}'])
    # when
    with pytest.raises(ParseError) as caught:
        parse_docker_ps(text)
    # then
    assert (caught.value.lineno, caught.value.line) == (3, '{"ID": "x", "Names": "c"}')
    assert "Image" in caught.value.message
    assert [c.name for c in parse_docker_ps("\n".join(text.splitlines()[:2]))] == ["a", "b"]


@pytest.mark.parametrize(
    "fields",
    [
        {"ID": 5},
        {"Names": ""},
        {"Names": " , /"},
        {"Labels": ["a"]},
        {"Ports": "80"},
        {"CreatedAt": "yesterday"},
    ],
    ids=["id-not-string", "no-name", "only-commas", "labels-list", "bad-port", "bad-time"],
)
def test_ps_bad_field_is_a_parse_error_with_the_line(fields: dict[str, Any]) -> None:
    obj = json.loads(ps_line()) | fields
    line = json.dumps(obj)
    error = assert_refused(parse_docker_ps, "docker-ps", line)
    assert (error.line, error.lineno) == (line, 1)


# --- ports, labels, times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("80/tcp", [PortMapping(80, "tcp", None, None)]),
        ("132/sctp, 53/udp",
         [PortMapping(132, "sctp", None, None), PortMapping(53, "udp", None, None)]),
        ("0.0.0.0:32768->80/tcp", [PortMapping(80, "tcp", ALL_V4, 32768)]),
        (":::8080->80/tcp", [PortMapping(80, "tcp", "::", 8080)]),
        ("[::]:8080->80/tcp", [PortMapping(80, "tcp", "::", 8080)]),
        ("[::1]:5432->5432/tcp", [PortMapping(5432, "tcp", "::1", 5432)]),
        ("fe80::1:53->53/udp", [PortMapping(53, "udp", "fe80::1", 53)]),
        (
            "127.0.0.1:5000-5001->5000-5001/udp",
            [PortMapping(p, "udp", "127.0.0.1", p) for p in (5000, 5001)],
        ),
        ("8000-8002/tcp", [PortMapping(p, "tcp", None, None) for p in (8000, 8001, 8002)]),
        (
            "0.0.0.0:10000-20000->10000-20000/udp",
            [PortMapping(10000, "udp", ALL_V4, 10000, 20000, 20000)],
        ),
    ],
)  # fmt: skip
def test_ports_column_edge_cases(text: str, expected: list[PortMapping]) -> None:
    assert parse_ports(text) == expected


def test_port_ranges_up_to_64_ports_expand_and_wider_ones_stay_one_mapping() -> None:
    assert len(parse_ports("1-64/tcp")) == 64
    assert parse_ports("1-65/tcp") == [PortMapping(1, "tcp", None, None, 65, None)]


@pytest.mark.parametrize(
    "text",
    ["80", "0.0.0.0:8080->80", "70000/tcp", "0.0.0.0:1-2->1-3/tcp", "5-3/tcp", "http/tcp"],
)
def test_bad_ports_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ports(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("a=1,b=2", {"a": "1", "b": "2"}),
        ("com.example.query=a=b==c", {"com.example.query": "a=b==c"}),
        ("flag=", {"flag": ""}),
        ("files=/a.yml,/b.yml,svc=web", {"files": "/a.yml,/b.yml", "svc": "web"}),
        # docker cannot escape a comma: a value holding ",y=z" reads as two labels
        ("note=x,y=z", {"note": "x", "y": "z"}),
    ],
)
def test_labels_column(text: str, expected: dict[str, str]) -> None:
    assert parse_labels(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-01 10:00:00 +0000 UTC", dt.datetime(2023, 1, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-03-05 10:12:45 +0100 CET", dt.datetime(2024, 3, 5, 9, 12, 45, tzinfo=UTC)),
        ("2024-07-01 12:00:00 -0400 EDT", dt.datetime(2024, 7, 1, 16, 0, 0, tzinfo=UTC)),
        ("2024-03-05 10:12:45 +0300 +03", dt.datetime(2024, 3, 5, 7, 12, 45, tzinfo=UTC)),
        ("2024-03-05 10:12:45 +0530", dt.datetime(2024, 3, 5, 4, 42, 45, tzinfo=UTC)),
        (
            "2024-03-05 10:12:45.123456789 +0000 UTC",
            dt.datetime(2024, 3, 5, 10, 12, 45, 123456, tzinfo=UTC),
        ),
    ],
)
def test_ps_times_with_zone_abbreviations(text: str, expected: dt.datetime) -> None:
    parsed = parse_go_time(text)
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "text", ["2024-13-01 00:00:00 +0000 UTC", "2024-01-01 00:00:00 +9900 X", "2024-01-01"]
)
def test_impossible_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_time(text)
