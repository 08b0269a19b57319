"""Parser for ``docker ps -a --no-trunc --format '{{json .}}'``: one JSON object per container.

Also home of what the other docker parsers share: ``PortMapping`` and the reading of port
ranges, the Compose label names, and ``load_json`` (JSON text to a value, or a ParseError naming
the line where decoding failed).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from collectors.parsing import ParseError

DOCKER_PS_KIND = "docker-ps"

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"
COMPOSE_CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"

# A published range of at most this many ports becomes one PortMapping per port; a wider one
# (say 10000-20000/udp for RTP) stays a single PortMapping with *_end set, so one container
# cannot turn into thousands of rows.
MAX_EXPANDED_PORTS = 64

STATES = frozenset({"created", "running", "paused", "restarting", "removing", "exited", "dead"})

# docker's State.String(), which is what the Status column shows:
#   "Up 2 hours", "Up 2 hours (healthy)", "Up 5 seconds (health: starting)", "Up 1 minute (Paused)",
#   "Restarting (1) 3 seconds ago", "Exited (137) 5 minutes ago", "Created",
#   "Removal In Progress", "Dead".
_EXITED = re.compile(r"Exited \((-?[0-9]{1,10})\)")
_RESTARTING = re.compile(r"Restarting \((-?[0-9]{1,10})\)")
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_PORT = re.compile(
    r"(?:(?P<host>.*):(?P<hp>[0-9]+)(?:-(?P<hpe>[0-9]+))?->)?"
    r"(?P<cp>[0-9]+)(?:-(?P<cpe>[0-9]+))?/(?P<proto>[a-z]+)"
)
# Go's time.Time.String() layout, "2006-01-02 15:04:05 -0700 MST"; the zone abbreviation is
# ignored (CET, +03, ...) because the numeric offset is always there and unambiguous.
_GO_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r" ([+-])([0-9]{2})([0-9]{2})(?: \S+)?"
)


@dataclass(frozen=True, slots=True)
class PortMapping:
    """A container port, published on the host or only exposed (host_ip and host_port None).

    host_ip None with a host_port means every address (docker prints no address). Ranges wider
    than MAX_EXPANDED_PORTS keep their last ports in ``container_port_end`` / ``host_port_end``;
    those are None for a single port.
    """

    container_port: int
    protocol: str
    host_ip: str | None
    host_port: int | None
    container_port_end: int | None = None
    host_port_end: int | None = None


@dataclass(frozen=True, slots=True)
class PsContainer:
    """One container as ``docker ps -a`` lists it.

    ``name`` is the container's own name; ``names`` also holds link aliases (``other/alias``).
    ``exit_code`` is known only for exited and restarting containers.
    """

    id: str
    name: str
    names: list[str]
    image: str
    command: str | None
    state: str | None
    status: str
    exit_code: int | None
    health: str | None
    ports: list[PortMapping]
    labels: dict[str, str]
    compose_project: str | None
    compose_service: str | None
    created_at: dt.datetime | None
    mounts: list[str]
    networks: list[str]


def load_json(kind: str, text: str) -> Any:
    """The JSON value of ``text``; a ParseError on the line where decoding failed."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        # JSONDecodeError counts lines by "\n" only, so split the same way to show the right one
        lines = text.split("\n")
        lineno = min(max(e.lineno, 1), len(lines))
        line = lines[lineno - 1].rstrip("\r")
        raise ParseError(kind, f"not JSON ({e.msg})", line, lineno) from e
    except (ValueError, RecursionError) as e:
        raise ParseError(kind, f"not JSON ({e.__class__.__name__})") from e


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def state_from_status(status: str) -> tuple[str | None, int | None, str | None]:
    """(state, exit_code, health) read from docker's Status text; None where it tells nothing."""
    health_match = _HEALTH.search(status)
    health = health_match.group(1).removeprefix("health: ") if health_match else None
    if status.startswith("Up ") or status == "Up":
        return ("paused" if status.endswith("(Paused)") else "running"), None, health
    if exited := _EXITED.match(status):
        return "exited", int(exited.group(1)), None
    if restarting := _RESTARTING.match(status):
        return "restarting", int(restarting.group(1)), None
    simple = {"Created": "created", "Removal In Progress": "removing", "Dead": "dead"}
    return simple.get(status.strip()), None, None


def port_mappings(
    protocol: str,
    container_port: int,
    container_port_end: int,
    host_ip: str | None,
    host_port: int | None,
    host_port_end: int | None,
) -> list[PortMapping]:
    """One PortMapping per port of a range, or a single range mapping if it is wide.

    Raises ValueError on ports outside 0-65535, reversed ranges or ranges of unequal length.
    """
    ports = [container_port, container_port_end, host_port, host_port_end]
    if any(port is not None and not 0 <= port <= 65535 for port in ports):
        raise ValueError("port out of range")
    count = container_port_end - container_port + 1
    if count < 1:
        raise ValueError("reversed port range")
    if host_port is not None:
        host_end = host_port if host_port_end is None else host_port_end
        if host_end - host_port + 1 != count:
            raise ValueError("host and container port ranges differ in length")
    if count > MAX_EXPANDED_PORTS:
        return [
            PortMapping(
                container_port,
                protocol,
                host_ip,
                host_port,
                container_port_end,
                None if host_port is None else host_port + count - 1,
            )
        ]
    return [
        PortMapping(
            container_port + i, protocol, host_ip, None if host_port is None else host_port + i
        )
        for i in range(count)
    ]


