"""The audit trail and the event timeline in the admin: read-only by nature."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from collectors.models import CollectionRun, Event, Operation


class RecordAdmin(admin.ModelAdmin[Any]):
    """Audit rows and events are written by the platform only: people look, never add or edit."""

    list_select_related = ["device"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PresenceFilter(admin.SimpleListFilter):
    """Present or gone, for things polling finds (`SeenOnDevice.removed_at`). Subclasses name
    the two states the way people say them ("Open"/"Closed" for ports, say)."""

    title = "presence"
    parameter_name = "present"
    labels = ("Present", "Gone")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", self.labels[0]), ("no", self.labels[1])]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(CollectionRun)
class CollectionRunAdmin(RecordAdmin):
    list_display = ["started_at", "device", "status", "trigger", "actor", "duration_ms",
                    "bytes_read", "error_type"]  # fmt: skip
    list_filter = ["status", "trigger", "error_type"]
    search_fields = ["device__name", "correlation_id", "error", "actor"]
    date_hierarchy = "started_at"


@admin.register(Event)
class EventAdmin(RecordAdmin):
    list_display = ["occurred_at", "severity", "type", "device", "summary"]
    list_filter = ["severity", "kind", "type"]
    search_fields = ["summary", "device__name", "type"]
    date_hierarchy = "occurred_at"


@admin.register(Operation)
class OperationAdmin(RecordAdmin):
    list_display = ["started_at", "device", "action", "target", "actor", "status", "duration_ms"]
    list_filter = ["status", "action", "trigger"]
    search_fields = ["device__name", "target", "actor", "correlation_id"]
    date_hierarchy = "started_at"


# Alerting has its own module; importing it registers its admins.
from collectors.alerts import admin as _alerts_admin  # noqa: E402, F401
