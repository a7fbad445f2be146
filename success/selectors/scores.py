"""Reads of the scorecards: grading bands, the scorecard section, the score history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.safestring import SafeString

from companies.models import Company
from gainsight_lite.http import parse_id
from relationships.models import Relationship
from success.charts import sparkline
from success.models import GradeBand, Measure, MeasureGroup, Score, Scorecard, ScoreSnapshot
from success.services import overall_score

# The sparkline covers this many days, today included.
HISTORY_DAYS = 90
NOT_SCORED = "Not scored"


def grade_bands() -> list[GradeBand]:
    """The grading scheme, lowest band first (one query)."""
    return list(GradeBand.objects.order_by("low"))


def grade_for(value: Decimal | int | None, bands: list[GradeBand]) -> GradeBand | None:
    """The band a score falls in; a fractional score between bands takes the lower band.

    Bands hold whole numbers (Red 0–49, Yellow 50–74...): 49.6 is still Red, since it has not
    reached the next band's low end.
    """
    if value is None:
        return None
    found = None
    for band in bands:
        if value >= band.low:
            found = band
    if found is not None and value <= found.high + 1:
        return found
    return None


def score_text(value: Decimal | int | None) -> str:
    """A score as shown: whole numbers bare, fractions to one decimal, cut (never rounded) up.

    Cutting keeps the text in the band the colour says: 49.96 shows as 49.9 (Red), not 50.
    """
    if value is None:
        return NOT_SCORED
    cut = Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return f"{cut:f}".removesuffix(".0")


def _subject_filter(subject: Company | Relationship) -> dict[str, Any]:
    if isinstance(subject, Company):
        return {"company": subject, "relationship__isnull": True}
    return {"relationship": subject}


@dataclass
class Trend:
    """The overall score against the latest snapshot before today."""

    current: Decimal | None
    previous: ScoreSnapshot | None

    @property
    def delta(self) -> Decimal | None:
        if self.current is None or self.previous is None or self.previous.overall is None:
            return None
        return self.current - self.previous.overall

    @property
    def direction(self) -> str:
        """ "up", "down", "flat", or "none" when there is nothing to compare with."""
        delta = self.delta
        if delta is None:
            return "none"
        return "up" if delta > 0 else "down" if delta < 0 else "flat"

    @property
    def text(self) -> str:
        """▲ +5, ▼ −3 or —."""
        delta = self.delta
        if delta is None or delta == 0:
            return "—"
        if delta > 0:
            return f"▲ +{score_text(delta)}"
        return f"▼ −{score_text(-delta)}"

    @property
    def note(self) -> str:
        """What the arrow compares with, in words."""
        previous = self.previous
        if previous is None:
            return "No earlier snapshot to compare with"
        if previous.overall is None:
            return f"Not scored on {previous.day:%b} {previous.day.day}"
        if self.current is None:
            return f"Was {score_text(previous.overall)} on {previous.day:%b} {previous.day.day}"
        on = f"{previous.day:%b} {previous.day.day}"
        if self.delta == 0:
            return f"No change since {on}"
        return f"Against {score_text(previous.overall)} on {on}"


@dataclass
class MeasureRow:
    """One measure of the scorecard with the subject's current score on it."""

    measure: Measure
    weight_percent: int | None
    score: Score | None
    band: GradeBand | None
    # What the row draws, set by the section that shows it (computed once there rather than
    # by tags, filters and lookups in the row's template).
    drawn: dict[str, Any] = field(default_factory=dict)

    @property
    def value_text(self) -> str:
        return score_text(self.score.value if self.score else None)


@dataclass
class MeasureGroupRows:
    name: str
    rows: list[MeasureRow] = field(default_factory=list)


def _weight_percent(weight: int, total: int) -> int | None:
    return round(100 * weight / total) if total else None


def _measure_rows(
    measures: list[Measure], scores: dict[int, Score], bands: list[GradeBand]
) -> list[MeasureRow]:
    total = sum(m.weight for m in measures)
    return [
        MeasureRow(
            measure=m,
            weight_percent=_weight_percent(m.weight, total),
            score=scores.get(m.pk),
            band=grade_for(scores[m.pk].value, bands) if m.pk in scores else None,
        )
        for m in measures
    ]


