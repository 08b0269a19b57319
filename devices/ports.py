"""Storing listening ports: one reconciliation per poll of what ``ss`` (or netstat) listed.

Per poll, for each device:

- a port is known by (protocol, address, port); sockets sharing one (SO_REUSEPORT workers, two
  DHCP clients) are one port, with every holder in ``processes``;
- a port listed and not open before is ``port.opened`` (a warning when reachable from the
  network, info on loopback), a port open before and not listed now is ``port.closed``. The
  row of a closed port is kept, marked removed; when the port opens again the same row comes
  back with a new ``port.opened``;
- the device's first listing is a baseline, not news: it raises no ``port.opened``;
- a listing without a single socket, from a device that had open ports, is not believed (even
  sshd, our way in, listens): the ports are kept as they were and the run says why;
- the container that publishes a port is matched from the device's containers' published port
  bindings (``docker ps``): same protocol, the port in the binding's host range and a
  compatible host address (docker's ``0.0.0.0`` or ``::`` is ss's dual-stack ``*`` too). A
  port held by ``docker-proxy`` or ``dockerd`` whose address still does not match falls back to
  protocol and port.
  When the same poll also lists containers (``docker-ps`` before ``ss``, as in registry order),
  the matching is redone once they are stored; otherwise the next ports poll catches up.

Changes of process or container on an open port are kept without an event: pids change at
every restart and would only be noise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collectors.events import record_event
from collectors.models import CollectionRun, EventKind, Severity
from collectors.store import StoreContext
from containers.models import Container
from devices.models import Device, Exposure, ListeningPort, Protocol
from devices.parsers.sockets import SS_KIND, Socket

KIND = SS_KIND
GROUP = "ports"
# ss's states of a socket that accepts traffic: a listening TCP socket, a bound UDP one.
_LISTENING_STATES = frozenset({"LISTEN", "UNCONN"})
# Processes that hold a port on behalf of a container.
DOCKER_PROCESSES = frozenset({"docker-proxy", "dockerd", "rootlesskit"})
# Host addresses docker binds on every interface of a family; ss may print `*` for them.
_WILDCARDS = frozenset({"0.0.0.0", "::"})  # noqa: S104 (addresses we read, nothing binds)
_DUAL_STACK = "*"

Key = tuple[str, str, int]


@dataclass
class _Listener:
    """One port of this poll's listing, its sockets merged."""

    protocol: str
    address: str
    port: int
    interface: str
    process: str
    pid: int | None
    processes: list[dict[str, Any]] = field(default_factory=list)


def listeners(sockets: Iterable[Socket]) -> dict[Key, _Listener]:
    """The listening TCP and UDP ports of a listing, by identity, in the listing's order."""
    found: dict[Key, _Listener] = {}
    for socket in sockets:
        if (
            socket.protocol not in Protocol.values
            or socket.state not in _LISTENING_STATES
            or socket.port is None
        ):
            continue
        key = (socket.protocol, socket.local_address, socket.port)
        listener = found.get(key)
        if listener is None:
            listener = found[key] = _Listener(
                protocol=socket.protocol,
                address=socket.local_address,
                port=socket.port,
                interface=socket.interface or "",
                process=socket.process or "",
                pid=socket.pid,
            )
        for ref in socket.processes:
            holder = {"name": ref.name, "pid": ref.pid}
            if holder not in listener.processes:
                listener.processes.append(holder)
    return found


class Publishers:
    """The published port bindings of a device's containers, to tell which one owns a port."""

    def __init__(self, device: Device) -> None:
        self.bindings: list[tuple[Container, dict[str, Any]]] = [
            (container, binding)
            for container in Container.objects.present().for_device(device.pk).order_by("name")
            for binding in container.ports or []
            if isinstance(binding, dict) and isinstance(binding.get("host_port"), int)
        ]

    def match(self, protocol: str, address: str, port: int, process: str) -> Container | None:
        exact: list[tuple[bool, Container]] = []
        loose: list[Container] = []
        for container, binding in self.bindings:
            first = binding["host_port"]
            last = binding.get("host_port_end") or first
            if binding.get("protocol") != protocol or not first <= port <= last:
                continue
            host_ip = binding.get("host_ip") or None
            if _binds(host_ip, address):
                exact.append((host_ip != address, container))  # the very address first
            else:
                loose.append(container)
        if exact:
            return min(exact, key=lambda item: item[0])[1]
        if loose and process in DOCKER_PROCESSES:
            return loose[0]
        return None


