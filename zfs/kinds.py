"""The ZFS collection kinds. `zpool status`/`zpool list` are collected into pools and their vdevs,
`zfs list` into datasets and snapshots, `arcstats` into the ARC series; the others are parse-only
for now (no store function)."""

from __future__ import annotations

from django.conf import settings

from collectors.kinds import Kind, registry
from zfs import arc, datasets, store
from zfs.parsers import (
    ZFS_DIFF_KIND,
    parse_arcstats,
    parse_kstat_objset,
    parse_kstat_pool_io,
    parse_kstat_pool_state,
    parse_zfs_diff,
    parse_zfs_get,
    parse_zfs_list,
    parse_zpool_iostat,
    parse_zpool_list,
    parse_zpool_status,
)

STORAGE = "storage"
_every = settings.ZFS_INTERVAL
ZPOOL = "zpool"
ZFS = "zfs"

for kind in (
    Kind("zpool-status", "zpool status -p", parse_zpool_status,
         "Pool health, vdev tree with error counters, scrub/resilver progress and results",
         store.store_zpool_status, capability=ZPOOL, group=STORAGE, interval_s=_every),
    Kind("zpool-list", "zpool list -Hp", parse_zpool_list,
         "Pool size, allocation, fragmentation, capacity, dedup ratio",
         store.store_zpool_list, capability=ZPOOL, group=STORAGE, interval_s=_every),
    Kind("zfs-list", "zfs list -Hp -t all -o name,type,used,avail,refer,mountpoint,creation",
         parse_zfs_list, "Datasets, volumes and snapshots with their space",
         datasets.store_zfs_list, capability=ZFS, group=STORAGE, interval_s=_every),
    Kind("arcstats", "cat /proc/spl/kstat/zfs/arcstats", parse_arcstats,
         "ZFS ARC size and hit ratio", arc.store_arcstats, capability=ZPOOL, group=STORAGE,
         interval_s=_every),
    Kind(ZFS_DIFF_KIND, "zfs diff -FHt -- POOL/DS@OLDER POOL/DS@NEWER", parse_zfs_diff,
         "Files changed between two snapshots (run on demand by the diff action)",
         capability=ZFS, group=STORAGE),
    Kind("zfs-get", "zfs get -Hp all", parse_zfs_get, "Every property of every dataset",
         capability=ZFS, group=STORAGE),
    Kind("zpool-iostat", "zpool iostat -v", parse_zpool_iostat,
         "Pool and vdev operations and bandwidth", capability=ZPOOL, group=STORAGE),
    Kind("zpool-kstat-state", "cat /proc/spl/kstat/zfs/POOL/state", parse_kstat_pool_state,
         "A pool's state from the kernel's kstat (cheap, no zpool call)", capability=ZPOOL,
         group=STORAGE),
    Kind("zpool-kstat-io", "cat /proc/spl/kstat/zfs/POOL/io", parse_kstat_pool_io,
         "A pool's I/O counters (older ZFS on Linux)", capability=ZPOOL, group=STORAGE),
    Kind("zfs-kstat-objset", "cat /proc/spl/kstat/zfs/POOL/objset-0xID", parse_kstat_objset,
         "A dataset's I/O counters", capability=ZPOOL, group=STORAGE),
):  # fmt: skip
    registry.register(kind)
