"""Parsing `since`/`until` query parameters: ISO 8601 instants or durations like `24h`, `7d`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_instant(value: str | None, *, name: str, now: dt.datetime) -> dt.datetime | None:
    """`24h` means 24 hours before now; an ISO timestamp without zone is taken as UTC."""
    if value is None or value == "":
        return None
    try:
        match = _DURATION.match(value.strip())
        if match:
            return now - dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        parsed = parse_datetime(value.strip().replace(" ", "+"))
        if parsed is None:
            raise ValidationError(
                {name: f"Expected an ISO 8601 time or a duration like 24h, got {value!r}."}
            )
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=dt.UTC)
        # in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError) as e:
        raise ValidationError({name: f"{value!r} is out of range."}) from e


def parse_range(
    since: str | None, until: str | None, *, default: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    now = timezone.now()
    end = parse_instant(until, name="until", now=now) or now
    start = parse_instant(since, name="since", now=now) or end - default
    if start >= end:
        raise ValidationError({"since": "must be before until"})
    return start, end


class TieredSeriesSerializer(serializers.Serializer[Any]):
    """A range read through the history tiers (`Series.answer()` with the range): what every
    history endpoint answers; each adds the id of what the series is of."""

    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    tier = serializers.ChoiceField(choices=["raw", "5m", "1h"])
    resolution = serializers.CharField(help_text="raw, or the spacing of the points: 5m, 3h...")
    resolution_s = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()
    points = serializers.ListField(child=serializers.DictField())
