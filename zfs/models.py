"""ZFS per device: pools (current state, vdev tree, health/capacity series), datasets,
snapshots and the ARC series.

A pool is identified by (device, name). Its vdev tree is kept twice: as the nested structure zpool
printed (JSON, what the API has always shown and the events compare error counters against) and
as one `Vdev` row per config-table row, which can be queried, filtered and kept when it goes.
"""

from __future__ import annotations

from django.db import models

from collectors.models import SeenOnDevice
from devices.models.rollups import Rollup, add_aggregate_fields, one_per_bucket


class Pool(SeenOnDevice):
    """One pool's current state, as of the device's last poll."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="pools")
    name = models.CharField(max_length=255)
    state = models.CharField(max_length=16)
    status_text = models.TextField(blank=True)
    action_text = models.TextField(blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    alloc_bytes = models.BigIntegerField(null=True, blank=True)
    free_bytes = models.BigIntegerField(null=True, blank=True)
    fragmentation_pct = models.FloatField(null=True, blank=True)
    capacity_pct = models.FloatField(null=True, blank=True)
    dedup_ratio = models.FloatField(null=True, blank=True)
    read_errors = models.BigIntegerField(null=True, blank=True)
    write_errors = models.BigIntegerField(null=True, blank=True)
    checksum_errors = models.BigIntegerField(null=True, blank=True)
    data_errors = models.IntegerField(null=True, blank=True)
    error_files = models.JSONField(default=list, blank=True)
    scan = models.JSONField(null=True, blank=True)
    vdevs = models.JSONField(default=list, blank=True)
    # Set while scrub.overdue has been raised and no newer scrub finished (no repeats).
    scrub_overdue = models.BooleanField(default=False)

    class Meta:
        ordering = ["device__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="one_pool_name_per_device")
        ]

    def __str__(self) -> str:
        return self.name


class PoolSample(models.Model):
    """Health and capacity of one pool at one poll."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="samples")
    collected_at = models.DateTimeField()
    state = models.CharField(max_length=16)
    size_bytes = models.BigIntegerField(null=True)
    alloc_bytes = models.BigIntegerField(null=True)
    free_bytes = models.BigIntegerField(null=True)
    capacity_pct = models.FloatField(null=True)
    fragmentation_pct = models.FloatField(null=True)
    read_errors = models.BigIntegerField(null=True)
    write_errors = models.BigIntegerField(null=True)
    checksum_errors = models.BigIntegerField(null=True)
    data_errors = models.IntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["pool", "-collected_at"], name="pool_sample_time")]

    def __str__(self) -> str:
        return f"{self.pool_id} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


class Dataset(SeenOnDevice):
    """A filesystem or volume of a pool, with its space as last seen."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=1024)
    type = models.CharField(max_length=16)
    used_bytes = models.BigIntegerField(null=True, blank=True)
    available_bytes = models.BigIntegerField(null=True, blank=True)
    referenced_bytes = models.BigIntegerField(null=True, blank=True)
    mountpoint = models.CharField(max_length=1024, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    newest_snapshot_at = models.DateTimeField(null=True, blank=True)
    # Set while snapshot.missing has been raised and no newer snapshot appeared (no repeats).
    snapshot_overdue = models.BooleanField(default=False)

    class Meta:
        ordering = ["device__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="one_dataset_name_per_device")
        ]

    def __str__(self) -> str:
        return self.name


class DatasetSample(models.Model):
    """Space of one dataset at one poll."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="samples")
    collected_at = models.DateTimeField()
    used_bytes = models.BigIntegerField(null=True)
    available_bytes = models.BigIntegerField(null=True)
    referenced_bytes = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["dataset", "-collected_at"], name="dataset_sample_time")]

    def __str__(self) -> str:
        return f"{self.dataset_id} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


class Snapshot(SeenOnDevice):
    """A snapshot of a dataset (`pool/data@2026-11-25`)."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="snapshots")
    dataset = models.ForeignKey(
        Dataset, null=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    name = models.CharField(max_length=1024, help_text="Full name: dataset@snapshot.")
    used_bytes = models.BigIntegerField(null=True, blank=True)
    referenced_bytes = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="one_snapshot_name_per_device")
        ]

    def __str__(self) -> str:
        return self.name


class VdevGroup(models.TextChoices):
    """Where a vdev sits in the config table: the pool's data vdevs or under a group header."""

    DATA = "data", "Data"
    LOGS = "logs", "Logs"
    CACHE = "cache", "Cache"
    SPARES = "spares", "Spares"
    SPECIAL = "special", "Special"
    DEDUP = "dedup", "Dedup"