def parse_ports(text: str) -> list[PortMapping]:
    """Docker's Ports column, e.g. ``0.0.0.0:8080->80/tcp, :::8080->80/tcp, 443/tcp``.

    Hosts are IPv4, old IPv6 (``:::8080``) or bracketed IPv6 (``[::]:8080``). Raises ValueError.
    """
    mappings: list[PortMapping] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        match = _PORT.fullmatch(entry)
        if match is None:
            raise ValueError(f"not a port mapping: {entry[:60]!r}")
        host = match.group("host")
        if host is not None and host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        cp = int(match.group("cp"))
        hp = match.group("hp")
        hpe = match.group("hpe")
        mappings += port_mappings(
            match.group("proto"),
            cp,
            int(match.group("cpe") or cp),
            host or None,
            None if hp is None else int(hp),
            None if hpe is None else int(hpe),
        )
    return mappings


def parse_labels(text: str) -> dict[str, str]:
    """Docker's Labels column: ``k=v`` pairs joined by commas, the first ``=`` ending the key.

    Docker does not escape commas inside values, so a piece without ``=`` is taken as the rest of
    the previous value (``config_files=/a.yml,/b.yml`` stays whole); a value that itself holds
    ``,x=y`` cannot be told apart from two labels and is read as two. ``docker inspect`` has
    the exact labels.
    """
    labels: dict[str, str] = {}
    key: str | None = None
    if not text:
        return labels
    for piece in text.split(","):
        if "=" not in piece and key is not None:
            labels[key] += "," + piece
            continue
        key, _, value = piece.partition("=")
        labels[key] = value
    return labels


def parse_go_time(text: str) -> dt.datetime:
    """``2024-03-05 10:12:45 +0100 CET`` as an aware UTC datetime (a fraction of a second is
    cut to microseconds). Raises ValueError."""
    match = _GO_TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a time: {text[:60]!r}")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    offset = dt.timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    local = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        int((fraction or "0")[:6].ljust(6, "0")),
        tzinfo=dt.timezone(offset),
    )
    try:
        return local.astimezone(dt.UTC)
    except OverflowError as e:
        raise ValueError("time out of range") from e


def _field(obj: dict[str, Any], key: str, line: str, lineno: int, required: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise ParseError(DOCKER_PS_KIND, f"no {key}", line, lineno)
        return ""
    if not isinstance(value, str):
        raise ParseError(DOCKER_PS_KIND, f"{key} is not a string", line, lineno)
    if required and not value.strip():
        raise ParseError(DOCKER_PS_KIND, f"empty {key}", line, lineno)
    return value


def _names(value: str, line: str, lineno: int) -> tuple[str, list[str]]:
    names = [name.strip().lstrip("/") for name in value.split(",") if name.strip().lstrip("/")]
    if not names:
        raise ParseError(DOCKER_PS_KIND, "empty Names", line, lineno)
    # Link aliases look like "other/alias"; the container's own name is the one without "/".
    own = next((name for name in names if "/" not in name), names[0])
    return own, names


def _command(value: str) -> str | None:
    # Docker prints the command Go-quoted ("\"nginx -g …\""); JSON string escapes cover what
    # Go's strconv.Quote produces for printable text, else the outer quotes are just dropped.
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = value[1:-1]
        value = decoded if isinstance(decoded, str) else value[1:-1]
    return value or None


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _container(obj: dict[str, Any], line: str, lineno: int) -> PsContainer:
    def text(key: str, required: bool = False) -> str:
        return _field(obj, key, line, lineno, required)

    name, names = _names(text("Names", required=True), line, lineno)
    status = text("Status")
    derived_state, exit_code, health = state_from_status(status)
    state = text("State").strip().lower()
    if state not in STATES:
        state = derived_state or ""
    raw_labels = obj.get("Labels")
    try:
        if isinstance(raw_labels, dict) and all(isinstance(v, str) for v in raw_labels.values()):
            labels = dict(raw_labels)  # a future docker may print an object
        else:
            labels = parse_labels(text("Labels"))
        ports = parse_ports(text("Ports"))
        created = text("CreatedAt")
        created_at = parse_go_time(created) if created.strip() else None
    except ValueError as e:
        raise ParseError(DOCKER_PS_KIND, str(e), line, lineno) from e
    return PsContainer(
        id=text("ID", required=True).strip(),
        name=name,
        names=names,
        image=text("Image", required=True).strip(),
        command=_command(text("Command")),
        state=state or None,
        status=status,
        exit_code=exit_code,
        health=health,
        ports=ports,
        labels=labels,
        compose_project=labels.get(COMPOSE_PROJECT_LABEL) or None,
        compose_service=labels.get(COMPOSE_SERVICE_LABEL) or None,
        created_at=created_at,
        mounts=_list(text("Mounts")),
        networks=_list(text("Networks")),
    )


def parse_docker_ps(text: str) -> list[PsContainer]:
    """Parse ``docker ps -a --no-trunc --format '{{json .}}'``; empty output means no containers.

    Without a State field (docker before 20.10) the state is read from the Status text, as are
    the exit code and the health. A line that is not a JSON object with ID, Names and Image is a
    ParseError naming that line.
    """
    containers: list[PsContainer] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as e:
            raise ParseError(DOCKER_PS_KIND, "not a JSON object", line, lineno) from e
        if not isinstance(obj, dict):
            raise ParseError(DOCKER_PS_KIND, "not a JSON object", line, lineno)
        containers.append(_container(obj, line, lineno))
    return containers
