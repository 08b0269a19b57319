"""ZFS actions: snapshot a dataset, destroy a snapshot, scrub a pool, diff two snapshots.

The API, the admin and (later) MCP all call these. Every name that reaches the remote shell is
checked here against ZFS's own naming rules, shlex-quoted and placed after `--`; names a person
types (a new snapshot's name) get a stricter rule than names the device reported. Destroy only
ever destroys snapshots: the name must hold exactly one `@` and be a snapshot we have seen on that
device, and no recursive flag is ever sent.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from collectors.engine import collect
from collectors.models import Trigger
from collectors.operations import OperationOutput, run_operation
from collectors.parsing import ParseError, to_jsonable
from collectors.tasks import enqueue_collection
from containers.services import InvalidInput
from devices.models import Device
from zfs.models import Dataset, Pool, Snapshot
from zfs.parsers import DiffChange, parse_zfs_diff

__all__ = [
    "DIFF_MAX_CHANGES",
    "InvalidInput",
    "PoolResult",
    "SnapshotDiff",
    "SnapshotResult",
    "create_snapshot",
    "destroy_command",
    "destroy_snapshot",
    "diff_command",
    "diff_snapshots",
    "find_snapshot",
    "scrub_command",
    "scrub_pool",
    "snapshot_command",
    "validated_dataset_name",
    "validated_flag",
    "validated_new_label",
    "validated_pool_name",
    "validated_snapshot_name",
]

# ZFS_MAX_DATASET_NAME_LEN is 256 with the terminating NUL.
MAX_NAME_LEN = 255
MAX_LABEL_LEN = 200
DIFF_MAX_CHANGES = 5000
DEFAULT_LABEL_FORMAT = "infra-%Y%m%d-%H%M%S"
DATASET_KINDS = ["zfs-list"]
POOL_KINDS = ["zpool-status"]

# What ZFS accepts in a name component (zfs_namecheck.c: letters, digits, `_ - . :` and space).
_COMPONENT = re.compile(r"[A-Za-z0-9_.: -]+")
# A pool name starts with a letter, so no name can pose as an option.
_POOL = re.compile(r"[A-Za-z][A-Za-z0-9_.: -]*")
# A snapshot name someone types: ZFS's characters without the space, starting with a letter or a
# digit (no `-r`, no `.`/`..`).
_NEW_LABEL = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.:-]{{0,{MAX_LABEL_LEN - 1}}}")
# A row id as text; longer would overflow PostgreSQL's bigint instead of being "not found".
_ID = re.compile(r"[0-9]{1,18}")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


# --- names ---------------------------------------------------------------------------------------


def validated_pool_name(name: str) -> str:
    if len(name) > MAX_NAME_LEN or not _POOL.fullmatch(name):
        raise InvalidInput("pool", f"{name[:80]!r} is not a valid ZFS pool name")
    return name


def validated_dataset_name(name: str, field: str = "dataset") -> str:
    """`pool/child/...`: a valid pool name, then components ZFS would accept."""
    pool, *children = name.split("/")
    if (
        len(name) > MAX_NAME_LEN
        or not _POOL.fullmatch(pool)
        or any(not _COMPONENT.fullmatch(c) or c in (".", "..") for c in children)
    ):
        raise InvalidInput(field, f"{name[:80]!r} is not a valid ZFS dataset name")
    return name


def validated_snapshot_name(name: str, field: str = "snapshot") -> str:
    """`dataset@snapshot`, with exactly one `@`: anything else is not a snapshot."""
    if name.count("@") != 1:
        raise InvalidInput(field, f"{name[:80]!r} is not a snapshot name (dataset@snapshot)")
    dataset, label = name.split("@")
    validated_dataset_name(dataset, field)
    if len(name) > MAX_NAME_LEN or not _COMPONENT.fullmatch(label) or label in (".", ".."):
        raise InvalidInput(field, f"{name[:80]!r} is not a valid ZFS snapshot name")
    return name


def validated_new_label(value: object) -> str:
    """The part after `@` of a snapshot someone asks for; `infra-YYYYMMDD-HHMMSS` (UTC) if none."""
    if value is None or value == "":
        return timezone.now().astimezone(dt.UTC).strftime(DEFAULT_LABEL_FORMAT)
    if not isinstance(value, str) or not _NEW_LABEL.fullmatch(value):
        raise InvalidInput(
            "name",
            f"name must be 1 to {MAX_LABEL_LEN} letters, digits, '_', '-', '.' or ':', "
            "starting with a letter or a digit",
        )
    return value


def validated_flag(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise InvalidInput(field, f"{field} must be true or false")


# --- commands ------------------------------------------------------------------------------------


def snapshot_command(full_name: str, *, recursive: bool) -> str:
    validated_snapshot_name(full_name)
    flag = "-r " if recursive else ""
    return f"zfs snapshot {flag}-- {shlex.quote(full_name)}"


def destroy_command(full_name: str) -> str:
    # Checked again right here, whatever the caller did: without an `@` this would be a dataset.
    validated_snapshot_name(full_name)
    return f"zfs destroy -- {shlex.quote(full_name)}"


def scrub_command(pool_name: str) -> str:
    return f"zpool scrub -- {shlex.quote(validated_pool_name(pool_name))}"


def diff_command(older: str, newer: str) -> str:
    """`zfs diff -FHt`, cut on the device after one line more than we return.

    A diff between distant snapshots can run to millions of lines: `head` stops it early instead
    of shipping them all. POSIX sh has no pipefail, so zfs's own exit status travels through fd 3
    and becomes the command's; 141 is zfs killed by SIGPIPE when `head` had enough, which is the
    cut we asked for, not a failure.
    """
    zfs = (
        "zfs diff -FHt -- "
        f"{shlex.quote(validated_snapshot_name(older))} "
        f"{shlex.quote(validated_snapshot_name(newer, 'other'))}"
    )
    return (
        f"{{ {{ {{ {zfs}; echo $? >&3; }} | head -n {DIFF_MAX_CHANGES + 1} >&4; }} 3>&1"
        ' | { read -r s; [ "$s" = 141 ] && s=0; exit "${s:-1}"; }; } 4>&1'
    )


# --- actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotResult:
    """A snapshot created or destroyed; `snapshot` is its row after the re-collection (None when
    the re-collection was queued because a poll held the device)."""

    output: OperationOutput
    name: str
    snapshot: Snapshot | None


@dataclass(frozen=True)
class PoolResult:
    output: OperationOutput
    pool: Pool


def create_snapshot(
    dataset: Dataset,
    *,
    actor: str,
    name: object = None,
    recursive: object = False,
    trigger: str = Trigger.API,
) -> SnapshotResult:
    """`zfs snapshot [-r] -- dataset@name`, audited, then `zfs list` is collected again."""
    label = validated_new_label(name)
    is_recursive = validated_flag(recursive, "recursive")
    if dataset.removed_at is not None:
        raise InvalidInput("dataset", f"{dataset.name} no longer exists on the device")
    full_name = f"{validated_dataset_name(dataset.name)}@{label}"
    if len(full_name) > MAX_NAME_LEN:
        raise InvalidInput("name", f"dataset@name must be at most {MAX_NAME_LEN} characters")
    output = run_operation(
        dataset.device, action="zfs.snapshot", target=full_name,
        command=snapshot_command(full_name, recursive=is_recursive), actor=actor, trigger=trigger,
        arguments={"dataset": dataset.name, "name": label, "recursive": is_recursive},
    )  # fmt: skip
    if output.ok:
        _recollect(dataset.device, DATASET_KINDS, actor=actor, trigger=trigger)
    return SnapshotResult(output, full_name, _snapshot_named(dataset.device, full_name))


def destroy_snapshot(
    snapshot: Snapshot, *, actor: str, trigger: str = Trigger.API
) -> SnapshotResult:
    """`zfs destroy -- dataset@snapshot` of one snapshot we know (never a dataset, never -r)."""
    name = validated_snapshot_name(snapshot.name)
    # The row must still be this device's, under this name, not gone: a stale or hand-made
    # object must not turn into a destroy.
    known = Snapshot.objects.filter(
        pk=snapshot.pk, device_id=snapshot.device_id, name=name, removed_at__isnull=True
    ).exists()
    if not known:
        raise InvalidInput("snapshot", f"{name} is not a current snapshot of this device")
    output = run_operation(
        snapshot.device, action="zfs.destroy", target=name, command=destroy_command(name),
        actor=actor, trigger=trigger,
    )  # fmt: skip
    if output.ok:
        _recollect(snapshot.device, DATASET_KINDS, actor=actor, trigger=trigger)
    snapshot.refresh_from_db()
    return SnapshotResult(output, name, snapshot)


def scrub_pool(pool: Pool, *, actor: str, trigger: str = Trigger.API) -> PoolResult:
    """`zpool scrub -- pool`, audited, then `zpool status` is collected again."""
    if pool.removed_at is not None:
        raise InvalidInput("pool", f"{pool.name} no longer exists on the device")
    output = run_operation(
        pool.device, action="zpool.scrub", target=pool.name, command=scrub_command(pool.name),
        actor=actor, trigger=trigger,
    )  # fmt: skip
    if output.ok:
        _recollect(pool.device, POOL_KINDS, actor=actor, trigger=trigger)
    pool.refresh_from_db()
    return PoolResult(output, pool)


def _recollect(device: Device, kinds: list[str], *, actor: str, trigger: str) -> None:
    if collect(device, kinds, trigger=trigger, actor=actor) is None:
        # A poll holds the device right now and may have listed before the change: ask again.
        enqueue_collection(device, kinds, trigger=trigger, actor=actor)


def _snapshot_named(device: Device, name: str) -> Snapshot | None:
    return Snapshot.objects.filter(device=device, name=name).first()


# --- diff ----------------------------------------------------------------------------------------


def find_snapshot(device: Device, ref: str, field: str = "snapshot") -> Snapshot:
    """A current snapshot of `device` by id or by full name (`dataset@snapshot`)."""
    ref = ref.strip()
    rows = Snapshot.objects.filter(device=device, removed_at__isnull=True)
    if _ID.fullmatch(ref):
        found = rows.filter(pk=int(ref)).first()
    else:
        found = rows.filter(name=validated_snapshot_name(ref, field)).first()
    if found is None:
        raise InvalidInput(field, f"no current snapshot {ref[:80]!r} on {device.name}")
    return found


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed from `older` to `newer`; `error` says why the output could not be read."""

    output: OperationOutput
    older: Snapshot
    newer: Snapshot
    changes: list[DiffChange]
    truncated: bool
    error: str | None

    @property
    def ok(self) -> bool:
        return self.output.ok and self.error is None

    def as_json(self) -> dict[str, Any]:
        """What the API and MCP answer for a diff."""
        op = self.output.operation
        return {
            "ok": self.ok,
            "from": self.older.name,
            "to": self.newer.name,
            "changes": to_jsonable(self.changes),
            "truncated": self.truncated,
            "operation": op.pk,
            "error": self.error or op.error or None,
            "output_excerpt": None if self.output.ok else op.output_excerpt[-1000:],
        }


