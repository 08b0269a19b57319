from __future__ import annotations

import django_filters

from devices.models import Device


class DeviceFilter(django_filters.FilterSet):
    tag = django_filters.CharFilter(field_name="tags", lookup_expr="contains", method="filter_tag")
    stale = django_filters.BooleanFilter(method="filter_stale")

    class Meta:
        model = Device
        fields = ["status", "site", "transport", "device_type", "enabled"]

    def filter_tag(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.filter(tags__contains=[value])

    def filter_stale(self, queryset, name, value):  # type: ignore[no-untyped-def]
        stale = Device.objects.stale().values("pk")
        return queryset.filter(pk__in=stale) if value else queryset.exclude(pk__in=stale)
