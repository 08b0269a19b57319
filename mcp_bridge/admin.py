"""MCP tool calls in the admin: a read-only audit list."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from mcp_bridge.models import ToolCall


@admin.register(ToolCall)
class ToolCallAdmin(admin.ModelAdmin[ToolCall]):
    list_display = ["started_at", "tool", "actor", "device", "transport", "status", "duration_ms"]
    list_filter = ["status", "transport", "tool"]
    search_fields = ["tool", "actor", "correlation_id", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["device"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ToolCall | None = None) -> bool:
        return False
