"""Container tests. For the docker parser tests: the parsers by kind and the shared samples.

The units, bad inputs and property-test strategies that every parser test shares are in
``tests.parser_kit``; hand-written engine outputs are in ``tests.containers.engine_outputs``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from containers.parsers import (
    parse_compose_ls,
    parse_docker_info,
    parse_docker_inspect,
    parse_docker_ps,
    parse_docker_stats,
    parse_docker_system_df,
    parse_docker_version,
)

CONTAINER_PARSERS: dict[str, Callable[[str], Any]] = {
    "docker-ps": parse_docker_ps,
    "docker-stats": parse_docker_stats,
    "docker-inspect": parse_docker_inspect,
    "compose-ls": parse_compose_ls,
}
ENGINE_PARSERS: dict[str, Callable[[str], Any]] = {
    "docker-info": parse_docker_info,
    "docker-version": parse_docker_version,
    "docker-df": parse_docker_system_df,
}
DOCKER_PARSERS = {**CONTAINER_PARSERS, **ENGINE_PARSERS}

# Every docker sample, by the kind it is an output of; test_every_docker_sample_is_either_ours_or_
# an_engine_sample (in test_docker_parser_errors.py) keeps this in step with the shared folder.
DOCKER_SAMPLES_BY_KIND = {
    "docker-ps": ["docker/dockercli_docs_ps_format_json_nginx.txt"],
    "docker-stats": [
        "docker/dockercli_docs_stats_no_stream_json_nginx.txt",
        "docker/dockercli_docs_stats_table_swarm_tasks.txt",
    ],
    "docker-inspect": ["docker/inspec_docker_inspect_nginx_running.json"],
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
# The same, by sample.
DOCKER_SAMPLE_KIND = {
    relpath: kind for kind, relpaths in DOCKER_SAMPLES_BY_KIND.items() for relpath in relpaths
}

ALL_V4 = "0.0.0.0"  # noqa: S104  (docker's "every IPv4 address", not a bind)
