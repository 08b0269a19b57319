"""Rollups: the long-term tiers of the time series, a row per device per 5-minute or 1-hour bucket.

One table per family holds both tiers, told apart by `resolution_s`: the columns are the same, so
one aggregation statement, one query path and one unique constraint serve both, and a tier is a
`WHERE resolution_s = ...` away. A gauge keeps `<field>_min`, `<field>_avg` and `<field>_max`; a
value whose newest reading is what matters (totals, uptime) keeps `<field>_last`. The columns are
generated from the family's field lists (`add_aggregate_fields`), so the model, the SQL that fills
it and the query layer that reads it can never disagree on a name.
"""

from __future__ import annotations

from django.db import models

from devices.models.device import Device
from devices.models.metrics import SystemSample

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


class Rollup(models.Model):
    """What every rollup row has: its bucket (UTC, aligned to the epoch) and how many raw samples
    it summarises."""

    resolution_s = models.PositiveIntegerField(choices=[(r, f"{r}s") for r in RESOLUTIONS])
    bucket_start = models.DateTimeField()
    samples = models.PositiveIntegerField()

    class Meta:
        abstract = True


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


def _like(field: models.Field[object, object]) -> models.Field[object, object]:
    """A nullable copy of a raw column's type (an empty bucket field has no min)."""
    _, _, args, kwargs = field.deconstruct()
    kwargs["null"] = True
    kwargs.pop("help_text", None)
    return type(field)(*args, **kwargs)


def add_aggregate_fields(
    rollup: type[models.Model],
    raw: type[models.Model],
    gauges: tuple[str, ...],
    lasts: tuple[str, ...],
) -> None:
    """Give `rollup` a min/avg/max column per gauge and a last column per last-value field."""
    for name in gauges:
        source = raw._meta.get_field(name)
        assert isinstance(source, models.Field)
        rollup.add_to_class(f"{name}_min", _like(source))
        rollup.add_to_class(f"{name}_avg", models.FloatField(null=True))
        rollup.add_to_class(f"{name}_max", _like(source))
    for name in lasts:
        source = raw._meta.get_field(name)
        assert isinstance(source, models.Field)
        rollup.add_to_class(f"{name}_last", _like(source))


add_aggregate_fields(SystemRollup, SystemSample, SYSTEM_GAUGES, SYSTEM_LASTS)
