"""Writing SWAG proxy confs: create one from a template, replace one's content, remove one.

The API, the admin and (later) MCP call these; they are off unless ``PROXY_WRITES_ENABLED``.
Each write is ONE remote script run through ``run_operation``, so its audit row holds the whole
story (backup, nginx's verdict, rollback, reload):

1. refuse when the folder is missing or not writable, when a new conf's file already exists,
   or when the file to edit changed on the device since we last collected it;
2. keep a copy next to the file: ``<name>.infra-backup-<UTC time>`` (a remove is a rename to it);
3. write the new bytes to a temporary file in the same folder (base64 in a quoted heredoc, so
   no byte of the content is ever read by the shell), check their sha256, ``mv`` it in place;
4. when the instance has a SWAG container, ``docker exec <c> nginx -t``; if nginx refuses, put
   the original bytes back (the backup stays) and stop with nginx's message;
5. ``docker exec <c> nginx -s reload``.

Then ``swag-confs`` is collected again, so the API shows the new state and the usual
proxy.added/changed/removed events are raised by the survey itself.

Backups end in ``.infra-backup-...``, not ``.conf``: neither SWAG's ``include *.conf`` nor our
survey reads them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from collectors.engine import collect
from collectors.models import Operation, Trigger
from collectors.operations import OperationOutput, run_operation
from collectors.parsing import ParseError
from collectors.tasks import enqueue_collection
from containers.services import InvalidInput
from proxies.models import ConfStatus, ProxyConfig, SwagInstance
from proxies.parsers import parse_swag_conf
from proxies.survey import KIND as SURVEY_KIND
from proxies.survey import MAX_CONTENT_BYTES, validate_instance_path
from proxies.templates import ConfSpec, render_conf

__all__ = [
    "Conflict",
    "InvalidInput",
    "WriteResult",
    "WritesDisabled",
    "create_conf",
    "edit_conf",
    "ensure_writes_enabled",
    "remove_conf",
]

CONF_SUFFIX = ".conf"
MAX_NAME_CHARS = 200  # leaves room for the backup suffix within a 255-byte file name
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
# docker's rule for container names; the first character can never make it an option.
_CONTAINER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FRAME = "@@IFR-PROXY"
# The heredoc's end marker: '_' is not in base64's alphabet, so no content line can end it.
_HEREDOC_END = "IFR_CONTENT_END"


class WritesDisabled(PermissionError):
    """PROXY_WRITES_ENABLED is off."""


class Conflict(Exception):
    """The write does not fit what is there (a file of that name exists, the file changed)."""


# The script's exit codes (see `fail N` in it), and the error type each one is audited as.
CONFLICT = "conflict"
NGINX_TEST_FAILED = "nginx_test_failed"
ERROR_TYPES = {
    3: CONFLICT,
    4: "folder_unusable",
    5: "write_failed",
    6: NGINX_TEST_FAILED,
    7: "nginx_reload_failed",
    8: "rollback_failed",
    127: "tool_missing",
}

_SCRIPT = r"""
set -u
fail() { code=$1; shift; printf '%s\n' "$*" >&2; rm -f "$t"; exit "$code"; }
for tool in sha256sum base64 cp mv; do
  command -v "$tool" >/dev/null 2>&1 || fail 127 "$tool: not found on the device"
done
[ -d "$d" ] || fail 4 "no folder $d on the device"
{ [ -w "$d" ] && [ -x "$d" ]; } || fail 4 "the SSH user may not write to $d"
[ -e "$b" ] && b="$b-$$"
if [ "$mode" = create ]; then
  [ ! -e "$f" ] || fail 3 "$f already exists on the device"
else
  [ -f "$f" ] || fail 3 "$f is not on the device (any more)"
fi
if [ "$mode" = edit ]; then
  h=$(sha256sum <"$f") || fail 5 "cannot read $f"
  [ "${h%% *}" = "$old" ] || fail 3 "$f changed on the device since it was last collected"
fi
# 2. the backup
if [ "$mode" = remove ]; then
  mv "$f" "$b" || fail 5 "could not move $f aside"
  printf '%s backup %s\n' "$F" "$b"
elif [ "$mode" = edit ]; then
  cp -p "$f" "$b" || fail 5 "could not back up $f"
  printf '%s backup %s\n' "$F" "$b"
  cp -p "$f" "$t" || fail 5 "could not create $t"  # the new file keeps the old one's mode
fi
# 3. the new content, atomically
if [ "$mode" != remove ]; then
  base64 -d >"$t" <<'__END__' || fail 5 "could not write $t"
__CONTENT__
__END__
  h=$(sha256sum <"$t") || fail 5 "cannot read $t"
  [ "${h%% *}" = "$new" ] || fail 5 "the content arrived damaged (sha256 ${h%% *})"
  mv -f "$t" "$f" || fail 5 "could not move $t into place"
  printf '%s written\n' "$F"
