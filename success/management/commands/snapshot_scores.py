"""Write the day's score snapshot for every scored company and relationship that lacks one,
and bring every health score in line with the scores.

Snapshots are written when a score changes; run this daily (e.g. from cron) so days without
changes have their point in the history too. Idempotent: a subject that already has the
day's snapshot is left alone, so running it twice writes nothing the second time.

Health scores are refreshed the way `success.services.snapshot_take` keeps them: the overall
of the subject's current scorecard (its active measures only). Weights changed, a measure
retired or a relationship moved to another type since the last score: the health score
follows here, and a subject left with no scored measure is "not scored" (None) again.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from companies.models import Company
from relationships.models import Relationship
from success.models import Score, Scorecard, ScoreSnapshot
from success.services import HUNDREDTH

BATCH_SIZE = 1000


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"“{value}” is not a day: write it as YYYY-MM-DD.") from None


def scorecard_overalls(
    *, scorecard: Scorecard, missing_on: dt.date | None = None
) -> list[dict[str, Any]]:
    """The overall of every subject scored on `scorecard`, as rows of `company_id`,
    `relationship_id` and `overall`; with `missing_on`, only the subjects that have no
    snapshot that day (one aggregate query).

    Each subject's weighted sum and total weight of the scorecard's active measures; a
    relationship's scores count only while its type is the scorecard's.
    """
    is_company = scorecard.relationship_type_id is None
    scores = Score.objects.filter(
        measure__scorecard=scorecard,
        measure__active=True,
        relationship__isnull=is_company,
    )
    if not is_company:
        # Scores left from a type the relationship no longer has do not count.
        scores = scores.filter(relationship__relationship_type_id=scorecard.relationship_type_id)
    if missing_on is not None:
        if is_company:
            existing = ScoreSnapshot.objects.filter(
                company=OuterRef("company_id"), relationship__isnull=True, day=missing_on
            )
        else:
            existing = ScoreSnapshot.objects.filter(
                relationship=OuterRef("relationship_id"), day=missing_on
            )
        scores = scores.filter(~Exists(existing))
    rows = (
        scores.values("company_id", "relationship_id")
        .annotate(weight=Sum("measure__weight"), weighted=Sum(F("measure__weight") * F("value")))
        .order_by()
    )
    return [
        {
            "company_id": row["company_id"],
            "relationship_id": row["relationship_id"],
            "overall": _overall(row["weighted"], row["weight"]),
        }
        for row in rows
    ]


def _overall(weighted: int | None, weight: int | None) -> Decimal | None:
    """As `success.services.overall_score`: the weighted mean, None when nothing weighs."""
    if not weight:
        return None
    return (Decimal(weighted or 0) / Decimal(weight)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def health_refresh(
    model: type[Company] | type[Relationship], overalls: dict[int, Decimal | None]
) -> int:
    """Set `health_score` to `overalls[pk]` wherever it differs; a subject not in `overalls`
    (nothing scored on its current scorecard) is "not scored" (None). Returns how many changed.

    One query reads every subject's health score (no list of ids in the SQL, whatever the
    book's size), then the changed ones are written in batches.
    """
    current = model.objects.values_list("pk", "health_score").order_by()
    changed = [
        model(pk=pk, health_score=overalls.get(pk))
        for pk, health in current
        if health != overalls.get(pk)
    ]
    model.objects.bulk_update(changed, ["health_score"], batch_size=BATCH_SIZE)  # type: ignore[attr-defined]
    return len(changed)


class Command(BaseCommand):
    help = (
        "Write the day's score snapshot (default: today) for every company and relationship "
        "with scores and no snapshot that day, and refresh every health score from the "
        "current scorecards; prints how many were written and changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=_day, help="The day to snapshot, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        day = options["day"] or today
        if day > today:
            raise CommandError(f"{day:%Y-%m-%d} is in the future: snapshots go up to today.")
        companies: dict[int, Decimal | None] = {}
        relationships: dict[int, Decimal | None] = {}
        written = 0
        with transaction.atomic():
            for scorecard in Scorecard.objects.all():
                snapshots = [
                    ScoreSnapshot(day=day, **row)
                    for row in scorecard_overalls(scorecard=scorecard, missing_on=day)
                ]
                # ignore_conflicts: a score saved meanwhile may have written the day's snapshot.
                ScoreSnapshot.objects.bulk_create(
                    snapshots, batch_size=BATCH_SIZE, ignore_conflicts=True
                )
                written += len(snapshots)
                for row in scorecard_overalls(scorecard=scorecard):
                    if row["relationship_id"] is None:
                        companies[row["company_id"]] = row["overall"]
                    else:
                        relationships[row["relationship_id"]] = row["overall"]
            refreshed = health_refresh(Company, companies) + health_refresh(
                Relationship, relationships
            )
        noun = "snapshot" if written == 1 else "snapshots"
        self.stdout.write(f"Wrote {written} score {noun} for {day:%Y-%m-%d}.")
        if refreshed:
            noun = "health score" if refreshed == 1 else "health scores"
            self.stdout.write(f"Refreshed {refreshed} {noun} from the current scorecards.")
