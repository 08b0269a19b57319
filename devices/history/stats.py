"""What the history costs on disk: rows, bytes, bytes per stored value, oldest and newest row,
per table and tier (what `manage.py history_stats` prints)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Count, Max, Min

from devices.history.families import FAMILIES
from devices.history.query import label
from devices.models.rollups import RESOLUTIONS

NUMERIC = (models.IntegerField, models.FloatField, models.DecimalField)


@dataclass
class TableStats:
    table: str
    tier: str
    rows: int
    bytes: int
    values_per_row: int
    oldest: dt.datetime | None
    newest: dt.datetime | None

    @property
    def bytes_per_value(self) -> float | None:
        stored = self.rows * self.values_per_row
        return round(self.bytes / stored, 2) if stored else None

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table, "tier": self.tier, "rows": self.rows, "bytes": self.bytes,
            "values_per_row": self.values_per_row, "bytes_per_value": self.bytes_per_value,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
        }  # fmt: skip


def numeric_columns(model: type[models.Model]) -> int:
    """Measured values in a row: numbers that are not the key (id, owner, time)."""
    return sum(
        1
        for f in model._meta.concrete_fields
        if isinstance(f, NUMERIC) and not f.primary_key and not f.is_relation
    )


def _total_bytes(model: type[models.Model]) -> int:
    with connection.cursor() as cursor:
        # Table + indexes + TOAST: what the table really costs on disk.
        cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [model._meta.db_table])
        size: int = cursor.fetchone()[0]
    return size


def _measure(
    model: type[models.Model], time_field: str, tier: str, values: int, **lookup: Any
) -> TableStats:
    figures = model._default_manager.filter(**lookup).aggregate(
        rows=Count("pk"), oldest=Min(time_field), newest=Max(time_field)
    )
    return TableStats(
        model._meta.db_table, tier, figures["rows"], 0, values, figures["oldest"], figures["newest"]
    )


def history_stats() -> list[TableStats]:
    """One entry per raw table and per rollup tier, family by family. Both tiers share one
    rollup table: its bytes are split between them by their share of its rows."""
    found: list[TableStats] = []
    for family in FAMILIES:
        raw = _measure(family.raw, family.time_field, "raw", numeric_columns(family.raw))
        raw.bytes = _total_bytes(family.raw)
        found.append(raw)
        values = len(family.aggregate_columns()) + 1  # + the sample count
        tiers = [
            _measure(family.rollup, "bucket_start", label(r), values, resolution_s=r)
            for r in RESOLUTIONS
        ]
        size, rows = _total_bytes(family.rollup), sum(t.rows for t in tiers)
        for tier in tiers:
            tier.bytes = round(size * tier.rows / rows) if rows else 0
        found += tiers
    return found
