"""ZFS pools per device: current state, the vdev tree as last seen, and a health/capacity series.

A pool is identified by (device, name). Its vdev tree is kept as the nested structure zpool
printed (JSON), which is how people read it and what the events compare error counters against.
"""

from __future__ import annotations

from django.db import models

from collectors.models import SeenOnDevice


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
