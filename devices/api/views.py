"""The devices API: a declarative viewset plus the test, collect, metrics and latest actions."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from collectors.kinds import UnknownKind, registry
from collectors.models import Trigger
from collectors.tasks import enqueue_collection
from devices import logs as device_logs
from devices import metrics
from devices.api.filters import DeviceFilter
from devices.api.serializers import (
    CollectRequestSerializer,
    ConnectionTestSerializer,
    DeviceDetailSerializer,
    DeviceSerializer,
    latest_summary,
)
from devices.api.timerange import parse_range
from devices.history.families import DISKS, FILESYSTEMS, INTERFACES, SYSTEM, Family
from devices.history.query import DEFAULT_TARGET_POINTS, read_series
from devices.models import Device
from devices.services import check_connection
from infrastructor.actors import actor_for

SERIES: dict[str, Family] = {
    "system": SYSTEM, "filesystems": FILESYSTEMS, "interfaces": INTERFACES, "disks": DISKS,
}  # fmt: skip
MAX_POINTS = 5000
MIN_TARGET = 10


class DeviceViewSet(viewsets.ModelViewSet[Device]):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    search_fields = ["name", "address", "notes", "site"]
    ordering_fields = ["name", "status", "last_seen_at", "created_at"]

    def get_serializer_class(self) -> type[DeviceSerializer]:
        return DeviceDetailSerializer if self.action == "retrieve" else DeviceSerializer

    @extend_schema(request=None, responses=ConnectionTestSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Open a fresh connection and run `true` (pins the host key on first contact)."""
        result = check_connection(self.get_object())
        return Response(ConnectionTestSerializer(result).data)

    @extend_schema(request=CollectRequestSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def collect(self, request: Request, pk: str | None = None) -> Response:
        """Queue a collection now (all supported kinds unless `kinds` is given)."""
        device = self.get_object()
        body = CollectRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kinds = body.validated_data.get("kinds") or None
        try:
            if kinds:
                registry.resolve(kinds)
        except UnknownKind as e:
            raise ValidationError({"kinds": str(e)}) from e
        task_id = enqueue_collection(device, kinds, trigger=Trigger.API, actor=actor_for(request))
        return Response(
            {"task_id": task_id, "device": device.pk, "queue": device.queue},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601 time or duration (24h, 7d)"),
            OpenApiParameter("until", str, description="ISO 8601 time or duration; default now"),
            OpenApiParameter("fields", str, description="Comma-separated fields to return"),
            OpenApiParameter("series", str, enum=list(SERIES), description="Default: system"),
            OpenApiParameter(
                "points",
                int,
                description=f"About how many points to return per series ({MIN_TARGET}-"
                f"{MAX_POINTS}, default {DEFAULT_TARGET_POINTS}); the tier and bucket size follow",
            ),
            OpenApiParameter(
                "key",
                str,
                description="filesystems: one mountpoint (/mnt/data); interfaces, disks: one "
                "name (eth0, sda). Default: every one, each point carrying its mountpoint or name",
            ),
        ],
        responses={200: dict},
    )
    @action(detail=True, methods=["get"])
    def metrics(self, request: Request, pk: str | None = None) -> Response:
        """Time series of one device between `since` and `until` (default: the last hour), as
        about `points` evenly spaced points per series: raw samples, or 5-minute or 1-hour
        rollups (min/avg/max per bucket) for long ranges; `tier` and `resolution` say which."""
        device = self.get_object()
        query = request.query_params
        series = query.get("series", "system")
        if series not in SERIES:
            raise ValidationError({"series": f"one of {', '.join(SERIES)}"})
        family = SERIES[series]
        start, end = parse_range(
            query.get("since"), query.get("until"), default=dt.timedelta(hours=1)
        )
        allowed = metrics.model_fields(family.raw)
        fields = _requested_fields(query.get("fields"), allowed)
        keys = _key_filter(family, query.get("key"))
        target = target_points(query.get("points"))
        read = read_series(family, device, start, end, fields, target=target, keys=keys)
        return Response({
            "device": device.pk, "series": series, "since": start, "until": end,
            "key": query.get("key") or None, "fields": read.fields,
        } | read.answer())  # fmt: skip

    @action(detail=True, methods=["get"])
    def latest(self, request: Request, pk: str | None = None) -> Response:
        """The newest sample of every series."""
        return Response(latest_summary(self.get_object()))

    @extend_schema(
        parameters=[
            OpenApiParameter("source", str, enum=list(device_logs.SOURCES)),
            OpenApiParameter("lines", int,
                             description=f"newest lines (1-{device_logs.MAX_LINES}, 200)"),
            OpenApiParameter("grep", str, description="keep lines containing this text (any case)"),
            OpenApiParameter("unit", str, description="journal: systemd unit (globs * and ?)"),
            OpenApiParameter("priority", str, description="journal: 0-7 or emerg..debug"),
            OpenApiParameter("since", str, description="journal: -1h, today, 2026-11-25 10:00; "
                             "container: docker's --since (10m, RFC 3339)"),
            OpenApiParameter("path", str, description="file: a path in LOG_FILES_ALLOWED"),
            OpenApiParameter("container", str, description="container: its name on this device"),
        ],
        responses={200: dict, 400: dict, 502: dict},
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str | None = None) -> Response:
        """Logs read now from the device (never stored): journal entries, or the lines of a
        whitelisted file or of a container. 502 with the operation id when the read failed."""
        device = self.get_object()
        query = request.query_params
        wanted = {name: query[name] for name in device_logs.PARAMETER_NAMES if name in query}
        try:
            result = device_logs.read_logs(
                device, query.get("source") or device_logs.JOURNAL, actor=actor_for(request),
                trigger=Trigger.API, **wanted,
            )  # fmt: skip
        except device_logs.InvalidInput as e:
            raise ValidationError({e.field: str(e)}) from e
        code = status.HTTP_200_OK if result.ok else status.HTTP_502_BAD_GATEWAY
        return Response(result.as_json(), status=code)


def target_points(raw: str | None) -> int:
    """The `points` query parameter of a history endpoint (a 400 when it is not one)."""
    if raw is None or raw == "":
        return DEFAULT_TARGET_POINTS
    try:
        target = int(raw)
    except ValueError as e:
        raise ValidationError({"points": f"a whole number, not {raw!r}"}) from e
    if not MIN_TARGET <= target <= MAX_POINTS:
        raise ValidationError({"points": f"between {MIN_TARGET} and {MAX_POINTS}"})
    return target


def _key_filter(family: Family, raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    if not family.keys:
        raise ValidationError({"key": f"{family.name} is one series per device: no key"})
    return {family.keys[0]: raw}


def _requested_fields(raw: str | None, allowed: list[str]) -> list[str]:
    if not raw:
        return allowed
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise ValidationError(
            {"fields": f"unknown: {', '.join(unknown)}; known: {', '.join(allowed)}"}
        )
    return fields if "collected_at" in fields else ["collected_at", *fields]