fi
rollback() {
  if [ "$mode" = create ]; then rm -f "$f"; else cp -p "$b" "$t" && mv -f "$t" "$f"; fi
}
# 4. nginx's verdict, 5. the reload
if [ -z "$c" ]; then
  printf '%s no-container\n' "$F"
  exit 0
fi
out=$(docker exec "$c" nginx -t 2>&1 </dev/null); rc=$?
if [ "$rc" -ne 0 ]; then
  rollback || fail 8 "nginx -t failed and putting the original back failed too: $out"
  printf '%s rolled-back\n' "$F"
  printf '%s\n' "$out" >&2
  exit 6
fi
printf '%s tested\n' "$F"
out=$(docker exec "$c" nginx -s reload 2>&1 </dev/null) || fail 7 "nginx -s reload failed: $out"
printf '%s reloaded\n' "$F"
"""


@dataclass
class WriteResult:
    """What a write did. ``config`` is the conf as collected afterwards (None once removed, or
    when the collection could not run now)."""

    output: OperationOutput
    config: ProxyConfig | None
    backup: str | None = None
    written: bool = False
    tested: bool = False
    reloaded: bool = False
    rolled_back: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.output.ok

    @property
    def conflict(self) -> bool:
        return self.output.operation.error_type == CONFLICT


def ensure_writes_enabled() -> None:
    if not settings.PROXY_WRITES_ENABLED:
        raise WritesDisabled(
            "writing proxy confs is switched off; set PROXY_WRITES_ENABLED=true to allow it"
        )


def validated_file_name(name: str) -> str:
    """A conf's file name: plain characters, ends in ``.conf``, no path in it."""
    if (
        not isinstance(name, str)
        or len(name) > MAX_NAME_CHARS
        or not _FILE_NAME.match(name)
        or not name.endswith(CONF_SUFFIX)
        or name == CONF_SUFFIX
    ):
        raise InvalidInput(
            "name",
            f"a conf file name is at most {MAX_NAME_CHARS} letters, digits, '.', '_' or '-', "
            "ending in .conf",
        )
    return name


def validated_container(instance: SwagInstance) -> str:
    """The SWAG container to run nginx in, or '' when the instance has none."""
    name = instance.container_name
    if name and not _CONTAINER.match(name):
        raise InvalidInput("container", f"container name {name!r} is not a valid docker name")
    return name


def validated_content(content: Any, name: str) -> str:
    """Text nginx can read: not empty, no NUL, at most what the survey reads back, and parsed by
    our own parser (what it refuses, nginx would too)."""
    if not isinstance(content, str) or not content.strip():
        raise InvalidInput("content", "content must be the conf's text")
    if "\x00" in content:
        raise InvalidInput("content", "content must not contain NUL bytes")
    if len(content.encode()) > MAX_CONTENT_BYTES:
        raise InvalidInput("content", f"content must be at most {MAX_CONTENT_BYTES} bytes")
    try:
        parse_swag_conf(content, name=name)
    except ParseError as e:
        raise InvalidInput("content", f"not a valid proxy conf: {e}") from e
    return content


def _usable(instance: SwagInstance) -> str:
    if instance.removed_at is not None:
        raise Conflict(f"the SWAG container of {instance.config_path} is gone")
    try:
        return validate_instance_path(instance.config_path)
    except ValueError as e:
        raise InvalidInput("instance", f"the instance folder {e}") from e


def _folder(instance: SwagInstance) -> str:
    return f"{_usable(instance)}/nginx/proxy-confs"


def build_script(
    *, mode: str, folder: str, name: str, container: str, stamp: str,
    content: str | None = None, old_sha256: str = "",
) -> str:  # fmt: skip
    """The remote script for one write; every value is validated by the caller, then quoted."""
    path = f"{folder}/{name}"
    new_sha = hashlib.sha256(content.encode()).hexdigest() if content is not None else ""
    if old_sha256 and not _SHA256.match(old_sha256):
        raise InvalidInput("sha256", "not a sha256")
    values = {
        "mode": mode,
        "F": FRAME,
        "d": folder,
        "f": path,
        "b": f"{path}.infra-backup-{stamp}",
        "t": f"{folder}/.{name}.infra-tmp-{stamp}",
        "c": container,
        "old": old_sha256,
        "new": new_sha,
    }
    header = "\n".join(f"{k}={shlex.quote(v)}" for k, v in values.items())
    encoded = base64.encodebytes(content.encode()).decode().strip() if content else ""
    body = _SCRIPT.replace("__END__", _HEREDOC_END).replace("__CONTENT__", encoded)
    return f"{header}\n{body}"