def _grouped(rows: list[MeasureRow]) -> list[MeasureGroupRows]:
    """Rows under their groups (in the groups' order), ungrouped measures last."""
    if not any(row.measure.group_id for row in rows):
        return [MeasureGroupRows(name="", rows=rows)]
    groups: dict[int, MeasureGroupRows] = {}
    order: dict[int, tuple[int, str]] = {}
    loose = MeasureGroupRows(name="Other measures")
    for row in rows:
        group = row.measure.group
        if group is None:
            loose.rows.append(row)
            continue
        groups.setdefault(group.pk, MeasureGroupRows(name=group.name)).rows.append(row)
        order[group.pk] = (group.order, group.name)
    result = [groups[pk] for pk in sorted(groups, key=lambda pk: order[pk])]
    return result + ([loose] if loose.rows else [])


def _scored_measures(
    subject: Company | Relationship,
) -> tuple[Scorecard | None, list[Measure], dict[int, Score]]:
    """The subject's scorecard (None when there is none), its active measures with their
    groups in order, and the subject's score on each keyed by measure.

    Two queries as values, one without a scorecard or active measures: the scorecard with
    its measures and their groups (an admin's few rows; the inactive ones left out here),
    then the subject's scores on the active ones with who set them. The rows are made into
    the instances the section shows: the three queries this replaces built theirs through
    select_related.
    """
    if isinstance(subject, Company):
        scorecards = Scorecard.objects.filter(relationship_type__isnull=True)
        own: dict[str, Any] = {"company": subject, "relationship__isnull": True}
    else:
        scorecards = Scorecard.objects.filter(relationship_type_id=subject.relationship_type_id)
        own = {"relationship": subject}
    scorecard: Scorecard | None = None
    groups: dict[int, MeasureGroup] = {}
    measures: list[Measure] = []
    for row in scorecards.order_by("measures__order", "measures__name").values_list(
        *_MEASURE_COLUMNS
    ):
        card_id, card_name, card_type_id, pk, name, weight, order, active = row[:8]
        group_id, group_name, group_order = row[8:]
        if scorecard is None:
            scorecard = Scorecard(id=card_id, name=card_name, relationship_type_id=card_type_id)
        if pk is None or not active:  # no measures, or one no longer in use
            continue
        measure = Measure(
            id=pk,
            scorecard_id=card_id,
            group_id=group_id,
            name=name,
            weight=weight,
            order=order,
            active=True,
        )
        if group_id is not None:
            if group_id not in groups:
                groups[group_id] = MeasureGroup(
                    id=group_id, scorecard_id=card_id, name=group_name, order=group_order
                )
            measure.group = groups[group_id]
        measures.append(measure)
    scores: dict[int, Score] = {}
    if not measures:
        return scorecard, measures, scores
    for row in Score.objects.filter(**own, measure_id__in=[m.pk for m in measures]).values_list(
        *_SCORE_COLUMNS
    ):
        pk, company_id, relationship_id, measure_id, value, comment, updated_at = row[:7]
        user_id, first_name, last_name, username = row[7:]
        score = Score(
            id=pk,
            company_id=company_id,
            relationship_id=relationship_id,
            measure_id=measure_id,
            value=value,
            comment=comment,
            updated_by_id=user_id,
            updated_at=updated_at,
        )
        if user_id is not None:
            score.updated_by = User(
                id=user_id, first_name=first_name, last_name=last_name, username=username
            )
        scores[measure_id] = score
    return scorecard, measures, scores


_MEASURE_COLUMNS = (
    "pk",
    "name",
    "relationship_type_id",
    "measures__id",
    "measures__name",
    "measures__weight",
    "measures__order",
    "measures__active",
    "measures__group_id",
    "measures__group__name",
    "measures__group__order",
)
_SCORE_COLUMNS = (
    "pk",
    "company_id",
    "relationship_id",
    "measure_id",
    "value",
    "comment",
    "updated_at",
    "updated_by_id",
    "updated_by__first_name",
    "updated_by__last_name",
    "updated_by__username",
)


