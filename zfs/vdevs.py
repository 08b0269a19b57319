"""Keeping a pool's `Vdev` rows in step with the config table of each `zpool status`.

A pool has a handful to a few dozen rows, so one poll costs a constant four queries whatever
the size: read the pool's rows, insert the new ones, update them all, mark the vanished removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from zfs.models import Pool, Vdev, VdevGroup
from zfs.parsers import Vdev as VdevFacts

_GROUPS = frozenset(VdevGroup.values) - {VdevGroup.DATA}
_FIELDS = ["parent", "group", "name", "type", "state", "read_errors", "write_errors",
           "checksum_errors", "note", "depth", "order", "last_seen_at", "removed_at"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Row:
    path: str
    parent_path: str | None
    group: str
    depth: int
    facts: VdevFacts


def _walk(vdevs: Sequence[VdevFacts]) -> Iterator[_Row]:
    """Rows in zpool's order. A group header (`logs`, `spares`...) is not a vdev: it becomes
    the group of the rows under it and stays in their paths, as in the events' paths."""

    def visit(
        vdevs: Sequence[VdevFacts], prefix: str, parent: str | None, group: str, depth: int
    ) -> Iterator[_Row]:
        for vdev in vdevs:
            path = f"{prefix}{vdev.name}"
            yield _Row(path, parent, group, depth, vdev)
            yield from visit(vdev.children, f"{path}/", path, group, depth + 1)

    for top in vdevs:
        if top.state is None and top.name in _GROUPS:
            yield from visit(top.children, f"{top.name}/", None, top.name, 0)
        else:
            yield from visit([top], "", None, VdevGroup.DATA, 0)


def store_vdevs(pool: Pool, vdevs: Sequence[VdevFacts], now: dt.datetime) -> None:
    """Create, update and mark removed the rows of `pool` to match its config table."""
    existing = {v.path: v for v in Vdev.objects.filter(pool=pool)}
    seen: dict[str, Vdev] = {}
    new: list[Vdev] = []
    parents: dict[str, str | None] = {}
    for order, row in enumerate(_walk(vdevs)):
        if row.path in seen:
            continue  # zpool never prints a path twice; a mangled table must not break the poll
        vdev = existing.get(row.path)
        if vdev is None:
            vdev = Vdev(pool=pool, path=row.path, first_seen_at=now)
            new.append(vdev)
        facts = row.facts
        vdev.group = row.group
        vdev.name = facts.name
        vdev.type = facts.kind
        vdev.state = facts.state or ""
        vdev.read_errors = facts.read_errors
        vdev.write_errors = facts.write_errors
        vdev.checksum_errors = facts.checksum_errors
        vdev.note = facts.note or ""
        vdev.depth = row.depth
        vdev.order = order
        vdev.last_seen_at = now
        vdev.removed_at = None
        seen[row.path] = vdev
        parents[row.path] = row.parent_path
    # New rows get their ids here; parents are linked afterwards, in the one bulk update.
    Vdev.objects.bulk_create(new)
    for path, vdev in seen.items():
        parent_path = parents[path]
        vdev.parent = None if parent_path is None else seen[parent_path]
    Vdev.objects.bulk_update(list(seen.values()), _FIELDS)
    Vdev.objects.filter(pool=pool, removed_at__isnull=True).exclude(path__in=list(seen)).update(
        removed_at=now
    )
