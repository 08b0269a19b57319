from __future__ import annotations

from django.contrib import admin

from collectors.models import CollectionRun, Event, Operation


@admin.register(CollectionRun)
class CollectionRunAdmin(admin.ModelAdmin[CollectionRun]):
    list_display = ["started_at", "device", "status", "trigger", "actor", "duration_ms",
                    "bytes_read", "error_type"]  # fmt: skip
    list_filter = ["status", "trigger", "error_type"]
    search_fields = ["device__name", "correlation_id", "error", "actor"]
    date_hierarchy = "started_at"
    list_select_related = ["device"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["occurred_at", "severity", "type", "device", "summary"]
    list_filter = ["severity", "kind", "type"]
    search_fields = ["summary", "device__name", "type"]
    date_hierarchy = "occurred_at"
    list_select_related = ["device"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin[Operation]):
    list_display = ["started_at", "device", "action", "target", "actor", "status", "duration_ms"]
    list_filter = ["status", "action", "trigger"]
    search_fields = ["device__name", "target", "actor", "correlation_id"]
    date_hierarchy = "started_at"
    list_select_related = ["device"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
