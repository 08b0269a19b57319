"""Pure parsers for docker command outputs: ``docker ps``, ``docker stats``, ``docker inspect``,
``docker compose ls``, and the engine-level ``docker info``, ``docker version`` and
``docker system df``.

Each ``parse_*`` function turns a command's text into frozen dataclasses with units in field
names, and raises ``collectors.parsing.ParseError`` on output it does not understand.
"""

from containers.parsers.compose import ComposeProjectFacts, parse_compose_ls
from containers.parsers.engine import (
    DiskUsage,
    DockerInfo,
    DockerVersion,
    parse_docker_info,
    parse_docker_system_df,
    parse_docker_version,
)
from containers.parsers.inspect import InspectContainer, Mount, Network, parse_docker_inspect
from containers.parsers.ps import PortMapping, PsContainer, parse_docker_ps
from containers.parsers.stats import StatsEntry, parse_docker_stats

__all__ = [
    "ComposeProjectFacts",
    "DiskUsage",
    "DockerInfo",
    "DockerVersion",
    "InspectContainer",
    "Mount",
    "Network",
    "PortMapping",
    "PsContainer",
    "StatsEntry",
    "parse_compose_ls",
    "parse_docker_info",
    "parse_docker_inspect",
    "parse_docker_ps",
    "parse_docker_stats",
    "parse_docker_system_df",
    "parse_docker_version",
]
