"""SWAG in the admin: instances (add one by hand when discovery cannot find it), and proxy confs,
read-only, with the parsed route, the file's content and its versions; with PROXY_WRITES_ENABLED,
an action removes confs (moved aside as a backup on the device, nginx tested and reloaded)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from collectors.admin import RecordAdmin
from collectors.models import Trigger
from proxies import services
from proxies.models import AuthMethod, ConfStatus, InstanceSource, ProxyConfig, SwagInstance

VERSION_ROWS = 20


def _table(head: list[str], rows: SafeString) -> SafeString:
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, rows)


@admin.register(SwagInstance)
class SwagInstanceAdmin(admin.ModelAdmin[SwagInstance]):
    list_display = ["config_path", "device", "container_name", "source", "active_confs",
                    "last_seen_at", "removed_at", "last_error"]  # fmt: skip
    list_filter = ["source", "device"]
    search_fields = ["config_path", "container_name", "device__name"]
    list_select_related = ["device"]
    readonly_fields = ["source", "first_seen_at", "last_seen_at", "removed_at", "last_error"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SwagInstance]:
        return (
            super()
            .get_queryset(request)
            .annotate(active=Count("configs", filter=Q(configs__status=ConfStatus.ACTIVE)))
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: SwagInstance | None = None
    ) -> list[str]:
        # A discovered instance is what the SWAG container's mounts say; only hand-made ones
        # are edited here.
        if obj is not None and obj.source == InstanceSource.DISCOVERED:
            return [*self.readonly_fields, "device", "config_path", "container_name"]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: SwagInstance, form: Any, change: bool) -> None:
        if not change:
            obj.source = InstanceSource.MANUAL
        super().save_model(request, obj, form, change)

    @admin.display(description="Active confs", ordering="active")
    def active_confs(self, obj: SwagInstance) -> int:
        return int(getattr(obj, "active", 0))


@admin.register(ProxyConfig)
class ProxyConfigAdmin(RecordAdmin):
    list_display = ["name", "device", "instance", "status", "names", "upstream_link", "auth_badge",
                    "unreachable", "changed_at", "last_seen_at"]  # fmt: skip
    list_filter = ["status", "auth", "kind", "device"]
    search_fields = ["name", "upstream_app", "device__name", "instance__config_path"]
    list_select_related = ["device", "instance"]
    ordering = ["device__name", "name"]
    exclude = ["content", "locations", "server_names", "listen_ports"]
    readonly_fields = ["route", "file_content", "versions_table"]
    actions = ["remove_confs"]

    @admin.action(description="Remove the selected confs (a backup is kept on the device)")
    def remove_confs(self, request: HttpRequest, queryset: QuerySet[ProxyConfig]) -> None:
        actor = f"user:{request.user.get_username()}"
        for conf in queryset.select_related("device", "instance"):
            try:
                result = services.remove_conf(conf, actor=actor, trigger=Trigger.ADMIN)
            except services.WritesDisabled as e:
                self.message_user(request, str(e), messages.ERROR)
                return
            except (services.InvalidInput, services.Conflict) as e:
                self.message_user(request, f"{conf}: {e}", messages.ERROR)
                continue
            op = result.output.operation
            if result.ok:
                self.message_user(request, f"{conf}: moved aside to {result.backup} "
                                  f"(operation {op.pk}).", messages.SUCCESS)  # fmt: skip
            else:
                self.message_user(request, f"{conf}: failed ({op.error_type}, operation "
                                  f"{op.pk}): {op.error}", messages.ERROR)  # fmt: skip

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description="Server names")
    def names(self, obj: ProxyConfig) -> str:
        return ", ".join(obj.server_names) or "-"

    @admin.display(description="Upstream", ordering="upstream_app")
    def upstream_link(self, obj: ProxyConfig) -> str:
        return obj.upstream or "-"

    @admin.display(description="Auth", ordering="auth")
    def auth_badge(self, obj: ProxyConfig) -> SafeString | str:
        if obj.auth == AuthMethod.NONE:
            return "none"
        return format_html("<strong>{}</strong>", obj.get_auth_display())

    @admin.display(description="Upstream down", boolean=True)
    def unreachable(self, obj: ProxyConfig) -> bool:
        return obj.upstream_unreachable_since is not None

    @admin.display(description="Parsed route")
    def route(self, obj: ProxyConfig) -> SafeString | str:
        if obj.parse_error:
            return format_html("<p>nginx would not read this file: {}</p>", obj.parse_error)
        summary = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            [
                ("Kind", obj.get_kind_display() or "-"),
                ("Server names", ", ".join(obj.server_names) or "-"),
                ("Upstream", obj.upstream or "-"),
                ("Auth", obj.get_auth_display()),
                ("Listen ports", ", ".join(str(p) for p in obj.listen_ports) or "-"),
            ],
        )
        locations = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    " ".join(p for p in (loc.get("modifier") or "", loc.get("path", "")) if p),
                    loc.get("upstream_app") or "-",
                    "-" if loc.get("upstream_port") is None else loc["upstream_port"],
                    loc.get("auth", "-"),
                )
                for loc in obj.locations
                if isinstance(loc, dict)
            ),
        )
        head = ["Location", "Upstream app", "Port", "Auth"]
        return format_html(
            "<table>{}</table>{}", summary, _table(head, locations) if obj.locations else ""
        )

    @admin.display(description="Content")
    def file_content(self, obj: ProxyConfig) -> SafeString | str:
        if not obj.sha256:
            return f"not read ({obj.read_error or 'no content yet'})"
        return format_html(
            '<p>sha256 {} · {} bytes</p><pre style="white-space:pre-wrap;max-height:40em;'
            'overflow:auto">{}</pre>',
            obj.sha256,
            obj.size_bytes,
            obj.content,
        )

    @admin.display(description="Versions (newest first)")
    def versions_table(self, obj: ProxyConfig) -> SafeString | str:
        versions = list(obj.versions.defer("content").order_by("-collected_at")[:VERSION_ROWS])
        if not versions:
            return "No versions yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (f"{v.collected_at:%Y-%m-%d %H:%M} UTC", v.sha256[:16], v.size_bytes)
                for v in versions
            ),
        )
        return _table(["Collected", "sha256", "Bytes"], rows)
