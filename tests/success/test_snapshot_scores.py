"""`snapshot_scores` keeps health scores in step with the scorecards, as the score service does,
and a subject's overall counts only the measures of its current scorecard."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from companies.models import Company
from relationships.models import Relationship
from success.models import Measure, Score, Scorecard, ScoreSnapshot
from success.services import score_set, subject_overall
from tests.factories import CompanyFactory, RelationshipFactory, RelationshipTypeFactory

pytestmark = pytest.mark.django_db


def run_snapshots(*args: str) -> str:
    out = StringIO()
    call_command("snapshot_scores", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def company_scorecard() -> Scorecard:
    scorecard = Scorecard.objects.filter(relationship_type__isnull=True).first()
    if scorecard is None:
        scorecard = Scorecard.objects.create(name="Company health")
    scorecard.measures.all().delete()
    return scorecard


def test_snapshot_scores_refreshes_company_health_after_a_weight_change(company_scorecard):
    adoption = Measure.objects.create(scorecard=company_scorecard, name="Adoption", weight=1)
    support = Measure.objects.create(scorecard=company_scorecard, name="Support", weight=1)
    company = CompanyFactory()
    score_set(subject=company, measure=adoption, value=80, by=None)
    score_set(subject=company, measure=support, value=40, by=None)
    company.refresh_from_db()
    assert company.health_score == Decimal("60.00")

    Measure.objects.filter(pk=support.pk).update(weight=3)  # an admin reweighs
    output = run_snapshots()

    company.refresh_from_db()
    assert company.health_score == Decimal("50.00") == subject_overall(company)
    assert "Refreshed 1 health score" in output


def test_snapshot_scores_marks_a_subject_without_scored_measures_not_scored(company_scorecard):
    adoption = Measure.objects.create(scorecard=company_scorecard, name="Adoption", weight=1)
    company = CompanyFactory()
    score_set(subject=company, measure=adoption, value=80, by=None)
    stale = CompanyFactory(health_score=Decimal("33"))  # a health score no score explains

    Measure.objects.filter(pk=adoption.pk).update(active=False)  # retired
    run_snapshots()

    assert Company.objects.get(pk=company.pk).health_score is None
    assert Company.objects.get(pk=stale.pk).health_score is None


def test_snapshot_scores_refreshes_relationship_health_from_its_types_scorecard():
    kind = RelationshipTypeFactory(name="Analytics")
    seats = Measure.objects.create(
        scorecard=Scorecard.objects.create(name="Analytics health", relationship_type=kind),
        name="Seats",
        weight=1,
    )
    relationship = RelationshipFactory(relationship_type=kind)
    Score.objects.create(
        company=relationship.company, relationship=relationship, measure=seats, value=72
    )

    run_snapshots()

    assert Relationship.objects.get(pk=relationship.pk).health_score == Decimal("72.00")
    assert ScoreSnapshot.objects.get(relationship=relationship).overall == Decimal("72.00")


def test_a_relationship_that_changed_type_is_scored_on_its_new_scorecard_only():
    old_kind, new_kind = RelationshipTypeFactory(name="Old"), RelationshipTypeFactory(name="New")
    old_measure = Measure.objects.create(
        scorecard=Scorecard.objects.create(name="Old health", relationship_type=old_kind),
        name="Old measure",
    )
    new_measure = Measure.objects.create(
        scorecard=Scorecard.objects.create(name="New health", relationship_type=new_kind),
        name="New measure",
    )
    relationship = RelationshipFactory(relationship_type=old_kind)
    score_set(subject=relationship, measure=old_measure, value=90, by=None)
    assert subject_overall(relationship) == Decimal("90.00")

    Relationship.objects.filter(pk=relationship.pk).update(relationship_type=new_kind)
    relationship.refresh_from_db()

    assert subject_overall(relationship) is None  # the old type's score does not count
    score_set(subject=relationship, measure=new_measure, value=30, by=None)
    assert subject_overall(relationship) == Decimal("30.00")
    run_snapshots()
    assert Relationship.objects.get(pk=relationship.pk).health_score == Decimal("30.00")


def test_a_company_overall_ignores_scores_of_measures_on_another_scorecard(company_scorecard):
    adoption = Measure.objects.create(scorecard=company_scorecard, name="Adoption", weight=1)
    elsewhere = Measure.objects.create(
        scorecard=Scorecard.objects.create(
            name="Product health", relationship_type=RelationshipTypeFactory()
        ),
        name="Seats",
    )
    company = CompanyFactory()
    Score.objects.create(company=company, measure=adoption, value=50)
    # A company-level row on another scorecard's measure (left by an import): never counted.
    Score.objects.create(company=company, measure=elsewhere, value=100)

    assert subject_overall(company) == Decimal("50.00")


def test_snapshot_scores_health_refresh_queries_do_not_grow(
    company_scorecard, django_assert_max_num_queries
):
    adoption = Measure.objects.create(scorecard=company_scorecard, name="Adoption", weight=1)
    counts = []
    for size in (2, 20):
        ScoreSnapshot.objects.all().delete()
        companies = CompanyFactory.create_batch(size)
        Score.objects.bulk_create(Score(company=c, measure=adoption, value=50) for c in companies)
        with django_assert_max_num_queries(15) as captured:
            run_snapshots()
        counts.append(len(captured.captured_queries))
        assert set(
            Company.objects.filter(pk__in=[c.pk for c in companies]).values_list(
                "health_score", flat=True
            )
        ) == {Decimal("50.00")}

    assert counts[0] == counts[1]
