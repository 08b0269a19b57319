"""Storing the swag-confs survey: instances, confs with their routes, versions and events.

Per instance listed:

- a file with content is (re)parsed, and a new version is kept when its hash changed; a file sent
  without content is unchanged (it has the hash we passed); a file that could not be read keeps
  what we had, with ``read_error`` and an audit note;
- a conf missing from a listing is marked removed; one that comes back is present again;
- events fire for active confs only (SWAG refreshes its ~300 ``.conf.sample`` files on each
  image update: that is not news): ``proxy.added``, ``proxy.changed`` (a warning when the auth
  went away), ``proxy.removed``. An instance's first listing is the baseline: no events;
- a folder that could not be listed (missing, unreadable) changes nothing but its error.

After every kind was stored (so a docker poll in the same exec counts), active confs whose
upstream app is no running container of the device raise ``proxy.upstream_unreachable`` once,
until the conf points at a running one again.
"""

from __future__ import annotations

import re
from typing import Any

from collectors.events import record_event
from collectors.models import EventKind, Severity
from collectors.parsing import to_jsonable
from collectors.store import StoreContext
from containers.models import Container, ContainerState
from proxies.discovery import Source, find_sources
from proxies.models import (
    AuthMethod,
    ConfStatus,
    InstanceSource,
    ProxyConfig,
    ProxyConfigVersion,
    SwagInstance,
)
from proxies.survey import KIND, ConfFile, InstanceListing, SwagSurvey

_ROUTE_FIELDS = ("kind", "server_names", "upstream_app", "upstream_port", "upstream_proto", "auth",
                 "listen_ports", "locations")  # fmt: skip
# Upstreams that name a container on the docker network. Addresses and host names with dots
# (192.168.1.10, nas.lan, host.docker.internal) are other machines: we cannot judge them.
_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
_NOT_CONTAINERS = frozenset({"localhost"})


def store_swag_confs(ctx: StoreContext, survey: SwagSurvey) -> None:
    sources = find_sources(ctx.device)
    for problem in sources.problems:
        ctx.note(KIND, problem)
    by_path = sources.by_path()
    for listing in survey.instances:
        instance, baseline = _instance(ctx, listing, by_path.get(listing.path))
        if listing.error:
            ctx.note(KIND, f"{listing.path}: {listing.error}")
            continue
        if listing.odd_names:
            ctx.note(KIND, f"{listing.path}: {listing.odd_names} file(s) skipped for their names "
                     "(only letters, digits and . _ - are read)")  # fmt: skip
        for name in listing.unreadable or []:
            ctx.note(KIND, f"{listing.path}: {name} is not readable by the SSH user")
        _reconcile(ctx, instance, listing, baseline)
    # Discovered instances whose SWAG container is gone; their confs stay as last seen.
    SwagInstance.objects.filter(
        device=ctx.device, source=InstanceSource.DISCOVERED, removed_at__isnull=True
    ).exclude(config_path__in=list(by_path)).update(removed_at=ctx.collected_at)
    # Finalisers run in registration order, and a poll runs its kinds by name: the docker-*
    # kinds of the same exec have registered their reconcile already, so it has run by then.
    ctx.once("proxies-upstreams", lambda: check_upstreams(ctx))


def _instance(
    ctx: StoreContext, listing: InstanceListing, source: Source | None
) -> tuple[SwagInstance, bool]:
    instance = SwagInstance.objects.filter(device=ctx.device, config_path=listing.path).first()
    if instance is None:
        instance = SwagInstance(
            device=ctx.device, config_path=listing.path, source=InstanceSource.DISCOVERED
        )
    baseline = instance.last_seen_at is None
    if source is not None and source.container_name:
        instance.container_name = source.container_name
    instance.removed_at = None
    if listing.error:
        instance.last_error = listing.error[:500]
    else:
        instance.first_seen_at = instance.first_seen_at or ctx.collected_at
        instance.last_seen_at = ctx.collected_at
        instance.last_error = ""
    instance.save()
    return instance, baseline


def _reconcile(
    ctx: StoreContext, instance: SwagInstance, listing: InstanceListing, baseline: bool
) -> None:
    existing = {conf.name: conf for conf in instance.configs.all()}
    present = set(listing.unreadable or [])
    for file in listing.files:
        present.add(file.name)
        _store_file(ctx, instance, existing.get(file.name), file, baseline)
    for name in present - {f.name for f in listing.files}:
        if name in existing:  # still there, as far as we can tell; keep what we know
            ProxyConfig.objects.filter(pk=existing[name].pk).update(
                last_seen_at=ctx.collected_at, read_error="not readable by the SSH user"
            )
    for name, conf in existing.items():
        if name in present or conf.status == ConfStatus.REMOVED:
            continue
        was_active = conf.status == ConfStatus.ACTIVE
        conf.status = ConfStatus.REMOVED
        conf.removed_at = ctx.collected_at
        conf.upstream_unreachable_since = None
        conf.save(update_fields=["status", "removed_at", "upstream_unreachable_since"])
        if was_active and not baseline:
            route = _route_text(conf, " (it routed ", ")")
            _event(ctx, conf, "proxy.removed", Severity.INFO,
                   f"proxy conf {conf.name} was removed{route}")  # fmt: skip


