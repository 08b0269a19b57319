"""The Docker collection kinds. All run in the poll's one batched exec: the listing, one
`docker stats --no-stream` for every running container, one `docker inspect` for all of them."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from collectors.kinds import Kind, registry
from collectors.parsing import to_jsonable
from collectors.store import StoreContext
from containers import store
from containers.parsers import (
    parse_compose_ls,
    parse_docker_info,
    parse_docker_inspect,
    parse_docker_ps,
    parse_docker_stats,
    parse_docker_system_df,
    parse_docker_version,
)

CONTAINERS = "containers"
DOCKER = "docker"
COMPOSE = "docker-compose"
DAY_S = 24 * 3600

# With no containers, `docker inspect` with no argument would fail: print an empty list instead.
# If listing fails (no access to the socket), `&&` keeps its exit code and error text.
INSPECT_ALL = (
    'ids=$(docker ps -aq --no-trunc) && if [ -n "$ids" ]; then docker inspect $ids; '
    "else echo '[]'; fi"
)


def _engine_store(key: str) -> Any:
    """Store engine-level facts (docker info, version, disk usage) on the device."""

    def save(ctx: StoreContext, facts: Any) -> None:
        device = ctx.device
        caps = dict(device.capabilities or {})
        caps[key] = to_jsonable(facts)
        device.capabilities = caps
        device.save(update_fields=["capabilities", "updated_at"])

    return save


_every = settings.CONTAINERS_INTERVAL

for kind in (
    Kind("docker-ps", "docker ps -a --no-trunc --format '{{json .}}'", parse_docker_ps,
         "Containers (all states)", store.store_ps, capability=DOCKER, group=CONTAINERS,
         interval_s=_every),
    Kind("docker-stats", "docker stats --no-stream --no-trunc --format '{{json .}}'",
         parse_docker_stats, "CPU, memory, network and block I/O of running containers",
         store.store_stats, capability=DOCKER, group=CONTAINERS, interval_s=_every),
    Kind("docker-inspect", INSPECT_ALL, parse_docker_inspect,
         "Restart counts, OOM kills, health, mounts and networks of every container",
         store.store_inspect, capability=DOCKER, group=CONTAINERS, interval_s=_every),
    Kind("compose-ls", "docker compose ls -a --format json", parse_compose_ls,
         "Compose projects", store.store_compose_ls, capability=COMPOSE, group=CONTAINERS,
         interval_s=_every),
    Kind("docker-info", "docker info --format '{{json .}}'", parse_docker_info,
         "Docker engine: version, storage driver, container and image counts",
         _engine_store("docker_info"), capability=DOCKER, group="inventory", interval_s=DAY_S),
    Kind("docker-version", "docker version --format '{{json .}}'", parse_docker_version,
         "Docker client and server versions", _engine_store("docker_version"),
         capability=DOCKER, group="inventory", interval_s=DAY_S),
    Kind("docker-df", "docker system df --format '{{json .}}'", parse_docker_system_df,
         "Disk used by images, containers, volumes and build cache",
         _engine_store("docker_disk_usage"), capability=DOCKER, group="inventory",
         interval_s=DAY_S),
):  # fmt: skip
    registry.register(kind)
