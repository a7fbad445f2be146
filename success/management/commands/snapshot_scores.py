"""Write the day's score snapshot for every scored company and relationship that lacks one.

Snapshots are written when a score changes; run this daily (e.g. from cron) so days without
changes have their point in the history too. Idempotent: a subject that already has the
day's snapshot is left alone, so running it twice writes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from success.models import Score, Scorecard, ScoreSnapshot
from success.services import HUNDREDTH

BATCH_SIZE = 1000


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"“{value}” is not a day: write it as YYYY-MM-DD.") from None


def scorecard_overalls(*, scorecard: Scorecard, day: dt.date) -> list[ScoreSnapshot]:
    """Unsaved snapshots of `day` for the scorecard's scored subjects that have none that day.

    One aggregate query: each subject's weighted sum and total weight of its active measures.
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
    if is_company:
        existing = ScoreSnapshot.objects.filter(
            company=OuterRef("company_id"), relationship__isnull=True, day=day
        )
    else:
        existing = ScoreSnapshot.objects.filter(relationship=OuterRef("relationship_id"), day=day)
    rows = (
        scores.filter(~Exists(existing))
        .values("company_id", "relationship_id")
        .annotate(weight=Sum("measure__weight"), weighted=Sum(F("measure__weight") * F("value")))
        .order_by()
    )
    return [
        ScoreSnapshot(
            company_id=row["company_id"],
            relationship_id=row["relationship_id"],
            day=day,
            overall=_overall(row["weighted"], row["weight"]),
        )
        for row in rows
    ]


def _overall(weighted: int | None, weight: int | None) -> Decimal | None:
    """As `success.services.overall_score`: the weighted mean, None when nothing weighs."""
    if not weight:
        return None
    return (Decimal(weighted or 0) / Decimal(weight)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


class Command(BaseCommand):
    help = (
        "Write the day's score snapshot (default: today) for every company and relationship "
        "with scores and no snapshot that day; prints how many were written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=_day, help="The day to snapshot, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        day = options["day"] or today
        if day > today:
            raise CommandError(f"{day:%Y-%m-%d} is in the future: snapshots go up to today.")
        written = 0
        with transaction.atomic():
            for scorecard in Scorecard.objects.all():
                snapshots = scorecard_overalls(scorecard=scorecard, day=day)
                # ignore_conflicts: a score saved meanwhile may have written the day's snapshot.
                ScoreSnapshot.objects.bulk_create(
                    snapshots, batch_size=BATCH_SIZE, ignore_conflicts=True
                )
                written += len(snapshots)
        noun = "snapshot" if written == 1 else "snapshots"
        self.stdout.write(f"Wrote {written} score {noun} for {day:%Y-%m-%d}.")
