"""Watched config files across the fleet, their versions and diffs, and the watched paths.

Contents and diffs are always shown masked (``********`` for secret-looking values), whether or
not they were stored raw (``CONFIG_STORE_SECRETS``).
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from devices.configs import diff_contents, mask_diff, shown_content
from devices.models import (
    ConfigFile,
    ConfigFileStatus,
    ConfigVersion,
    WatchedPath,
    WatchedPathSource,
)
from devices.parsers.configs import validate_pattern


class ConfigFileSerializer(serializers.ModelSerializer[ConfigFile]):
    device_name = serializers.CharField(source="device.name", read_only=True)
    pattern = serializers.CharField(source="watched_path.pattern", read_only=True, default=None)
    content = serializers.SerializerMethodField()
    binary = serializers.BooleanField(source="content.binary", read_only=True, default=False)
    versions = serializers.IntegerField(source="versions.count", read_only=True)

    class Meta:
        model = ConfigFile
        fields = ["id", "device", "device_name", "path", "pattern", "watched_path", "status",
                  "sha256", "size_bytes", "changed_at", "first_seen_at", "last_seen_at",
                  "removed_at", "error", "binary", "versions", "content"]  # fmt: skip

    def get_content(self, obj: ConfigFile) -> str | None:
        """The current content, masked; null while not fetched (see `error`)."""
        return shown_content(obj.content) if obj.content is not None else None


class ConfigFileListSerializer(ConfigFileSerializer):
    """The list leaves out the content (the detail and the versions have it)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields.pop("content")
        fields.pop("versions")
        return fields


class ConfigVersionSerializer(serializers.ModelSerializer[ConfigVersion]):
    sha256 = serializers.CharField(source="content.sha256", read_only=True)
    size_bytes = serializers.IntegerField(source="content.size_bytes", read_only=True)
    binary = serializers.BooleanField(source="content.binary", read_only=True)
    diff = serializers.SerializerMethodField()
    content = serializers.SerializerMethodField()

    class Meta:
        model = ConfigVersion
        fields = ["id", "sha256", "size_bytes", "binary", "collected_at", "lines_added",
                  "lines_removed", "diff", "content"]  # fmt: skip

    def get_diff(self, obj: ConfigVersion) -> str:
        """The unified diff from the previous version, masked ("" for the first version)."""
        return mask_diff(obj.diff)

    def get_content(self, obj: ConfigVersion) -> str:
        """The content, masked (base64 when `binary`)."""
        return shown_content(obj.content)


class ConfigDiffSerializer(serializers.Serializer[dict[str, Any]]):
    from_version = serializers.IntegerField(allow_null=True)
    to_version = serializers.IntegerField()
    binary = serializers.BooleanField()
    lines_added = serializers.IntegerField()
    lines_removed = serializers.IntegerField()
    summary = serializers.CharField()
    diff = serializers.CharField(allow_blank=True)


class ConfigFileFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ConfigFileStatus.choices)
    path = django_filters.CharFilter(lookup_expr="icontains", label="Part of the path (any case)")

    class Meta:
        model = ConfigFile
        fields = ["device", "path", "status", "watched_path"]


