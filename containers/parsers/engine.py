"""Parsers for the Docker engine's own reports: ``docker info``, ``docker version`` and
``docker system df``.

Each reads the ``--format '{{json .}}'`` output and the plain text a person (or an old CLI) prints.
A daemon the CLI cannot reach (socket permission, daemon down) is a state worth recording, not a
parse failure: ``docker info`` and ``docker version`` put its message in ``server_errors``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from collectors.parsing import ParseError
from containers.units import UnitError, parse_percent, parse_size

DOCKER_INFO_KIND = "docker-info"
DOCKER_VERSION_KIND = "docker-version"
DOCKER_DF_KIND = "docker-df"

_UINT = re.compile(r"[0-9]{1,19}")
_PREFIX = re.compile(r"^(ERROR|WARNING):")
_SECTION = re.compile(r"(Client|Server):(?:\s+(.*))?")
_KEY_LINE = re.compile(r"([^:]+?):(?:\s+(.*))?")
# What the CLI prints, without an ERROR: prefix, when it cannot talk to the daemon (old CLIs print
# only this for `docker info`; newer ones print it to stderr after a JSON document).
_DAEMON_ERROR = re.compile(
    r"Cannot connect to the Docker daemon|(Got )?permission denied while trying to connect"
    r"|Error response from daemon:|error during connect:|failed to connect to the docker API",
    re.IGNORECASE,
)
_API_VERSION = re.compile(r"(\S+)(?:\s+\(minimum version ([^\s)]+)\))?")
_DF_HEADER = re.compile(r"TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE")
_RECLAIMABLE = re.compile(r"(.*?)\s*\(([^()]*)\)")
_CELL_GAP = re.compile(r"\s{2,}")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class DockerInfo:
    """The engine as ``docker info`` describes it. The server's fields are None when the daemon
    did not answer, with its message in ``server_errors`` (messages lose their ERROR: prefix)."""

    server_version: str | None
    client_version: str | None
    os: str | None
    os_type: str | None
    kernel_version: str | None
    architecture: str | None
    cpus: int | None
    mem_total_bytes: int | None
    storage_driver: str | None
    logging_driver: str | None
    cgroup_driver: str | None
    cgroup_version: str | None
    docker_root_dir: str | None
    containers: int | None
    containers_running: int | None
    containers_paused: int | None
    containers_stopped: int | None
    images: int | None
    swarm_state: str | None
    server_errors: list[str]
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class DockerVersion:
    """Client and server versions from ``docker version``.

    ``os``, ``arch`` and ``kernel_version`` are the server's (the host's); the plain text has no
    kernel version. ``components`` maps containerd, runc, docker-init... to their versions.
    """

    client_version: str | None
    client_api_version: str | None
    server_version: str | None
    server_api_version: str | None
    server_min_api_version: str | None
    os: str | None
    arch: str | None
    kernel_version: str | None
    platform: str | None
    components: dict[str, str]
    server_errors: list[str]


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """One row of ``docker system df``: Images, Containers, Local Volumes or Build Cache."""

    type: str
    total: int
    active: int
    size_bytes: int | None
    reclaimable_bytes: int | None
    reclaimable_pct: float | None


def _uint(kind: str, token: str, line: str | None, lineno: int | None) -> int:
    if not _UINT.fullmatch(token):
        raise ParseError(kind, f"expected a non-negative integer, got {token[:40]!r}", line, lineno)
    return int(token)


def _message(text: str) -> str:
    return " ".join(_PREFIX.sub("", text).split())


@dataclass
class _Section:
    """A ``Client:`` or ``Server:`` block of plain text: entries by key path, e.g.
    ``("Containers", "Running")``, as (value, line, lineno). ``header`` is None if absent."""

    header: str | None = None
    entries: dict[tuple[str, ...], tuple[str, str, int]] = field(default_factory=dict)
    stack: list[tuple[int, str]] = field(default_factory=list)

    def add(self, kind: str, indent: int, line: str, lineno: int) -> None:
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()
        match = _KEY_LINE.fullmatch(line.strip())
        if match is None:
            if not self.stack:
                raise ParseError(kind, "expected 'Key: value'", line, lineno)
            return  # a list item: a CDI directory, a security option, a label...
        path = (*(key for _, key in self.stack), match[1])
        self.entries.setdefault(path, (match[2] or "", line, lineno))
        self.stack.append((indent, match[1]))

    def text(self, *path: str) -> str | None:
        return self.entries.get(path, ("", "", 0))[0] or None

    def count(self, kind: str, *path: str) -> int | None:
        value, line, lineno = self.entries.get(path, ("", "", 0))
        return _uint(kind, value, line, lineno) if value else None


@dataclass
class _Report:
    client: _Section = field(default_factory=_Section)
    server: _Section = field(default_factory=_Section)
    server_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read_text(kind: str, text: str) -> _Report:
    """The indented ``Key: value`` tree that ``docker info`` and ``docker version`` print."""
    if not text.strip():
        raise ParseError(kind, "empty output")
    report = _Report()
    section: _Section | None = None
    message: list[str] | None = None  # the messages an indented line would continue
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped:
            message = None
            continue
        if indent and message is not None:
            # Daemon warnings wrap onto indented lines ("WARNING: API is accessible on ...").
            message[-1] = f"{message[-1]} {stripped}"
            continue
        message = None
        if indent == 0:
            header = _SECTION.fullmatch(stripped)
            if header is not None:
                section = report.client if header[1] == "Client" else report.server
                if section.header is not None or report.server.header is not None:
                    raise ParseError(kind, f"unexpected {header[1]} section", line, lineno)
                section.header = header[2] or ""
                continue
            if stripped.startswith(("ERROR:", "WARNING:")) or _DAEMON_ERROR.match(stripped):
                # The CLI's own errors (plugins...) print before "Server:": not the daemon's.
                own = stripped.startswith("ERROR:") and section is report.client
                client = own or stripped.startswith("WARNING:")
                message = report.warnings if client else report.server_errors
                message.append(_message(stripped))
                continue
            if stripped == "errors pretty printing info":  # the CLI's exit message
                continue
            if section is None:  # before Docker 19.03, `docker info` had no sections
                if not stripped.startswith("Containers:"):
                    raise ParseError(kind, "expected a Client: or Server: section", line, lineno)
                section = report.server
                section.header = ""
        if section is None:
            raise ParseError(kind, "indented line outside a section", line, lineno)
        section.add(kind, indent, line, lineno)
    return report


def _json_object(kind: str, text: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON object the text starts with, and daemon errors printed (to stderr) after it."""
    start = len(text) - len(text.lstrip())
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as e:
        line = text.split("\n")[e.lineno - 1]
        raise ParseError(kind, f"invalid JSON: {e.msg}", line, e.lineno) from e
    except (ValueError, RecursionError) as e:
        raise ParseError(kind, f"unreadable JSON: {str(e)[:80]}") from e
    if not isinstance(value, dict):
        raise ParseError(kind, f"expected a JSON object, got {type(value).__name__}")
    trailing = [_message(line) for line in text[end:].splitlines() if line.strip()]
    if (other := next((t for t in trailing if not _DAEMON_ERROR.match(t)), None)) is not None:
        raise ParseError(kind, "unexpected text after the JSON", other)
    return value, trailing


