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
from devices.models import Drive, DriveSample, Verdict

MAX_POINTS = 5000


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


class DriveSampleBriefSerializer(DriveSampleSerializer):
    class Meta(DriveSampleSerializer.Meta):
        exclude = [*DriveSampleSerializer.Meta.exclude, "attributes"]


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
                "attributes", bool, description="Include the attribute tables (default false)"
            ),
        ],
        responses=DriveSampleSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Verdict, temperature, hours and counters over time (oldest first)."""
        drive = self.get_object()
        start, end = parse_range(
            request.query_params.get("since"),
            request.query_params.get("until"),
            default=dt.timedelta(days=30),
        )
        rows = drive.samples.filter(collected_at__gte=start, collected_at__lte=end).order_by(
            "collected_at"
        )
        serializer: type[DriveSampleSerializer] = DriveSampleSerializer
        if request.query_params.get("attributes", "").lower() not in ("1", "true", "yes"):
            rows, serializer = rows.defer("attributes"), DriveSampleBriefSerializer
        points = serializer(rows[:MAX_POINTS], many=True).data
        return Response({"drive": drive.pk, "since": start, "until": end, "points": points})