def _run(
    instance: SwagInstance, *, mode: str, name: str, actor: str, trigger: str,
    content: str | None = None, old_sha256: str = "", arguments: dict[str, Any],
) -> WriteResult:  # fmt: skip
    folder = _folder(instance)
    container = validated_container(instance)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    script = build_script(
        mode=mode, folder=folder, name=name, container=container, stamp=stamp,
        content=content, old_sha256=old_sha256,
    )  # fmt: skip
    if content is not None:
        arguments["sha256"] = hashlib.sha256(content.encode()).hexdigest()
    output = run_operation(
        instance.device, action=f"proxy.{mode}", target=f"{folder}/{name}", command=script,
        actor=actor, trigger=trigger, arguments={"instance": instance.pk, "name": name,
        "container": container, **arguments},
    )  # fmt: skip
    result = _read_frames(output)
    _audit_outcome(output.operation, result)
    _recollect(instance, actor=actor, trigger=trigger)
    result.config = (
        ProxyConfig.objects.filter(instance=instance, name=name)
        .exclude(status=ConfStatus.REMOVED)
        .select_related("device", "instance")
        .first()
    )
    return result


def _read_frames(output: OperationOutput) -> WriteResult:
    result = WriteResult(output=output, config=None)
    for line in output.stdout.splitlines():
        if not line.startswith(FRAME + " "):
            continue
        word, _, rest = line[len(FRAME) + 1 :].partition(" ")
        if word == "backup":
            result.backup = rest
        elif word == "written":
            result.written = True
        elif word == "tested":
            result.tested = True
        elif word == "reloaded":
            result.reloaded = True
        elif word == "rolled-back":
            result.rolled_back = True
        elif word == "no-container":
            result.notes.append("the instance has no SWAG container: nginx was not tested")
    return result


def _audit_outcome(op: Operation, result: WriteResult) -> None:
    """The audit row says what happened in our words, not only the exit code."""
    if op.exit_code in ERROR_TYPES:
        op.error_type = ERROR_TYPES[op.exit_code]
    op.arguments = op.arguments | {
        "backup": result.backup, "written": result.written, "tested": result.tested,
        "reloaded": result.reloaded, "rolled_back": result.rolled_back,
    }  # fmt: skip
    op.save(update_fields=["error_type", "arguments"])


def _recollect(instance: SwagInstance, *, actor: str, trigger: str) -> None:
    device = instance.device
    if collect(device, [SURVEY_KIND], trigger=trigger, actor=actor) is None:
        # A poll holds the device right now; it may have listed the folder before the write.
        enqueue_collection(device, [SURVEY_KIND], trigger=trigger, actor=actor)


def create_conf(
    instance: SwagInstance, spec: ConfSpec, *, actor: str, trigger: str = Trigger.API
) -> WriteResult:
    """Write a new ``<app>.<kind>.conf`` from the template; refused if the file exists."""
    ensure_writes_enabled()
    name = validated_file_name(spec.file_name)
    content = validated_content(render_conf(spec), name)
    _usable(instance)
    existing = instance.configs.filter(name=name).exclude(status=ConfStatus.REMOVED)
    if existing.exists():
        raise Conflict(f"{name} already exists in {instance.config_path}")
    arguments = {
        "kind": spec.kind, "app_name": spec.app_name, "upstream_app": spec.upstream_app,
        "upstream_port": spec.upstream_port, "upstream_proto": spec.upstream_proto,
        "auth": spec.auth, "server_name": spec.server_name,
    }  # fmt: skip
    return _run(instance, mode="create", name=name, actor=actor, trigger=trigger,
                content=content, arguments=arguments)  # fmt: skip


def _editable(config: ProxyConfig) -> str:
    if config.status != ConfStatus.ACTIVE:
        state = config.get_status_display().lower()
        raise Conflict(f"{config.name} is {state}, not an active conf")
    return validated_file_name(config.name)


def edit_conf(
    config: ProxyConfig,
    content: Any,
    *,
    actor: str,
    base_sha256: str | None = None,
    trigger: str = Trigger.API,
) -> WriteResult:
    """Replace an active conf's content. ``base_sha256`` is the version the new text was made
    from (refused if it is not the one we hold); the device's file must still be that one."""
    ensure_writes_enabled()
    name = _editable(config)
    text = validated_content(content, name)
    if not config.sha256:
        raise Conflict(f"{name} was never read from the device: its content is unknown")
    if base_sha256 and base_sha256 != config.sha256:
        raise Conflict(f"{name} changed since that version was read (sha256 {config.sha256})")
    return _run(config.instance, mode="edit", name=name, actor=actor, trigger=trigger,
                content=text, old_sha256=config.sha256,
                arguments={"previous_sha256": config.sha256})  # fmt: skip


def remove_conf(config: ProxyConfig, *, actor: str, trigger: str = Trigger.API) -> WriteResult:
    """Move an active conf aside (``<name>.infra-backup-<time>``), then test and reload nginx."""
    ensure_writes_enabled()
    name = _editable(config)
    return _run(config.instance, mode="remove", name=name, actor=actor, trigger=trigger,
                arguments={"previous_sha256": config.sha256})  # fmt: skip