def _jstr(kind: str, obj: dict[str, Any], *keys: str) -> str | None:
    """The first non-empty string among ``keys`` (docker spells a few two ways)."""
    for key in keys:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise ParseError(kind, f"{key} is not a string")
        if value:
            return value
    return None


def _jget(kind: str, obj: dict[str, Any], key: str, expected: type[_T]) -> _T | None:
    value = obj.get(key)
    # bool is an int to Python, never to docker.
    if value is not None and (not isinstance(value, expected) or isinstance(value, bool)):
        raise ParseError(kind, f"{key} is not a JSON {expected.__name__}")
    return value


def _jmessages(kind: str, obj: dict[str, Any], key: str) -> list[str]:
    items = _jget(kind, obj, key, list) or []
    if not all(isinstance(item, str) for item in items):
        raise ParseError(kind, f"{key} is not a list of strings")
    return [message for item in items if (message := _message(item))]


# DockerInfo fields read the same way from both outputs: (JSON key, plain-text key path).
_INFO_FIELDS = {
    "server_version": ("ServerVersion", ("Server Version",)),
    "os": ("OperatingSystem", ("Operating System",)),
    "os_type": ("OSType", ("OSType",)),
    "kernel_version": ("KernelVersion", ("Kernel Version",)),
    "architecture": ("Architecture", ("Architecture",)),
    "storage_driver": ("Driver", ("Storage Driver",)),
    "logging_driver": ("LoggingDriver", ("Logging Driver",)),
    "cgroup_driver": ("CgroupDriver", ("Cgroup Driver",)),
    "cgroup_version": ("CgroupVersion", ("Cgroup Version",)),
    "docker_root_dir": ("DockerRootDir", ("Docker Root Dir",)),
    "cpus": ("NCPU", ("CPUs",)),
    "containers": ("Containers", ("Containers",)),
    "containers_running": ("ContainersRunning", ("Containers", "Running")),
    "containers_paused": ("ContainersPaused", ("Containers", "Paused")),
    "containers_stopped": ("ContainersStopped", ("Containers", "Stopped")),
    "images": ("Images", ("Images",)),
}
_INFO_COUNTS = frozenset({"cpus", "containers", "containers_running", "containers_paused",
                          "containers_stopped", "images"})  # fmt: skip


