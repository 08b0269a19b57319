"""Storing what docker said: one reconciliation per poll of everything the container kinds saw.

`docker ps` decides which containers exist (a name missing from a successful listing is
removed); `docker inspect` adds what ps cannot say (restart count, OOM kill, health output,
mounts); `docker stats` adds resource use. Each kind's store only leaves its facts in the poll's
scratch space; the finaliser reconciles them together, so the order of kinds does not matter and
a failed kind only means less detail, never a false "removed".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_datetime

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.parsing import to_jsonable
from collectors.store import StoreContext
from containers.models import ComposeProject, Container, ContainerState, ContainerStats
from devices.rates import rate

# A restart count that grows by this much between two polls is a restart loop.
RESTART_LOOP_THRESHOLD = 2
_SCRATCH = "docker"


def _facts(ctx: StoreContext) -> dict[str, Any]:
    if _SCRATCH not in ctx.scratch:
        ctx.scratch[_SCRATCH] = {}
        ctx.once("containers", lambda: reconcile(ctx))
    return ctx.scratch[_SCRATCH]


def store_ps(ctx: StoreContext, facts: list[Any]) -> None:
    _facts(ctx)["ps"] = facts


def store_inspect(ctx: StoreContext, facts: list[Any]) -> None:
    _facts(ctx)["inspect"] = facts


def store_stats(ctx: StoreContext, facts: list[Any]) -> None:
    _facts(ctx)["stats"] = facts


def store_compose_ls(ctx: StoreContext, facts: list[Any]) -> None:
    _facts(ctx)["compose"] = facts


@dataclass(frozen=True)
class _Before:
    state: str
    health: str
    exit_code: int | None
    restart_count: int | None
    oom_killed: bool | None
    image: str
    image_id: str


def _before(container: Container) -> _Before:
    return _Before(
        container.state,
        container.health,
        container.exit_code,
        container.restart_count,
        container.oom_killed,
        container.image,
        container.image_id,
    )


def reconcile(ctx: StoreContext) -> None:
    data = ctx.scratch[_SCRATCH]
    now = ctx.collected_at
    existing = {c.name: c for c in Container.objects.filter(device=ctx.device)}
    announce = bool(existing)  # the device's first listing is an inventory, not news
    inspected = {c.name: c for c in data.get("inspect") or []}
    projects = _reconcile_projects(ctx, data.get("compose"), data.get("ps"))

    if data.get("ps") is not None:
        listed: set[str] = set()
        for ps in data["ps"]:
            listed.add(ps.name)
            container = existing.get(ps.name)
            before = _before(container) if container else None
            if container is None:
                container = Container(device=ctx.device, name=ps.name, first_seen_at=now)
                existing[ps.name] = container
            _apply_ps(container, ps)
            if ps.name in inspected:
                _apply_inspect(container, inspected[ps.name])
            container.project = projects.get(container.compose_project)
            container.last_seen_at = now
            container.removed_at = None
            container.save()
            _detect(ctx, container, before, announce)
        for name, container in existing.items():
            if name not in listed and container.removed_at is None:
                container.removed_at = now
                container.state = ContainerState.REMOVED
                container.save(update_fields=["removed_at", "state"])
                _event(ctx, container, "container.removed", Severity.INFO,
                       f"container {name} was removed")  # fmt: skip
    else:
        # No listing this poll (the kind failed): details only, nothing appears or disappears.
        for name, facts in inspected.items():
            container = existing.get(name)
            if container is not None and container.removed_at is None:
                before = _before(container)
                _apply_inspect(container, facts)
                container.last_seen_at = now
                container.save()
                _detect(ctx, container, before, announce)

    if data.get("stats") is not None:
        _store_stats(ctx, data["stats"], existing)


def _apply_ps(container: Container, ps: Any) -> None:
    container.container_id = ps.id
    container.image = ps.image
    container.command = ps.command or ""
    container.state = ps.state
    container.status_text = ps.status or ""
    container.health = ps.health or ""
    if ps.exit_code is not None:
        container.exit_code = ps.exit_code
    container.ports = to_jsonable(ps.ports)
    container.labels = dict(ps.labels)
    container.compose_project = ps.compose_project or ""
    container.compose_service = ps.compose_service or ""
    container.created_at = ps.created_at


def _apply_inspect(container: Container, facts: Any) -> None:
    container.container_id = facts.id
    container.image_id = facts.image_id or ""
    container.state = facts.state or container.state
    container.health = facts.health or ""
    container.health_last_output = facts.health_last_output or ""
    container.restart_count = facts.restart_count
    container.restart_policy = facts.restart_policy or ""
    container.exit_code = facts.exit_code
    container.oom_killed = facts.oom_killed
    container.started_at = facts.started_at
    container.finished_at = facts.finished_at
    container.mounts = to_jsonable(facts.mounts)
    container.networks = to_jsonable(facts.networks)
    if facts.created_at is not None:
        container.created_at = facts.created_at


def _event(ctx: StoreContext, container: Container, type_: str, severity: str, summary: str,
           **data: Any) -> None:  # fmt: skip
    record_event(
        device=ctx.device,
        kind=EventKind.CONTAINER,
        type=type_,
        severity=severity,
        summary=f"{ctx.device.name}: {summary}",
        data={"container": container.name, "container_pk": container.pk, **data},
        occurred_at=ctx.collected_at,
    )


def _detect(ctx: StoreContext, c: Container, before: _Before | None, announce: bool) -> None:
    """Compare with the previous poll and record what changed."""
    if before is None:
        if announce and c.state == ContainerState.RUNNING:
            _event(ctx, c, "container.started", Severity.INFO, f"new container {c.name} started",
                   image=c.image)  # fmt: skip
        return
    was_running = before.state in (ContainerState.RUNNING, ContainerState.RESTARTING)
    if c.state == ContainerState.RUNNING and before.state != ContainerState.RUNNING:
        _event(ctx, c, "container.started", Severity.INFO, f"container {c.name} started",
               previous_state=before.state)  # fmt: skip
    elif was_running and c.state in (ContainerState.EXITED, ContainerState.DEAD):
        failed = c.exit_code not in (0, None)
        _event(
            ctx, c, "container.stopped", Severity.WARNING if failed else Severity.INFO,
            f"container {c.name} stopped (exit code {c.exit_code})", exit_code=c.exit_code,
        )  # fmt: skip
    restarts = (c.restart_count or 0) - (before.restart_count or 0)
    looping = c.state == ContainerState.RESTARTING and before.state != ContainerState.RESTARTING
    if looping or (before.restart_count is not None and restarts >= RESTART_LOOP_THRESHOLD):
        _event(ctx, c, "container.restarting", Severity.WARNING,
               f"container {c.name} is restarting in a loop ({c.restart_count} restarts)",
               restart_count=c.restart_count, new_restarts=max(restarts, 0))  # fmt: skip
    if c.health == "unhealthy" and before.health != "unhealthy":
        _event(ctx, c, "container.unhealthy", Severity.WARNING,
               f"container {c.name} is unhealthy",
               last_output=c.health_last_output[:500])  # fmt: skip
    if c.oom_killed and not before.oom_killed:
        _event(ctx, c, "container.oom_killed", Severity.CRITICAL,
               f"container {c.name} was killed for running out of memory")  # fmt: skip
    image_moved = before.image_id and c.image_id and before.image_id != c.image_id
    if before.image != c.image or image_moved:
        _event(ctx, c, "container.image_changed", Severity.INFO,
               f"container {c.name} now runs {c.image}", previous_image=before.image,
               previous_image_id=before.image_id, image_id=c.image_id)  # fmt: skip


def _store_stats(ctx: StoreContext, stats: list[Any], containers: dict[str, Container]) -> None:
    by_id = [(c.container_id, c) for c in containers.values() if c.container_id]
    rows = []
    counted: list[Container] = []
    for entry in stats:
        container = containers.get(entry.name) or next(
            (c for cid, c in by_id if entry.id and cid.startswith(entry.id)), None
        )
        if container is None or container.pk is None:
            continue
        totals = {
            "net_rx": entry.net_rx_bytes, "net_tx": entry.net_tx_bytes,
            "block_read": entry.block_read_bytes, "block_write": entry.block_write_bytes,
        }  # fmt: skip
        previous = container.counters or {}
        seconds = _seconds_since(previous.get("at"), ctx.collected_at)
        # A new container id (recreated) restarts its counters: no rate across that boundary.
        if previous.get("id") != container.container_id or seconds is None:
            rates: dict[str, float | None] = dict.fromkeys(totals)
        else:
            rates = {key: rate(totals[key], previous.get(key), seconds) for key in totals}

        rows.append(
            ContainerStats(
                container=container,
                collected_at=ctx.collected_at,
                cpu_pct=entry.cpu_pct,
                mem_used_bytes=entry.mem_used_bytes,
                mem_limit_bytes=entry.mem_limit_bytes,
                mem_pct=entry.mem_pct,
                net_rx_bytes_per_s=rates["net_rx"],
                net_tx_bytes_per_s=rates["net_tx"],
                block_read_bytes_per_s=rates["block_read"],
                block_write_bytes_per_s=rates["block_write"],
                pids=entry.pids,
            )
        )
        container.counters = totals | {
            "at": ctx.collected_at.isoformat(),
            "id": container.container_id,
        }
        counted.append(container)
    ContainerStats.objects.bulk_create(rows)
    Container.objects.bulk_update(counted, ["counters"])


def _seconds_since(iso: str | None, now: dt.datetime) -> float | None:
    then = parse_datetime(iso) if iso else None
    return (now - then).total_seconds() if then else None


def _reconcile_projects(
    ctx: StoreContext, compose: list[Any] | None, ps: list[Any] | None
) -> dict[str, ComposeProject]:
    """Projects by name; from `docker compose ls` when it ran, else as known."""
    existing = {p.name: p for p in ComposeProject.objects.filter(device=ctx.device)}
    if compose is None:
        return existing
    now = ctx.collected_at
    services: dict[str, set[str]] = {}
    for container in ps or []:
        if container.compose_project and container.compose_service:
            services.setdefault(container.compose_project, set()).add(container.compose_service)
    listed = set()
    for facts in compose:
        listed.add(facts.name)
        project = existing.get(facts.name) or ComposeProject(
            device=ctx.device, name=facts.name, first_seen_at=now
        )
        project.status = facts.status or ""
        project.config_files = list(facts.config_files)
        if ps is not None:
            project.services = sorted(services.get(facts.name, set()))
        project.last_seen_at = now
        project.removed_at = None
        project.save()
        existing[facts.name] = project
    for name, project in existing.items():
        if name not in listed and project.removed_at is None:
            project.removed_at = now
            project.save(update_fields=["removed_at"])
    return existing
