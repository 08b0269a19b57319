from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from infrastructor.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "scope", "created_at", "last_used_at", "expires_at",
                    "revoked_at"]  # fmt: skip
    list_filter = ["scope"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "scope", "expires_at", "revoked_at", "key_id", "created_at",
              "last_used_at"]  # fmt: skip
    readonly_fields = ["key_id", "created_at", "last_used_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        clear = obj.assign_secret()
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"Token created. Copy it now, it is not shown again: {clear}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()
