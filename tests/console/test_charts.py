"""The SVG charts: drawn from points, gaps left open, figures spoken."""

from __future__ import annotations

import datetime as dt

from devices.console.charts import Chart, Line, render_svg, summary

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def chart(*lines: Line, unit: str = "%", step_s: float | None = 60) -> Chart:
    return Chart("cpu", "CPU busy", unit, T0, at(60), list(lines), "raw samples", step_s=step_s,
                 y_max=100 if unit == "%" else None)  # fmt: skip


def test_a_chart_is_an_image_named_by_its_figures() -> None:
    svg = render_svg(chart(Line("CPU", [(at(0), 10.0), (at(1), 30.0), (at(2), 20.0)])))
    assert svg.startswith('<svg class="console-chart" id="chart-cpu"')
    assert 'role="img"' in svg and "<title>CPU busy</title>" in svg
    expected = ("CPU busy (3 points, raw samples). CPU: average 20.0 %, minimum 10.0 %, "
                "maximum 30.0 %, latest 20.0 %.")  # fmt: skip
    assert f'aria-label="{expected}"' in svg and f"<desc>{expected}</desc>" in svg
    assert svg.count("<polyline") == 1


def test_missing_values_and_long_silences_break_the_line() -> None:
    points = [(at(0), 1.0), (at(1), 2.0), (at(2), None), (at(3), 3.0), (at(4), 4.0),
              (at(30), 5.0), (at(31), 6.0), (at(40), 7.0)]  # fmt: skip
    svg = render_svg(chart(Line("CPU", points)))
    # [0, 1], [3, 4], [30, 31] are lines; the lone point at 40 is a dot
    assert svg.count("<polyline") == 3 and svg.count("<circle") == 1


def test_lines_differ_by_dash_pattern_not_only_colour() -> None:
    lines = [Line(n, [(at(0), 1.0), (at(1), 2.0)]) for n in ("1 min", "5 min", "15 min")]
    svg = render_svg(chart(*lines, unit=""))
    dashes = [p.split('stroke-dasharray="')[1].split('"')[0] for p in svg.split("<polyline")[1:]]
    assert len(set(dashes)) == 3


def test_a_chart_without_data_draws_nothing_and_says_so() -> None:
    empty = chart(Line("CPU", [(at(0), None)]))
    assert render_svg(empty) == ""
    assert summary(empty) == "CPU busy: no data in this range."


def test_rates_are_spoken_in_binary_units_per_second() -> None:
    text = summary(chart(Line("Received", [(at(0), 1536.0), (at(1), 3 * 2**20)]), unit="B/s"))
    assert "minimum 1.5 KiB/s" in text and "maximum 3.0 MiB/s" in text


def test_labels_are_escaped() -> None:
    svg = render_svg(chart(Line('<script>"x"', [(at(0), 1.0), (at(1), 2.0)])))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_averaged_points_speak_the_true_extremes_of_their_samples() -> None:
    line = Line("CPU", [(at(0), 20.0), (at(5), 30.0)], extremes=(2.0, 97.5))
    text = summary(chart(line, step_s=300))
    assert "average 25.0 %, minimum 2.0 %, maximum 97.5 %, latest 30.0 %" in text
