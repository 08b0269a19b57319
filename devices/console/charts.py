"""Line charts as server-rendered, accessible SVG: no JavaScript, no library, no CDN.

Pure: a `Chart` (lines of (time, value) points over a time window) in, markup out. The figures a
sighted reader takes from the drawing (average, minimum, maximum, latest of each line) are
written into the SVG's `aria-label` and `<desc>`, so a screen reader announces the same story.
Lines differ by dash pattern as well as colour (see console.css), never by colour alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from infrastructor.formatting import format_bytes

__all__ = ["Chart", "Line", "format_bytes", "format_value", "render_svg", "summary"]

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 10, 26
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
# A gap longer than this many steps between two points is missing data, not a slope.
GAP_STEPS = 3.5

Point = tuple[dt.datetime, float | None]


@dataclass(frozen=True)
class Line:
    """One series. Points that average several samples hide the peaks between them: `extremes`,
    when known, is the (minimum, maximum) of the samples behind the points."""

    label: str
    points: list[Point]
    extremes: tuple[float, float] | None = None

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.points if v is not None]


@dataclass(frozen=True)
class Chart:
    """One chart. `unit` picks the formatting ("%", "B/s", "" for plain numbers); `y_max` fixes
    the top of the scale (100 for percentages) instead of fitting it to the data; `step_s` is the
    expected spacing of the points, from which gaps are told apart from slopes."""

    key: str
    title: str
    unit: str
    start: dt.datetime
    end: dt.datetime
    lines: list[Line]
    resolution: str
    step_s: float | None = None
    y_max: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return any(line.values for line in self.lines)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "B/s":
        return f"{format_bytes(value)}/s"
    return f"{value:.2f}"


def summary(chart: Chart) -> str:
    """What the chart shows, in words: the accessible name of the SVG."""
    if not chart.has_data:
        return f"{chart.title}: no data in this range."
    parts = []
    for line in chart.lines:
        values = line.values
        if not values:
            parts.append(f"{line.label}: no data")
            continue
        fmt = _formatter(chart.unit)
        low, high = line.extremes or (min(values), max(values))
        parts.append(
            f"{line.label}: average {fmt(sum(values) / len(values))}, minimum {fmt(low)},"
            f" maximum {fmt(high)}, latest {fmt(values[-1])}"
        )
    points = max(len(line.points) for line in chart.lines)
    return f"{chart.title} ({points} points, {chart.resolution}). " + "; ".join(parts) + "."


def render_svg(chart: Chart) -> SafeString:
    """The chart as an inline `<svg>`; an empty string when it has no data (the caller says so
    in words instead of drawing empty axes)."""
    if not chart.has_data:
        return SafeString("")
    top = _nice_ceiling(chart.y_max or max(v for line in chart.lines for v in line.values))
    span = max((chart.end - chart.start).total_seconds(), 1.0)
    fmt = _formatter(chart.unit)

    def x(when: dt.datetime) -> float:
        return LEFT + PLOT_W * min(max((when - chart.start).total_seconds() / span, 0.0), 1.0)

    def y(value: float) -> float:
        return TOP + PLOT_H * (1 - min(max(value / top, 0.0), 1.0))

    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
        [(LEFT, _n(y(top * f)), WIDTH - RIGHT, _n(y(top * f)), LEFT - 6, _n(y(top * f) + 4),
          fmt(top * f)) for f in (0.0, 0.5, 1.0)],
    )  # fmt: skip
    ticks = format_html_join(
        "",
        '<text class="tick" x="{}" y="{}" text-anchor="{}">{}</text>',
        [(_n(x(when)), HEIGHT - 8, anchor, _time_label(when, span))
         for when, anchor in ((chart.start, "start"), (chart.start + (chart.end - chart.start) / 2,
                                                       "middle"), (chart.end, "end"))],
    )  # fmt: skip
    step = chart.step_s or _median_spacing(chart.lines)
    shapes = []
    for index, line in enumerate(chart.lines):
        css = f"series series-{index % len(DASHES)}"
        dash = DASHES[index % len(DASHES)]
        for run in _runs(line.points, step):
            if len(run) == 1:
                when, value = run[0]
                shapes.append(format_html(
                    '<circle class="{}" cx="{}" cy="{}" r="2.5"></circle>',
                    css, _n(x(when)), _n(y(value)),
                ))  # fmt: skip
                continue
            coords = " ".join(f"{_n(x(w))},{_n(y(v))}" for w, v in run)
            shapes.append(format_html(
                '<polyline class="{}" points="{}" stroke-dasharray="{}" fill="none"'
                ' data-series="{}"></polyline>', css, coords, dash or "none", line.label,
            ))  # fmt: skip
    label = summary(chart)
    return format_html(
        '<svg class="console-chart" id="chart-{}" viewBox="0 0 {} {}" role="img" aria-label="{}"'
        ' preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title><desc>{}</desc>"
        '<g aria-hidden="true">{}{}<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>{}</g>'
        "</svg>",
        chart.key, WIDTH, HEIGHT, label, chart.title, label, grid, ticks,
        LEFT, TOP + PLOT_H, WIDTH - RIGHT, TOP + PLOT_H, SafeString("".join(shapes)),
    )  # fmt: skip


def legend_dash(index: int) -> str:
    return DASHES[index % len(DASHES)] or "none"


def _n(coordinate: float) -> str:
    """A coordinate with one decimal: enough for a 640-unit drawing, and short markup."""
    return f"{coordinate:.1f}"


def _formatter(unit: str) -> Callable[[float], str]:
    return lambda value: format_value(value, unit)


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least `value` (and never 0: a flat zero line
    still needs a scale)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover


def _time_label(when: dt.datetime, span_s: float) -> str:
    when = when.astimezone(dt.UTC)
    if span_s <= 2 * 86400:
        return f"{when:%H:%M} UTC"
    return f"{when:%b %d %H:%M}"


def _median_spacing(lines: Sequence[Line]) -> float | None:
    gaps = sorted(
        (b[0] - a[0]).total_seconds()
        for line in lines
        for a, b in zip(line.points, line.points[1:], strict=False)
    )
    return gaps[len(gaps) // 2] if gaps else None


def _runs(points: Sequence[Point], step: float | None) -> list[list[tuple[dt.datetime, float]]]:
    """Points split where a value is missing or where the time between two points is a gap."""
    runs: list[list[tuple[dt.datetime, float]]] = []
    current: list[tuple[dt.datetime, float]] = []
    for when, value in points:
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        if current and step and (when - current[-1][0]).total_seconds() > GAP_STEPS * step:
            runs.append(current)
            current = []
        current.append((when, float(value)))
    if current:
        runs.append(current)
    return runs
