"""Filters of the devices API (also what the OpenAPI schema documents)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from devices.models import Device


class DeviceFilter(django_filters.FilterSet):
    tag = django_filters.CharFilter(method="filter_tag", label="Has this tag")
    stale = django_filters.BooleanFilter(method="filter_stale", label="Not heard from lately")

    class Meta:
        model = Device
        fields = ["status", "site", "transport", "device_type", "enabled"]

    def filter_tag(self, queryset: QuerySet[Device], name: str, value: str) -> QuerySet[Device]:
        return queryset.filter(tags__contains=[value])

    def filter_stale(self, queryset: QuerySet[Device], name: str, value: bool) -> QuerySet[Device]:
        stale = Device.objects.stale().values("pk")
        return queryset.filter(pk__in=stale) if value else queryset.exclude(pk__in=stale)
