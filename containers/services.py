"""Container actions and on-demand reads. The API, the admin and (later) MCP all call these.

Every value that reaches the remote shell is validated against a strict pattern here, then
shlex-quoted, and container names go after `--` so nothing can pose as an option.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from collectors.engine import collect
from collectors.models import Trigger
from collectors.operations import OperationOutput, run_operation
from collectors.parsing import ParseError, to_jsonable
from collectors.tasks import enqueue_collection
from containers.models import Container, ContainerState
from containers.parsers import parse_docker_inspect

# docker's own rule for names, plus hex ids.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
# docker logs --since: Unix time, RFC 3339, or a Go duration like 10m / 1h30m.
_SINCE = re.compile(
    r"^(\d{1,10}(\.\d{1,9})?"
    r"|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?"
    r"|(\d{1,5}(h|m|s|ms)){1,4})$"
)
MAX_TAIL = 10_000
ACTIONS = ("start", "stop", "restart")
RECOLLECT_KINDS = ["docker-ps", "docker-inspect", "docker-stats"]


class InvalidInput(ValueError):
    """A value that must never reach a remote shell. `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def validated_name(container: Container) -> str:
    if not _NAME.match(container.name):
        raise InvalidInput("name", f"container name {container.name!r} is not a valid docker name")
    return container.name


def validated_tail(value: int | str | None) -> int:
    if value is None or value == "":
        return 200
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= MAX_TAIL:
        raise InvalidInput("tail", f"tail must be a whole number from 1 to {MAX_TAIL}")
    return int(text)


def validated_since(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _SINCE.match(value):
        raise InvalidInput(
            "since", "since must be a Unix time, an RFC 3339 time or a duration like 10m or 1h30m"
        )
    return value


def validated_grep(value: str | None) -> str | None:
    """A plain substring, applied here (never sent to the device)."""
    if value is None or value == "":
        return None
    if len(value) > 200 or "\n" in value or "\x00" in value:
        raise InvalidInput("grep", "grep must be one line of at most 200 characters")
    return value


@dataclass(frozen=True)
class ActionResult:
    output: OperationOutput
    container: Container


def container_action(
    container: Container, action: str, *, actor: str, trigger: str = Trigger.API
) -> ActionResult:
    """Start, stop or restart a container, audited, then collect its new state."""
    if action not in ACTIONS:
        raise InvalidInput("action", f"action must be one of {', '.join(ACTIONS)}")
    if container.state == ContainerState.REMOVED:
        raise InvalidInput("container", f"{container.name} no longer exists on the device")
    name = validated_name(container)
    device = container.device
    command = f"docker {action} -- {shlex.quote(name)}"
    output = run_operation(
        device, action=f"container.{action}", target=name, command=command, actor=actor,
        trigger=trigger,
    )  # fmt: skip
    _recollect(container, actor=actor, trigger=trigger)
    container.refresh_from_db()
    return ActionResult(output, container)


def remove_container(
    container: Container, *, actor: str, trigger: str = Trigger.API
) -> ActionResult:
    """`docker rm` (stopped containers only: no --force). Off unless CONTAINER_REMOVE_ENABLED."""
    if not settings.CONTAINER_REMOVE_ENABLED:
        raise PermissionError("removing containers is switched off (CONTAINER_REMOVE_ENABLED)")
    name = validated_name(container)
    output = run_operation(
        container.device, action="container.remove", target=name,
        command=f"docker rm -- {shlex.quote(name)}", actor=actor, trigger=trigger,
    )  # fmt: skip
    _recollect(container, actor=actor, trigger=trigger)
    container.refresh_from_db()
    return ActionResult(output, container)


def _recollect(container: Container, *, actor: str, trigger: str) -> None:
    if collect(container.device, RECOLLECT_KINDS, trigger=trigger, actor=actor) is None:
        # A poll holds the device right now; it will see the new state, but ask once more.
        enqueue_collection(container.device, RECOLLECT_KINDS, trigger=trigger, actor=actor)


@dataclass(frozen=True)
class LogLines:
    output: OperationOutput
    lines: list[str]
    truncated: bool


def container_logs(
    container: Container,
    *,
    actor: str,
    tail: int | str | None = None,
    since: str | None = None,
    grep: str | None = None,
    trigger: str = Trigger.API,
) -> LogLines:
    """The container's recent log lines (stdout and stderr, with timestamps), audited."""
    name = validated_name(container)
    lines_wanted = validated_tail(tail)
    since_value = validated_since(since)
    needle = validated_grep(grep)
    parts = ["docker", "logs", "--timestamps", "--tail", str(lines_wanted)]
    if since_value:
        parts += ["--since", since_value]
    command = " ".join(shlex.quote(p) for p in parts) + f" -- {shlex.quote(name)} 2>&1"
    output = run_operation(
        container.device, action="container.logs", target=name, command=command, actor=actor,
        trigger=trigger, arguments={"tail": lines_wanted, "since": since_value, "grep": needle},
    )  # fmt: skip
    lines = output.stdout.splitlines()
    if needle:
        lowered = needle.lower()
        lines = [line for line in lines if lowered in line.lower()]
    return LogLines(output, lines, truncated=len(output.stdout.splitlines()) >= lines_wanted)


def inspect_container(
    container: Container, *, actor: str, trigger: str = Trigger.API
) -> OperationOutput:
    """`docker inspect` now, for the details page (the parser drops environment values)."""
    name = validated_name(container)
    return run_operation(
        container.device, action="container.inspect", target=name,
        command=f"docker inspect --type container -- {shlex.quote(name)}", actor=actor,
        trigger=trigger,
    )  # fmt: skip


def inspected(container: Container, *, actor: str, trigger: str = Trigger.API) -> dict[str, Any]:
    """`docker inspect` now, parsed: what the API and MCP answer (`ok`, and `inspect` or
    `error` with the audited operation's id)."""
    output = inspect_container(container, actor=actor, trigger=trigger)
    if not output.ok:
        return {"ok": False, "error": output.operation.error, "operation": output.operation.pk}
    try:
        facts = parse_docker_inspect(output.stdout)
    except ParseError as e:
        return {"ok": False, "error": str(e), "operation": output.operation.pk}
    return {"ok": True, "inspect": to_jsonable(facts[0]) if facts else None}
