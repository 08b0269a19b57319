"""The device registry in the admin: the operations console until the live console arrives."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from collectors.models import Trigger
from collectors.tasks import enqueue_collection
from collectors.transports.base import ConfigError, fingerprint
from devices import metrics
from devices.models import Device, DeviceStatus, Transport
from devices.services import check_connection, set_stored_private_key, trust_offered_host_key

_STATUS_COLOURS = {
    DeviceStatus.ONLINE: "#1a7f37",
    DeviceStatus.OFFLINE: "#cf222e",
    DeviceStatus.HOST_KEY_CHANGED: "#cf222e",
    DeviceStatus.MAINTENANCE: "#9a6700",
    DeviceStatus.UNKNOWN: "#57606a",
}


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{value:.0f} B"
        value /= 1024
    return f"{value:.1f} PiB"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


class DeviceForm(forms.ModelForm[Device]):
    private_key = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="Paste an OpenSSH private key to store it encrypted (auth method 'stored key'). "
        "It is never shown again; leave empty to keep the stored one.",
    )

    class Meta:
        model = Device
        fields = [
            "name", "address", "port", "username", "transport", "auth_method", "key_path",
            "device_type", "site", "tags", "enabled", "notes",
        ]  # fmt: skip

    def clean_private_key(self) -> str:
        value = self.cleaned_data.get("private_key", "").strip()
        if value:
            try:
                set_stored_private_key(self.instance, value)
            except ConfigError as e:
                raise forms.ValidationError(str(e)) from e
        return value


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin[Device]):
    form = DeviceForm
    list_display = [
        "name", "status_badge", "address", "site", "last_seen_at", "capability_summary",
        "enabled",
    ]  # fmt: skip
    list_filter = ["status", "site", "transport", "device_type", "enabled"]
    search_fields = ["name", "address", "notes", "tags"]
    actions = ["test_connection_action", "detect_capabilities", "collect_now", "trust_host_key"]
    readonly_fields = [
        "status", "status_reason", "status_changed_at", "last_seen_at", "consecutive_failures",
        "next_attempt_at", "host_key_display", "offered_host_key_display", "stored_key_display",
        "capabilities_display", "capabilities_checked_at", "latest_metrics", "created_at",
        "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["name", "address", "port", "username", "transport", "enabled"]}),
        ("Authentication", {"fields": ["auth_method", "key_path", "private_key",
                                       "stored_key_display"]}),
        ("Organisation", {"fields": ["device_type", "site", "tags", "notes"]}),
        ("Status", {"fields": ["status", "status_reason", "status_changed_at", "last_seen_at",
                               "consecutive_failures", "next_attempt_at"]}),
        ("Host key", {"fields": ["host_key_display", "offered_host_key_display"]}),
        ("What we know", {"fields": ["capabilities_display", "capabilities_checked_at",
                                     "latest_metrics"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]  # fmt: skip

    def save_model(self, request: HttpRequest, obj: Device, form: Any, change: bool) -> None:
        if not change:
            obj.save()
            return
        # Save only what the form changed: a poll finishing meanwhile keeps its status updates.
        fields = [f for f in form.changed_data if f in DeviceForm.Meta.fields]
        if form.cleaned_data.get("private_key"):
            fields.append("encrypted_private_key")
        if fields:
            obj.save(update_fields=[*fields, "updated_at"])

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Device) -> SafeString:
        return format_html(
            '<strong style="color:{}" title="{}">{}</strong>',
            _STATUS_COLOURS.get(DeviceStatus(obj.status), "#57606a"),
            obj.status_reason,
            obj.get_status_display(),
        )

    @admin.display(description="Capabilities")
    def capability_summary(self, obj: Device) -> str:
        caps = obj.capabilities or {}
        return str(caps.get("summary", "not detected yet"))

    @admin.display(description="Pinned host key")
    def host_key_display(self, obj: Device) -> str:
        if obj.transport == Transport.LOCAL:
            return "not used (local transport)"
        if not obj.host_key:
            return "not pinned yet (first contact pins it)"
        return fingerprint(obj.host_key)

    @admin.display(description="Offered host key")
    def offered_host_key_display(self, obj: Device) -> str:
        return fingerprint(obj.offered_host_key) if obj.offered_host_key else "-"

    @admin.display(description="Stored private key")
    def stored_key_display(self, obj: Device) -> str:
        return "stored (encrypted)" if obj.has_stored_key else "none"

    @admin.display(description="Capabilities")
    def capabilities_display(self, obj: Device) -> SafeString | str:
        caps = obj.capabilities or {}
        if not caps:
            return "not detected yet"
        osr = caps.get("os_release") or {}
        rows = [
            ("OS", caps.get("os") or osr.get("pretty_name")),
            ("Kernel", caps.get("kernel")),
            ("Architecture", caps.get("arch")),
            ("CPU", f"{caps.get('cpu_model') or '?'} ({caps.get('cpu_cores') or '?'} cores)"),
            ("Memory", _bytes(caps.get("mem_total_bytes"))),
            ("GPUs", ", ".join(caps.get("gpus") or []) or "none"),
        ]
        tools = caps.get("tools") or {}
        for name, tool in sorted(tools.items()):
            state = "usable" if tool.get("usable") else "present, not usable by our user"
            if tool.get("via_sudo"):
                state += " (via sudo)"
            rows.append((name, f"{state} {tool.get('version') or ''}".strip()))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="Latest values")
    def latest_metrics(self, obj: Device) -> SafeString | str:
        if obj.pk is None:
            return "-"
        system = metrics.latest_system(obj)
        if system is None:
            return "no data yet"
        rows: list[tuple[str, str]] = [
            ("Collected", f"{system.collected_at:%Y-%m-%d %H:%M:%S} UTC"),
            ("CPU", f"{system.cpu_pct:.1f} %" if system.cpu_pct is not None else "- (next poll)"),
            ("Memory", f"{_bytes(system.mem_used_bytes)} of {_bytes(system.mem_total_bytes)}"
                       + (f" ({system.mem_used_pct:.1f} %)" if system.mem_used_pct else "")),
            ("Swap", f"{_bytes(system.swap_used_bytes)} of {_bytes(system.swap_total_bytes)}"),
            ("Load", f"{system.load_1} / {system.load_5} / {system.load_15}"),
            ("Uptime", _duration(system.uptime_s)),
        ]  # fmt: skip
        for fs in metrics.latest_filesystems(obj):
            rows.append((f"FS {fs.mountpoint}", f"{_bytes(fs.used_bytes)} of "
                         f"{_bytes(fs.size_bytes)} ({fs.used_pct} %), {fs.fs_type}"))  # fmt: skip
        for nic in metrics.latest_interfaces(obj):
            rows.append((f"NIC {nic.name}", f"rx {_bytes(nic.rx_bytes_per_s)}/s, "
                         f"tx {_bytes(nic.tx_bytes_per_s)}/s"))  # fmt: skip
        for disk in metrics.latest_disks(obj):
            io = (
                f"read {_bytes(disk.read_bytes_per_s)}/s, "
                f"write {_bytes(disk.write_bytes_per_s)}/s, busy {disk.busy_pct} %"
            )
            rows.append((f"Disk {disk.name}", io))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows),
        )

    @admin.action(description="Test connection")
    def test_connection_action(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset:
            result = check_connection(device)
            if result.ok:
                self.message_user(
                    request,
                    f"{device}: OK in {result.duration_ms} ms, host key "
                    f"{result.host_key_fingerprint or 'n/a'}",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request, f"{device}: {result.error_type}: {result.error}", messages.ERROR
                )

    def _enqueue(self, request: HttpRequest, queryset: QuerySet[Device], kinds: list[str] | None,
                 what: str) -> None:  # fmt: skip
        actor = f"user:{request.user.get_username()}"
        for device in queryset:
            enqueue_collection(device, kinds, trigger=Trigger.ADMIN, actor=actor)
        self.message_user(
            request, f"{what} queued for {queryset.count()} device(s); see Collection runs.",
            messages.INFO,
        )  # fmt: skip

    @admin.action(description="Detect capabilities")
    def detect_capabilities(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        self._enqueue(request, queryset, ["capabilities", "os-release"], "Capability detection")

    @admin.action(description="Collect now")
    def collect_now(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        self._enqueue(request, queryset, None, "Collection")

    @admin.action(description="Trust new host key")
    def trust_host_key(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        actor = f"user:{request.user.get_username()}"
        for device in queryset:
            if trust_offered_host_key(device, actor=actor):
                self.message_user(request, f"{device}: new host key trusted.", messages.SUCCESS)
            else:
                self.message_user(
                    request, f"{device}: no different host key was offered.", messages.WARNING
                )


# Registered in their own module to keep this one about the registry.
from devices import admin_configs, admin_drives, admin_ports  # noqa: E402, F401
