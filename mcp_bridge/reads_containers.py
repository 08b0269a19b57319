"""Read tools for containers: containers with inspect, their stats series, Compose projects
(see mcp_bridge.reads for the conventions every read tool follows)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from collectors.models import Trigger
from containers import services as container_services
from containers.api import ComposeProjectViewSet, ContainerViewSet
from containers.models import Container
from mcp_bridge.params import DeviceName, Limit, Offset, Search, Since
from mcp_bridge.views import (
    Caller,
    detail,
    device_param,
    find_device,
    page,
)

ContainerName = Annotated[str, Field(description="The container's name on that device")]


def list_containers(
    caller: Caller,
    device: DeviceName = None,
    state: Literal["created", "running", "paused", "restarting", "removing", "exited", "dead"]
    | None = None,
    health: Annotated[
        str | None, Field(description="Healthcheck state: healthy, unhealthy, starting")
    ] = None,
    project: Annotated[str | None, Field(description="Compose project name")] = None,
    image: Annotated[str | None, Field(description="Part of the image name")] = None,
    search: Search = None,
    include_removed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Docker containers across the fleet, filtered by device, state, health, Compose project,
    image or free text: image, status, health, restart count and policy, exit code, OOM kill,
    ports, mounts, networks. Containers gone from their device are left out unless asked."""
    params = {
        "device": device_param(caller, device), "state": state, "health": health,
        "project": project, "image": image, "search": search,
        "removed": None if include_removed else False,
    }  # fmt: skip
    return page(ContainerViewSet, params, caller, limit=limit, offset=offset)


def find_container(caller: Caller, device: str, name: str) -> Container:
    """The container `name` on `device` (the one still there before any removed one)."""
    caller.device = find_device(device)
    container = (
        Container.objects.filter(device=caller.device, name=name)
        .order_by("-removed_at", "-last_seen_at")  # NULL (still there) sorts first descending
        .first()
    )
    if container is None:
        raise ToolError(f"No container {name!r} on {device}; list_containers shows the names.")
    return container


def get_container(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    container: ContainerName,
    inspect: Annotated[
        bool, Field(description="Also run `docker inspect` now over SSH (audited)")
    ] = False,
) -> Any:
    """One container in detail: image, state, health, restart count and policy, exit code,
    ports, mounts, networks, Compose project and service. With inspect=true, also the live
    `docker inspect` (environment variable values are never included)."""
    row = find_container(caller, device, container)
    answer = detail(ContainerViewSet, "retrieve", row.pk, {}, caller)
    if inspect:
        answer = {**answer, "inspect": _inspect(caller, row)}
    return answer


def _inspect(caller: Caller, row: Container) -> dict[str, Any]:
    """What the API's inspect action answers, run as the MCP caller."""
    try:
        return container_services.inspected(row, actor=caller.actor, trigger=Trigger.MCP)
    except container_services.InvalidInput as e:
        raise ToolError(str(e)) from e


def container_stats(
    caller: Caller,
    device: Annotated[str, Field(description="The device's name")],
    container: ContainerName,
    since: Annotated[
        str | None, Field(description="ISO 8601 time or a duration back (default 1h)")
    ] = None,
    until: Since = None,
    points: Annotated[int, Field(ge=10, le=5000, description="About how many points")] = 200,
) -> Any:
    """A container's resource use over time (oldest first, default the last hour): CPU %,
    memory used/limit/%, network and block I/O rates, process count, as about `points` evenly
    spaced points. Long ranges come from the 5-minute or 1-hour rollups, with min and max per
    bucket; `resolution_s` and `tier` say which."""
    row = find_container(caller, device, container)
    params = {"since": since, "until": until, "points": points}
    return detail(ContainerViewSet, "stats", row.pk, params, caller)


def list_compose_projects(
    caller: Caller,
    device: DeviceName = None,
    name: Annotated[str | None, Field(description="Exactly this project name")] = None,
    search: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Docker Compose projects (stacks) across the fleet: status, compose files, services and
    the containers belonging to each."""
    params = {"device": device_param(caller, device), "name": name, "search": search}
    return page(ComposeProjectViewSet, params, caller, limit=limit, offset=offset)
