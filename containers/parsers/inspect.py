"""Parser for ``docker inspect ID...``: a JSON array with one object per container.

Only what monitoring needs is kept: state and health, restart policy, mounts, networks, published
ports, labels. Environment variables often hold secrets: only their number is kept, never a value.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass
from typing import Any

from collectors.parsing import ParseError
from containers.parsers.ps import (
    COMPOSE_CONFIG_FILES_LABEL,
    COMPOSE_PROJECT_LABEL,
    COMPOSE_SERVICE_LABEL,
    PortMapping,
    load_json,
    port_mappings,
)

DOCKER_INSPECT_KIND = "docker-inspect"

HEALTH_OUTPUT_MAX_CHARS = 500

# RFC 3339 with up to nanoseconds, as Go marshals time.Time.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
_PORT_KEY = re.compile(r"([0-9]{1,5})/([a-z]+)")
_PORT_NUMBER = re.compile(r"[0-9]{1,5}")
# The exit code of a container that has not stopped yet means nothing (docker reports 0).
_NO_EXIT_CODE_STATES = frozenset({"created", "running", "paused"})


@dataclass(frozen=True, slots=True)
class Mount:
    """A volume, bind mount or tmpfs in a container; ``name`` is the volume's name."""

    type: str | None
    name: str | None
    source: str | None
    destination: str
    mode: str | None
    rw: bool | None


@dataclass(frozen=True, slots=True)
class Network:
    """A network a container is attached to, with its address there (None when it has none)."""

    name: str
    ip_address: str | None
    gateway: str | None
    mac_address: str | None


@dataclass(frozen=True, slots=True)
class InspectContainer:
    """One container from ``docker inspect``.

    ``exit_code`` is None while the container is created, running or paused. ``env_count`` is
    the number of environment variables: their values are never read.
    """

    id: str
    name: str
    image: str | None
    image_id: str | None
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    state: str | None
    running: bool
    paused: bool
    restarting: bool
    oom_killed: bool
    exit_code: int | None
    pid: int | None
    error: str | None
    health: str | None
    health_failing_streak: int | None
    health_last_output: str | None
    restart_count: int | None
    restart_policy: str | None
    restart_policy_max_retries: int | None
    mounts: list[Mount]
    networks: list[Network]
    ports: list[PortMapping]
    labels: dict[str, str]
    compose_project: str | None
    compose_service: str | None
    compose_config_files: list[str]
    env_count: int
    cmd: str | None