def _binds(host_ip: str | None, address: str) -> bool:
    """Whether docker's host address of a binding is the listening address ss/netstat shows."""
    if host_ip is None or host_ip == address:
        return True  # docker printed no address: it bound every one
    return host_ip in _WILDCARDS and address == _DUAL_STACK


def store_ports(ctx: StoreContext, sockets: list[Socket]) -> None:
    now = ctx.collected_at
    found = listeners(sockets)
    rows = {
        (p.protocol, p.address, p.port): p
        for p in ListeningPort.objects.filter(device=ctx.device).select_related("container")
    }
    open_before = [row for row in rows.values() if row.removed_at is None]
    if not found and open_before:
        ctx.note(KIND, "the listing shows no listening port at all; the known ports are kept")
        return
    announce = bool(rows) or _listed_before(ctx)
    publishers = Publishers(ctx.device)
    unchanged: list[int] = []
    for key, listener in found.items():
        row = rows.get(key)
        opened = row is None or row.removed_at is not None
        container = publishers.match(key[0], key[1], key[2], listener.process)
        if row is None:
            row = ListeningPort(
                device=ctx.device,
                protocol=listener.protocol,
                address=listener.address,
                port=listener.port,
                first_seen_at=now,
            )
        if not opened and not _differs(row, listener, container):
            unchanged.append(row.pk)
            continue
        row.interface = listener.interface[:64]
        row.process = listener.process[:255]
        row.pid = listener.pid
        row.processes = listener.processes
        row.container = container
        row.last_seen_at = now
        if opened:
            row.opened_at, row.removed_at = now, None
        row.save()
        if opened and announce:
            _opened(ctx, row)
    ListeningPort.objects.filter(pk__in=unchanged).update(last_seen_at=now)
    for row in open_before:
        if (row.protocol, row.address, row.port) not in found:
            row.removed_at = now
            row.save(update_fields=["removed_at"])
            _event(ctx, row, "port.closed", Severity.INFO,
                   f"{row} closed{_holder(row, 'was ')}")  # fmt: skip
    # Containers listed in this same poll are stored by their own finaliser: match again after.
    ctx.once("ports-containers", lambda: rematch_containers(ctx.device))


def _differs(row: ListeningPort, listener: _Listener, container: Container | None) -> bool:
    return (
        row.interface != listener.interface[:64]
        or row.process != listener.process[:255]
        or row.pid != listener.pid
        or row.processes != listener.processes
        or row.container_id != (container.pk if container else None)
    )


def rematch_containers(device: Device) -> None:
    """Match the device's open ports to its containers again (no event: not a change of the
    port, only of what we know about it)."""
    publishers = Publishers(device)
    for row in ListeningPort.objects.present().filter(device=device):
        container = publishers.match(row.protocol, row.address, row.port, row.process)
        if row.container_id != (container.pk if container else None):
            row.container = container
            row.save(update_fields=["container"])


def _listed_before(ctx: StoreContext) -> bool:
    """Whether an earlier poll of this device listed its ports (and found none)."""
    return (
        CollectionRun.objects.filter(device=ctx.device, **{f"kind_results__{KIND}__status": "ok"})
        .exclude(pk=ctx.run.pk)
        .exists()
    )


def _holder(row: ListeningPort, prefix: str = "") -> str:
    parts = [row.process] if row.process else []
    if row.container is not None:
        parts.append(f"container {row.container.name}")
    return f" ({prefix}{', '.join(parts)})" if parts else ""


def _opened(ctx: StoreContext, row: ListeningPort) -> None:
    public = row.exposure == Exposure.PUBLIC
    where = "reachable from the network" if public else "on loopback"
    _event(ctx, row, "port.opened", Severity.WARNING if public else Severity.INFO,
           f"{row} opened, {where}{_holder(row)}")  # fmt: skip


def _event(ctx: StoreContext, row: ListeningPort, type_: str, severity: str, summary: str) -> None:
    record_event(
        kind=EventKind.PORT,
        type=type_,
        severity=severity,
        summary=f"{ctx.device.name}: {summary}",
        device=ctx.device,
        data={
            "listening_port": row.pk,
            "protocol": row.protocol,
            "address": row.address,
            "port": row.port,
            "exposure": str(row.exposure),
            "process": row.process or None,
            "pid": row.pid,
            "container": row.container.name if row.container is not None else None,
        },
        occurred_at=ctx.collected_at,
    )
