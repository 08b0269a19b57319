"""ZFS pools across the fleet (read side)."""

from __future__ import annotations

import datetime as dt

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from devices.api.timerange import parse_range
from zfs.models import Dataset, Pool, PoolSample, Snapshot


class PoolSerializer(serializers.ModelSerializer[Pool]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Pool
        fields = "__all__"


class PoolSampleSerializer(serializers.ModelSerializer[PoolSample]):
    class Meta:
        model = PoolSample
        exclude = ["id", "pool"]


class PoolViewSet(viewsets.ReadOnlyModelViewSet[Pool]):
    queryset = Pool.objects.select_related("device")
    serializer_class = PoolSerializer
    filterset_fields = ["device", "state", "name"]
    search_fields = ["name", "device__name"]
    ordering_fields = ["name", "capacity_pct", "last_seen_at"]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601 time or duration (default 7d)"),
            OpenApiParameter("until", str, description="ISO 8601 time or duration; default now"),
        ],
        responses=PoolSampleSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """State, capacity and error counters over time."""
        pool = self.get_object()
        start, end = parse_range(
            request.query_params.get("since"),
            request.query_params.get("until"),
            default=dt.timedelta(days=7),
        )
        rows = pool.samples.filter(collected_at__gte=start, collected_at__lte=end).order_by(
            "collected_at"
        )[:5000]
        return Response(
            {"pool": pool.pk, "since": start, "until": end,
             "points": PoolSampleSerializer(rows, many=True).data}
        )  # fmt: skip


class DatasetSerializer(serializers.ModelSerializer[Dataset]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Dataset
        fields = "__all__"


class SnapshotSerializer(serializers.ModelSerializer[Snapshot]):
    device_name = serializers.CharField(source="device.name", read_only=True)
    dataset_name = serializers.CharField(source="dataset.name", read_only=True, default=None)

    class Meta:
        model = Snapshot
        fields = "__all__"


class DatasetFilter(django_filters.FilterSet):
    removed = django_filters.BooleanFilter(field_name="removed_at", lookup_expr="isnull",
                                           exclude=True)  # fmt: skip

    class Meta:
        model = Dataset
        fields = ["device", "type", "snapshot_overdue", "removed"]


class SnapshotFilter(django_filters.FilterSet):
    removed = django_filters.BooleanFilter(field_name="removed_at", lookup_expr="isnull",
                                           exclude=True)  # fmt: skip
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Snapshot
        fields = ["device", "dataset", "removed", "created_after", "created_before"]


class DatasetViewSet(viewsets.ReadOnlyModelViewSet[Dataset]):
    queryset = Dataset.objects.select_related("device")
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    search_fields = ["name", "device__name", "mountpoint"]
    ordering_fields = ["name", "used_bytes", "newest_snapshot_at"]


class SnapshotViewSet(viewsets.ReadOnlyModelViewSet[Snapshot]):
    queryset = Snapshot.objects.select_related("device", "dataset")
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilter
    search_fields = ["name", "device__name"]
    ordering_fields = ["name", "created_at", "used_bytes"]
