"""Formatting for the console's templates: sizes, rates, durations and percentages, the same
way the charts write them (devices.console.charts)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from devices.console.charts import format_value
from infrastructor.formatting import format_bytes

register = template.Library()


@register.filter
def size(value: float | None) -> str:
    return "-" if value is None else format_bytes(float(value))


@register.filter
def per_second(value: float | None) -> str:
    return format_value(value, "B/s")


@register.filter
def percent(value: float | None) -> str:
    return format_value(value, "%")


@register.filter
def number(value: float | None) -> str:
    return format_value(value, "")


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@register.filter
def ago(when: dt.datetime | None) -> str:
    """How long ago, in words short enough for a table cell."""
    if when is None:
        return "never"
    return f"{duration(max((timezone.now() - when).total_seconds(), 0))} ago"


@register.filter
def utc(when: dt.datetime | None) -> str:
    return "-" if when is None else f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


@register.filter
def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs; the +/- stays in the text, so the colour is
    never the only sign of what was added or removed."""
    lines = []
    for line in (diff or "").splitlines():
        if line.startswith(("+++", "---")):
            css = "diff-file"
        else:
            css = {"+": "diff-add", "-": "diff-del", "@": "diff-hunk"}.get(line[:1], "")
        lines.append((css, line))
    return lines
