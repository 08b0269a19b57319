"""The tiers of a series and how long each is kept (settings, in days).

Defaults are global (METRICS_RAW_RETENTION_DAYS, else METRICS_RETENTION_DAYS, for raw rows; the
drive family's raw rows follow DRIVE_HISTORY_DAYS; METRICS_5M_ / METRICS_1H_RETENTION_DAYS for the
rollups); HISTORY_RETENTION (from HISTORY_RETENTION_<FAMILY>) overrides any tier of one family.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings

from devices.models.rollups import RESOLUTION_1H, RESOLUTION_5M

if TYPE_CHECKING:
    from devices.history.families import Family

RAW = 0  # the raw tier in tier choices: rows as collected
TIER_NAMES = {RAW: "raw", RESOLUTION_5M: "5m", RESOLUTION_1H: "1h"}


def default_raw_days() -> int:
    """Days raw samples (and the audit trail) are kept when no family says otherwise."""
    days: int = settings.METRICS_RAW_RETENTION_DAYS or settings.METRICS_RETENTION_DAYS
    return days


def retention_days(resolution_s: int, family: Family | None = None) -> int:
    """Days a tier of `family` is kept (the global default without a family)."""
    if resolution_s not in TIER_NAMES:
        raise ValueError(f"no tier of {resolution_s}s")
    if family is not None:
        override = settings.HISTORY_RETENTION.get(family.name, {}).get(TIER_NAMES[resolution_s])
        if override is not None:
            return int(override)
    if resolution_s == RAW:
        if family is not None and family.raw_days_setting != "METRICS_RAW_RETENTION_DAYS":
            return int(getattr(settings, family.raw_days_setting))
        return default_raw_days()
    if resolution_s == RESOLUTION_5M:
        return int(settings.METRICS_5M_RETENTION_DAYS)
    return int(settings.METRICS_1H_RETENTION_DAYS)


def horizon(resolution_s: int, now: dt.datetime, family: Family | None = None) -> dt.datetime:
    """The oldest instant a tier still holds once retention has run."""
    return now - dt.timedelta(days=retention_days(resolution_s, family))
