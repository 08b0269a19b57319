"""ZFS in the admin: health at a glance, and a pool's page reading like `zpool status`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from collectors.admin import RecordAdmin
from collectors.models import Trigger
from collectors.operations import OperationOutput
from zfs import services
from zfs.models import ArcSample, Dataset, Pool, Snapshot, Vdev, VdevGroup

HISTORY_ROWS = 12
_ALARM = "color:#ba2121;font-weight:bold"
_HEALTHY_STATES = frozenset({"ONLINE", "AVAIL", "INUSE", ""})


def _size(value: int | None) -> str:
    return "-" if value is None else str(filesizeformat(value))


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _when(value: dt.datetime | None) -> str:
    # format_html escapes its arguments into strings first: no format specs in its templates.
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _clock(seconds: int | None) -> str:
    """A duration as zpool prints it: `10:42:32`, days counted in hours."""
    if seconds is None:
        return "-"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _cell(text: object, alarm: bool = False) -> SafeString:
    """A table cell, in bold red when it shows trouble."""
    if alarm:
        return format_html('<td style="{}">{}</td>', _ALARM, text)
    return format_html("<td>{}</td>", text)


def _counter(value: int | None) -> SafeString:
    """An error counter's cell, alarming when it is not zero."""
    return _cell(_number(value), bool(value))


def _table(head: list[str], rows: SafeString) -> SafeString:
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ([h] for h in head)),
        rows,
    )


def _vdev_row(
    name: str, level: int, state: str, counters: tuple[int | None, ...], note: str
) -> SafeString:
    """A config-table row, indented by its level; trouble (a bad state, errors, a note) in red."""
    return format_html(
        '<tr><td style="padding-left:{}em">{}</td>{}{}{}</tr>',
        0.5 + 1.5 * level, name, _cell(state or "-", state not in _HEALTHY_STATES),
        format_html_join("", "{}", ([_counter(c)] for c in counters)), _cell(note, bool(note)),
    )  # fmt: skip


def _report(admin_: admin.ModelAdmin[Any], request: HttpRequest, what: str,
            output: OperationOutput) -> None:  # fmt: skip
    op = output.operation
    if output.ok:
        admin_.message_user(request, f"{what}: done (operation {op.pk}).", messages.SUCCESS)
    else:
        admin_.message_user(request, f"{what}: failed ({op.error_type}): {op.error}",
                            messages.ERROR)  # fmt: skip


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


