"""Read-only API over the audit trail (collection runs) and the event timeline."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from collectors.models import CollectionRun, Event, Operation
from infrastructor.filters import UtcDateTimeFilter


class CollectionRunSerializer(serializers.ModelSerializer[CollectionRun]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = CollectionRun
        fields = "__all__"


class EventSerializer(serializers.ModelSerializer[Event]):
    device_name = serializers.CharField(source="device.name", read_only=True, default=None)

    class Meta:
        model = Event
        fields = "__all__"


class OperationSerializer(serializers.ModelSerializer[Operation]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Operation
        fields = "__all__"


class CollectionRunFilter(django_filters.FilterSet):
    started_after = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = CollectionRun
        fields = ["device", "status", "trigger", "correlation_id"]


class EventFilter(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["device", "kind", "type", "severity"]


class CollectionRunViewSet(viewsets.ReadOnlyModelViewSet[CollectionRun]):
    queryset = CollectionRun.objects.select_related("device")
    serializer_class = CollectionRunSerializer
    filterset_class = CollectionRunFilter
    ordering_fields = ["started_at", "duration_ms"]


class EventViewSet(viewsets.ReadOnlyModelViewSet[Event]):
    queryset = Event.objects.select_related("device")
    serializer_class = EventSerializer
    filterset_class = EventFilter
    search_fields = ["summary", "type"]
    ordering_fields = ["occurred_at", "severity"]


class OperationViewSet(viewsets.ReadOnlyModelViewSet[Operation]):
    """The audit trail of actions and on-demand reads (container restarts, logs, ...)."""

    queryset = Operation.objects.select_related("device")
    serializer_class = OperationSerializer
    filterset_fields = ["device", "action", "status", "trigger", "correlation_id"]
    search_fields = ["target", "actor"]
    ordering_fields = ["started_at", "duration_ms"]