def parse_docker_info(text: str) -> DockerInfo:
    """Parse ``docker info --format '{{json .}}'`` or the plain ``docker info``.

    A ``Server:`` section holding only an error (no permission on the socket, daemon down) gives
    a DockerInfo with the server fields None and the message in ``server_errors``.
    """
    kind = DOCKER_INFO_KIND
    if text.lstrip().startswith("{"):
        return _info_from_json(kind, text)
    report = _read_text(kind, text)
    server = report.server
    if server.text("Server Version") is None and not report.server_errors:
        raise ParseError(kind, "no Server section with a Server Version")
    memory, line, lineno = server.entries.get(("Total Memory",), ("", "", 0))
    try:
        mem_total = parse_size(memory) if memory else None
    except UnitError as e:
        raise ParseError(kind, str(e), line, lineno) from e
    fields: dict[str, Any] = {
        name: server.count(kind, *path) if name in _INFO_COUNTS else server.text(*path)
        for name, (_, path) in _INFO_FIELDS.items()
    }
    return DockerInfo(
        **fields,
        client_version=report.client.text("Version"),
        mem_total_bytes=mem_total,
        swarm_state=server.text("Swarm"),
        server_errors=report.server_errors,
        warnings=report.warnings,
    )


def _info_from_json(kind: str, text: str) -> DockerInfo:
    info, trailing = _json_object(kind, text)
    errors = _jmessages(kind, info, "ServerErrors")
    errors += [error for error in trailing if error not in errors]
    answered = _jstr(kind, info, "ServerVersion") is not None
    if not answered and not errors:
        raise ParseError(kind, "neither ServerVersion nor ServerErrors in the JSON")
    client = _jget(kind, info, "ClientInfo", dict) or {}
    # With a custom --format the CLI still renders an all-zero Info when the daemon failed:
    # those zeros are not counts.
    fields: dict[str, Any] = {
        name: _jstr(kind, info, key) if name not in _INFO_COUNTS else _jget(kind, info, key, int)
        for name, (key, _) in _INFO_FIELDS.items()
    }
    if not answered:
        fields.update(dict.fromkeys(_INFO_COUNTS))
    return DockerInfo(
        **fields,
        mem_total_bytes=_jget(kind, info, "MemTotal", int) if answered else None,
        client_version=_jstr(kind, client, "Version"),
        swarm_state=_jstr(kind, _jget(kind, info, "Swarm", dict) or {}, "LocalNodeState"),
        server_errors=errors,
        warnings=[
            *_jmessages(kind, info, "ClientErrors"),
            *_jmessages(kind, client, "Warnings"),
            *_jmessages(kind, info, "Warnings"),
        ],
    )


def parse_docker_version(text: str) -> DockerVersion:
    """Parse ``docker version --format '{{json .}}'`` or the plain ``docker version``.

    Without a server (daemon unreachable) the server fields are None, with the CLI's message in
    ``server_errors`` when it was captured.
    """
    kind = DOCKER_VERSION_KIND
    if text.lstrip().startswith("{"):
        return _version_from_json(kind, text)
    report = _read_text(kind, text)
    client, server = report.client, report.server
    if client.text("Version") is None:
        raise ParseError(kind, "no Client section with a Version")
    # Since 17.06 the engine is one of the server's components, in a subsection of its own.
    engine = ("Engine",) if ("Engine",) in server.entries else ()
    if server.header is not None and server.text(*engine, "Version") is None:
        raise ParseError(kind, "Server section without a Version")
    api = _API_VERSION.match(server.text(*engine, "API version") or "")
    os_name, _, arch = (server.text(*engine, "OS/Arch") or "").partition("/")
    components = {
        path[0]: value
        for path, (value, _, _) in server.entries.items()
        if len(path) == 2 and path[1] == "Version" and path[0] != "Engine" and value
    }
    return DockerVersion(
        client_version=client.text("Version"),
        client_api_version=(client.text("API version") or "").partition(" ")[0] or None,
        server_version=server.text(*engine, "Version"),
        server_api_version=api[1] if api else None,
        server_min_api_version=api[2] if api else None,
        os=os_name or None,
        arch=arch or None,
        kernel_version=None,
        platform=server.header or None,
        components=components,
        server_errors=report.server_errors,
    )


