"""The time-series families that have rollup tiers, declared once for the SQL, the query layer,
retention and statistics. A new family is a rollup model built with `add_aggregate_fields` plus one
`Family` here.

`owner` is the FK the raw rows hang from and their (owner, time) index leads with: the device for
host series, the container, pool, dataset or drive for theirs (a drive's history follows it from
host to host, so its rollups do too). `keys` names the columns that split one owner's series
further (a mountpoint, a NIC) and join the unique bucket key.

This module imports the models of `containers` and `zfs`; no models module imports it (the rollup
models only need `devices.models.rollups`), so app loading has no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models

from containers.models import CONTAINER_GAUGES, CONTAINER_LASTS, ContainerRollup, ContainerStats
from devices.history.retention_env import FAMILY_NAMES
from devices.models import (
    DiskRollup,
    DiskSample,
    DriveRollup,
    DriveSample,
    FilesystemRollup,
    FilesystemSample,
    InterfaceRollup,
    InterfaceSample,
    SystemRollup,
    SystemSample,
)
from devices.models.rollups import (
    DISK_GAUGES,
    DRIVE_GAUGES,
    DRIVE_LASTS,
    FILESYSTEM_GAUGES,
    FILESYSTEM_LASTS,
    INTERFACE_GAUGES,
    INTERFACE_SUMS,
    SYSTEM_GAUGES,
    SYSTEM_LASTS,
)
from zfs.models import (
    ARC_GAUGES,
    ARC_LASTS,
    DATASET_GAUGES,
    POOL_GAUGES,
    POOL_LASTS,
    ArcRollup,
    ArcSample,
    DatasetRollup,
    DatasetSample,
    PoolRollup,
    PoolSample,
)


@dataclass(frozen=True)
class Family:
    """One series and its rollup table."""

    name: str
    raw: type[models.Model]
    rollup: type[models.Model]
    gauges: tuple[str, ...]
    lasts: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    owner: str = "device"
    time_field: str = "collected_at"
    # The raw tier's retention setting when the family has no override of its own.
    raw_days_setting: str = "METRICS_RAW_RETENTION_DAYS"
    # Seconds between two raw rows (the poll interval of the kind that stores them).
    interval_setting: str = "SYSTEM_METRICS_INTERVAL"

    @property
    def raw_table(self) -> str:
        return self.raw._meta.db_table

    @property
    def rollup_table(self) -> str:
        return self.rollup._meta.db_table

    @property
    def owner_column(self) -> str:
        """The owner's FK column, in the raw and the rollup table alike (`device_id`...)."""
        field = self.raw._meta.get_field(self.owner)
        assert isinstance(field, models.ForeignKey)
        return str(field.column)

    @property
    def owner_table(self) -> str:
        """The table of the owners, walked one index range per owner by the rollup job."""
        field = self.raw._meta.get_field(self.owner)
        assert field.related_model is not None and not isinstance(field.related_model, str)
        return str(field.related_model._meta.db_table)

    @property
    def values(self) -> tuple[str, ...]:
        """Every raw field that has rollup columns."""
        return self.gauges + self.lasts + self.sums

    def aggregate_columns(self) -> list[str]:
        """The rollup's value columns, in a fixed order."""
        columns = [f"{g}_{agg}" for g in self.gauges for agg in ("min", "avg", "max")]
        columns += [f"{name}_last" for name in self.lasts]
        return columns + [f"{name}_sum" for name in self.sums]

    def db_type(self, name: str) -> str:
        """The SQL type of a raw column (a sum is cast back to it: PostgreSQL sums bigints into
        numeric)."""
        field = self.raw._meta.get_field(name)
        assert isinstance(field, models.Field)
        return str(field.db_type(connection))


SYSTEM = Family(
    name="system", raw=SystemSample, rollup=SystemRollup, gauges=SYSTEM_GAUGES, lasts=SYSTEM_LASTS
)
FILESYSTEMS = Family(
    name="filesystems", raw=FilesystemSample, rollup=FilesystemRollup, gauges=FILESYSTEM_GAUGES,
    lasts=FILESYSTEM_LASTS, keys=("mountpoint",),
)  # fmt: skip
INTERFACES = Family(
    name="interfaces", raw=InterfaceSample, rollup=InterfaceRollup, gauges=INTERFACE_GAUGES,
    sums=INTERFACE_SUMS, keys=("name",),
)  # fmt: skip
DISKS = Family(name="disks", raw=DiskSample, rollup=DiskRollup, gauges=DISK_GAUGES, keys=("name",))
CONTAINERS = Family(
    name="containers", raw=ContainerStats, rollup=ContainerRollup, gauges=CONTAINER_GAUGES,
    lasts=CONTAINER_LASTS, owner="container", interval_setting="CONTAINERS_INTERVAL",
)  # fmt: skip
POOLS = Family(
    name="pools", raw=PoolSample, rollup=PoolRollup, gauges=POOL_GAUGES, lasts=POOL_LASTS,
    owner="pool", interval_setting="ZFS_INTERVAL",
)  # fmt: skip
DATASETS = Family(
    name="datasets", raw=DatasetSample, rollup=DatasetRollup, gauges=DATASET_GAUGES,
    owner="dataset", interval_setting="ZFS_INTERVAL",
)  # fmt: skip
ARC = Family(
    name="arc", raw=ArcSample, rollup=ArcRollup, gauges=ARC_GAUGES, lasts=ARC_LASTS,
    interval_setting="ZFS_INTERVAL",
)  # fmt: skip
# Drive history explains a failure years later: its raw rows follow DRIVE_HISTORY_DAYS.
DRIVES = Family(
    name="drives", raw=DriveSample, rollup=DriveRollup, gauges=DRIVE_GAUGES, lasts=DRIVE_LASTS,
    owner="drive", raw_days_setting="DRIVE_HISTORY_DAYS", interval_setting="DRIVES_INTERVAL",
)  # fmt: skip

FAMILIES: tuple[Family, ...] = (
    SYSTEM, FILESYSTEMS, INTERFACES, DISKS, CONTAINERS, POOLS, DATASETS, ARC, DRIVES,
)  # fmt: skip
BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}
# settings.py validates HISTORY_RETENTION_<FAMILY> against the names of retention_env (it is
# read before any model is loaded): the two lists must agree.
if set(BY_NAME) != set(FAMILY_NAMES):
    raise ImproperlyConfigured("devices.history: FAMILIES and retention_env.FAMILY_NAMES differ")


def family_of(raw: type[models.Model]) -> Family | None:
    return next((f for f in FAMILIES if f.raw is raw), None)