class _Object:
    """Typed reads from one JSON object; a wrong type is a ParseError saying where."""

    def __init__(self, data: Any, where: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ParseError(DOCKER_INSPECT_KIND, f"{where} is not an object")
        self.data: dict[str, Any] = data
        self.where = where

    def _typed(self, key: str, kind: type, name: str) -> Any:
        value = self.data.get(key)
        if value is None:
            return None
        # bool is an int subclass: True is not an exit code
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ParseError(DOCKER_INSPECT_KIND, f"{self.where}.{key} is not {name}")
        return value

    def text(self, key: str) -> str | None:
        """A string, None when absent or empty."""
        value: str | None = self._typed(key, str, "a string")
        return value or None

    def number(self, key: str) -> int | None:
        value: int | None = self._typed(key, int, "an integer")
        return value

    def flag(self, key: str) -> bool | None:
        value: bool | None = self._typed(key, bool, "a boolean")
        return value

    def items(self, key: str) -> list[Any]:
        value: list[Any] | None = self._typed(key, list, "a list")
        return value or []

    def child(self, key: str) -> _Object:
        return _Object(self.data.get(key), f"{self.where}.{key}")

    def time(self, key: str) -> dt.datetime | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return parse_rfc3339(value)
        except ValueError as e:
            raise ParseError(DOCKER_INSPECT_KIND, f"{self.where}.{key}: {e}") from e


def parse_rfc3339(text: str) -> dt.datetime | None:
    """``2022-03-21T05:23:13.178761971Z`` as an aware UTC datetime, nanoseconds truncated to
    microseconds; docker's zero time (year 1) is None. Raises ValueError."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text[:60]!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if int(year) <= 1:
        return None
    tz = dt.UTC
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    moment = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        int((fraction or "0")[:6].ljust(6, "0")),
        tzinfo=tz,
    )
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as e:
        raise ValueError("time out of range") from e


def _labels(config: _Object) -> dict[str, str]:
    labels = config.child("Labels").data
    if not all(isinstance(value, str) for value in labels.values()):
        raise ParseError(DOCKER_INSPECT_KIND, f"{config.where}.Labels has a non-string value")
    return dict(labels)


def _ports(settings: _Object) -> list[PortMapping]:
    ports = settings.child("Ports")
    # (protocol, container port, host ip, host port) of every binding, unbound ones included
    bindings: set[tuple[str, int, str | None, int | None]] = set()
    for key in ports.data:
        match = _PORT_KEY.fullmatch(key)
        if match is None:
            raise ParseError(DOCKER_INSPECT_KIND, f"{ports.where}: bad port {key[:40]!r}")
        container_port, protocol = int(match.group(1)), match.group(2)
        hosts = ports.items(key)
        if not hosts:
            bindings.add((protocol, container_port, None, None))
        for i, host in enumerate(hosts):
            binding = _Object(host, f"{ports.where}[{key!r}][{i}]")
            host_port = binding.text("HostPort")
            if host_port is not None and not _PORT_NUMBER.fullmatch(host_port):
                raise ParseError(DOCKER_INSPECT_KIND, f"{binding.where}: bad HostPort")
            host_number = None if host_port is None else int(host_port)
            bindings.add((protocol, container_port, binding.text("HostIp"), host_number))
    return _runs_to_mappings(bindings, ports.where)


def _runs_to_mappings(
    bindings: set[tuple[str, int, str | None, int | None]], where: str
) -> list[PortMapping]:
    """Inspect lists every port of a published range: join runs of consecutive ports so a wide
    range becomes one mapping, exactly as from ``docker ps``'s Ports column."""

    def run_key(b: tuple[str, int, str | None, int | None]) -> tuple[Any, ...]:
        protocol, port, ip, host = b
        return (protocol, ip or "", host is None, 0 if host is None else host - port, port)

    mappings: list[PortMapping] = []
    run: list[tuple[str, int, str | None, int | None]] = []
    for binding in [*sorted(bindings, key=run_key), None]:
        if binding is not None and run:
            last = run[-1]
            if run_key(binding)[:4] == run_key(last)[:4] and binding[1] == last[1] + 1:
                run.append(binding)
                continue
        if run:
            protocol, first_port, ip, first_host = run[0]
            try:
                mappings += port_mappings(
                    protocol, first_port, run[-1][1], ip, first_host, run[-1][3]
                )
            except ValueError as e:
                raise ParseError(DOCKER_INSPECT_KIND, f"{where}: {e}") from e
        run = [] if binding is None else [binding]
    mappings.sort(key=lambda m: (m.container_port, m.protocol, m.host_ip or "", m.host_port or -1))
    return mappings


def _mounts(item: _Object) -> list[Mount]:
    mounts: list[Mount] = []
    for i, raw in enumerate(item.items("Mounts")):
        mount = _Object(raw, f"{item.where}.Mounts[{i}]")
        destination = mount.text("Destination")
        if destination is None:
            raise ParseError(DOCKER_INSPECT_KIND, f"{mount.where} has no Destination")
        rw = mount.flag("RW")
        mounts.append(
            Mount(
                type=mount.text("Type"),
                name=mount.text("Name"),
                source=mount.text("Source"),
                destination=destination,
                mode=mount.text("Mode"),
                rw=rw,
            )
        )
    return mounts


def _networks(settings: _Object) -> list[Network]:
    networks = settings.child("Networks")
    found: list[Network] = []
    for name in networks.data:
        network = networks.child(name)
        found.append(
            Network(
                name=name,
                ip_address=network.text("IPAddress"),
                gateway=network.text("Gateway"),
                mac_address=network.text("MacAddress"),
            )
        )
    return found


def _cmd(config: _Object) -> str | None:
    value = config.data.get("Cmd")
    if isinstance(value, str):  # very old docker stored a plain string
        return value or None
    parts = config.items("Cmd")
    if not all(isinstance(part, str) for part in parts):
        raise ParseError(DOCKER_INSPECT_KIND, f"{config.where}.Cmd has a non-string entry")
    return shlex.join(parts) or None


def _health_last_output(health: _Object) -> str | None:
    log = health.items("Log")
    if not log:
        return None
    output = _Object(log[-1], f"{health.where}.Log[-1]").text("Output") or ""
    return output.strip()[:HEALTH_OUTPUT_MAX_CHARS].rstrip() or None


def _container(raw: Any, index: int) -> InspectContainer:
    item = _Object(raw, f"[{index}]")
    container_id = item.text("Id")
    if container_id is None:
        raise ParseError(DOCKER_INSPECT_KIND, f"{item.where} has no Id")
    item.where = f"[{index}] ({container_id[:12]})"
    if not isinstance(item.data.get("State"), dict):
        raise ParseError(DOCKER_INSPECT_KIND, f"{item.where} is not a container (no State)")
    state, config, host = item.child("State"), item.child("Config"), item.child("HostConfig")
    settings = item.child("NetworkSettings")
    health = state.child("Health")
    policy = host.child("RestartPolicy")
    status = (state.text("Status") or "").lower() or None
    pid = state.number("Pid")
    labels = _labels(config)
    config_files = labels.get(COMPOSE_CONFIG_FILES_LABEL, "")
    return InspectContainer(
        id=container_id,
        name=(item.text("Name") or "").lstrip("/"),
        image=config.text("Image"),
        image_id=item.text("Image"),
        created_at=item.time("Created"),
        started_at=state.time("StartedAt"),
        finished_at=state.time("FinishedAt"),
        state=status,
        running=bool(state.flag("Running")),
        paused=bool(state.flag("Paused")),
        restarting=bool(state.flag("Restarting")),
        oom_killed=bool(state.flag("OOMKilled")),
        exit_code=None if status in _NO_EXIT_CODE_STATES else state.number("ExitCode"),
        pid=pid or None,
        error=state.text("Error"),
        health=health.text("Status") if health.text("Status") != "none" else None,
        health_failing_streak=health.number("FailingStreak") if health.data else None,
        health_last_output=_health_last_output(health),
        restart_count=item.number("RestartCount"),
        restart_policy=policy.text("Name"),
        restart_policy_max_retries=policy.number("MaximumRetryCount"),
        mounts=_mounts(item),
        networks=_networks(settings),
        ports=_ports(settings),
        labels=labels,
        compose_project=labels.get(COMPOSE_PROJECT_LABEL) or None,
        compose_service=labels.get(COMPOSE_SERVICE_LABEL) or None,
        compose_config_files=[path.strip() for path in config_files.split(",") if path.strip()],
        env_count=len(config.items("Env")),
        cmd=_cmd(config),
    )


def parse_docker_inspect(text: str) -> list[InspectContainer]:
    """Parse ``docker inspect ID...``: a JSON array of containers (``[]`` is valid).

    Anything else (empty output, a JSON object, images or networks instead of containers) is a
    ParseError.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(DOCKER_INSPECT_KIND, "empty output")
    document = load_json(DOCKER_INSPECT_KIND, text)
    if not isinstance(document, list):
        lineno, line = lines[0]
        raise ParseError(DOCKER_INSPECT_KIND, "expected a JSON array", line, lineno)
    return [_container(raw, index) for index, raw in enumerate(document)]
