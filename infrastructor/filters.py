"""Filters shared by the API's viewsets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time filter that queries in UTC.

    Python accepts offsets up to ±23:59 and PostgreSQL only up to ±15:59: a client's
    `2026-01-01T00:00:00-19:00` must be a time like any other, not a database error.
    """

    def filter(self, qs: QuerySet[Any], value: dt.datetime | None) -> QuerySet[Any]:
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except (OverflowError, ValueError) as e:
                raise ValidationError({self.field_name: "time out of range"}) from e
        return super().filter(qs, value)
