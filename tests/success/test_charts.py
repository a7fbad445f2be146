"""The server-drawn charts: sparkline gaps, line chart axes, ticks and labels."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from success.charts import compact_number, line_chart, nice_ticks, sparkline

DAY = dt.date(2026, 3, 2)


def days(*values):
    return [(DAY + dt.timedelta(days=index), value) for index, value in enumerate(values)]


def path_moves(svg: str) -> list[str]:
    """The path's runs: each begins with M (a gap starts a new run)."""
    match = re.search(r'<path[^>]* d="([^"]*)"', svg)
    return re.findall(r"M[^M]*", match.group(1)) if match else []


def test_sparkline_breaks_the_line_on_not_scored_days():
    svg = str(sparkline(days(50, 60, None, 70, 80, 90), title="Overall"))

    runs = path_moves(svg)
    assert len(runs) == 2  # 50–60, then 70–80–90: nothing joins across the gap
    assert runs[0].count("L") == 1 and runs[1].count("L") == 2


def test_sparkline_draws_an_isolated_score_as_a_dot_and_never_zero():
    svg = str(sparkline(days(None, 40, None), title="Overall", height=36))

    assert path_moves(svg) == []
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert len(circles) == 1
    # 40 on a 0–100 scale between 3 px padding: y = 3 + 30 × 0.6 = 21, far from the 0 line.
    assert circles[0][1] == "21.0"


def test_sparkline_places_days_in_the_window_and_has_an_accessible_title():
    window_start = DAY - dt.timedelta(days=89)
    svg = str(
        sparkline(
            days(50, 60),
            title="Overall <90 days>",
            first_day=window_start,
            last_day=DAY + dt.timedelta(1),
        )
    )

    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Overall &lt;90 days&gt;</title>" in svg
    # Two days at the right end of a 90-day window, not stretched over the whole width.
    run = path_moves(svg)[0]
    xs = [float(x) for x in re.findall(r"[ML]([\d.]+),", run)]
    assert xs[0] > 150 and xs[1] == 157.0


def test_sparkline_without_scores_is_an_empty_frame():
    svg = str(sparkline(days(None, None), title="Not scored"))

    assert "<path" not in svg and "<circle" not in svg
    assert "<title>Not scored</title>" in svg


def test_nice_ticks_are_round_and_cover_the_values():
    assert nice_ticks(0, 437) == [0, 200, 400, 600]
    assert nice_ticks(0, 100) == [0, 50, 100]
    assert nice_ticks(-3, 12) == [-5, 0, 5, 10, 15]
    ticks = nice_ticks(0, 1)
    assert ticks[0] == 0 and ticks[-1] >= 1


def test_compact_numbers_for_axis_labels():
    assert compact_number(950) == "950"
    assert compact_number(1250) == "1.3k"
    assert compact_number(2_000_000) == "2M"
    assert compact_number(Decimal("2.50")) == "2.5"
    assert compact_number(-1500) == "−1.5k"


def test_line_chart_has_labelled_axes_the_unit_and_a_description():
    weeks = [
        (dt.date(2026, 1, 5) + dt.timedelta(weeks=i), v)
        for i, v in enumerate([120, 180, None, 240])
    ]

    svg = str(line_chart(weeks, title="Logins per week", unit="logins"))

    y_ticks = re.findall(r'chart__tick--y"[^>]*>([^<]+)<', svg)
    x_ticks = re.findall(r'chart__tick--x"[^>]*>([^<]+)<', svg)
    assert y_ticks == ["0", "100", "200", "300"]
    assert x_ticks == ["Jan 5", "Jan 12", "Jan 19", "Jan 26"]
    assert '<text class="chart__unit"' in svg and ">logins</text>" in svg
    assert "<title>Logins per week</title>" in svg
    assert (
        "<desc>From 120 logins in the week of Jan 5 to 240 logins in the week of Jan 26.</desc>"
        in svg
    )
    assert len(path_moves(svg)) == 1  # 120–180; then 240 alone after the missing week
    assert svg.count("<circle") == 1  # the latest value, alone after the missing week


def test_line_chart_escapes_what_an_admin_typed():
    svg = str(line_chart([(DAY, 1)], title="<script>", unit="<b>"))

    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
