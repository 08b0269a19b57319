"""ZFS pools in the admin: health at a glance."""

from __future__ import annotations

from django.contrib import admin

from collectors.admin import RecordAdmin
from zfs.models import Dataset, Pool, Snapshot


@admin.register(Pool)
class PoolAdmin(RecordAdmin):
    list_display = ["name", "device", "state", "capacity_pct", "fragmentation_pct",
                    "data_errors", "last_seen_at"]  # fmt: skip
    list_filter = ["state", "device"]
    search_fields = ["name", "device__name"]


@admin.register(Dataset)
class DatasetAdmin(RecordAdmin):
    list_display = ["name", "device", "type", "used_bytes", "available_bytes",
                    "newest_snapshot_at", "snapshot_overdue", "removed_at"]  # fmt: skip
    list_filter = ["type", "snapshot_overdue", "device"]
    search_fields = ["name", "device__name", "mountpoint"]


@admin.register(Snapshot)
class SnapshotAdmin(RecordAdmin):
    list_display = ["name", "device", "used_bytes", "created_at", "removed_at"]
    list_filter = ["device"]
    search_fields = ["name", "device__name"]
    date_hierarchy = "created_at"
