"""Pure parsers for ZFS command outputs and kstat files (text in, frozen dataclasses out)."""

from zfs.parsers.diff import ZFS_DIFF_KIND, DiffChange, parse_zfs_diff
from zfs.parsers.kstat import (
    ArcStats,
    Objset,
    PoolIo,
    PoolKstatState,
    parse_arcstats,
    parse_kstat_objset,
    parse_kstat_pool_io,
    parse_kstat_pool_state,
)
from zfs.parsers.lists import Dataset, PoolList, VdevList, parse_zfs_list, parse_zpool_list
from zfs.parsers.props import PoolIostat, Property, parse_zfs_get, parse_zpool_iostat
from zfs.parsers.status import ZPOOL_STATUS_KIND, PoolStatus, Scan, Vdev, parse_zpool_status

__all__ = [
    "ZFS_DIFF_KIND",
    "ZPOOL_STATUS_KIND",
    "ArcStats",
    "Dataset",
    "DiffChange",
    "Objset",
    "PoolIo",
    "PoolIostat",
    "PoolKstatState",
    "PoolList",
    "PoolStatus",
    "Property",
    "Scan",
    "Vdev",
    "VdevList",
    "parse_arcstats",
    "parse_kstat_objset",
    "parse_kstat_pool_io",
    "parse_kstat_pool_state",
    "parse_zfs_diff",
    "parse_zfs_get",
    "parse_zfs_list",
    "parse_zpool_iostat",
    "parse_zpool_list",
    "parse_zpool_status",
]