class Vdev(SeenOnDevice):
    """One row of a pool's config table (a mirror, a raidz, a disk, a spare...), as last seen.

    `path` is the chain of names from the top of the table, group headers included
    (`mirror-1/loop3`, `logs/sdc`, `spares/sdf`): the same key `vdev.errors_increased` events
    carry. A vdev that leaves the table is kept, marked removed; one that comes back under
    another parent (a disk being replaced) is a new path, so a new row.
    """

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="vdev_rows")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    path = models.CharField(max_length=1024)
    group = models.CharField(max_length=16, choices=VdevGroup.choices, default=VdevGroup.DATA)
    name = models.CharField(max_length=512)
    type = models.CharField(
        max_length=16, help_text="disk, file, mirror, raidz1-3, draid1-3, spare, replacing..."
    )
    state = models.CharField(max_length=16, blank=True, help_text="Empty when zpool gave none.")
    read_errors = models.BigIntegerField(null=True, blank=True)
    write_errors = models.BigIntegerField(null=True, blank=True)
    checksum_errors = models.BigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="What zpool printed after the counters.")
    depth = models.PositiveSmallIntegerField(default=0, help_text="0 for a top-level vdev.")
    order = models.PositiveIntegerField(default=0, help_text="Row position in zpool's table.")

    class Meta:
        ordering = ["pool", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "path"], name="one_vdev_path_per_pool")
        ]

    def __str__(self) -> str:
        return self.path


class ArcSample(models.Model):
    """The ARC (ZFS's RAM cache) of one device at one poll.

    `hits`/`misses` are the kernel's counters since boot. `hit_ratio_pct` is over the interval
    since the previous sample; the first sample of a device has the since-boot ratio, and a
    sample whose counters went down (a reboot) has none, as does an interval without accesses.
    """

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="arc_samples"
    )
    collected_at = models.DateTimeField()
    size_bytes = models.BigIntegerField()
    target_bytes = models.BigIntegerField(null=True, help_text="c: the size the ARC adapts to.")
    min_bytes = models.BigIntegerField(null=True)
    max_bytes = models.BigIntegerField(null=True)
    mru_size_bytes = models.BigIntegerField(null=True)
    mfu_size_bytes = models.BigIntegerField(null=True)
    hits = models.BigIntegerField()
    misses = models.BigIntegerField()
    hit_ratio_pct = models.FloatField(null=True)
    l2_size_bytes = models.BigIntegerField(null=True)
    l2_hits = models.BigIntegerField(null=True)
    l2_misses = models.BigIntegerField(null=True)
    l2_hit_ratio_pct = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["device", "-collected_at"], name="arc_sample_time")]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


# Pool and dataset space: gauges. A pool's size changes only when a vdev is added, and its error
# counters count since the last `zpool clear`: the newest reading is their value, as is the
# state's (an episode shorter than a bucket stays in the raw rows and the event timeline).
POOL_GAUGES = ("alloc_bytes", "free_bytes", "capacity_pct", "fragmentation_pct")
POOL_LASTS = (
    "state", "size_bytes", "read_errors", "write_errors", "checksum_errors", "data_errors",
)  # fmt: skip
DATASET_GAUGES = ("used_bytes", "available_bytes", "referenced_bytes")
# hits/misses are the kernel's counters since boot: last (a reboot resets them; the interval
# ratios, already computed at store time, are the gauges). min/max sizes are tunables.
ARC_GAUGES = (
    "size_bytes", "target_bytes", "mru_size_bytes", "mfu_size_bytes", "hit_ratio_pct",
    "l2_size_bytes", "l2_hit_ratio_pct",
)  # fmt: skip
ARC_LASTS = ("min_bytes", "max_bytes", "hits", "misses", "l2_hits", "l2_misses")


class PoolRollup(Rollup):
    """Capacity and error counters of one pool over one 5-minute or 1-hour bucket."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rollups")

    class Meta:
        constraints = one_per_bucket("pool", name="poolrollup_one_per_bucket")


class DatasetRollup(Rollup):
    """Space of one dataset over one bucket."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rollups")

    class Meta:
        constraints = one_per_bucket("dataset", name="dsrollup_one_per_bucket")


class ArcRollup(Rollup):
    """The ARC of one device over one bucket."""

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="arc_rollups"
    )

    class Meta:
        constraints = one_per_bucket("device", name="arcrollup_one_per_bucket")


add_aggregate_fields(PoolRollup, PoolSample, POOL_GAUGES, POOL_LASTS)
add_aggregate_fields(DatasetRollup, DatasetSample, DATASET_GAUGES, ())
add_aggregate_fields(ArcRollup, ArcSample, ARC_GAUGES, ARC_LASTS)
