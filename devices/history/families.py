"""The time-series families that have rollup tiers, declared once for the SQL, the query layer,
retention and statistics. A new family (filesystems, interfaces, ...) is a rollup model built with
`add_aggregate_fields` plus one `Family` here; `keys` names the columns that split a device's
series (a mountpoint, a NIC) and join the unique bucket key."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from devices.models import SystemRollup, SystemSample
from devices.models.rollups import SYSTEM_GAUGES, SYSTEM_LASTS


@dataclass(frozen=True)
class Family:
    """One series and its rollup table."""

    name: str
    raw: type[models.Model]
    rollup: type[models.Model]
    gauges: tuple[str, ...]
    lasts: tuple[str, ...]
    keys: tuple[str, ...] = ()
    time_field: str = "collected_at"

    @property
    def raw_table(self) -> str:
        return self.raw._meta.db_table

    @property
    def rollup_table(self) -> str:
        return self.rollup._meta.db_table

    def aggregate_columns(self) -> list[str]:
        """The rollup's value columns, in a fixed order."""
        columns = [f"{g}_{agg}" for g in self.gauges for agg in ("min", "avg", "max")]
        return columns + [f"{name}_last" for name in self.lasts]


SYSTEM = Family(
    name="system", raw=SystemSample, rollup=SystemRollup, gauges=SYSTEM_GAUGES, lasts=SYSTEM_LASTS
)
FAMILIES: tuple[Family, ...] = (SYSTEM,)


def family_of(raw: type[models.Model]) -> Family | None:
    return next((f for f in FAMILIES if f.raw is raw), None)
