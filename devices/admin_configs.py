"""Watched config files in the admin: the watched paths (add one by hand, disable a default,
change a size limit), and the files, read-only, with the latest content and the last change as a
coloured diff. Secret-looking values are shown masked, however they were stored."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from collectors.admin import RecordAdmin
from devices.configs import mask_diff, shown_content
from devices.models import ConfigFile, WatchedPath, WatchedPathSource

VERSION_ROWS = 20
_PRE = 'style="white-space:pre-wrap;max-height:40em;overflow:auto;font-family:monospace"'
_LINE_COLOURS = {"+": "background:#dafbe1;color:#116329", "-": "background:#ffebe9;color:#82071e",
                 "@": "color:#57606a"}  # fmt: skip


def coloured_diff(diff: str) -> SafeString:
    """A unified diff as HTML: added lines green, removed lines red, hunk headers grey."""
    lines = []
    for line in diff.splitlines():
        colour = "" if line.startswith(("+++", "---")) else _LINE_COLOURS.get(line[:1], "")
        lines.append((colour, line))
    body = format_html_join("", '<div style="{}">{}</div>', lines)
    return format_html("<div {}>{}</div>", SafeString(_PRE), body)


@admin.register(WatchedPath)
class WatchedPathAdmin(admin.ModelAdmin[WatchedPath]):
    list_display = ["pattern", "device", "source", "enabled", "max_size_bytes", "files",
                    "last_surveyed_at", "last_error"]  # fmt: skip
    list_filter = ["source", "enabled", "device"]
    list_editable = ["enabled"]
    search_fields = ["pattern", "device__name"]
    list_select_related = ["device"]
    readonly_fields = ["source", "created_at", "last_surveyed_at", "last_error"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: WatchedPath | None = None
    ) -> list[str]:
        # A default is derived from the device's Compose projects and SWAG instances.
        if obj is not None and obj.source == WatchedPathSource.DEFAULT:
            return [*self.readonly_fields, "device", "pattern"]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: WatchedPath, form: Any, change: bool) -> None:
        if not change:
            obj.source = WatchedPathSource.MANUAL
        super().save_model(request, obj, form, change)

    @admin.display(description="Files")
    def files(self, obj: WatchedPath) -> int:
        return obj.files.count()


@admin.register(ConfigFile)
class ConfigFileAdmin(RecordAdmin):
    list_display = ["path", "device", "status", "size_bytes", "short_sha", "changed_at",
                    "last_seen_at", "error"]  # fmt: skip
    list_filter = ["status", "device"]
    search_fields = ["path", "device__name"]
    list_select_related = ["device"]
    ordering = ["device__name", "path"]
    exclude = ["content"]
    readonly_fields = ["last_change", "file_content", "versions_table"]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description="sha256")
    def short_sha(self, obj: ConfigFile) -> str:
        return obj.sha256[:12] or "-"

    @admin.display(description="Last change")
    def last_change(self, obj: ConfigFile) -> SafeString | str:
        latest = obj.versions.first()
        if latest is None:
            return "No version yet."
        if not latest.diff:
            return f"First version, {latest.collected_at:%Y-%m-%d %H:%M} UTC."
        return format_html(
            "<p>{} UTC · +{} \u2212{} lines</p>{}",
            f"{latest.collected_at:%Y-%m-%d %H:%M}",
            latest.lines_added,
            latest.lines_removed,
            coloured_diff(mask_diff(latest.diff)),
        )

    @admin.display(description="Content")
    def file_content(self, obj: ConfigFile) -> SafeString | str:
        if obj.content is None:
            return f"not held ({obj.error or 'no content yet'})"
        kind = "binary, base64" if obj.content.binary else "text"
        return format_html(
            "<p>sha256 {} · {} bytes · {}</p><pre {}>{}</pre>",
            obj.content.sha256,
            obj.content.size_bytes,
            kind,
            SafeString(_PRE),
            shown_content(obj.content),
        )

    @admin.display(description="Versions (newest first)")
    def versions_table(self, obj: ConfigFile) -> SafeString | str:
        versions = list(obj.versions.select_related("content")[:VERSION_ROWS])
        if not versions:
            return "No versions yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>+{} \u2212{}</td></tr>",
            (
                (f"{v.collected_at:%Y-%m-%d %H:%M} UTC", v.content.sha256[:16],
                 v.content.size_bytes, v.lines_added, v.lines_removed)
                for v in versions
            ),
        )  # fmt: skip
        return format_html(
            "<table><thead><tr><th>Collected</th><th>sha256</th><th>Bytes</th><th>Lines</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )
