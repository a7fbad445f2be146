"""Reads of the NPS survey responses: the score, its distribution and the latest comments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from companies.models import Company
from partners.access import AnyUser, partner_of, relationships_visible_to
from relationships.models import Relationship
from success.models import SurveyResponse

DEFAULT_DAYS = 365
DEFAULT_COMMENTS = 5
PROMOTER_FROM = 9  # 9–10
DETRACTOR_UP_TO = 6  # 0–6; 7–8 are passives


def responses_of(*, user: AnyUser, subject: Company | Relationship) -> QuerySet[SurveyResponse]:
    """The subject's responses the user may see: a company's own and those of its
    relationships the user may see; a relationship's own."""
    if isinstance(subject, Relationship):
        return SurveyResponse.objects.filter(relationship=subject)
    responses = SurveyResponse.objects.filter(company=subject)
    if partner_of(user) is None:
        return responses  # internal users see every relationship
    return responses.filter(
        Q(relationship__isnull=True) | Q(relationship__in=relationships_visible_to(user))
    )


def nps_from_counts(*, promoters: int, detractors: int, total: int) -> int | None:
    """NPS from counts, as `success.services.nps` computes it from the scores themselves."""
    if total == 0:
        return None
    return round(100 * (promoters - detractors) / total)


def category_of(score: int) -> str:
    """promoter, passive or detractor."""
    if score >= PROMOTER_FROM:
        return "promoter"
    if score <= DETRACTOR_UP_TO:
        return "detractor"
    return "passive"


@dataclass
class ScoreBar:
    """One score of the 0–10 distribution."""

    score: int
    count: int
    percent_of_max: int

    @property
    def category(self) -> str:
        return category_of(self.score)


@dataclass
class NpsFigures:
    total: int
    promoters: int
    passives: int
    detractors: int

    @property
    def nps(self) -> int | None:
        return nps_from_counts(
            promoters=self.promoters, detractors=self.detractors, total=self.total
        )

    @property
    def nps_text(self) -> str:
        value = self.nps
        if value is None:
            return "—"
        return f"+{value}" if value > 0 else f"−{-value}" if value < 0 else "0"

    @property
    def tone(self) -> str:
        """good (above 30), warn (0–30), bad (below 0), or "" without responses."""
        value = self.nps
        if value is None:
            return ""
        return "good" if value > 30 else "warn" if value >= 0 else "bad"

    def share(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0

    @property
    def promoter_share(self) -> int:
        return self.share(self.promoters)

    @property
    def passive_share(self) -> int:
        return self.share(self.passives)

    @property
    def detractor_share(self) -> int:
        return self.share(self.detractors)


def _since(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days - 1)


def nps_figures(
    *, user: AnyUser, subject: Company | Relationship, days: int, today: dt.date | None = None
) -> NpsFigures:
    """Counts of promoters, passives and detractors over the last `days` days (one query).

    Read as a count per score (at most 11 rows) and summed here: the same figures as three
    filtered COUNTs, for about half the ORM work (aggregate() wraps and clones the query)."""
    today = today or timezone.localdate()
    by_score = (
        responses_of(user=user, subject=subject)
        .filter(responded_on__gte=_since(today, days), responded_on__lte=today)
        .order_by()
        .values_list("score")
        .annotate(n=Count("pk"))
    )
    total = promoters = detractors = 0
    for score, n in by_score:
        total += n
        if score >= PROMOTER_FROM:
            promoters += n
        elif score <= DETRACTOR_UP_TO:
            detractors += n
    return NpsFigures(
        total=total,
        promoters=promoters,
        detractors=detractors,
        passives=total - promoters - detractors,
    )


def surveys_section(
    *,
    user: AnyUser,
    subject: Company | Relationship,
    days: int = DEFAULT_DAYS,
    comments: int = DEFAULT_COMMENTS,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """NPS, the 0–10 distribution and the latest comments over the last `days` days
    (two queries)."""
    today = today or timezone.localdate()
    responses = responses_of(user=user, subject=subject).filter(
        responded_on__gte=_since(today, days), responded_on__lte=today
    )
    by_score = dict(
        responses.order_by().values_list("score").annotate(n=Count("pk")).values_list("score", "n")
    )
    tallest = max(by_score.values(), default=0)
    bars = [
        ScoreBar(
            score=score,
            count=by_score.get(score, 0),
            percent_of_max=round(100 * by_score.get(score, 0) / tallest) if tallest else 0,
        )
        for score in range(11)
    ]
    promoters = sum(bar.count for bar in bars if bar.category == "promoter")
    detractors = sum(bar.count for bar in bars if bar.category == "detractor")
    total = sum(bar.count for bar in bars)
    figures = NpsFigures(
        total=total,
        promoters=promoters,
        detractors=detractors,
        passives=total - promoters - detractors,
    )
    latest = list(
        responses.exclude(comment="")
        .select_related("person")
        .order_by("-responded_on", "-id")[:comments]
    )
    return {
        "figures": figures,
        "bars": bars,
        "latest": latest,
        "days": days,
        "since": _since(today, days),
    }
