"""The docker engine parsers (``docker info``, ``docker version``, ``docker system df``) on the
shared samples, on hand-written outputs of the states the samples lack, and on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.parsing import ParseError, to_jsonable
from containers.parsers.engine import (
    DiskUsage,
    DockerInfo,
    DockerVersion,
    parse_docker_info,
    parse_docker_system_df,
    parse_docker_version,
)
from tests.samples import sample

PARSERS: dict[str, Callable[[str], Any]] = {
    "docker-info": parse_docker_info,
    "docker-version": parse_docker_version,
    "docker-df": parse_docker_system_df,
}

# Hand-written: what docker 24 prints to stdout and stderr (2>&1) for a user outside the docker
# group. The Server: section holds only the error.
INFO_PERMISSION_DENIED = """\
Client: Docker Engine - Community
 Version:    24.0.7
 Context:    default
 Debug Mode: false
 Plugins:
  buildx: Docker Buildx (Docker Inc.)
    Version:  v0.11.2
    Path:     /usr/libexec/docker/cli-plugins/docker-buildx

Server:
ERROR: permission denied while trying to connect to the Docker daemon socket at \
unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info": dial unix \
/var/run/docker.sock: connect: permission denied
errors pretty printing info
"""

# Hand-written in the layout of docker 18.09 and older: no Client:/Server: sections.
INFO_BEFORE_19_03 = """\
Containers: 3
 Running: 1
 Paused: 0
 Stopped: 2
Images: 12
Server Version: 18.09.1
Storage Driver: overlay2
 Backing Filesystem: extfs
 Supports d_type: true
Logging Driver: json-file
Cgroup Driver: cgroupfs
Plugins:
 Volume: local
 Network: bridge host macvlan null overlay
Swarm: inactive
Security Options:
 apparmor
 seccomp
  Profile: default
Kernel Version: 4.15.0-45-generic
Operating System: Ubuntu 18.04.2 LTS
OSType: linux
Architecture: x86_64
CPUs: 4
Total Memory: 7.675GiB
Docker Root Dir: /var/lib/docker
Debug Mode (client): false
Debug Mode (server): false
Labels:
Live Restore Enabled: false

WARNING: No swap limit support
"""

# Hand-written: a daemon listening on TCP without TLS; its warning wraps onto indented lines.
INFO_WITH_WRAPPED_WARNING = """\
Client:
 Version:    26.1.4
 Context:    default
 Debug Mode: false

Server:
 Containers: 0
  Running: 0
  Paused: 0
  Stopped: 0
 Images: 1
 Server Version: 26.1.4
 Swarm: active
  NodeID: qo2dfdig9mmxqkawulggepdih
  Is Manager: true
  Manager Addresses:
   165.227.107.89:2377
 Kernel Version: 6.1.0-21-amd64
 CPUs: 2
 Total Memory: 1.953GiB
 Default Address Pools:
   Base: 10.123.0.0/16, Size: 24

WARNING: API is accessible on http://0.0.0.0:2375 without encryption.
         Access to the remote API is equivalent to root access on the host. Refer
         to the 'Docker daemon attack surface' section in the documentation for
         more information: https://docs.docker.com/go/attack-surface/
WARNING: No swap limit support
"""

# Hand-written: with a --format, docker renders an all-zero Info when the daemon fails, then
# repeats the error on stderr.
INFO_JSON_DAEMON_DOWN = (
    '{"ID":"","Containers":0,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,'
    '"Images":0,"Driver":"","NCPU":0,"MemTotal":0,"ServerVersion":"","OSType":"",'
    '"Swarm":{"NodeID":"","LocalNodeState":""},"Warnings":null,'
    '"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
    'Is the docker daemon running?"],"ClientInfo":{"Debug":false,"Version":"24.0.7",'
    '"Context":"default","Plugins":[],"Warnings":null}}\n'
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?\n"
)

# Hand-written in the layout of docker 17.03: no Engine: subsection under Server:.
VERSION_17_03_TEXT = """\
Client:
 Version:      17.03.0-ce
 API version:  1.26
 Go version:   go1.7.5
 Git commit:   60ccb22
 Built:        Thu Feb 23 10:40:59 2017
 OS/Arch:      darwin/amd64

