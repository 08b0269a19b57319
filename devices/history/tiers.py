"""The tiers of a series and how long each is kept (settings, in days)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from devices.models.rollups import RESOLUTION_1H, RESOLUTION_5M

RAW = 0  # the raw tier in tier choices: rows as collected


def retention_days(resolution_s: int) -> int:
    """Days a tier is kept. METRICS_RAW_RETENTION_DAYS, when set, wins over the older
    METRICS_RETENTION_DAYS for the raw tier."""
    if resolution_s == RAW:
        days: int = settings.METRICS_RAW_RETENTION_DAYS or settings.METRICS_RETENTION_DAYS
        return days
    if resolution_s == RESOLUTION_5M:
        return int(settings.METRICS_5M_RETENTION_DAYS)
    if resolution_s == RESOLUTION_1H:
        return int(settings.METRICS_1H_RETENTION_DAYS)
    raise ValueError(f"no tier of {resolution_s}s")


def horizon(resolution_s: int, now: dt.datetime) -> dt.datetime:
    """The oldest instant a tier still holds once retention has run."""
    return now - dt.timedelta(days=retention_days(resolution_s))
