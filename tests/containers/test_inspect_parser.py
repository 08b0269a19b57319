"""The ``docker inspect`` parser on a captured output, on a hand-built compose service, and on
structural errors; and the RFC 3339 times it reads. No environment value may reach the facts."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from collectors.parsing import to_jsonable
from containers.parsers import PortMapping, parse_docker_inspect
from containers.parsers.inspect import parse_rfc3339
from containers.parsers.ps import parse_ports
from tests.containers import ALL_V4
from tests.parser_kit import assert_refused
from tests.samples import sample

UTC = dt.UTC


# --- captured samples ----------------------------------------------------------------------------


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


# --- a hand-built compose service ----------------------------------------------------------------

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
    error = assert_refused(parse_docker_inspect, "docker-inspect", json.dumps([container]))
    # then
    assert message in error.message


# --- times ---------------------------------------------------------------------------------------


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
