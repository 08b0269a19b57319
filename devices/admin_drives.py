"""Drives in the admin: a fleet list with our verdict, and a page per drive with its reasons, the
attribute table and the recent history. Read-only: drives are what polling found."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from collectors.admin import PresenceFilter, RecordAdmin
from devices.models import Drive, Verdict

HISTORY_ROWS = 20

_VERDICT_COLOURS = {
    Verdict.PASSED: "#1a7f37",
    Verdict.WARNING: "#9a6700",
    Verdict.FAILED: "#cf222e",
    Verdict.UNKNOWN: "#57606a",
}


def _value(value: object) -> str:
    return "-" if value is None else str(value)


def _table(head: list[str], rows: SafeString) -> SafeString:
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, rows)


class PresentFilter(PresenceFilter):
    labels = ("Present", "Missing or replaced")


@admin.register(Drive)
class DriveAdmin(RecordAdmin):
    list_display = ["__str__", "device", "slot", "verdict", "temperature", "power_on_hours",
                    "reallocated_sectors", "pending_sectors", "media_errors", "percentage_used",
                    "sleeping", "last_seen_at"]  # fmt: skip
    list_filter = ["assessment", "protocol", PresentFilter, "sleeping", "temperature_high",
                   "device"]  # fmt: skip
    search_fields = ["serial", "model", "slot", "device__name"]
    ordering = ["device__name", "slot"]
    exclude = ["attributes", "assessment_reasons", "counters_reasons"]
    readonly_fields = ["reasons", "attribute_table", "recent_history"]

    @admin.display(description="Verdict", ordering="assessment")
    def verdict(self, obj: Drive) -> SafeString:
        colour = _VERDICT_COLOURS.get(Verdict(obj.assessment), "#57606a")
        return format_html(
            '<strong style="color:{}">{}</strong>', colour, obj.get_assessment_display()
        )

    @admin.display(description="Temp °C", ordering="temperature_c")
    def temperature(self, obj: Drive) -> SafeString | str:
        if obj.temperature_c is None:
            return "-"
        if obj.temperature_high:
            return format_html('<strong style="color:#cf222e">{}</strong>', obj.temperature_c)
        return str(obj.temperature_c)

    @admin.display(description="Why")
    def reasons(self, obj: Drive) -> SafeString | str:
        lines = list(obj.assessment_reasons or [])
        if obj.last_error:
            lines.append(f"last read failed ({obj.last_error_type}): {obj.last_error}")
        if obj.sleeping:
            lines.append("asleep at the last poll (not woken); figures are from the last reading")
        if not lines:
            return "Nothing of concern."
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in lines))
        )

    @admin.display(description="S.M.A.R.T. attributes")
    def attribute_table(self, obj: Drive) -> SafeString | str:
        if not obj.attributes:
            return "-"
        rows = format_html_join(
            "",
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    SafeString(' style="color:#cf222e;font-weight:bold"')
                    if a.get("failing_now")
                    else "",
                    _value(a.get("id")),
                    a.get("name", ""),
                    _value(a.get("value")),
                    _value(a.get("worst")),
                    _value(a.get("threshold")),
                    a.get("raw_string", ""),
                )
                for a in obj.attributes
                if isinstance(a, dict)
            ),
        )
        return _table(["ID", "Name", "Value", "Worst", "Threshold", "Raw"], rows)

    @admin.display(description="Recent history")
    def recent_history(self, obj: Drive) -> SafeString | str:
        samples = list(obj.samples.defer("attributes").order_by("-collected_at")[:HISTORY_ROWS])
        if not samples:
            return "No readings yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    f"{s.collected_at:%Y-%m-%d %H:%M} UTC",
                    s.assessment,
                    _value(s.temperature_c),
                    _value(s.power_on_hours),
                    _value(s.reallocated_sectors),
                    _value(s.pending_sectors),
                    _value(s.media_errors),
                    _value(s.crc_errors),
                )
                for s in samples
            ),
        )
        head = ["When", "Verdict", "Temp °C", "Hours", "Reallocated", "Pending", "Media errors",
                "CRC errors"]  # fmt: skip
        return _table(head, rows)
