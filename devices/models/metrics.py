"""Host metrics as time series: one narrow-typed row per device (or per mount, NIC, disk) per poll.

Rows are written with bulk inserts and read by (device, time range), so every table is indexed on
(device, collected_at). Rates are computed at store time from the previous counters (kept in
CounterState), which keeps reads cheap and makes a counter reset a gap, never a negative rate.
"""

from __future__ import annotations

from django.db import models

from devices.models.device import Device


class SystemSample(models.Model):
    """CPU, memory, swap, load and uptime of one device at one poll."""

    # No index of its own on the FK, nor a second (device, time) index: the unique (device,
    # collected_at) below answers the device lookups, the range scans in either direction and
    # the rollup's per-device walks (EXPLAIN in devices/migrations/0008).
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="system_samples", db_index=False
    )
    collected_at = models.DateTimeField()
    cpu_pct = models.FloatField(null=True)
    cpu_user_pct = models.FloatField(null=True)
    cpu_system_pct = models.FloatField(null=True)
    cpu_iowait_pct = models.FloatField(null=True)
    cpu_steal_pct = models.FloatField(null=True)
    cpu_count = models.PositiveSmallIntegerField(null=True)
    mem_total_bytes = models.BigIntegerField(null=True)
    mem_available_bytes = models.BigIntegerField(null=True)
    mem_used_bytes = models.BigIntegerField(null=True)
    mem_used_pct = models.FloatField(null=True)
    swap_total_bytes = models.BigIntegerField(null=True)
    swap_used_bytes = models.BigIntegerField(null=True)
    load_1 = models.FloatField(null=True)
    load_5 = models.FloatField(null=True)
    load_15 = models.FloatField(null=True)
    procs_running = models.IntegerField(null=True)
    procs_total = models.IntegerField(null=True)
    uptime_s = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "collected_at"], name="sys_one_per_poll")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


class FilesystemSample(models.Model):
    """Usage of one mounted filesystem (as `df` sees it) at one poll."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="filesystem_samples")
    collected_at = models.DateTimeField()
    mountpoint = models.CharField(max_length=1024)
    filesystem = models.CharField(max_length=1024)
    fs_type = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField()
    used_bytes = models.BigIntegerField()
    available_bytes = models.BigIntegerField()
    used_pct = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["device", "-collected_at"], name="fs_device_time")]

    def __str__(self) -> str:
        return f"{self.mountpoint} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


class InterfaceSample(models.Model):
    """Traffic of one network interface between two polls (rates per second)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="interface_samples")
    collected_at = models.DateTimeField()
    name = models.CharField(max_length=64)
    rx_bytes_per_s = models.FloatField(null=True)
    tx_bytes_per_s = models.FloatField(null=True)
    rx_packets_per_s = models.FloatField(null=True)
    tx_packets_per_s = models.FloatField(null=True)
    rx_errors = models.BigIntegerField(null=True, help_text="New receive errors since last poll.")
    tx_errors = models.BigIntegerField(null=True, help_text="New send errors since last poll.")
    rx_dropped = models.BigIntegerField(null=True)
    tx_dropped = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["device", "-collected_at"], name="if_device_time")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


class DiskSample(models.Model):
    """I/O of one block device between two polls (rates per second, busy % of the interval)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="disk_samples")
    collected_at = models.DateTimeField()
    name = models.CharField(max_length=64)
    read_bytes_per_s = models.FloatField(null=True)
    write_bytes_per_s = models.FloatField(null=True)
    reads_per_s = models.FloatField(null=True)
    writes_per_s = models.FloatField(null=True)
    busy_pct = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["device", "-collected_at"], name="disk_device_time")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"


class CounterState(models.Model):
    """The raw counters of a device's previous poll, from which the next poll computes rates."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="counter_state")
    collected_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"counters of device {self.device_id}"