class ConfigFileViewSet(viewsets.ReadOnlyModelViewSet[ConfigFile]):
    """Watched config files of every device (Compose files, SWAG proxy confs, paths added by
    hand) with their current hash and content. `?status=deleted` lists files gone from their
    device, kept with their history. Secret-looking values are shown as `********`."""

    queryset = ConfigFile.objects.select_related("device", "watched_path", "content")
    filterset_class = ConfigFileFilter
    search_fields = ["path", "device__name"]
    ordering_fields = ["path", "status", "changed_at", "last_seen_at", "size_bytes"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer[ConfigFile]]:
        return ConfigFileListSerializer if self.action == "list" else ConfigFileSerializer

    @extend_schema(responses=ConfigVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every content the file had, newest first, each with its diff from the one before."""
        rows = self.get_object().versions.select_related("content").order_by("-collected_at", "-id")
        paginator = self.paginator
        page = paginator.paginate_queryset(rows, request, view=self) if paginator else None
        if paginator is None or page is None:
            return Response(ConfigVersionSerializer(rows, many=True).data)
        return paginator.get_paginated_response(ConfigVersionSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, description="Version id (default: the one before `to`)"),
            OpenApiParameter("to", int, description="Version id (default: the latest)"),
        ],
        responses=ConfigDiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """The unified diff between any two versions of this file, masked. Without `from`, from
        the version before `to` (from nothing for the first version)."""
        config = self.get_object()
        versions = config.versions.select_related("content")
        to = _version(versions, request.query_params.get("to"), "to")
        if to is None:
            to = versions.order_by("-collected_at", "-id").first()
        if to is None:
            raise ValidationError({"to": "This file has no version yet (content not fetched)."})
        old = _version(versions, request.query_params.get("from"), "from")
        if old is None and "from" not in request.query_params:
            old = (
                versions.filter(collected_at__lte=to.collected_at)
                .exclude(pk=to.pk)
                .exclude(collected_at=to.collected_at, pk__gt=to.pk)
                .order_by("-collected_at", "-id")
                .first()
            )
        diff = diff_contents(old.content if old else None, to.content, config.path, masked=True)
        body = {"from_version": old.pk if old else None, "to_version": to.pk,
                "binary": diff.binary, "lines_added": diff.lines_added,
                "lines_removed": diff.lines_removed, "summary": diff.summary,
                "diff": diff.text}  # fmt: skip
        return Response(ConfigDiffSerializer(body).data)


def _version(versions: Any, raw: str | None, name: str) -> ConfigVersion | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ValidationError({name: "A version id (an integer)."})
    version: ConfigVersion | None = versions.filter(pk=int(raw)).first()
    if version is None:
        raise ValidationError({name: f"Version {raw} is not a version of this file."})
    return version


class WatchedPathSerializer(serializers.ModelSerializer[WatchedPath]):
    device_name = serializers.CharField(source="device.name", read_only=True)
    # Declared: an omitted checkbox of a form-encoded request would otherwise read as False.
    enabled = serializers.BooleanField(default=True)

    class Meta:
        model = WatchedPath
        fields = ["id", "device", "device_name", "pattern", "max_size_bytes", "source",
                  "enabled", "created_at", "last_surveyed_at", "last_error"]  # fmt: skip
        read_only_fields = ["source", "created_at", "last_surveyed_at", "last_error"]

    def validate_pattern(self, value: str) -> str:
        try:
            return validate_pattern(value)
        except ValueError as e:
            raise serializers.ValidationError(f"The pattern {e}.") from e

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A default is derived from the device (its Compose projects, SWAG instances): only its
        # size limit and whether it is watched can change.
        instance = self.instance
        if isinstance(instance, WatchedPath) and instance.source == WatchedPathSource.DEFAULT:
            for name in ("device", "pattern"):
                if name in attrs and attrs[name] != getattr(instance, name):
                    raise ValidationError({name: "A default watched path keeps its " + name})
        return attrs


class WatchedPathViewSet(viewsets.ModelViewSet[WatchedPath]):
    """Files and globs watched per device. Defaults (`source=default`: the Compose files and
    SWAG proxy confs a device has) appear after their first survey and can be disabled or given
    another size limit; paths added here are `manual`. Writes need the operator scope."""

    queryset = WatchedPath.objects.select_related("device")
    serializer_class = WatchedPathSerializer
    filterset_fields = ["device", "source", "enabled"]
    search_fields = ["pattern", "device__name"]
    ordering_fields = ["pattern", "created_at", "last_surveyed_at"]

    def perform_create(self, serializer: serializers.BaseSerializer[WatchedPath]) -> None:
        serializer.save(source=WatchedPathSource.MANUAL)
