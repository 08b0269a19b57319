"""Containers and Compose projects across the fleet (read side)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from collectors.api import OperationSerializer
from collectors.models import Trigger
from containers import services
from containers.models import ComposeProject, Container, ContainerStats
from devices.api.timerange import TieredSeriesSerializer, parse_range
from devices.api.views import target_points
from devices.history.families import CONTAINERS
from devices.history.query import read_series
from infrastructor.actors import actor_for


class ContainerSerializer(serializers.ModelSerializer[Container]):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Container
        exclude = ["counters"]


class ContainerStatsSeriesSerializer(TieredSeriesSerializer):
    """A container's resource use over a range, read through the history tiers."""

    container = serializers.IntegerField()


STATS_FIELDS = [
    f.name for f in ContainerStats._meta.concrete_fields if f.name not in ("id", "container")
]


class ComposeProjectSerializer(serializers.ModelSerializer[ComposeProject]):
    device_name = serializers.CharField(source="device.name", read_only=True)
    containers: serializers.SlugRelatedField[Container] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )

    class Meta:
        model = ComposeProject
        fields = "__all__"


class ContainerFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="compose_project")
    image = django_filters.CharFilter(field_name="image", lookup_expr="icontains")
    removed = django_filters.BooleanFilter(field_name="removed_at", lookup_expr="isnull",
                                           exclude=True)  # fmt: skip

    class Meta:
        model = Container
        fields = ["device", "state", "health", "project", "image", "removed"]


def _invalid(e: services.InvalidInput) -> ValidationError:
    return ValidationError({e.field: str(e)})


class ContainerViewSet(
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet[Container],
):
    queryset = Container.objects.select_related("device")
    serializer_class = ContainerSerializer
    filterset_class = ContainerFilter
    search_fields = ["name", "image", "compose_project", "compose_service", "device__name"]
    ordering_fields = ["name", "state", "last_seen_at", "restart_count"]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601 time or duration (24h, 7d)"),
            OpenApiParameter("until", str, description="ISO 8601 time or duration; default now"),
            OpenApiParameter(
                "points", int, description="About how many points (10-5000, default 500); long "
                "ranges come from the 5-minute or 1-hour rollups, with min/max per bucket",
            ),
        ],
        responses=ContainerStatsSeriesSerializer,
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        """Resource use over time (default: the last hour), oldest first, as about `points`
        evenly spaced points: raw samples, or 5-minute or 1-hour rollups (min/avg/max per bucket,
        the newest memory limit) for long ranges; `tier` and `resolution` say which."""
        container = self.get_object()
        start, end = parse_range(
            request.query_params.get("since"),
            request.query_params.get("until"),
            default=dt.timedelta(hours=1),
        )
        target = target_points(request.query_params.get("points"))
        read = read_series(CONTAINERS, container, start, end, STATS_FIELDS, target=target)
        return Response({"container": container.pk, "since": start, "until": end} | read.answer())

    def _act(self, request: Request, action_name: str) -> Response:
        try:
            result = services.container_action(
                self.get_object(), action_name, actor=actor_for(request), trigger=Trigger.API
            )
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            {
                "ok": result.output.ok,
                "operation": OperationSerializer(result.output.operation).data,
                "container": ContainerSerializer(result.container).data,
            },
            status=status.HTTP_200_OK if result.output.ok else status.HTTP_502_BAD_GATEWAY,
        )

    @extend_schema(request=None, responses={200: dict, 502: dict})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """`docker start`, audited; the container is collected again afterwards."""
        return self._act(request, "start")

    @extend_schema(request=None, responses={200: dict, 502: dict})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """`docker stop`, audited; the container is collected again afterwards."""
        return self._act(request, "stop")

    @extend_schema(request=None, responses={200: dict, 502: dict})
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, pk: str | None = None) -> Response:
        """`docker restart`, audited; the container is collected again afterwards."""
        return self._act(request, "restart")

    @extend_schema(
        parameters=[
            OpenApiParameter("tail", int, description=f"lines (1-{services.MAX_TAIL}, 200)"),
            OpenApiParameter("since", str, description="Unix time, RFC 3339 or 10m / 1h30m"),
            OpenApiParameter("grep", str, description="keep lines containing this text"),
        ],
        responses={200: dict},
    )
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str | None = None) -> Response:
        """Recent log lines (stdout and stderr, with timestamps), read now from the device."""
        try:
            result = services.container_logs(
                self.get_object(),
                actor=actor_for(request),
                tail=request.query_params.get("tail"),
                since=request.query_params.get("since"),
                grep=request.query_params.get("grep"),
            )
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            {
                "ok": result.output.ok,
                "lines": result.lines,
                "truncated": result.truncated,
                "operation": result.output.operation.pk,
                "error": result.output.operation.error or None,
            },
            status=status.HTTP_200_OK if result.output.ok else status.HTTP_502_BAD_GATEWAY,
        )

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def inspect(self, request: Request, pk: str | None = None) -> Response:
        """`docker inspect`, read now (environment variable values are never included)."""
        try:
            body = services.inspected(self.get_object(), actor=actor_for(request))
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            body, status=status.HTTP_200_OK if body["ok"] else status.HTTP_502_BAD_GATEWAY
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`docker rm` of a stopped container; off unless CONTAINER_REMOVE_ENABLED."""
        try:
            result = services.remove_container(self.get_object(), actor=actor_for(request))
        except PermissionError as e:
            raise PermissionDenied(str(e)) from e
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            {
                "ok": result.output.ok,
                "operation": OperationSerializer(result.output.operation).data,
            },
            status=status.HTTP_200_OK if result.output.ok else status.HTTP_502_BAD_GATEWAY,
        )


class ComposeProjectViewSet(viewsets.ReadOnlyModelViewSet[ComposeProject]):
    queryset = ComposeProject.objects.select_related("device").prefetch_related("containers")
    serializer_class = ComposeProjectSerializer
    filterset_fields = ["device", "name"]
    search_fields = ["name", "device__name"]
