"""Whether the subject of an open metric alert still exists, and if not, why.

A pool exported or destroyed, a drive pulled, a container removed: their rows stay (with
`removed_at`) for their history, and their samples simply stop. A filesystem has no row of its
own: it is unmounted when the device's newest `df` no longer lists it. An alert about any of
them must resolve and say so, even when that subject was the device's only one of its family
(then the device no longer "reports" that family at all, which otherwise reads as a device we
have not heard from).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Max, Q

from collectors.alerts.models import Metric
from containers.models import Container
from devices.models import Drive, FilesystemSample
from zfs.models import Pool

Key = tuple[int, str]  # (device id, subject such as "pool:tank")


def _when(at: dt.datetime | None) -> str:
    return f" since {at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if at is not None else ""


def _split(keys: Iterable[Key], prefix: str) -> dict[Key, str]:
    """The keys whose subject has this prefix, with the bare name ("pool:tank" -> "tank")."""
    return {key: key[1][len(prefix) :] for key in keys if key[1].startswith(prefix)}


def _by_name(keys: dict[Key, str], rows: Iterable[tuple[int, str, dt.datetime | None]],
             what: str, gone: str) -> dict[Key, str]:  # fmt: skip
    """Rows of (device, name, removed_at): a subject with a live row exists; one whose rows are
    all removed, or that has none left, is gone."""
    live: set[tuple[int, str]] = set()
    removed: dict[tuple[int, str], dt.datetime] = {}
    for device_id, name, removed_at in rows:
        if removed_at is None:
            live.add((device_id, name))
        else:
            removed[(device_id, name)] = max(removed_at, removed.get((device_id, name), removed_at))
    found: dict[Key, str] = {}
    for (device_id, subject), name in keys.items():
        if (device_id, name) in live:
            continue
        at = removed.get((device_id, name))
        if at is not None:
            found[(device_id, subject)] = f"{what} {name} was removed ({gone}{_when(at)})"
        else:
            found[(device_id, subject)] = f"{what} {name} no longer exists"
    return found


def mounted_now(rows: Sequence[tuple[Any, ...]]) -> set[tuple[int, str]]:
    """(device, mount point, time, ...) rows: the mounts in each device's newest df. Older
    samples of a mount no longer listed are history, not a reading (it was unmounted)."""
    newest: dict[int, dt.datetime] = {}
    for device_id, _mount, at, *_ in rows:
        newest[device_id] = max(at, newest.get(device_id, at))
    return {(d, m) for d, m, at, *_ in rows if at == newest[d]}


def vanished_pools(keys: Iterable[Key]) -> dict[Key, str]:
    wanted = _split(keys, "pool:")
    if not wanted:
        return {}
    rows = Pool.objects.filter(
        device_id__in={d for d, _ in wanted}, name__in=set(wanted.values())
    ).values_list("device_id", "name", "removed_at")
    return _by_name(wanted, rows, "pool", "zpool no longer lists it")


def vanished_containers(keys: Iterable[Key]) -> dict[Key, str]:
    wanted = _split(keys, "container:")
    if not wanted:
        return {}
    rows = Container.objects.filter(
        device_id__in={d for d, _ in wanted}, name__in=set(wanted.values())
    ).values_list("device_id", "name", "removed_at")
    return _by_name(wanted, rows, "container", "docker no longer lists it")


def vanished_drives(keys: Iterable[Key]) -> dict[Key, str]:
    """Drive subjects are the serial ("serial:WD1"), else the drive's row ("drive:12")."""
    keys = list(keys)
    serials, rows_wanted = _split(keys, "serial:"), _split(keys, "drive:")
    pks = {int(v) for v in rows_wanted.values() if v.isdigit()}
    if not serials and not pks:
        return {}
    rows = Drive.objects.filter(
        Q(device_id__in={d for d, _ in serials}, serial__in=set(serials.values())) | Q(pk__in=pks)
    ).values_list("device_id", "serial", "pk", "removed_at")
    by_serial = [(d, serial, removed_at) for d, serial, _pk, removed_at in rows if serial]
    by_pk = [(d, str(pk), removed_at) for d, _serial, pk, removed_at in rows]
    gone = "smartctl and lsblk no longer list it"
    return _by_name(serials, by_serial, "drive", gone) | _by_name(rows_wanted, by_pk, "drive", gone)


def vanished_mounts(keys: Iterable[Key]) -> dict[Key, str]:
    """A mount is gone once the device's newest df (the newest batch of its samples) does not
    list it. A device that never answered df again keeps its alerts: we do not know."""
    wanted = _split(keys, "mount:")
    if not wanted:
        return {}
    devices = {d for d, _ in wanted}
    newest = dict(
        FilesystemSample.objects.filter(device_id__in=devices)
        .values("device_id")
        .annotate(newest=Max("collected_at"))
        .values_list("device_id", "newest")
    )
    if not newest:
        return {}
    batches = reduce(or_, (Q(device_id=d, collected_at=at) for d, at in newest.items()))
    mounted = set(FilesystemSample.objects.filter(batches).values_list("device_id", "mountpoint"))
    return {
        (device_id, subject): f"filesystem {mount} is no longer mounted (not in df{_when(at)})"
        for (device_id, subject), mount in wanted.items()
        if (at := newest.get(device_id)) is not None and (device_id, mount) not in mounted
    }


VANISHED: dict[str, Callable[[Iterable[Key]], dict[Key, str]]] = {
    Metric.POOL_CAPACITY_PCT: vanished_pools,
    Metric.CONTAINER_RESTARTS: vanished_containers,
    Metric.DRIVE_TEMPERATURE_C: vanished_drives,
    Metric.FS_USED_PCT: vanished_mounts,
    Metric.FS_FULL_IN_DAYS: vanished_mounts,
}


def vanished(metric: str, keys: Iterable[Key]) -> dict[Key, str]:
    """Of these (device, subject) pairs, the ones whose subject no longer exists on its device,
    each with why in a few words. One query per call (two for filesystems); metrics without
    subjects of their own (CPU, staleness...) never vanish."""
    check = VANISHED.get(metric)
    keys = list(keys)
    return check(keys) if check is not None and keys else {}