def _version_from_json(kind: str, text: str) -> DockerVersion:
    doc, trailing = _json_object(kind, text)
    client = _jget(kind, doc, "Client", dict) or {}
    if _jstr(kind, client, "Version") is None:
        raise ParseError(kind, "no Client.Version in the JSON")
    server = _jget(kind, doc, "Server", dict) or {}  # null when the daemon did not answer
    engine: dict[str, Any] = {}
    components: dict[str, str] = {}
    for item in _jget(kind, server, "Components", list) or []:
        if not isinstance(item, dict):
            raise ParseError(kind, "a Server.Components item is not an object")
        name, version = _jstr(kind, item, "Name"), _jstr(kind, item, "Version")
        if name == "Engine":
            engine = {**(_jget(kind, item, "Details", dict) or {}), "Version": version}
        elif name is not None and version is not None:
            components[name] = version
    # Some servers leave the top-level fields empty and fill only the Engine component's.
    merged = {**engine, **{key: value for key, value in server.items() if value}}
    if server and _jstr(kind, merged, "Version") is None:
        raise ParseError(kind, "Server without a Version in the JSON")
    return DockerVersion(
        client_version=_jstr(kind, client, "Version"),
        client_api_version=_jstr(kind, client, "ApiVersion", "APIVersion"),
        server_version=_jstr(kind, merged, "Version"),
        server_api_version=_jstr(kind, merged, "ApiVersion", "APIVersion"),
        server_min_api_version=_jstr(kind, merged, "MinAPIVersion", "MinApiVersion"),
        os=_jstr(kind, merged, "Os"),
        arch=_jstr(kind, merged, "Arch"),
        kernel_version=_jstr(kind, merged, "KernelVersion"),
        platform=_jstr(kind, _jget(kind, server, "Platform", dict) or {}, "Name"),
        components=components,
        server_errors=trailing,
    )


def parse_docker_system_df(text: str) -> list[DiskUsage]:
    """Parse ``docker system df --format '{{json .}}'`` (a JSON object per line) or its table.

    Sizes are SI as docker prints them (``2.498GB``, and ``16.43 MB`` in old versions); a
    reclaimable size may lack its percentage (Build Cache).
    """
    kind = DOCKER_DF_KIND
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ParseError(kind, "empty output")
    first_lineno, first = lines[0]
    json_rows = first.lstrip().startswith("{")
    if not json_rows and (len(lines) == 1 or not _DF_HEADER.fullmatch(first.strip())):
        raise ParseError(kind, "expected JSON or a table with its header", first, first_lineno)
    rows = []
    for lineno, line in lines if json_rows else lines[1:]:
        # Table cells are padded by 2+ spaces; "Local Volumes" and "16.43 MB" hold one.
        cells = _df_json_cells(kind, line, lineno) if json_rows else _CELL_GAP.split(line.strip())
        if len(cells) != 5:
            raise ParseError(kind, f"expected 5 columns, got {len(cells)}", line, lineno)
        rows.append(_disk_usage(kind, cells, line, lineno))
    return rows


def _df_json_cells(kind: str, line: str, lineno: int) -> list[str]:
    try:
        row = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise ParseError(kind, "invalid JSON", line, lineno) from e
    keys = ("Type", "TotalCount", "Active", "Size", "Reclaimable")
    cells: list[Any] = [row.get(key) for key in keys] if isinstance(row, dict) else []
    if len(cells) != len(keys) or not all(isinstance(cell, str) and cell for cell in cells):
        raise ParseError(kind, f"expected non-empty strings {', '.join(keys)}", line, lineno)
    return cells


def _disk_usage(kind: str, cells: list[str], line: str, lineno: int) -> DiskUsage:
    type_, total, active, size, reclaimable = (cell.strip() for cell in cells)
    match = _RECLAIMABLE.fullmatch(reclaimable)
    amount, percent = (match[1], match[2]) if match else (reclaimable, None)
    try:
        return DiskUsage(
            type=type_,
            total=_uint(kind, total, line, lineno),
            active=_uint(kind, active, line, lineno),
            size_bytes=parse_size(size),
            reclaimable_bytes=parse_size(amount),
            reclaimable_pct=parse_percent(percent) if percent is not None else None,
        )
    except UnitError as e:
        raise ParseError(kind, str(e), line, lineno) from e
