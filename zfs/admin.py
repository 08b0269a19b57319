"""ZFS pools in the admin: health at a glance."""

from __future__ import annotations

from django.contrib import admin

from collectors.admin import RecordAdmin
from zfs.models import Pool


@admin.register(Pool)
class PoolAdmin(RecordAdmin):
    list_display = ["name", "device", "state", "capacity_pct", "fragmentation_pct",
                    "data_errors", "last_seen_at"]  # fmt: skip
    list_filter = ["state", "device"]
    search_fields = ["name", "device__name"]
