"""The ``docker info`` parser on the shared samples, on hand-written outputs of the states the
samples lack, and on bad lines. Bad input common to every docker parser is in
test_docker_parser_errors.py."""

from __future__ import annotations

import pytest

from collectors.parsing import ParseError
from containers.parsers.engine import DockerInfo, parse_docker_info
from tests.containers.engine_outputs import (
    INFO_BEFORE_19_03,
    INFO_JSON_DAEMON_DOWN,
    INFO_PERMISSION_DENIED,
    INFO_WITH_WRAPPED_WARNING,
)
from tests.parser_kit import assert_refused
from tests.samples import sample


def test_info_json_golden_reads_engine_and_client_facts() -> None:
    # when
    info = parse_docker_info(sample("docker/dockercli_golden_info_format_json_no_swarm.json"))
    # then
    assert info == DockerInfo(
        server_version="17.06.1-ce",
        client_version="24.0.0",
        os="Ubuntu 16.04.3 LTS",
        os_type="linux",
        kernel_version="4.4.0-87-generic",
        architecture="x86_64",
        cpus=2,
        mem_total_bytes=2_097_356_800,
        storage_driver="overlay2",
        logging_driver="json-file",
        cgroup_driver="cgroupfs",
        cgroup_version=None,  # the golden predates CgroupVersion
        docker_root_dir="/var/lib/docker",
        containers=0,
        containers_running=0,
        containers_paused=0,
        containers_stopped=0,
        images=0,
        swarm_state="inactive",
        server_errors=[],
        warnings=[],
    )


def test_info_text_reads_sections_counts_and_memory() -> None:
    # when
    info = parse_docker_info(sample("docker/dockercli_docs_info_linux_25.0.txt"))
    # then
    assert info == DockerInfo(
        server_version="25.0.0",
        client_version="25.0.0",
        os="Alpine Linux v3.19",
        os_type="linux",
        kernel_version="6.5.11-linuxkit",
        architecture="aarch64",
        cpus=10,
        mem_total_bytes=8_228_083_597,  # 7.663 GiB = 7.663 * 1073741824 = 8228083597.3
        storage_driver="overlayfs",
        logging_driver="json-file",
        cgroup_driver="cgroupfs",
        cgroup_version="2",
        docker_root_dir="/var/lib/docker",
        containers=14,
        containers_running=3,
        containers_paused=1,
        containers_stopped=10,
        images=52,
        swarm_state="inactive",
        server_errors=[],
        warnings=[],
    )


def test_info_text_with_permission_denied_is_a_state_not_an_error() -> None:
    # when
    info = parse_docker_info(INFO_PERMISSION_DENIED)
    # then
    assert info.server_version is None
    assert info.client_version == "24.0.7"
    assert info.containers is None
    assert info.mem_total_bytes is None
    assert len(info.server_errors) == 1
    assert info.server_errors[0].startswith(
        "permission denied while trying to connect to the Docker daemon socket"
    )
    assert info.server_errors[0].endswith("connect: permission denied")


def test_info_text_before_docker_19_03_has_no_sections() -> None:
    # when
    info = parse_docker_info(INFO_BEFORE_19_03)
    # then
    assert info.server_version == "18.09.1"
    assert info.client_version is None
    assert (info.containers, info.containers_running, info.containers_stopped) == (3, 1, 2)
    assert info.images == 12
    assert info.cpus == 4
    assert info.mem_total_bytes == 8_240_968_499  # 7.675 * 1073741824 = 8240968499.2
    assert info.cgroup_version is None
    assert info.warnings == ["No swap limit support"]


def test_info_text_joins_a_wrapped_warning_and_ignores_nested_swarm_lines() -> None:
    # when
    info = parse_docker_info(INFO_WITH_WRAPPED_WARNING)
    # then
    assert info.swarm_state == "active"
    assert info.mem_total_bytes == 2_097_017_782  # 1.953 * 1073741824 = 2097017782.3
    assert info.warnings == [
        "API is accessible on http://0.0.0.0:2375 without encryption. Access to the remote API"
        " is equivalent to root access on the host. Refer to the 'Docker daemon attack surface'"
        " section in the documentation for more information:"
        " https://docs.docker.com/go/attack-surface/",
        "No swap limit support",
    ]


def test_info_json_with_server_errors_has_no_zero_counts() -> None:
    # when
    info = parse_docker_info(INFO_JSON_DAEMON_DOWN)
    # then
    assert info.server_version is None
    assert info.client_version == "24.0.7"
    assert info.containers is None
    assert info.cpus is None
    assert info.mem_total_bytes is None
    assert info.swarm_state is None
    # the stderr repeat of the error is not counted twice
    assert info.server_errors == [
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?"
    ]


def test_info_json_keeps_daemon_warnings_without_their_prefix() -> None:
    # given
    text = '{"ServerVersion":"27.0.3","Warnings":["WARNING: bridge-nf-call-iptables is disabled"]}'
    # when
    info = parse_docker_info(text)
    # then
    assert info.warnings == ["bridge-nf-call-iptables is disabled"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Server:\n Server Version: 25.0.0\n CPUs: many\n", " CPUs: many"),
        ("Server:\n Server Version: 25.0.0\n Total Memory: lots\n", " Total Memory: lots"),
        ("Client:\n Version: 25.0.0\n\nServer:\n Server Version: 1\nServer:\n", "Server:"),
        ("Client:\n Version: 25.0.0\n\nServer:\n plain words\n", " plain words"),
    ],
    ids=["cpus", "memory", "second-server", "not-key-value"],
)
def test_info_text_with_a_bad_line_names_it(text: str, line: str) -> None:
    error = assert_refused(parse_docker_info, "docker-info", text)
    assert error.line == line


@pytest.mark.parametrize(
    "text",
    [
        '{"ServerVersion":"25.0.0","NCPU":"2"}',
        '{"ServerVersion":"25.0.0","NCPU":true}',
        '{"ServerVersion":25}',
        '{"ServerVersion":"25.0.0","Swarm":"inactive"}',
        '{"ServerVersion":"25.0.0","ServerErrors":[1]}',
        '{"ID":"abc"}',
        '{"ServerVersion":"25.0.0"}\nsome other text',
    ],
)
def test_info_json_of_the_wrong_shape_is_a_parse_error(text: str) -> None:
    assert_refused(parse_docker_info, "docker-info", text)


def test_info_text_with_only_a_client_section_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no Server section"):
        parse_docker_info("Client:\n Version: 25.0.0\n Context: default\n")
