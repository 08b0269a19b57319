"""Rollups: the long-term tiers of the time series, a row per device per 5-minute or 1-hour bucket.

One table per family holds both tiers, told apart by `resolution_s`: the columns are the same, so
one aggregation statement, one query path and one unique constraint serve both, and a tier is a
`WHERE resolution_s = ...` away. A gauge keeps `<field>_min`, `<field>_avg` and `<field>_max`; a
value whose newest reading is what matters (totals, uptime) keeps `<field>_last`. The columns are
generated from the family's field lists (`add_aggregate_fields`), so the model, the SQL that fills
it and the query layer that reads it can never disagree on a name. A value that counts events
between two polls (new interface errors) keeps `<field>_sum`: the errors of the bucket.

A rollup row belongs to the raw rows' owner (a device, container, pool, dataset or drive: the FK
their (owner, time) index leads with) and, for series split by a key (a mountpoint, a NIC), to one
key value. The unique bucket key is (owner, resolution_s, bucket_start, keys...): a chart reads
one owner's tier over a time range, all keys at once, as one index range.
"""

from __future__ import annotations

from django.db import models

from devices.models.device import Device
from devices.models.drives import Drive, DriveSample
from devices.models.metrics import DiskSample, FilesystemSample, InterfaceSample, SystemSample

RESOLUTION_5M = 300
RESOLUTION_1H = 3600
RESOLUTIONS = (RESOLUTION_5M, RESOLUTION_1H)

SYSTEM_GAUGES = (
    "cpu_pct", "cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct",
    "mem_available_bytes", "mem_used_bytes", "mem_used_pct", "swap_used_bytes",
    "load_1", "load_5", "load_15", "procs_running", "procs_total",
)  # fmt: skip
# Totals change only when hardware does and uptime only grows: their min/avg/max say nothing.
SYSTEM_LASTS = ("cpu_count", "mem_total_bytes", "swap_total_bytes", "uptime_s")
# A filesystem's size changes only when it is grown; its use is the gauge.
FILESYSTEM_GAUGES = ("used_bytes", "available_bytes", "used_pct")
FILESYSTEM_LASTS = ("size_bytes",)
INTERFACE_GAUGES = ("rx_bytes_per_s", "tx_bytes_per_s", "rx_packets_per_s", "tx_packets_per_s")
# Errors and drops are stored as the new ones since the previous poll: their sum is the bucket's.
INTERFACE_SUMS = ("rx_errors", "tx_errors", "rx_dropped", "tx_dropped")
DISK_GAUGES = ("read_bytes_per_s", "write_bytes_per_s", "reads_per_s", "writes_per_s", "busy_pct")
DRIVE_GAUGES = ("temperature_c",)
# S.M.A.R.T. counters are cumulative over the drive's life (and wear only grows): the newest
# reading of a bucket is its value, as is the verdict's.
DRIVE_LASTS = (
    "assessment", "smart_passed", "power_on_hours", "power_cycles", "reallocated_sectors",
    "pending_sectors", "offline_uncorrectable", "crc_errors", "media_errors", "percentage_used",
    "available_spare_pct",
)  # fmt: skip


class Rollup(models.Model):
    """What every rollup row has: its bucket (UTC, aligned to the epoch) and how many raw samples
    it summarises."""

    resolution_s = models.PositiveIntegerField(choices=[(r, f"{r}s") for r in RESOLUTIONS])
    bucket_start = models.DateTimeField()
    samples = models.PositiveIntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.resolution_s}s @ {self.bucket_start:%Y-%m-%d %H:%M}"


def one_per_bucket(owner: str, *keys: str, name: str) -> list[models.BaseConstraint]:
    """The unique bucket key of a rollup table (and the index every chart and upsert uses)."""
    fields = [owner, "resolution_s", "bucket_start", *keys]
    return [models.UniqueConstraint(fields=fields, name=name)]