def history_points(
    *, subject: Company | Relationship, today: dt.date, days: int = HISTORY_DAYS
) -> list[tuple[dt.date, Decimal | None]]:
    """The subject's daily overall scores over the last `days` days, oldest first (one query).

    A day without a snapshot is left out (the line joins its neighbours); a day snapshotted
    as not scored is kept with None, a gap in the line.
    """
    start = today - dt.timedelta(days=days - 1)
    return list(
        ScoreSnapshot.objects.filter(**_subject_filter(subject), day__gte=start, day__lte=today)
        .order_by("day")
        .values_list("day", "overall")
    )


def history_sparkline(
    points: list[tuple[dt.date, Decimal | None]], *, today: dt.date, days: int = HISTORY_DAYS
) -> SafeString:
    """The overall score's sparkline over the window ending today."""
    scored = [value for _, value in points if value is not None]
    if scored:
        title = (
            f"Overall score over the last {days} days: from {score_text(scored[0])} "
            f"to {score_text(scored[-1])}, lowest {score_text(min(scored))}, "
            f"highest {score_text(max(scored))}"
        )
    else:
        title = f"Overall score over the last {days} days: not scored"
    low, high = _sparkline_scale([float(value) for value in scored])
    return sparkline(
        points,
        title=title,
        width=180,
        height=44,
        low=low,
        high=high,
        first_day=today - dt.timedelta(days=days - 1),
        last_day=today,
    )


def _sparkline_scale(values: list[float], *, least_span: float = 20) -> tuple[float, float]:
    """The sparkline's vertical scale: the values' range with a margin, at least 20 points
    tall and within 0–100, so a move of a few points shows without looking dramatic."""
    if not values:
        return 0, 100
    low, high = max(min(values) - 5, 0), min(max(values) + 5, 100)
    missing = least_span - (high - low)
    if missing > 0:
        low, high = low - missing / 2, high + missing / 2
        if low < 0:
            low, high = 0, least_span
        elif high > 100:
            low, high = 100 - least_span, 100
    return low, high


def _previous_snapshot(
    *,
    subject: Company | Relationship,
    points: list[tuple[dt.date, Decimal | None]],
    today: dt.date,
) -> ScoreSnapshot | None:
    """The latest snapshot before today: the last of the history's points before today when
    the window holds one (no query), else read (it may be older than the window)."""
    for day, overall in reversed(points):
        if day < today:
            # What Trend reads of it: its day and overall.
            return ScoreSnapshot(day=day, overall=overall)
    return (
        ScoreSnapshot.objects.filter(**_subject_filter(subject), day__lt=today)
        .order_by("-day")
        .first()
    )


def scorecard_section(
    *, subject: Company | Relationship, today: dt.date | None = None
) -> dict[str, Any]:
    """The subject's scorecard: measures by group, overall, trend and 90-day history.

    Four queries whatever the number of measures, scores or snapshots (the scorecard with
    its measures, the scores, the grade bands, the history; five when no snapshot of the
    last 90 days comes before today: the one before them is read). One without a scorecard.
    """
    today = today or timezone.localdate()
    scorecard, measures, scores = _scored_measures(subject)
    if scorecard is None:
        return {"scorecard": None}
    bands = grade_bands()
    rows = _measure_rows(measures, scores, bands)
    overall = overall_score(
        (row.measure.weight, row.score.value) for row in rows if row.score is not None
    )
    points = history_points(subject=subject, today=today)
    previous = _previous_snapshot(subject=subject, points=points, today=today)
    return {
        "scorecard": scorecard,
        "groups": _grouped(rows),
        "measure_count": len(rows),
        "scored_count": sum(1 for row in rows if row.score is not None),
        "overall": overall,
        "overall_text": score_text(overall),
        "overall_band": grade_for(overall, bands),
        "trend": Trend(current=overall, previous=previous),
        "sparkline": history_sparkline(points, today=today),
        "history_days": HISTORY_DAYS,
        "bands": bands,
    }


def scorecard_measure_row(*, subject: Company | Relationship, measure_id: Any) -> MeasureRow | None:
    """One active measure of the subject's scorecard with its score, or None (three queries)."""
    wanted = parse_id(measure_id)
    if wanted is None:
        return None
    _, measures, scores = _scored_measures(subject)
    if not any(m.pk == wanted for m in measures):
        return None
    rows = _measure_rows(measures, scores, grade_bands())
    return next(row for row in rows if row.measure.pk == wanted)