def diff_snapshots(
    snapshot: Snapshot, other: Snapshot | str, *, actor: str, trigger: str = Trigger.API
) -> SnapshotDiff:
    """`zfs diff` between two snapshots of one dataset, older first (ZFS refuses the reverse).

    At most DIFF_MAX_CHANGES changes are returned; `truncated` says there were more.
    """
    if isinstance(other, str):
        if not other.strip():
            raise InvalidInput("other", "other is required: a snapshot id or dataset@snapshot")
        other = find_snapshot(snapshot.device, other, "other")
    if snapshot.removed_at is not None:
        raise InvalidInput("snapshot", f"{snapshot.name} no longer exists on the device")
    if other.device_id != snapshot.device_id or other.removed_at is not None:
        raise InvalidInput("other", "other must be a current snapshot of the same device")
    first = validated_snapshot_name(snapshot.name)
    second = validated_snapshot_name(other.name, "other")
    if other.pk == snapshot.pk:
        raise InvalidInput("other", "other must be a different snapshot")
    if first.split("@")[0] != second.split("@")[0]:
        raise InvalidInput("other", "both snapshots must be of the same dataset")
    older, newer = snapshot, other
    if older.created_at and newer.created_at and newer.created_at < older.created_at:
        older, newer = newer, older
    output = run_operation(
        snapshot.device, action="zfs.diff", target=older.name,
        command=diff_command(older.name, newer.name), actor=actor, trigger=trigger,
        arguments={"from": older.name, "to": newer.name},
    )  # fmt: skip
    if not output.ok:
        return SnapshotDiff(output, older, newer, [], truncated=False, error=None)
    lines = output.stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    truncated = len(lines) > DIFF_MAX_CHANGES
    try:
        changes = parse_zfs_diff("\n".join(lines[:DIFF_MAX_CHANGES]))
    except ParseError as e:
        return SnapshotDiff(output, older, newer, [], truncated=truncated, error=str(e))
    return SnapshotDiff(output, older, newer, changes, truncated=truncated, error=None)
