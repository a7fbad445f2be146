"""Charts drawn on the server as inline SVG: the scorecard's sparkline and usage line charts.

No chart library and no JavaScript: a chart is a few dozen SVG elements computed from the
points a selector read. Every text put into the markup is escaped; every chart carries a
`<title>` (and the line chart a `<desc>`) so a screen reader says what it shows.

A point whose value is None is a gap: the line stops before it and starts again after it,
so "not scored" or "no value that week" never looks like 0.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = Decimal | int | float
Point = tuple[dt.date, Number | None]


@dataclass(frozen=True)
class Plotted:
    x: float
    y: float


def _segments(
    points: Sequence[Point], x_of: dict[dt.date, float], y_of: Callable[[float], float]
) -> list[list[Plotted]]:
    """Runs of consecutive valued points; a None value ends a run (a gap in the line)."""
    runs: list[list[Plotted]] = []
    current: list[Plotted] = []
    for day, value in points:
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        current.append(Plotted(x_of[day], y_of(float(value))))
    if current:
        runs.append(current)
    return runs


def _path(runs: list[list[Plotted]]) -> str:
    """One path for every run: each starts with a move, so nothing joins across a gap."""
    parts = []
    for run in runs:
        parts.append(
            " ".join(
                f"{'M' if index == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for index, p in enumerate(run)
            )
        )
    return " ".join(parts)


def _x_positions(
    days: Sequence[dt.date],
    left: float,
    width: float,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> dict[dt.date, float]:
    """x of each day, placed by date between `first` and `last` (default: the days' ends)."""
    if not days:
        return {}
    first = first or days[0]
    last = last or days[-1]
    if first == last:
        return dict.fromkeys(days, left + width / 2)
    span = (last - first).days
    return {day: left + width * (day - first).days / span for day in days}


def sparkline(
    points: Sequence[Point],
    *,
    title: str,
    width: int = 160,
    height: int = 36,
    low: Number = 0,
    high: Number = 100,
    colour: str = "currentColor",
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
) -> SafeString:
    """A small line of `points` (by day, oldest first) on a fixed `low`–`high` scale.

    The days span `first_day`–`last_day` (default: the first and last point), so a short
    history sits at the right end of the window. Days whose value is None are gaps; days
    missing from `points` are joined over. Isolated points (a gap on both sides) and the
    latest point get a dot, so a single scored day is still visible.
    """
    pad = 3.0
    days = [day for day, _ in points]
    x_of = _x_positions(days, pad, width - 2 * pad, first_day, last_day)
    span = float(high) - float(low) or 1.0

    def y_of(value: float) -> float:
        clamped = min(max(value, float(low)), float(high))
        return pad + (height - 2 * pad) * (1 - (clamped - float(low)) / span)

    runs = _segments(points, x_of, y_of)
    body = []
    path = _path([run for run in runs if len(run) > 1])
    if path:
        body.append(
            f'<path d="{path}" fill="none" stroke="{escape(colour)}" stroke-width="1.75" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    dots = [run[0] for run in runs if len(run) == 1]
    if runs and len(runs[-1]) > 1:
        dots.append(runs[-1][-1])
    for dot in dots:
        body.append(f'<circle cx="{dot.x:.1f}" cy="{dot.y:.1f}" r="2.25" fill="{escape(colour)}"/>')
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f"<title>{escape(title)}</title>"
        f'<line class="sparkline__base" x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
        f'y2="{height - pad}" stroke="currentColor" stroke-opacity=".15"/>'
        f"{''.join(body)}</svg>"
    )


# ---------- line chart ----------


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About `count` round tick values (1, 2, 2.5 or 5 × a power of ten) covering low–high."""
    if high <= low:
        high = low + 1
    rough = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        if value >= high:
            break
        value += step
    return ticks


def compact_number(value: Number) -> str:
    """Short axis labels: 950 → "950", 1250 → "1.3k", 2000000 → "2M", 2.5 → "2.5"."""
    number = Decimal(str(value))
    size = abs(number)
    for threshold, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "k")):
        if size >= threshold:
            short = (size / threshold).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{short:f}".removesuffix(".0")
            return f"−{text}{suffix}" if number < 0 else f"{text}{suffix}"
    short = size.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{short:f}".removesuffix(".0")
    return f"−{text}" if number < 0 else text


def _date_label(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    unit: str = "",
    width: int = 520,
    height: int = 180,
    x_labels: int = 4,
) -> SafeString:
    """A line chart of `points` (oldest first) with a labelled value axis and a few dates.

    The value axis starts at 0 unless a value is negative, so a small change never looks
    like a collapse. None values are gaps.
    """
    left, right, top, bottom = 44.0, 12.0, 22.0, 24.0
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for _, v in points if v is not None]
    low = min([0.0, *values])
    high = max(values) if values else 1.0
    ticks = nice_ticks(low, high if high > low else low + 1)
    axis_low, axis_high = ticks[0], ticks[-1]
    span = axis_high - axis_low or 1.0

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - axis_low) / span)

    days = [day for day, _ in points]
    x_of = _x_positions(days, left, plot_w)
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line class="chart__grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" '
            f'y2="{y:.1f}"/>'
            f'<text class="chart__tick chart__tick--y" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(compact_number(tick))}</text>'
        )
    if days:
        chosen = _spread(len(days), x_labels)
        for index in chosen:
            day = days[index]
            anchor = "start" if index == 0 else "end" if index == len(days) - 1 else "middle"
            parts.append(
                f'<text class="chart__tick chart__tick--x" x="{x_of[day]:.1f}" '
                f'y="{height - 6}" text-anchor="{anchor}">{escape(_date_label(day))}</text>'
            )
    parts.append(
        f'<line class="chart__axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>'
    )
    runs = _segments(points, x_of, y_of)
    path = _path([run for run in runs if len(run) > 1])
    if path:
        parts.append(f'<path class="chart__line" d="{path}"/>')
    for run in runs[:-1]:  # the last run's end gets the larger latest-value dot below
        if len(run) == 1:
            parts.append(
                f'<circle class="chart__dot" cx="{run[0].x:.1f}" cy="{run[0].y:.1f}" r="2.5"/>'
            )
    if runs:
        last = runs[-1][-1]
        parts.append(f'<circle class="chart__dot" cx="{last.x:.1f}" cy="{last.y:.1f}" r="3"/>')
    if unit:
        parts.append(
            f'<text class="chart__unit" x="4" y="{top - 10}" text-anchor="start">'
            f"{escape(unit)}</text>"
        )
    desc = _describe(points, unit)
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid meet" role="img">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
        f"{''.join(parts)}</svg>"
    )


def _spread(length: int, wanted: int) -> list[int]:
    """`wanted` indexes spread evenly from the first to the last (fewer when short)."""
    if length <= 0:
        return []
    if length <= wanted:
        return list(range(length))
    step = (length - 1) / (wanted - 1)
    return sorted({round(i * step) for i in range(wanted)})


def _describe(points: Sequence[Point], unit: str) -> str:
    valued = [(day, v) for day, v in points if v is not None]
    if not valued:
        return "No values in this period."
    suffix = f" {unit}" if unit else ""
    (first_day, first), (last_day, last) = valued[0], valued[-1]
    return (
        f"From {compact_number(first)}{suffix} in the week of {_date_label(first_day)} "
        f"to {compact_number(last)}{suffix} in the week of {_date_label(last_day)}."
    )
