"""Containers across the fleet in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from collectors.admin import RecordAdmin
from collectors.models import Event, EventKind, Trigger
from containers import services
from containers.models import ComposeProject, Container


@admin.register(Container)
class ContainerAdmin(admin.ModelAdmin[Container]):
    list_display = ["name", "device", "state", "health", "image", "compose_project",
                    "restart_count", "last_seen_at"]  # fmt: skip
    list_filter = ["state", "health", "device", "compose_project", "image"]
    actions = ["start_containers", "stop_containers", "restart_containers"]
    search_fields = ["name", "image", "compose_project", "compose_service", "device__name"]
    list_select_related = ["device"]
    exclude = ["counters"]
    readonly_fields = [f.name for f in Container._meta.fields if f.name != "counters"] + [
        "recent_stats", "recent_events",
    ]  # fmt: skip

    def has_add_permission(self, request: object) -> bool:
        return False

    def _act(self, request: HttpRequest, queryset: QuerySet[Container], action: str) -> None:
        actor = f"user:{request.user.get_username()}"
        for container in queryset.select_related("device"):
            try:
                result = services.container_action(
                    container, action, actor=actor, trigger=Trigger.ADMIN
                )
            except services.InvalidInput as e:
                self.message_user(request, f"{container}: {e}", messages.ERROR)
                continue
            op = result.output.operation
            if result.output.ok:
                now = result.container.state
                self.message_user(request, f"{container}: {action} done, now {now}.",
                                  messages.SUCCESS)  # fmt: skip
            else:
                self.message_user(request, f"{container}: {action} failed: {op.error_type} "
                                  f"{op.error}", messages.ERROR)  # fmt: skip

    @admin.action(description="Start selected containers")
    def start_containers(self, request: HttpRequest, queryset: QuerySet[Container]) -> None:
        self._act(request, queryset, "start")

    @admin.action(description="Stop selected containers")
    def stop_containers(self, request: HttpRequest, queryset: QuerySet[Container]) -> None:
        self._act(request, queryset, "stop")

    @admin.action(description="Restart selected containers")
    def restart_containers(self, request: HttpRequest, queryset: QuerySet[Container]) -> None:
        self._act(request, queryset, "restart")

    @admin.display(description="Recent stats (newest first)")
    def recent_stats(self, obj: Container) -> SafeString | str:
        rows = [
            (
                f"{s.collected_at:%H:%M:%S}",
                "-" if s.cpu_pct is None else f"{s.cpu_pct:.1f} %",
                "-" if s.mem_used_bytes is None else f"{s.mem_used_bytes / 2**20:.1f} MiB",
                "-" if s.pids is None else s.pids,
            )
            for s in obj.stats.order_by("-collected_at")[:10]
        ]
        if not rows:
            return "no stats yet"
        return format_html_join("", "<div>{}: CPU {}, memory {}, {} processes</div>", rows)

    @admin.display(description="Recent events")
    def recent_events(self, obj: Container) -> SafeString | str:
        events = Event.objects.filter(
            device_id=obj.device_id, kind=EventKind.CONTAINER, data__container=obj.name
        )[:10]
        if not events:
            return "none"
        return format_html_join(
            "", "<div>{} {}: {}</div>",
            ((f"{e.occurred_at:%Y-%m-%d %H:%M}", e.severity, e.summary) for e in events),
        )  # fmt: skip


@admin.register(ComposeProject)
class ComposeProjectAdmin(RecordAdmin):
    list_display = ["name", "device", "status", "last_seen_at", "removed_at"]
    list_filter = ["device"]
    search_fields = ["name", "device__name"]
