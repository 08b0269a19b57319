"""Listening ports in the admin: one fleet list of who listens where, reachable from where, held
by which process and published by which container. Read-only: ports are what polling found."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from collectors.admin import PresenceFilter, RecordAdmin
from devices.models import Exposure, ListeningPort
from devices.models.ports import ListeningPortQuerySet

_EXPOSURE_COLOURS = {Exposure.PUBLIC: "#9a6700", Exposure.LOOPBACK: "#57606a"}


class ExposureFilter(admin.SimpleListFilter):
    title = "exposure"
    parameter_name = "exposure"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(Exposure.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in Exposure.values and isinstance(queryset, ListeningPortQuerySet):
            return queryset.exposed(value)
        return queryset


class OpenFilter(PresenceFilter):
    title = "state"
    parameter_name = "open"
    labels = ("Open", "Closed")


@admin.register(ListeningPort)
class ListeningPortAdmin(RecordAdmin):
    list_display = ["device", "protocol", "address", "port", "reach", "process", "pid",
                    "container", "opened_at", "last_seen_at", "removed_at"]  # fmt: skip
    list_filter = [OpenFilter, ExposureFilter, "protocol", "device"]
    list_select_related = ["device", "container"]
    search_fields = ["process", "address", "=port", "device__name", "container__name"]
    ordering = ["device__name", "port", "protocol", "address"]

    @admin.display(description="Exposure")
    def reach(self, obj: ListeningPort) -> SafeString:
        exposure = obj.exposure
        return format_html(
            '<strong style="color:{}">{}</strong>', _EXPOSURE_COLOURS[exposure], exposure.label
        )
