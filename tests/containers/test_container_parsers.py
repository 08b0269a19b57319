"""The docker parsers (ps, stats, inspect, compose ls) on captured outputs, edge cases, bad input.

Byte values are computed by hand from docker's human strings: ``2.352MiB`` is
``round(2.352 * MiB)`` and ``539kB`` is ``539 * 1000`` (go-units: ``kB`` SI, ``KiB`` binary).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from collectors.parsing import ParseError, to_jsonable
from containers.parsers import (
    PortMapping,
    StatsEntry,
    parse_compose_ls,
    parse_docker_inspect,
    parse_docker_ps,
    parse_docker_stats,
)
from containers.parsers.inspect import parse_rfc3339
from containers.parsers.ps import parse_go_time, parse_labels, parse_ports
from tests.samples import SAMPLES_DIR, sample

KiB = 1024
MiB = 1024**2
GiB = 1024**3
UTC = dt.UTC
ALL_V4 = "0.0.0.0"  # noqa: S104  (docker's "every IPv4 address", not a bind)

PARSERS: dict[str, Callable[[str], Any]] = {
    "docker-ps": parse_docker_ps,
    "docker-stats": parse_docker_stats,
    "docker-inspect": parse_docker_inspect,
    "compose-ls": parse_compose_ls,
}
SAMPLE_KINDS = {
    "docker/dockercli_docs_ps_format_json_nginx.txt": "docker-ps",
    "docker/dockercli_docs_stats_no_stream_json_nginx.txt": "docker-stats",
    "docker/dockercli_docs_stats_table_swarm_tasks.txt": "docker-stats",
    "docker/inspec_docker_inspect_nginx_running.json": "docker-inspect",
}
# docker info / version / system df: another parser's kinds, which these must refuse.
ENGINE_SAMPLES = [
    "docker/dockercli_docs_info_linux_25.0.txt",
    "docker/dockercli_docs_system_df.txt",
    "docker/dockercli_docs_system_df_format_json.txt",
    "docker/dockercli_docs_version_28.5_desktop.txt",
    "docker/dockercli_golden_info_format_json_no_swarm.json",
    "docker/inspec_docker_version_json_17.03.txt",
]


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


# --- samples -------------------------------------------------------------------------------------


def test_every_docker_sample_is_either_ours_or_an_engine_sample() -> None:
    if SAMPLES_DIR is None:
        pytest.skip("shared samples folder not found; set INFRA_SAMPLES_DIR")
    on_disk = {f"docker/{path.name}" for path in (SAMPLES_DIR / "docker").iterdir()}
    assert on_disk == {*SAMPLE_KINDS, *ENGINE_SAMPLES}


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


def test_stats_json_sample_decodes_human_sizes() -> None:
    # when
    [entry] = parse_docker_stats(sample("docker/dockercli_docs_stats_no_stream_json_nginx.txt"))
    # then
    assert (entry.id, entry.name) == ("ed37317fbf42", "nginx")
    assert entry.cpu_pct == 0.03
    assert entry.mem_used_bytes == round(2.352 * MiB) == 2466251
    assert entry.mem_limit_bytes == round(982.5 * MiB) == 1030225920
    assert entry.mem_pct == 0.24
    assert (entry.net_rx_bytes, entry.net_tx_bytes) == (539_000, 606_000)
    assert (entry.block_read_bytes, entry.block_write_bytes) == (0, 13_300)
    assert entry.pids == 2


def test_stats_table_sample_reads_every_row() -> None:
    # when
    entries = parse_docker_stats(sample("docker/dockercli_docs_stats_table_swarm_tasks.txt"))
    # then
    assert [(e.id, e.name) for e in entries] == [
        ("b95a83497c91", "awesome_brattain"),
        ("67b2525d8ad1", "foobar"),
        ("e5c383697914", "test-1951.1.kay7x1lh1twk9c0oig50sd5tr"),
        ("4bda148efbc0", "random.1.vnc8on831idyr42slu578u3cr"),
    ]
    first, _, third, last = entries
    assert first.cpu_pct == 0.28
    assert first.mem_used_bytes == round(5.629 * MiB) == 5902434
    assert first.mem_limit_bytes == round(1.952 * GiB) == 2095944040
    assert first.mem_pct == 0.28
    assert (first.net_rx_bytes, first.net_tx_bytes) == (916, 0)
    assert (first.block_read_bytes, first.block_write_bytes) == (147_000, 0)
    assert first.pids == 9
    assert third.mem_used_bytes == 196 * KiB
    assert (third.net_rx_bytes, third.block_read_bytes) == (71_200, 770_000)
    assert last.mem_used_bytes == round(1.672 * MiB)
    assert (last.mem_pct, last.pids) == (0.08, 2)


def test_inspect_sample_reads_the_running_nginx_container() -> None:
    # when
    [c] = parse_docker_inspect(sample("docker/inspec_docker_inspect_nginx_running.json"))
    # then
    assert c.id == "36a981f1ec0d3d1c7f7779671dc79e011f2bb691b6eeb2c43b05edee02b79539"
    assert c.name == "trusting_williams"
    assert c.image == "nginx:latest"
    assert c.image_id == "sha256:4f6e44d5fceb133ca9d0e4baccaa2dfd721f2c5f951d1a28ca7fd4cf5f2b04a1"
    # nanoseconds ("...13.178761971Z") are cut to microseconds
    assert c.created_at == dt.datetime(2022, 3, 21, 5, 23, 13, 178761, tzinfo=UTC)
    assert c.started_at == dt.datetime(2022, 3, 21, 5, 23, 13, 435779, tzinfo=UTC)
    assert c.finished_at is None  # docker's zero time
    assert (c.state, c.running, c.paused, c.restarting) == ("running", True, False, False)
    assert c.oom_killed is False
    assert (c.exit_code, c.pid, c.error) == (None, 2424, None)
    assert (c.health, c.health_failing_streak, c.health_last_output) == (None, None, None)
    assert (c.restart_count, c.restart_policy, c.restart_policy_max_retries) == (0, "no", 0)
    assert [(m.type, m.name, m.source, m.destination, m.mode, m.rw) for m in c.mounts] == [
        ("volume", "myvol2", "/var/lib/docker/volumes/myvol2/_data", "/app", "z", True),
        ("volume", "myvol3", "/var/lib/docker/volumes/myvol3/_data", "/app2", "z", True),
    ]
    assert [(n.name, n.ip_address, n.gateway, n.mac_address) for n in c.networks] == [
        ("bridge", "172.17.0.4", "172.17.0.1", "02:42:ac:11:00:04")
    ]
    assert c.ports == [PortMapping(80, "tcp", None, None)]
    assert c.labels == {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"}
    assert (c.compose_project, c.compose_service, c.compose_config_files) == (None, None, [])
    assert c.env_count == 4
    assert c.cmd == "nginx -g 'daemon off;'"


def test_inspect_sample_facts_hold_no_environment_value() -> None:
    # when
    dumped = json.dumps(
        to_jsonable(parse_docker_inspect(sample("docker/inspec_docker_inspect_nginx_running.json")))
    )
    # then
    for leaked in ("NGINX_VERSION", "1.21.6", "NJS_VERSION", "0.7.2", "1~bullseye", "/usr/local"):
        assert leaked not in dumped


@pytest.mark.parametrize(("relpath", "kind"), SAMPLE_KINDS.items())
def test_sample_facts_are_jsonable(relpath: str, kind: str) -> None:
    facts = PARSERS[kind](sample(relpath))
    assert facts
    json.dumps(to_jsonable(facts), allow_nan=False)


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        (relpath, kind)
        for relpath in [*SAMPLE_KINDS, *ENGINE_SAMPLES]
        for kind in PARSERS
        if SAMPLE_KINDS.get(relpath) != kind
    ],
)
def test_another_commands_output_is_refused(relpath: str, kind: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](sample(relpath))
    assert caught.value.kind == kind


# --- docker ps -----------------------------------------------------------------------------------


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
    with pytest.raises(ParseError) as caught:
        parse_docker_ps(line)
    assert (caught.value.kind, caught.value.line, caught.value.lineno) == ("docker-ps", line, 1)


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
    ("text", "expected"),
    [
        ("2022-03-21T05:23:13.178761971Z", dt.datetime(2022, 3, 21, 5, 23, 13, 178761, tzinfo=UTC)),
        ("2024-03-05T10:12:45.5+01:00", dt.datetime(2024, 3, 5, 9, 12, 45, 500000, tzinfo=UTC)),
        ("2024-03-05T10:12:45Z", dt.datetime(2024, 3, 5, 10, 12, 45, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
    ],
)  # fmt: skip
def test_inspect_times_with_nanoseconds_and_zero_time(
    text: str, expected: dt.datetime | None
) -> None:
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "text", ["2024-13-01 00:00:00 +0000 UTC", "2024-01-01 00:00:00 +9900 X", "2024-01-01"]
)
def test_impossible_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_time(text)


# --- docker stats --------------------------------------------------------------------------------


def test_stats_of_a_container_that_just_stopped_are_none() -> None:
    # given: docker's output for a container whose stats it could not read
    line = json.dumps(
        {"BlockIO": "--", "CPUPerc": "--", "Container": "web", "ID": "ab" * 32, "MemPerc": "--",
         "MemUsage": "-- / --", "Name": "--", "NetIO": "--", "PIDs": "--"}
    )  # fmt: skip
    # when
    [entry] = parse_docker_stats(line)
    # then
    assert entry == StatsEntry("ab" * 32, None, *([None] * 9))


def test_stats_table_with_dashes_and_ansi_redraw() -> None:
    # given
    text = (
        "\x1b[2J\x1b[HCONTAINER ID   NAME   CPU %   MEM USAGE / LIMIT   MEM %   NET I/O   "
        "BLOCK I/O   PIDS\n"
        "0123456789ab   web    --      -- / --             --      --        --          --\n"
        "ba9876543210   db     1.50%   1.5GiB / 4GiB       37.50%  1.2GB / 3.4MB   0B / 1kB   12\n"
    )
    # when
    stopped, db = parse_docker_stats(text)
    # then
    assert stopped == StatsEntry("0123456789ab", "web", *([None] * 9))
    assert (db.cpu_pct, db.mem_used_bytes, db.mem_limit_bytes, db.mem_pct) == (
        1.5,
        3 * GiB // 2,
        4 * GiB,
        37.5,
    )
    assert (db.net_rx_bytes, db.net_tx_bytes) == (1_200_000_000, 3_400_000)
    assert (db.block_read_bytes, db.block_write_bytes, db.pids) == (0, 1000, 12)


def test_stats_empty_output_means_no_running_container() -> None:
    assert parse_docker_stats("") == []


@pytest.mark.parametrize(
    "text",
    [
        "CONTAINER ID   NAME   CPU %\nabc   web\n",
        "CONTAINER ID   NAME   CPU %\nabc   web   lots\n",
        "CONTAINER ID   FLAVOUR\nabc   vanilla\n",
        '{"ID": "abc", "CPUPerc": "0.1%", "PIDs": "many"}',
        '{"ID": "abc", "CPUPerc": 0.1}',
        '{"CPUPerc": "0.1%"}',
        '{"ID": "abc", "CPUPerc": "0.1%", "MemUsage": "2.3iB / 1GiB"}',
    ],
    ids=["short-row", "bad-percent", "unknown-column", "bad-pids", "number", "no-id", "iB"],
)
def test_stats_bad_rows_are_parse_errors_with_the_line(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_docker_stats(text)
    assert caught.value.kind == "docker-stats"
    assert caught.value.line is not None
    assert caught.value.line in text


# --- docker inspect ------------------------------------------------------------------------------

SECRET = "hunter2-s3cret-Pa55"


def compose_container() -> dict[str, Any]:
    """A hand-built inspect object of an OOM-killed compose service with a health check."""
    return {
        "Id": "c0ffee" * 10 + "abcd",
        "Created": "2024-03-05T10:12:45.123456789+01:00",
        "Name": "/media-db-1",
        "Image": "sha256:" + "9" * 64,
        "RestartCount": 3,
        "State": {
            "Status": "exited", "Running": False, "Paused": False, "Restarting": False,
            "OOMKilled": True, "Dead": False, "Pid": 0, "ExitCode": 137, "Error": "",
            "StartedAt": "2024-03-05T10:13:00.000000001Z",
            "FinishedAt": "2024-03-06T02:00:00.999999999Z",
            "Health": {
                "Status": "unhealthy",
                "FailingStreak": 4,
                "Log": [
                    {"Start": "2024-03-06T01:59:00Z", "ExitCode": 0, "Output": "ok"},
                    {"Start": "2024-03-06T01:59:30Z", "ExitCode": 1, "Output": " x" * 400 + "\n"},
                ],
            },
        },
        "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}},
        "Mounts": [
            {"Type": "bind", "Source": "/srv/media/db", "Destination": "/var/lib/postgresql/data",
             "Mode": "", "RW": True, "Propagation": "rprivate"},
            {"Type": "tmpfs", "Source": "", "Destination": "/tmp", "Mode": "", "RW": False},
        ],
        "Config": {
            "Image": "postgres:16",
            "Env": [f"POSTGRES_PASSWORD={SECRET}", "PGDATA=/var/lib/postgresql/data"],
            "Cmd": ["postgres"],
            "Labels": {
                "com.docker.compose.project": "media",
                "com.docker.compose.service": "db",
                "com.docker.compose.project.config_files": "/srv/media/compose.yml,/srv/x.yml",
                "com.example.note": "a=b,c",
            },
        },
        "NetworkSettings": {
            "Ports": {
                "5432/tcp": [
                    {"HostIp": ALL_V4, "HostPort": "15432"},
                    {"HostIp": "::", "HostPort": "15432"},
                ],
                "8080/tcp": None,
                **{f"{p}/udp": [{"HostIp": "", "HostPort": str(p)}] for p in range(10000, 10100)},
                **{f"{p}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(p + 1)}] for p in (7, 8)},
            },
            "Networks": {
                "media_default": {"IPAddress": "172.20.0.3", "Gateway": "172.20.0.1",
                                  "MacAddress": "02:42:ac:14:00:03"},
                "isolated": {"IPAddress": "", "Gateway": "", "MacAddress": ""},
            },
        },
    }  # fmt: skip


def test_inspect_reads_an_oom_killed_compose_service() -> None:
    # when
    [c] = parse_docker_inspect(json.dumps([compose_container()], indent=4))
    # then
    assert (c.name, c.image, c.state) == ("media-db-1", "postgres:16", "exited")
    assert (c.running, c.oom_killed) == (False, True)
    assert (c.exit_code, c.pid, c.error, c.restart_count) == (137, None, None, 3)
    assert (c.restart_policy, c.restart_policy_max_retries) == ("on-failure", 5)
    assert c.created_at == dt.datetime(2024, 3, 5, 9, 12, 45, 123456, tzinfo=UTC)
    assert c.started_at == dt.datetime(2024, 3, 5, 10, 13, 0, 0, tzinfo=UTC)
    assert c.finished_at == dt.datetime(2024, 3, 6, 2, 0, 0, 999999, tzinfo=UTC)
    assert (c.health, c.health_failing_streak) == ("unhealthy", 4)
    assert c.health_last_output == ("x " * 250).strip()
    assert (c.compose_project, c.compose_service) == ("media", "db")
    assert c.compose_config_files == ["/srv/media/compose.yml", "/srv/x.yml"]
    assert c.labels["com.example.note"] == "a=b,c"  # inspect has labels exactly
    assert (c.env_count, c.cmd) == (2, "postgres")
    assert [(m.type, m.source, m.destination, m.mode, m.rw) for m in c.mounts] == [
        ("bind", "/srv/media/db", "/var/lib/postgresql/data", None, True),
        ("tmpfs", None, "/tmp", None, False),
    ]
    assert [(n.name, n.ip_address, n.gateway) for n in c.networks] == [
        ("media_default", "172.20.0.3", "172.20.0.1"),
        ("isolated", None, None),
    ]


def test_inspect_ports_match_the_ps_shape_and_join_wide_ranges() -> None:
    # when
    [c] = parse_docker_inspect(json.dumps([compose_container()]))
    # then
    assert c.ports == [
        PortMapping(7, "tcp", "127.0.0.1", 8),
        PortMapping(8, "tcp", "127.0.0.1", 9),
        PortMapping(5432, "tcp", ALL_V4, 15432),
        PortMapping(5432, "tcp", "::", 15432),
        PortMapping(8080, "tcp", None, None),
        PortMapping(10000, "udp", None, 10000, 10099, 10099),
    ]
    assert c.ports[:2] == parse_ports("127.0.0.1:8-9->7-8/tcp")


def test_inspect_never_keeps_an_environment_value() -> None:
    dumped = json.dumps(to_jsonable(parse_docker_inspect(json.dumps([compose_container()]))))
    assert SECRET not in dumped
    assert "POSTGRES_PASSWORD" not in dumped


def test_inspect_of_nothing_is_an_empty_list() -> None:
    assert parse_docker_inspect("[]\n") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("Id"), "no Id"),
        (lambda c: c.pop("State"), "not a container"),
        (lambda c: c["State"].update(ExitCode=True), "ExitCode is not an integer"),
        (lambda c: c["State"].update(StartedAt="yesterday"), "StartedAt"),
        (lambda c: c["Config"].update(Env="A=1"), "Env is not a list"),
        (lambda c: c["NetworkSettings"]["Ports"].update({"http": None}), "bad port"),
        (lambda c: c["Mounts"][0].pop("Destination"), "no Destination"),
    ],
)
def test_inspect_structural_errors_say_where(
    change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    # given
    container = copy.deepcopy(compose_container())
    change(container)
    # when
    with pytest.raises(ParseError) as caught:
        parse_docker_inspect(json.dumps([container]))
    # then
    assert caught.value.kind == "docker-inspect"
    assert message in caught.value.message


# --- docker compose ls ---------------------------------------------------------------------------

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
    with pytest.raises(ParseError) as caught:
        parse_compose_ls(text)
    assert (caught.value.kind, caught.value.line, caught.value.lineno) == ("compose-ls", text, 1)


# --- bad input, for every parser -----------------------------------------------------------------

DOCKER_ERROR = (
    "permission denied while trying to connect to the Docker daemon socket at "
    'unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": '
    "dial unix /var/run/docker.sock: connect: permission denied\n"
)
BAD_INPUTS = {
    "garbage": "hello world\n",
    "binary": bytes(range(256)).decode("latin-1"),
    "html": "<html><body>502 Bad Gateway</body></html>\n",
    "docker error": DOCKER_ERROR,
}
TRUNCATED = {
    "docker-ps": '{"ID":"a762a2b37a1d","Names":"web","Image":"ngi',
    "docker-stats": '{"BlockIO":"0B / 13.3kB","CPUPerc":"0.0',
    "docker-inspect": '[\n    {\n        "Id": "36a981f1ec0d",\n        "State": {\n',
    "compose-ls": '[{"Name":"myapp","Status":"runn',
}
WRONG_SHAPE = {  # JSON, but not the value the command prints
    "docker-ps": '[{"ID":"a762a2b37a1d","Names":"web","Image":"nginx"}]',
    "docker-stats": '["ed37317fbf42"]',
    "docker-inspect": '{"Id":"36a981f1ec0d","State":{"Status":"running"}}',
    "compose-ls": '{"Name":"myapp","Status":"running(2)"}',
}


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("bad", [*BAD_INPUTS, "truncated", "wrong shape"])
def test_unreadable_output_is_a_parse_error_naming_the_line(kind: str, bad: str) -> None:
    # given
    if bad == "truncated":
        text = TRUNCATED[kind]
    elif bad == "wrong shape":
        text = WRONG_SHAPE[kind]
    else:
        text = BAD_INPUTS[bad]
    # when
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](text)
    # then
    assert caught.value.kind == kind
    assert caught.value.line is not None
    assert caught.value.line in text
    assert caught.value.lineno is not None
    assert str(caught.value).startswith(f"{kind}: ")


@pytest.mark.parametrize("kind", ["docker-inspect", "compose-ls"])
@pytest.mark.parametrize("text", ["", "\n  \n"], ids=["empty", "blank"])
def test_empty_output_of_an_array_command_is_a_parse_error(kind: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](text)
    assert caught.value.kind == kind
