"""The ``docker version`` and ``docker system df`` parsers on the shared samples, on hand-written
outputs of the states the samples lack, and on bad lines. Bad input common to every docker parser is
in test_docker_parser_errors.py."""

from __future__ import annotations

import pytest

from containers.parsers.engine import (
    DiskUsage,
    DockerVersion,
    parse_docker_system_df,
    parse_docker_version,
)
from tests.containers.engine_outputs import (
    DF_CURRENT_TABLE,
    VERSION_17_03_TEXT,
    VERSION_COMPONENTS_ONLY_JSON,
    VERSION_NO_SERVER_JSON,
    VERSION_NO_SERVER_TEXT,
)
from tests.parser_kit import assert_refused
from tests.samples import sample

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
    assert_refused(parse_docker_version, "docker-version", text)


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
    error = assert_refused(parse_docker_system_df, "docker-df", text)
    assert (error.line, error.lineno) == (line, lineno)