@admin.register(Pool)
class PoolAdmin(RecordAdmin):
    actions = ["start_scrub"]

    @admin.action(description="Start a scrub of the selected pools")
    def start_scrub(self, request: HttpRequest, queryset: QuerySet[Pool]) -> None:
        for pool in queryset.select_related("device"):
            try:
                result = services.scrub_pool(pool, actor=_actor(request), trigger=Trigger.ADMIN)
            except services.InvalidInput as e:
                self.message_user(request, f"{pool}: {e}", messages.ERROR)
                continue
            _report(self, request, f"scrub of {pool.name} on {pool.device}", result.output)

    list_display = ["name", "device", "state", "capacity_pct", "fragmentation_pct",
                    "data_errors", "last_seen_at"]  # fmt: skip
    list_filter = ["state", "device"]
    search_fields = ["name", "device__name"]
    # The raw JSON of the tree and the scan is shown readably below instead.
    exclude = ["vdevs", "scan"]
    readonly_fields = ["vdev_tree", "last_scan", "recent_history"]

    @admin.display(description="Vdev tree")
    def vdev_tree(self, obj: Pool) -> SafeString | str:
        vdevs = list(obj.vdev_rows.order_by("order"))
        current = [v for v in vdevs if v.removed_at is None]
        if not current:
            return "no vdevs seen yet"
        pool_counters = (obj.read_errors, obj.write_errors, obj.checksum_errors)
        rows = [_vdev_row(obj.name, 0, obj.state, pool_counters, "")]
        group: str = VdevGroup.DATA
        for vdev in current:
            if vdev.group != group:  # a group header, as zpool prints it (`logs`, `spares`...)
                group = vdev.group
                rows.append(format_html('<tr><td colspan="6"><em>{}</em></td></tr>', group))
            counters = (vdev.read_errors, vdev.write_errors, vdev.checksum_errors)
            rows.append(_vdev_row(vdev.name, vdev.depth + 1, vdev.state, counters, vdev.note))
        head = ["Name", "State", "Read", "Write", "Cksum", "Note"]
        tree = _table(head, format_html_join("", "{}", ([row] for row in rows)))
        gone = [v for v in vdevs if v.removed_at is not None]
        if not gone:
            return tree
        return format_html(
            "{}<p>No longer in the pool: {}</p>", tree,
            format_html_join(", ", "{} (since {})", ((v.path, _when(v.removed_at)) for v in gone)),
        )  # fmt: skip

    @admin.display(description="Last scan")
    def last_scan(self, obj: Pool) -> SafeString | str:
        scan: dict[str, Any] = obj.scan or {}
        if not scan:
            return "none recorded (never scrubbed or resilvered)"
        state = str(scan.get("state", "")).replace("_", " ")
        when = scan.get("finished_local") or scan.get("canceled_local") or scan.get("started_local")
        rows = [
            ("Result", f"{scan.get('function')} {state}"
                       + (f" at {when} (host time)" if when else "")),
            ("Errors", _number(scan.get("errors"))),
            ("Repaired" if scan.get("function") == "scrub" else "Resilvered",
             _size(scan.get("repaired_bytes"))),
            ("Duration", _clock(scan.get("duration_s"))),
        ]  # fmt: skip
        if scan.get("state") == "in_progress":
            rows.append(("Progress", _number(scan.get("progress_pct"), " %")))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="Recent health and capacity (newest first)")
    def recent_history(self, obj: Pool) -> SafeString | str:
        samples = list(obj.samples.order_by("-collected_at")[:HISTORY_ROWS])
        if not samples:
            return "no samples yet"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} of {}</td><td>{}</td>{}{}{}{}</tr>",
            ((_when(s.collected_at), s.state, _number(s.capacity_pct, " %"), _size(s.alloc_bytes),
              _size(s.size_bytes), _number(s.fragmentation_pct, " %"), _counter(s.read_errors),
              _counter(s.write_errors), _counter(s.checksum_errors), _counter(s.data_errors))
             for s in samples),
        )  # fmt: skip
        return _table(["Collected (UTC)", "State", "Capacity", "Allocated", "Fragmentation",
                       "Read", "Write", "Cksum", "Data errors"], rows)  # fmt: skip


@admin.register(Vdev)
class VdevAdmin(RecordAdmin):
    list_display = ["path", "pool", "group", "type", "state", "read_errors", "write_errors",
                    "checksum_errors", "note", "removed_at"]  # fmt: skip
    list_filter = ["state", "group", "type"]
    list_select_related = ["pool", "pool__device"]
    search_fields = ["path", "pool__name", "pool__device__name", "note"]


@admin.register(ArcSample)
class ArcSampleAdmin(RecordAdmin):
    list_display = ["collected_at", "device", "size_bytes", "target_bytes", "max_bytes",
                    "hit_ratio_pct", "l2_size_bytes", "l2_hit_ratio_pct"]  # fmt: skip
    list_filter = ["device"]
    date_hierarchy = "collected_at"


@admin.register(Dataset)
class DatasetAdmin(RecordAdmin):
    list_display = ["name", "device", "type", "used_bytes", "available_bytes",
                    "newest_snapshot_at", "snapshot_overdue", "removed_at"]  # fmt: skip
    list_filter = ["type", "snapshot_overdue", "device"]
    search_fields = ["name", "device__name", "mountpoint"]
    actions = ["snapshot_now"]

    @admin.action(description="Snapshot the selected datasets now (infra-YYYYMMDD-HHMMSS)")
    def snapshot_now(self, request: HttpRequest, queryset: QuerySet[Dataset]) -> None:
        for dataset in queryset.select_related("device"):
            try:
                result = services.create_snapshot(
                    dataset, actor=_actor(request), trigger=Trigger.ADMIN
                )
            except services.InvalidInput as e:
                self.message_user(request, f"{dataset}: {e}", messages.ERROR)
                continue
            _report(self, request, f"snapshot {result.name}", result.output)


@admin.register(Snapshot)
class SnapshotAdmin(RecordAdmin):
    list_display = ["name", "device", "used_bytes", "created_at", "removed_at"]
    list_filter = ["device"]
    search_fields = ["name", "device__name"]
    date_hierarchy = "created_at"
