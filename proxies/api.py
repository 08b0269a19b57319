"""SWAG proxy confs across the fleet with their parsed routes, and each conf's versions; with
PROXY_WRITES_ENABLED, operators create (from a template), edit and remove confs.

The writes are the viewset's own verbs on the collection and its items, not extra actions: a conf
is a resource, `POST /api/proxies/` makes one, `PUT /api/proxies/{id}/` replaces its content,
`DELETE /api/proxies/{id}/` removes it (moved aside as a backup on the device)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from collectors.api import OperationSerializer
from collectors.models import Trigger
from infrastructor.actors import actor_for
from proxies import services, templates
from proxies.models import (
    AuthMethod,
    ConfKind,
    ConfStatus,
    ProxyConfig,
    ProxyConfigVersion,
    SwagInstance,
)
from proxies.parsers import server_name_matches


class ProxyConfigSerializer(serializers.ModelSerializer[ProxyConfig]):
    device_name = serializers.CharField(source="device.name", read_only=True)
    instance_path = serializers.CharField(source="instance.config_path", read_only=True)
    container_name = serializers.CharField(source="instance.container_name", read_only=True)
    upstream = serializers.CharField(read_only=True)

    class Meta:
        model = ProxyConfig
        fields = "__all__"


class ProxyConfigListSerializer(ProxyConfigSerializer):
    """The list leaves out the file's content (the detail and the versions have it)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields.pop("content")
        return fields


class ProxyConfigVersionSerializer(serializers.ModelSerializer[ProxyConfigVersion]):
    class Meta:
        model = ProxyConfigVersion
        fields = ["id", "sha256", "size_bytes", "collected_at", "content"]


class ProxyCreateSerializer(serializers.Serializer[Any]):
    """A new conf from SWAG's template. The values are checked by the service (DNS labels, port
    1-65535...): the same rules hold for the API, the admin and MCP."""

    instance = serializers.PrimaryKeyRelatedField(queryset=SwagInstance.objects.all())
    kind = serializers.ChoiceField(choices=templates.KINDS)
    app_name = serializers.CharField(
        max_length=63, help_text="DNS label; the file is <app_name>.<kind>.conf"
    )
    upstream_app = serializers.CharField(max_length=253, help_text="container name or host")
    upstream_port = serializers.IntegerField(min_value=1, max_value=65535)
    upstream_proto = serializers.ChoiceField(choices=templates.PROTOS, default="http")
    auth = serializers.ChoiceField(choices=templates.AUTH_METHODS, default=AuthMethod.NONE)
    server_name = serializers.CharField(
        max_length=253, required=False, allow_blank=True,
        help_text="subdomain confs only; default <app_name>.*",
    )  # fmt: skip


class ProxyEditSerializer(serializers.Serializer[Any]):
    content = serializers.CharField(trim_whitespace=False, help_text="the conf's full new text")
    sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False,
        help_text="the version the text was made from; refused (409) if it is not the current one",
    )  # fmt: skip


def _invalid(e: services.InvalidInput) -> ValidationError:
    return ValidationError({e.field: str(e)})


def _write_response(result: services.WriteResult, ok_status: int = status.HTTP_200_OK) -> Response:
    """200/201 when written, tested and reloaded; 409 when the device had other news (the file
    exists, or changed); 502 for the rest (nginx refused and the original is back, ...)."""
    op = result.output.operation
    body: dict[str, Any] = {
        "ok": result.ok,
        "error": op.error or None,
        "backup": result.backup,
        "written": result.written,
        "tested": result.tested,
        "reloaded": result.reloaded,
        "rolled_back": result.rolled_back,
        "notes": result.notes,
        "operation": OperationSerializer(op).data,
        "config": ProxyConfigSerializer(result.config).data if result.config else None,
    }
    if result.ok:
        return Response(body, status=ok_status)
    failed = status.HTTP_409_CONFLICT if result.conflict else status.HTTP_502_BAD_GATEWAY
    return Response(body, status=failed)


def _write(call: Any, ok_status: int = status.HTTP_200_OK) -> Response:
    try:
        result = call()
    except services.WritesDisabled as e:
        raise PermissionDenied(str(e)) from e
    except services.InvalidInput as e:
        raise _invalid(e) from e
    except services.Conflict as e:
        return Response({"ok": False, "error": str(e)}, status=status.HTTP_409_CONFLICT)
    return _write_response(result, ok_status)


class ProxyConfigFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ConfStatus.choices)
    auth = django_filters.MultipleChoiceFilter(choices=AuthMethod.choices)
    kind = django_filters.ChoiceFilter(choices=ConfKind.choices)
    upstream = django_filters.CharFilter(
        field_name="upstream_app", lookup_expr="iexact", label="Upstream app (container or host)"
    )
    server_name = django_filters.CharFilter(
        method="filter_server_name",
        label="A host name the conf serves, matched the way nginx matches server_name "
        "(jellyfin.example.org finds `jellyfin.*`), or a server_name entry itself",
    )
    unreachable = django_filters.BooleanFilter(
        field_name="upstream_unreachable_since", lookup_expr="isnull", exclude=True,
        label="Upstream app is no running container",
    )  # fmt: skip

    class Meta:
        model = ProxyConfig
        fields = ["device", "instance", "status", "auth", "kind", "upstream", "server_name"]

    def filter_server_name(
        self, queryset: QuerySet[ProxyConfig], name: str, value: str
    ) -> QuerySet[ProxyConfig]:
        # Wildcards and regexes cannot be matched in SQL; a fleet holds a few thousand confs
        # at most, so their names are matched here.
        matching = [
            pk
            for pk, names in queryset.values_list("pk", "server_names")
            if any(server_name_matches(pattern, value) for pattern in names)
        ]
        return queryset.filter(pk__in=matching)


class ProxyConfigViewSet(viewsets.ReadOnlyModelViewSet[ProxyConfig]):
    """SWAG proxy confs (`nginx/proxy-confs/*.conf` and `*.conf.sample`) with the route each
    sets up: server names, upstream app/port/proto, auth (`none`/`authelia`/`authentik`/`ldap`/
    `basic`/`tinyauth`), listen ports and locations. `?status=active` hides samples and removed
    confs; `?server_name=jellyfin.example.org` finds the conf that serves that host.

    Writes (operator scope, `PROXY_WRITES_ENABLED`): each keeps a backup next to the file, runs
    `nginx -t` in the SWAG container, puts the original back if nginx refuses (502, with nginx's
    message and the audited operation), reloads nginx, and collects the confs again."""

    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    queryset = ProxyConfig.objects.select_related("device", "instance")
    filterset_class = ProxyConfigFilter
    search_fields = ["name", "upstream_app", "device__name", "instance__config_path"]
    ordering_fields = ["name", "status", "upstream_app", "last_seen_at", "changed_at"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer[ProxyConfig]]:
        return ProxyConfigListSerializer if self.action == "list" else ProxyConfigSerializer

    @extend_schema(request=ProxyCreateSerializer, responses={201: dict, 409: dict, 502: dict})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create `<app_name>.<kind>.conf` from SWAG's template in an instance's proxy-confs."""
        self._writes_enabled()
        serializer = ProxyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        instance = data.pop("instance")

        def call() -> services.WriteResult:
            spec = templates.validated_spec(**data)
            return services.create_conf(
                instance, spec, actor=actor_for(request), trigger=Trigger.API
            )

        return _write(call, status.HTTP_201_CREATED)

    @extend_schema(request=ProxyEditSerializer, responses={200: dict, 409: dict, 502: dict})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace an active conf's content (the whole text)."""
        self._writes_enabled()
        config = self.get_object()
        serializer = ProxyEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return _write(
            lambda: services.edit_conf(
                config, data["content"], base_sha256=data.get("sha256"),
                actor=actor_for(request), trigger=Trigger.API,
            )
        )  # fmt: skip

    @extend_schema(request=None, responses={200: dict, 409: dict, 502: dict})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Remove an active conf: moved aside on the device as `<name>.infra-backup-<time>`."""
        self._writes_enabled()
        config = self.get_object()
        return _write(
            lambda: services.remove_conf(config, actor=actor_for(request), trigger=Trigger.API)
        )

    def _writes_enabled(self) -> None:
        try:
            services.ensure_writes_enabled()
        except services.WritesDisabled as e:
            raise PermissionDenied(str(e)) from e

    @extend_schema(responses=ProxyConfigVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every content the conf had, newest first (a version per hash change)."""
        config = self.get_object()
        rows = config.versions.order_by("-collected_at", "-id")
        paginator = self.paginator
        page = paginator.paginate_queryset(rows, request, view=self) if paginator else None
        if paginator is None or page is None:
            return Response(ProxyConfigVersionSerializer(rows, many=True).data)
        return paginator.get_paginated_response(ProxyConfigVersionSerializer(page, many=True).data)