class SystemRollup(Rollup):
    """CPU, memory, swap and load of one device over one 5-minute or 1-hour bucket."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="system_rollups")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "resolution_s", "bucket_start"], name="sysrollup_one_per_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.resolution_s}s @ {self.bucket_start:%Y-%m-%d %H:%M}"


class RollupWatermark(models.Model):
    """How far a family's tier is final: every bucket that starts before `done_until` has been
    computed from all its raw rows. Kept in the database so it survives restarts, and locked
    (`select_for_update`) by the rollup job so two overlapping runs take turns."""

    family = models.CharField(max_length=32)
    resolution_s = models.PositiveIntegerField()
    done_until = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["family", "resolution_s"], name="one_watermark_per_tier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.family} {self.resolution_s}s done until {self.done_until}"


def _like(
    field: models.Field[object, object], *, null: bool = True
) -> models.Field[object, object]:
    """A copy of a raw column's type, nullable by default (an empty bucket field has no min)."""
    _, _, args, kwargs = field.deconstruct()
    kwargs["null"] = null
    kwargs.pop("help_text", None)
    return type(field)(*args, **kwargs)


def _source(raw: type[models.Model], name: str) -> models.Field[object, object]:
    source = raw._meta.get_field(name)
    assert isinstance(source, models.Field)
    return source


def add_aggregate_fields(
    rollup: type[models.Model],
    raw: type[models.Model],
    gauges: tuple[str, ...],
    lasts: tuple[str, ...],
    sums: tuple[str, ...] = (),
    keys: tuple[str, ...] = (),
) -> None:
    """Give `rollup` a min/avg/max column per gauge, a last column per last-value field, a sum
    column per per-interval count, and a copy of each key column."""
    for name in keys:
        rollup.add_to_class(name, _like(_source(raw, name), null=False))
    for name in gauges:
        source = _source(raw, name)
        rollup.add_to_class(f"{name}_min", _like(source))
        rollup.add_to_class(f"{name}_avg", models.FloatField(null=True))
        rollup.add_to_class(f"{name}_max", _like(source))
    for name in lasts:
        rollup.add_to_class(f"{name}_last", _like(_source(raw, name)))
    for name in sums:
        rollup.add_to_class(f"{name}_sum", _like(_source(raw, name)))


class FilesystemRollup(Rollup):
    """Use of one mounted filesystem of a device over one bucket."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="filesystem_rollups")

    class Meta:
        constraints = one_per_bucket("device", "mountpoint", name="fsrollup_one_per_bucket")


class InterfaceRollup(Rollup):
    """Traffic of one network interface of a device over one bucket."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="interface_rollups")

    class Meta:
        constraints = one_per_bucket("device", "name", name="ifrollup_one_per_bucket")


class DiskRollup(Rollup):
    """I/O of one block device of a device over one bucket."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="disk_rollups")

    class Meta:
        constraints = one_per_bucket("device", "name", name="diskrollup_one_per_bucket")


class DriveRollup(Rollup):
    """Temperature and S.M.A.R.T. counters of one drive over one bucket (wherever it sat)."""

    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="rollups")

    class Meta:
        constraints = one_per_bucket("drive", name="driverollup_one_per_bucket")


add_aggregate_fields(SystemRollup, SystemSample, SYSTEM_GAUGES, SYSTEM_LASTS)
add_aggregate_fields(
    FilesystemRollup, FilesystemSample, FILESYSTEM_GAUGES, FILESYSTEM_LASTS, keys=("mountpoint",)
)
add_aggregate_fields(InterfaceRollup, InterfaceSample, INTERFACE_GAUGES, (), INTERFACE_SUMS,
                     keys=("name",))  # fmt: skip
add_aggregate_fields(DiskRollup, DiskSample, DISK_GAUGES, (), keys=("name",))
add_aggregate_fields(DriveRollup, DriveSample, DRIVE_GAUGES, DRIVE_LASTS)
