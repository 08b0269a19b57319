"""Listening ports across the fleet: which device listens where, held by what, for which
container."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from devices.models import Exposure, ListeningPort, Protocol
from devices.models.ports import ListeningPortQuerySet


class ListeningPortSerializer(serializers.ModelSerializer[ListeningPort]):
    device_name = serializers.CharField(source="device.name", read_only=True)
    container_name = serializers.CharField(source="container.name", read_only=True, default=None)
    exposure = serializers.ChoiceField(choices=Exposure.choices, read_only=True)

    class Meta:
        model = ListeningPort
        fields = "__all__"


class ListeningPortFilter(django_filters.FilterSet):
    protocol = django_filters.ChoiceFilter(choices=Protocol.choices)
    process = django_filters.CharFilter(lookup_expr="iexact", label="Process name (any case)")
    container_name = django_filters.CharFilter(field_name="container__name")
    exposure = django_filters.ChoiceFilter(
        choices=Exposure.choices,
        method="filter_exposure",
        label="loopback (127.0.0.0/8, ::1) or public (wildcards and every other address)",
    )
    removed = django_filters.BooleanFilter(
        field_name="removed_at", lookup_expr="isnull", exclude=True, label="Closed since"
    )

    class Meta:
        model = ListeningPort
        fields = ["device", "port", "protocol", "process", "container", "container_name"]

    def filter_exposure(
        self, queryset: ListeningPortQuerySet, name: str, value: str
    ) -> ListeningPortQuerySet:
        return queryset.exposed(value)


class ListeningPortViewSet(viewsets.ReadOnlyModelViewSet[ListeningPort]):
    """Listening TCP and UDP ports of every device (`ss -tulpn`, or netstat without ss), with
    the process holding each and the container publishing it. `?removed=false` keeps open ports
    only; `?exposure=public` those reachable from the network."""

    queryset = ListeningPort.objects.select_related("device", "container")
    serializer_class = ListeningPortSerializer
    filterset_class = ListeningPortFilter
    search_fields = ["process", "address", "device__name", "container__name"]
    ordering_fields = ["port", "protocol", "address", "process", "opened_at", "last_seen_at"]