def _store_file(
    ctx: StoreContext,
    instance: SwagInstance,
    conf: ProxyConfig | None,
    file: ConfFile,
    baseline: bool,
) -> None:
    now = ctx.collected_at
    is_new = conf is None
    if conf is None:
        conf = ProxyConfig(device=ctx.device, instance=instance, name=file.name, first_seen_at=now)
    returned = not is_new and conf.status == ConfStatus.REMOVED
    before = {name: getattr(conf, name) for name in _ROUTE_FIELDS}
    previous_sha = conf.sha256
    conf.status = ConfStatus.SAMPLE if file.is_sample else ConfStatus.ACTIVE
    conf.last_seen_at = now
    conf.removed_at = None
    new_content = file.content is not None and file.sha256 != conf.sha256
    if file.content is not None:
        conf.read_error = ""
        if new_content:
            conf.content, conf.sha256, conf.size_bytes = file.content, file.sha256, file.size_bytes
            conf.changed_at = now
            _apply_route(conf, file)
    elif file.error:
        conf.read_error = file.error[:500]
        conf.size_bytes = conf.size_bytes if conf.sha256 else file.size_bytes
        ctx.note(KIND, f"{instance.config_path}: {file.name}: {file.error}")
    conf.save()
    if new_content:
        ProxyConfigVersion.objects.create(
            config=conf, sha256=conf.sha256, size_bytes=conf.size_bytes or 0,
            content=conf.content, collected_at=now,
        )  # fmt: skip
    if conf.status != ConfStatus.ACTIVE or baseline:
        return
    if is_new or returned:
        _event(ctx, conf, "proxy.added", Severity.INFO,
               f"proxy conf {conf.name} was added{_route_text(conf, ' (', ')')}")  # fmt: skip
    elif new_content and previous_sha:
        _changed(ctx, conf, before, previous_sha)


def _apply_route(conf: ProxyConfig, file: ConfFile) -> None:
    parsed = file.conf
    conf.parse_error = (file.parse_error or "")[:2000]
    conf.kind = (parsed.kind if parsed else None) or ""
    conf.server_names = [n[:512] for n in parsed.server_names] if parsed else []
    conf.upstream_app = ((parsed.upstream_app if parsed else None) or "")[:255]
    conf.upstream_port = parsed.upstream_port if parsed else None
    conf.upstream_proto = ((parsed.upstream_proto if parsed else None) or "")[:16]
    conf.auth = parsed.auth if parsed else AuthMethod.NONE
    conf.listen_ports = list(parsed.listen_ports) if parsed else []
    conf.locations = to_jsonable(parsed.locations) if parsed else []


def _route_text(conf: ProxyConfig, before: str = "", after: str = "") -> str:
    names = ", ".join(conf.server_names[:3]) or conf.get_kind_display() or ""
    parts = [p for p in (names, conf.upstream) if p]
    if not parts:
        return ""
    auth = "" if conf.auth == AuthMethod.NONE else f", {conf.get_auth_display()} auth"
    return f"{before}{' -> '.join(parts)}{auth}{after}"


def _changed(ctx: StoreContext, conf: ProxyConfig, before: dict[str, Any], old_sha: str) -> None:
    fields = [name for name in _ROUTE_FIELDS if before[name] != getattr(conf, name)]
    shown = [
        f"{name} {before[name] or '-'} -> {getattr(conf, name) or '-'}"
        for name in fields
        if name in ("upstream_app", "upstream_port", "upstream_proto", "auth")
    ]
    lost_auth = before["auth"] != AuthMethod.NONE and conf.auth == AuthMethod.NONE
    summary = f"proxy conf {conf.name} changed" + (f": {'; '.join(shown)}" if shown else "")
    _event(ctx, conf, "proxy.changed", Severity.WARNING if lost_auth else Severity.INFO, summary,
           changed_fields=fields, previous={k: to_jsonable(v) for k, v in before.items()},
           previous_sha256=old_sha)  # fmt: skip


def _event(
    ctx: StoreContext, conf: ProxyConfig, type_: str, severity: str, summary: str, **extra: Any
) -> None:
    data = {
        "config": conf.pk,
        "name": conf.name,
        "instance": conf.instance.config_path,
        "server_names": list(conf.server_names),
        "upstream_app": conf.upstream_app,
        "upstream_port": conf.upstream_port,
        "auth": conf.auth,
        "sha256": conf.sha256,
    } | extra
    record_event(
        kind=EventKind.PROXY,
        type=type_,
        severity=severity,
        summary=f"{ctx.device.name}: {summary}",
        device=ctx.device,
        data=data,
        occurred_at=ctx.collected_at,
    )


def is_container_name(app: str) -> bool:
    return bool(_CONTAINER_NAME.match(app)) and app.lower() not in _NOT_CONTAINERS


def check_upstreams(ctx: StoreContext) -> None:
    """Flag active confs whose upstream app is no running container (by container name or
    Compose service name; docker's DNS answers to both), once per episode."""
    containers = list(Container.objects.filter(device=ctx.device).present())
    confs = ProxyConfig.objects.filter(
        device=ctx.device, instance__removed_at__isnull=True
    ).active()
    if not containers:
        if confs.exclude(upstream_app="").exists():
            ctx.note(KIND, "no containers known on this device: upstreams were not checked")
        return
    running = {
        name.lower()
        for c in containers
        if c.state == ContainerState.RUNNING
        for name in (c.name, c.compose_service)
        if name
    }
    for conf in confs.select_related("instance"):
        app = conf.upstream_app
        unreachable = is_container_name(app) and app.lower() not in running
        if unreachable and conf.upstream_unreachable_since is None:
            conf.upstream_unreachable_since = ctx.collected_at
            conf.save(update_fields=["upstream_unreachable_since"])
            known = next((c for c in containers if c.name.lower() == app.lower()), None)
            why = f"is {known.state}" if known else "is no container of this device"
            _event(ctx, conf, "proxy.upstream_unreachable", Severity.WARNING,
                   f"proxy conf {conf.name} routes to {conf.upstream}, which {why}",
                   container_state=known.state if known else None)  # fmt: skip
        elif not unreachable and conf.upstream_unreachable_since is not None:
            conf.upstream_unreachable_since = None
            conf.save(update_fields=["upstream_unreachable_since"])
