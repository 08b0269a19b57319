"""ZFS pools, vdevs, datasets, snapshots and the ARC across the fleet (read side)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from devices.api.timerange import TieredSeriesSerializer, parse_instant, parse_range
from devices.api.views import target_points
from devices.history.families import POOLS
from devices.history.query import read_series
from infrastructor.filters import UtcDateTimeFilter
from zfs.api_actions import DatasetActionsMixin, PoolActionsMixin, SnapshotActionsMixin
from zfs.arc_history import arc_series
from zfs.models import ArcSample, Dataset, Pool, PoolSample, Snapshot, Vdev


class PoolSerializer(serializers.ModelSerializer[Pool]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Pool
        fields = "__all__"


class PoolSampleSerializer(serializers.ModelSerializer[PoolSample]):
    class Meta:
        model = PoolSample
        exclude = ["id", "pool"]


class VdevSerializer(serializers.ModelSerializer[Vdev]):
    class Meta:
        model = Vdev
        exclude = ["pool"]


class PoolViewSet(PoolActionsMixin, viewsets.ReadOnlyModelViewSet[Pool]):
    queryset = Pool.objects.select_related("device")
    serializer_class = PoolSerializer
    filterset_fields = ["device", "state", "name"]
    search_fields = ["name", "device__name"]
    ordering_fields = ["name", "capacity_pct", "last_seen_at"]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601 time or duration (default 7d)"),
            OpenApiParameter("until", str, description="ISO 8601 time or duration; default now"),
            OpenApiParameter(
                "points", int, description="About how many points (default 500); long ranges "
                "come from the 5-minute or 1-hour rollups, with min/max per bucket",
            ),
        ],
        responses=PoolSampleSerializer(many=True),
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """State, capacity and error counters over time (oldest first); `tier` and `resolution`
        say whether the points are raw samples or rollup buckets."""
        pool = self.get_object()
        start, end = parse_range(
            request.query_params.get("since"),
            request.query_params.get("until"),
            default=dt.timedelta(days=7),
        )
        target = target_points(request.query_params.get("points"))
        fields = [f.name for f in PoolSample._meta.concrete_fields if f.name not in ("id", "pool")]
        read = read_series(POOLS, pool, start, end, fields, target=target)
        return Response({"pool": pool.pk, "since": start, "until": end} | read.answer())

    @extend_schema(
        parameters=[
            OpenApiParameter("include_removed", bool, description="Also vdevs no longer seen"),
        ],
        responses=VdevSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def vdevs(self, request: Request, pk: str | None = None) -> Response:
        """The vdev tree as rows in zpool's order; `parent` and `depth` give the nesting."""
        pool = self.get_object()
        rows = pool.vdev_rows.order_by("order")
        if request.query_params.get("include_removed") not in ("1", "true", "True"):
            rows = rows.filter(removed_at__isnull=True)
        return Response({"pool": pool.pk, "vdevs": VdevSerializer(rows, many=True).data})


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
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Snapshot
        fields = ["device", "dataset", "removed", "created_after", "created_before"]


class DatasetViewSet(DatasetActionsMixin, viewsets.ReadOnlyModelViewSet[Dataset]):
    queryset = Dataset.objects.select_related("device")
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    search_fields = ["name", "device__name", "mountpoint"]
    ordering_fields = ["name", "used_bytes", "newest_snapshot_at"]


class SnapshotViewSet(SnapshotActionsMixin, viewsets.ReadOnlyModelViewSet[Snapshot]):
    queryset = Snapshot.objects.select_related("device", "dataset")
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilter
    search_fields = ["name", "device__name"]
    ordering_fields = ["name", "created_at", "used_bytes"]


class ArcSampleSerializer(serializers.ModelSerializer[ArcSample]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = ArcSample
        fields = "__all__"


class ArcSampleFilter(django_filters.FilterSet):
    since = django_filters.CharFilter(method="filter_since",
                                      label="ISO 8601 time or duration (24h, 7d)")  # fmt: skip
    until = django_filters.CharFilter(method="filter_until",
                                      label="ISO 8601 time or duration")  # fmt: skip

    class Meta:
        model = ArcSample
        fields = ["device", "since", "until"]

    def filter_since(
        self, queryset: QuerySet[ArcSample], name: str, value: str
    ) -> QuerySet[ArcSample]:
        start = parse_instant(value, name=name, now=timezone.now())
        return queryset if start is None else queryset.filter(collected_at__gte=start)

    def filter_until(
        self, queryset: QuerySet[ArcSample], name: str, value: str
    ) -> QuerySet[ArcSample]:
        end = parse_instant(value, name=name, now=timezone.now())
        return queryset if end is None else queryset.filter(collected_at__lte=end)


class ArcSamplePageSerializer(serializers.Serializer[Any]):
    """The list without `device` and `since`: samples, paginated (the schema's first shape)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ArcSampleSerializer(many=True)


class ArcSeriesSerializer(TieredSeriesSerializer):
    """One device's ARC over a range, read through the history tiers (the second shape)."""

    device = serializers.IntegerField()


class ArcSampleViewSet(viewsets.ReadOnlyModelViewSet[ArcSample]):
    """The ARC samples of every device, newest first unless `ordering=collected_at`; one
    device's range (`device` and `since`) is answered as a series from the history tiers."""

    queryset = ArcSample.objects.select_related("device").order_by("-collected_at")
    serializer_class = ArcSampleSerializer
    filterset_class = ArcSampleFilter
    ordering_fields = ["collected_at", "size_bytes", "hit_ratio_pct"]

    @extend_schema(
        description=(
            "With `device` and `since`: that device's ARC between `since` and `until` (default "
            "now) as about `points` evenly spaced points, oldest first, read from raw samples "
            "or, for long ranges, the 5-minute or 1-hour rollups (`tier`, `resolution`); a "
            "rollup point's `hit_ratio_pct` is the ratio of all the accesses of its bucket, "
            "`hit_ratio_pct_min`/`_max` the extremes of its polls' ratios. `limit`, `offset` "
            "and `ordering` do not apply to it. Otherwise: the samples of every device (or of "
            "one, or since a time), paginated, newest first unless `ordering=collected_at`."
        ),
        parameters=[
            OpenApiParameter(
                "points", int, description="With device and since: about how many points "
                "(10-5000, default 500); the tier and bucket size follow",
            ),
        ],
        responses=PolymorphicProxySerializer(
            component_name="ArcSamplesOrSeries",
            serializers=[ArcSamplePageSerializer, ArcSeriesSerializer],
            resource_type_field_name=None,
            many=False,
        ),
    )  # fmt: skip
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.query_params
        if not (query.get("device") and query.get("since")):
            return super().list(request, *args, **kwargs)
        # One device over a range is a chart: the tiers answer it in a bounded number of points,
        # where paging through raw rows would read a month of 5-minute samples 50 at a time.
        filters = ArcSampleFilter(query, queryset=self.get_queryset(), request=request)
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        device = filters.form.cleaned_data["device"]
        start, end = parse_range(
            query.get("since"), query.get("until"), default=dt.timedelta(days=1)
        )
        read = arc_series(device, start, end, target=target_points(query.get("points")))
        return Response({"device": device.pk, "since": start, "until": end} | read.answer())
