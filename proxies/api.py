"""SWAG proxy confs across the fleet with their parsed routes, and each conf's versions."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from proxies.models import (
    AuthMethod,
    ConfKind,
    ConfStatus,
    ProxyConfig,
    ProxyConfigVersion,
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
    confs; `?server_name=jellyfin.example.org` finds the conf that serves that host."""

    queryset = ProxyConfig.objects.select_related("device", "instance")
    filterset_class = ProxyConfigFilter
    search_fields = ["name", "upstream_app", "device__name", "instance__config_path"]
    ordering_fields = ["name", "status", "upstream_app", "last_seen_at", "changed_at"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer[ProxyConfig]]:
        return ProxyConfigListSerializer if self.action == "list" else ProxyConfigSerializer

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
