"""Drives and their health history.

A drive is identified by its serial number, so its history follows it from slot to slot and from
host to host; a drive without a serial (a RAID virtual disk, some USB bridges) is identified by
the host and slot it sits in. ``device`` and ``slot`` say where it was last seen.
"""

from __future__ import annotations

from django.db import models

from collectors.models import SeenOnDevice


class Verdict(models.TextChoices):
    PASSED = "passed", "Passed"
    WARNING = "warning", "Warning"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"


class DriveHealth(models.Model):
    """The health figures both a drive's current state and each history point carry."""

    assessment = models.CharField(max_length=8, choices=Verdict.choices, default=Verdict.UNKNOWN)
    smart_passed = models.BooleanField(null=True, blank=True)
    temperature_c = models.IntegerField(null=True, blank=True)
    power_on_hours = models.BigIntegerField(null=True, blank=True)
    power_cycles = models.BigIntegerField(null=True, blank=True)
    reallocated_sectors = models.BigIntegerField(null=True, blank=True)
    pending_sectors = models.BigIntegerField(null=True, blank=True)
    offline_uncorrectable = models.BigIntegerField(null=True, blank=True)
    crc_errors = models.BigIntegerField(null=True, blank=True)
    media_errors = models.BigIntegerField(null=True, blank=True)
    percentage_used = models.IntegerField(null=True, blank=True)
    available_spare_pct = models.IntegerField(null=True, blank=True)

    class Meta:
        abstract = True


class Drive(SeenOnDevice, DriveHealth):
    """One physical drive (or what a controller shows as one) and its state at the last poll."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="drives")
    identity = models.CharField(max_length=300, unique=True)
    serial = models.CharField(max_length=128, blank=True)
    model = models.CharField(max_length=255, blank=True)
    firmware = models.CharField(max_length=64, blank=True)
    protocol = models.CharField(max_length=8, blank=True)
    slot = models.CharField(max_length=255)
    device_type = models.CharField(max_length=40, blank=True, help_text="smartctl -d type")
    transport = models.CharField(max_length=16, blank=True, help_text="lsblk TRAN: sata, usb...")
    capacity_bytes = models.BigIntegerField(null=True, blank=True)
    rotation_rpm = models.IntegerField(null=True, blank=True)
    ssd = models.BooleanField(null=True, blank=True)
    assessment_reasons = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=list, blank=True)
    sleeping = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True, help_text="Last report with data")
    temperature_high = models.BooleanField(default=False)
    # The last time a defect counter grew, and what grew: the warning is held for a while after
    # growth (DRIVE_WARNING_HOLD_DAYS), so it neither flaps off at the next poll nor lasts forever.
    counters_grew_at = models.DateTimeField(null=True, blank=True)
    counters_reasons = models.JSONField(default=list, blank=True)
    last_error_type = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["device__name", "slot"]
        indexes = [models.Index(fields=["device", "slot"])]

    def __str__(self) -> str:
        label = " ".join(part for part in (self.model, self.serial) if part)
        return label or self.slot


class DriveSample(DriveHealth):
    """One reading of a drive's health. ``attributes`` holds the full table, at most about once
    a day (DRIVE_ATTRIBUTES_EVERY_HOURS) or when the verdict changes, to keep the series small."""

    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="samples")
    collected_at = models.DateTimeField()
    attributes = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["drive", "collected_at"])]
        ordering = ["drive", "collected_at"]

    def __str__(self) -> str:
        return f"{self.drive_id} at {self.collected_at:%Y-%m-%d %H:%M}"
