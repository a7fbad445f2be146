"""Reads of product usage: weekly metric values drawn as charts, the latest active users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.safestring import SafeString

from companies.models import Company
from relationships.models import Relationship
from success.charts import compact_number, line_chart
from success.models import UsageMetric, UsageValue

WEEK_CHOICES = (12, 26, 52)
DEFAULT_WEEKS = 12
# The summary's "active users" widget shows this metric when it exists, else the first one.
ACTIVE_USERS = "Active users"


def weeks_or_default(value: Any, default: Any = DEFAULT_WEEKS) -> int:
    """A period of 12, 26 or 52 weeks from a request or a config; anything else → default."""
    fallback = int(default) if str(default) in {str(w) for w in WEEK_CHOICES} else DEFAULT_WEEKS
    try:
        weeks = int(str(value))
    except (TypeError, ValueError):
        return fallback
    return weeks if weeks in WEEK_CHOICES else fallback


def week_of(day: dt.date) -> dt.date:
    """The Monday the day's week starts on (usage is recorded per week)."""
    return day - dt.timedelta(days=day.weekday())


def period_weeks(*, today: dt.date, weeks: int) -> list[dt.date]:
    """The Mondays of the last `weeks` weeks, this week's last."""
    last = week_of(today)
    return [last - dt.timedelta(weeks=weeks - 1 - index) for index in range(weeks)]


def usage_number(value: Decimal | None) -> str:
    """A metric value as read: thousands separated, no trailing zeros (1234.50 → "1,234.5")."""
    if value is None:
        return "—"
    text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    return f"−{text}" if value < 0 else text


def _subject_filter(subject: Company | Relationship) -> dict[str, Any]:
    # A company's own usage; its relationships' usage is on their R360 pages.
    if isinstance(subject, Company):
        return {"company": subject, "relationship__isnull": True}
    return {"relationship": subject}


@dataclass
class MetricChart:
    """One metric over the period: its weekly points, latest value, change and chart."""

    metric: UsageMetric
    points: list[tuple[dt.date, Decimal | None]]
    weeks: int

    @property
    def valued(self) -> list[tuple[dt.date, Decimal]]:
        return [(week, value) for week, value in self.points if value is not None]

    @property
    def latest(self) -> Decimal | None:
        valued = self.valued
        return valued[-1][1] if valued else None

    @property
    def latest_week(self) -> dt.date | None:
        valued = self.valued
        return valued[-1][0] if valued else None

    @property
    def latest_text(self) -> str:
        return usage_number(self.latest)

    @property
    def change(self) -> Decimal | None:
        """Latest minus the first value of the period; None with fewer than two values."""
        valued = self.valued
        if len(valued) < 2:
            return None
        return valued[-1][1] - valued[0][1]

    @property
    def change_direction(self) -> str:
        change = self.change
        if change is None:
            return "none"
        return "up" if change > 0 else "down" if change < 0 else "flat"

    @property
    def change_text(self) -> str:
        """ "▲ +120 (+12%) since Mar 3", "No change since Mar 3", or "" without two values."""
        change = self.change
        if change is None:
            return ""
        first_week, first = self.valued[0]
        since = f"since {first_week:%b} {first_week.day}"
        if change == 0:
            return f"No change {since}"
        arrow, sign = ("▲", "+") if change > 0 else ("▼", "−")
        percent = f" ({sign}{round(abs(change) * 100 / abs(first))}%)" if first else ""
        return f"{arrow} {sign}{usage_number(abs(change))}{percent} {since}"

    @property
    def chart(self) -> SafeString:
        unit = self.metric.unit
        return line_chart(
            self.points,
            title=f"{self.metric.name} per week over the last {self.weeks} weeks",
            unit=unit,
        )


def usage_section(
    *,
    subject: Company | Relationship,
    metric_ids: list[int] | None,
    weeks: int,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The chosen active metrics (every active one when none is chosen) over the last
    `weeks` weeks, one chart each (two queries).
    """
    today = today or timezone.localdate()
    metrics_qs = UsageMetric.objects.filter(active=True).order_by("order", "name")
    if metric_ids:
        metrics_qs = metrics_qs.filter(pk__in=metric_ids)
    metrics = list(metrics_qs)
    mondays = period_weeks(today=today, weeks=weeks)
    found: dict[tuple[int, dt.date], Decimal] = {}
    if metrics:
        rows = UsageValue.objects.filter(
            **_subject_filter(subject),
            metric__in=[m.pk for m in metrics],
            week__gte=mondays[0],
            week__lte=mondays[-1],
        ).values_list("metric_id", "week", "value")
        found = {(metric_id, week): value for metric_id, week, value in rows}
    charts = [
        MetricChart(
            metric=metric,
            points=[(week, found.get((metric.pk, week))) for week in mondays],
            weeks=weeks,
        )
        for metric in metrics
    ]
    return {
        "charts": charts,
        "has_metrics": bool(metrics),
        "has_values": bool(found),
        "period_start": mondays[0],
    }


@dataclass
class LatestUsage:
    metric_name: str
    metric_unit: str
    week: dt.date
    value: Decimal

    @property
    def text(self) -> str:
        return compact_number(self.value) if abs(self.value) >= 10_000 else usage_number(self.value)


def latest_active_users(*, subject: Company | Relationship) -> LatestUsage | None:
    """The latest weekly value of "Active users" — or, when the subject has none, of the first
    active metric it has values for (one query: the four values shown, no model instances)."""
    preferred = Case(
        When(metric__name__iexact=ACTIVE_USERS, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    row = (
        UsageValue.objects.filter(**_subject_filter(subject), metric__active=True)
        .order_by(preferred, "metric__order", "metric__name", "-week")
        .values_list("metric__name", "metric__unit", "week", "value")
        .first()
    )
    if row is None:
        return None
    name, unit, week, value = row
    return LatestUsage(metric_name=name, metric_unit=unit, week=week, value=value)
