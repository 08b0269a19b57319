"""Drives across the fleet with their verdict, and each drive's health history."""

from __future__ import annotations

import datetime as dt

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from devices.api.timerange import parse_range
from devices.api.views import target_points
from devices.history.families import DRIVES
from devices.history.query import read_series
from devices.models import Drive, DriveSample, Verdict

MAX_POINTS = 5000
# A history point without the attribute table (what charts need).
BRIEF_FIELDS = [
    f.name for f in DriveSample._meta.concrete_fields if f.name not in ("id", "drive", "attributes")
]


class DriveSerializer(serializers.ModelSerializer[Drive]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Drive
        exclude = ["identity", "counters_grew_at", "counters_reasons"]


class DriveListSerializer(DriveSerializer):
    """The list leaves out the attribute table (the detail has it)."""

    class Meta(DriveSerializer.Meta):
        exclude = [*DriveSerializer.Meta.exclude, "attributes"]


class DriveSampleSerializer(serializers.ModelSerializer[DriveSample]):
    class Meta:
        model = DriveSample
        exclude = ["id", "drive"]


class DriveFilter(django_filters.FilterSet):
    assessment = django_filters.MultipleChoiceFilter(choices=Verdict.choices)
    removed = django_filters.BooleanFilter(
        field_name="removed_at", lookup_expr="isnull", exclude=True, label="Removed (missing)"
    )

    class Meta:
        model = Drive
        fields = ["device", "assessment", "protocol", "serial", "sleeping", "temperature_high"]


class DriveViewSet(viewsets.ReadOnlyModelViewSet[Drive]):
    """Drives with our own S.M.A.R.T. verdict (`passed`/`warning`/`failed`/`unknown`), reasons,
    temperature, hours and the key counters. `?removed=false` hides missing or replaced drives."""

    queryset = Drive.objects.select_related("device")
    filterset_class = DriveFilter
    search_fields = ["serial", "model", "slot", "device__name"]
    ordering_fields = ["slot", "temperature_c", "power_on_hours", "last_seen_at", "assessment"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Drive]]:
        return DriveListSerializer if self.action == "list" else DriveSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601 time or duration (default 30d)"),
            OpenApiParameter("until", str, description="ISO 8601 time or duration; default now"),
            OpenApiParameter(
                "attributes", bool, description="Include the attribute tables (default false; "
                f"raw samples only, at most {MAX_POINTS})",
            ),
            OpenApiParameter(
                "points", int, description="About how many points (default 500); long ranges "
                "come from the 5-minute or 1-hour rollups, with min/max temperature per bucket",
            ),
        ],
        responses=DriveSampleSerializer(many=True),
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Verdict, temperature, hours and counters over time (oldest first); `tier` and
        `resolution` say whether the points are raw samples or rollup buckets."""
        drive = self.get_object()
        query = request.query_params
        start, end = parse_range(query.get("since"), query.get("until"),
                                 default=dt.timedelta(days=30))  # fmt: skip
        body = {"drive": drive.pk, "since": start, "until": end}
        if query.get("attributes", "").lower() in ("1", "true", "yes"):
            # The attribute tables exist only in the raw rows.
            rows = drive.samples.filter(collected_at__gte=start, collected_at__lte=end)
            points = DriveSampleSerializer(rows.order_by("collected_at")[:MAX_POINTS], many=True)
            raw = {"tier": "raw", "resolution": "raw", "resolution_s": None}
            return Response(body | raw | {"count": len(points.data), "points": points.data})
        target = target_points(query.get("points"))
        read = read_series(DRIVES, drive, start, end, BRIEF_FIELDS, target=target)
        return Response(body | read.answer())