Server:
 Version:      17.03.0-ce
 API version:  1.26 (minimum version 1.12)
 Go version:   go1.7.5
 Git commit:   3a232c8
 Built:        Tue Feb 28 07:52:04 2017
 OS/Arch:      linux/amd64
 Experimental: true
"""

# Hand-written: docker 24 without access to the socket prints the Client section, then the error.
VERSION_NO_SERVER_TEXT = """\
Client: Docker Engine - Community
 Version:           24.0.7
 API version:       1.43
 Go version:        go1.20.10
 Git commit:        afdd53b
 Built:             Thu Oct 26 09:07:41 2023
 OS/Arch:           linux/amd64
 Context:           default
permission denied while trying to connect to the Docker daemon socket at \
unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix \
/var/run/docker.sock: connect: permission denied
"""

# Hand-written: the JSON form of the same, the error on stderr after the JSON.
VERSION_NO_SERVER_JSON = (
    '{"Client":{"Platform":{"Name":"Docker Engine - Community"},"Version":"24.0.7",'
    '"ApiVersion":"1.43","DefaultAPIVersion":"1.43","GitCommit":"afdd53b",'
    '"GoVersion":"go1.20.10","Os":"linux","Arch":"amd64",'
    '"BuildTime":"Thu Oct 26 09:07:41 2023","Context":"default"},"Server":null}\n'
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?\n"
)

# Hand-written after docker/cli's TestVersionFormat golden: an enterprise server that fills only
# its Engine component, plus components of its own.
VERSION_COMPONENTS_ONLY_JSON = (
    '{"Client":{"Version":"18.99.5-ce","ApiVersion":"1.38","Os":"linux","Arch":"amd64"},'
    '"Server":{"Platform":{"Name":"Docker Enterprise Edition (EE) 2.0"},"Version":"",'
    '"APIVersion":"","MinAPIVersion":"","Os":"","Arch":"","Experimental":false,'
    '"Components":[{"Name":"Engine","Version":"17.06.2-ee-15","Details":{"ApiVersion":"1.30",'
    '"Arch":"amd64","MinAPIVersion":"1.12","Os":"linux"}},'
    '{"Name":"Universal Control Plane","Version":"17.06.2-ee-15","Details":{}},'
    '{"Name":"Kubernetes","Version":"1.8+","Details":{"compiler":"gc"}}]}}\n'
)

# Hand-written in the layout of current docker: sizes without a space, a Build Cache row.
DF_CURRENT_TABLE = """\
TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE
Images          5         2         16.43MB   11.63MB (70%)
Containers      2         0         212B      212B (100%)
Local Volumes   2         1         36B       0B (0%)
Build Cache     0         0         0B        0B
"""


# --- docker info -------------------------------------------------------------------------------


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
    with pytest.raises(ParseError) as caught:
        parse_docker_info(text)
    assert caught.value.kind == "docker-info"
    assert caught.value.line == line


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
    with pytest.raises(ParseError) as caught:
        parse_docker_info(text)
    assert caught.value.kind == "docker-info"


def test_info_text_with_only_a_client_section_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no Server section"):
        parse_docker_info("Client:\n Version: 25.0.0\n Context: default\n")


# --- docker version ----------------------------------------------------------------------------


def test_version_json_17_03_reads_client_and_server() -> None:
    # when
    version = parse_docker_version(sample("docker/inspec_docker_version_json_17.03.txt"))
    # then
    assert version == DockerVersion(
        client_version="17.03.0-ce",
        client_api_version="1.26",
        server_version="17.03.0-ce",
        server_api_version="1.26",
        server_min_api_version="1.12",
        os="linux",
        arch="amd64",
        kernel_version="4.9.12-moby",
        platform=None,
        components={},
        server_errors=[],
    )


def test_version_text_reads_engine_and_components_of_docker_desktop() -> None:
    # when
    version = parse_docker_version(sample("docker/dockercli_docs_version_28.5_desktop.txt"))
    # then
    assert version == DockerVersion(
        client_version="28.5.1",
        client_api_version="1.51",
        server_version="27.5.1",
        server_api_version="1.47",
        server_min_api_version="1.24",
        os="linux",
        arch="amd64",
        kernel_version=None,  # the plain text does not show it
        platform="Docker Desktop 4.19.0 (12345)",
        components={"containerd": "v1.7.25", "runc": "1.2.4", "docker-init": "0.19.0"},
        server_errors=[],
    )


def test_version_text_of_17_03_has_the_engine_directly_under_server() -> None:
    # when
    version = parse_docker_version(VERSION_17_03_TEXT)
    # then
    assert version == DockerVersion(
        client_version="17.03.0-ce",
        client_api_version="1.26",
        server_version="17.03.0-ce",
        server_api_version="1.26",
        server_min_api_version="1.12",
        os="linux",
        arch="amd64",
        kernel_version=None,
        platform=None,
        components={},
        server_errors=[],
    )


@pytest.mark.parametrize("text", [VERSION_NO_SERVER_TEXT, VERSION_NO_SERVER_JSON])
def test_version_without_a_daemon_keeps_the_client_and_the_error(text: str) -> None:
    # when
    version = parse_docker_version(text)
    # then
    assert version.client_version == "24.0.7"
    assert version.client_api_version == "1.43"
    assert version.server_version is None
    assert version.os is None
    assert version.components == {}
    assert len(version.server_errors) == 1
    assert "docker.sock" in version.server_errors[0]


def test_version_json_falls_back_to_the_engine_component() -> None:
    # when
    version = parse_docker_version(VERSION_COMPONENTS_ONLY_JSON)
    # then
    assert version.server_version == "17.06.2-ee-15"
    assert version.server_api_version == "1.30"
    assert version.server_min_api_version == "1.12"
    assert (version.os, version.arch) == ("linux", "amd64")
    assert version.platform == "Docker Enterprise Edition (EE) 2.0"
    assert version.components == {"Universal Control Plane": "17.06.2-ee-15", "Kubernetes": "1.8+"}


@pytest.mark.parametrize(
    "text",
    [
        '{"Server":{"Version":"17.03.0-ce"}}',
        '{"Client":{"Version":"17.03.0-ce"},"Server":{"Os":"linux"}}',
        '{"Client":{"Version":"17.03.0-ce"},"Server":{"Version":"1","Components":["Engine"]}}',
        "Client:\n Version: 24.0.7\n\nServer:\n Engine:\n  Go version: go1.20\n",
        "Server:\n Version: 24.0.7\n",
    ],
)
def test_version_of_the_wrong_shape_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_docker_version(text)
    assert caught.value.kind == "docker-version"


# --- docker system df --------------------------------------------------------------------------


def test_df_old_table_reads_spaced_si_sizes() -> None:
    # when
    rows = parse_docker_system_df(sample("docker/dockercli_docs_system_df.txt"))
    # then
    assert rows == [
        DiskUsage("Images", 5, 2, 16_430_000, 11_630_000, 70.0),  # 16.43 MB, 11.63 MB
        DiskUsage("Containers", 2, 0, 212, 212, 100.0),
        DiskUsage("Local Volumes", 2, 1, 36, 0, 0.0),
    ]


def test_df_json_lines_read_sizes_and_percentages() -> None:
    # when
    rows = parse_docker_system_df(sample("docker/dockercli_docs_system_df_format_json.txt"))
    # then
    assert rows == [
        DiskUsage("Images", 6, 2, 2_631_000_000, 2_498_000_000, 94.0),  # 2.631GB, 2.498GB
        DiskUsage("Containers", 7, 1, 2_230, 1_114, 49.0),  # 2.23kB, 1.114kB
        DiskUsage("Local Volumes", 1, 0, 256_500_000, 256_500_000, 100.0),  # 256.5MB
        DiskUsage("Build Cache", 17, 0, 158, 158, None),  # no percentage printed
    ]


def test_df_current_table_reads_sizes_without_spaces() -> None:
    # when
    rows = parse_docker_system_df(DF_CURRENT_TABLE)
    # then
    assert rows[0] == DiskUsage("Images", 5, 2, 16_430_000, 11_630_000, 70.0)
    assert rows[3] == DiskUsage("Build Cache", 0, 0, 0, 0, None)


@pytest.mark.parametrize(
    ("text", "line", "lineno"),
    [
        (
            "TYPE  TOTAL  ACTIVE  SIZE  RECLAIMABLE\nImages  5  2  16.43 MB\n",
            "Images  5  2  16.43 MB",
            2,
        ),
        (
            "TYPE  TOTAL  ACTIVE  SIZE  RECLAIMABLE\nImages  five  2  1MB  0B (0%)\n",
            "Images  five  2  1MB  0B (0%)",
            2,
        ),
        (
            "TYPE  TOTAL  ACTIVE  SIZE  RECLAIMABLE\nImages  5  2  lots  0B (0%)\n",
            "Images  5  2  lots  0B (0%)",
            2,
        ),
        ("TYPE  TOTAL  ACTIVE  SIZE  RECLAIMABLE\n", "TYPE  TOTAL  ACTIVE  SIZE  RECLAIMABLE", 1),
        ('{"Type":"Images","TotalCount":"6"}', '{"Type":"Images","TotalCount":"6"}', 1),
        (
            '{"Active":"2","Reclaimable":"2GB (x)","Size":"2GB","TotalCount":"6","Type":"Images"}',
            '{"Active":"2","Reclaimable":"2GB (x)","Size":"2GB","TotalCount":"6","Type":"Images"}',
            1,
        ),
        ('\n{"Type":"Images",', '{"Type":"Images",', 2),
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
            1,
        ),
    ],
    ids=["short-row", "total", "size", "header-only", "json-keys", "percent", "json", "daemon"],
)
def test_df_with_a_bad_row_names_it(text: str, line: str, lineno: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_docker_system_df(text)
    assert caught.value.kind == "docker-df"
    assert (caught.value.line, caught.value.lineno) == (line, lineno)


# --- bad input, for every parser ---------------------------------------------------------------

TRUNCATED = {
    "docker-info": '{"ID":"EKHL","Containers":0,"ContainersRunning":0,"Images":0,"Driver":"over',
    "docker-version": '{"Client":{"Version":"17.03.0-ce","ApiVersion":"1.26"},"Server":{"Vers',
    "docker-df": '{"Active":"2","Reclaimable":"2.498GB (94%)","Size":"2.631GB","TotalCo',
}
BAD_INPUTS = {
    "garbage": "hello world\n",
    "html": "<html><body>502 Bad Gateway</body></html>\n",
    "shell error": "sh: 1: docker: not found\n",
}


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("text", ["", "\n  \n"], ids=["empty", "blank"])
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
    assert caught.value.line == text.splitlines()[0]
    assert caught.value.lineno == 1


@pytest.mark.parametrize("kind", list(PARSERS))
def test_binary_output_is_a_parse_error(kind: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](bytes(range(256)).decode("latin-1"))
    assert caught.value.kind == kind


@pytest.mark.parametrize(
    ("kind", "relpath"),
    [
        ("docker-info", "docker/dockercli_docs_system_df.txt"),
        ("docker-version", "docker/dockercli_docs_info_linux_25.0.txt"),
        ("docker-df", "docker/dockercli_docs_version_28.5_desktop.txt"),
        ("docker-info", "docker/inspec_docker_inspect_nginx_running.json"),
        ("docker-version", "docker/dockercli_docs_system_df_format_json.txt"),
        ("docker-df", "docker/dockercli_golden_info_format_json_no_swarm.json"),
    ],
)
def test_another_commands_output_is_a_parse_error(kind: str, relpath: str) -> None:
    with pytest.raises(ParseError) as caught:
        PARSERS[kind](sample(relpath))
    assert caught.value.kind == kind


# --- property tests ----------------------------------------------------------------------------

# Every input each parser should read, for mutation: the shared samples and the hand-written ones.
SAMPLES = {
    "docker-info": [
        "docker/dockercli_golden_info_format_json_no_swarm.json",
        "docker/dockercli_docs_info_linux_25.0.txt",
    ],
    "docker-version": [
        "docker/inspec_docker_version_json_17.03.txt",
        "docker/dockercli_docs_version_28.5_desktop.txt",
    ],
    "docker-df": [
        "docker/dockercli_docs_system_df.txt",
        "docker/dockercli_docs_system_df_format_json.txt",
    ],
}
HAND_WRITTEN = {
    "docker-info": [INFO_PERMISSION_DENIED, INFO_BEFORE_19_03, INFO_WITH_WRAPPED_WARNING,
                    INFO_JSON_DAEMON_DOWN],
    "docker-version": [VERSION_17_03_TEXT, VERSION_NO_SERVER_TEXT, VERSION_NO_SERVER_JSON,
                       VERSION_COMPONENTS_ONLY_JSON],
    "docker-df": [DF_CURRENT_TABLE],
}  # fmt: skip

# Tokens that steer the parsers into their interesting branches.
TOKENS = [
    "Client:", "Server:", "ERROR:", "WARNING:", " Engine:", "  Version:", " Server Version:",
    " Total Memory:", " CPUs:", "  Running:", "Cannot connect to the Docker daemon", "{", "}",
    "[", "]", '"', ":", ",", "null", "true", "-1", "1e400", "NaN", "1.5GiB", "16.43 MB", " (70%)",
    "(", ")", "%", "TYPE", "TOTAL", "  ", "\t", "\n", " ", "\x00", "\u2028", "\U0001f4a9",
]  # fmt: skip
tokens = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))

FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def mutated(draw: st.DrawFn, template: str) -> str:
    """A valid output with a few random edits: cut, deleted span, inserted token, doubled line."""
    text = template
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        operation = draw(st.sampled_from(["cut", "delete", "insert", "double"]))
        if operation == "cut":
            text = text[:position]
        elif operation == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)) :]
        elif operation == "insert":
            text = text[:position] + draw(tokens) + text[position:]
        else:
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            text = "".join([*lines[: index + 1], *lines[index:]])
    return text


def _facts_or_parse_error(kind: str, text: str) -> None:
    try:
        facts = PARSERS[kind](text)
    except ParseError as error:
        assert error.kind == kind
        assert str(error)
        return
    json.dumps(to_jsonable(facts))


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=st.text())
def test_arbitrary_text_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize("kind", list(PARSERS))
@FUZZ
@given(text=st.lists(tokens, max_size=30).map("".join))
def test_token_soup_gives_facts_or_a_parse_error(kind: str, text: str) -> None:
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize(
    ("kind", "relpath"), [(kind, path) for kind, paths in SAMPLES.items() for path in paths]
)
@FUZZ
@given(data=st.data())
def test_damaged_sample_gives_facts_or_a_parse_error(
    kind: str, relpath: str, data: st.DataObject
) -> None:
    # given
    text = data.draw(mutated(sample(relpath)))
    # then
    _facts_or_parse_error(kind, text)


@pytest.mark.parametrize(
    ("kind", "template"),
    [(kind, text) for kind, texts in HAND_WRITTEN.items() for text in texts],
)
@FUZZ
@given(data=st.data())
def test_damaged_hand_written_output_gives_facts_or_a_parse_error(
    kind: str, template: str, data: st.DataObject
) -> None:
    # given
    text = data.draw(mutated(template))
    # then
    _facts_or_parse_error(kind, text)
