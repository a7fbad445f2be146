"""The arithmetic and rules of the CSM's work: scores, NPS, playbooks, CTA closing, authors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from success.models import (
    CTA,
    ActivityType,
    CTAPriority,
    CTAStatus,
    CTAType,
    Measure,
    Playbook,
    PlaybookTask,
    Scorecard,
    ScoreSnapshot,
    SuccessPlanType,
    TemplateObjective,
    TemplateTask,
)
from success.selectors.scores import grade_bands, grade_for
from success.services import (
    activity_delete,
    activity_log,
    activity_update,
    cta_create,
    cta_set_status,
    nps,
    overall_score,
    plan_progress,
    playbook_apply,
    score_set,
    success_plan_create,
    task_create,
)
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# ---------- scores ----------


def test_overall_is_the_weight_normalised_mean_of_scored_measures():
    assert overall_score([(3, 80), (1, 40)]) == Decimal("70.00")
    assert overall_score([(1, 33), (1, 34), (1, 34)]) == Decimal("33.67")


def test_overall_is_not_scored_without_scores_or_weight():
    assert overall_score([]) is None
    assert overall_score([(0, 90), (0, 10)]) is None


def test_a_zero_weight_measure_does_not_move_the_overall():
    assert overall_score([(2, 60), (0, 100)]) == Decimal("60.00")


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0, "Red"),
        (49, "Red"),
        (Decimal("49.99"), "Red"),
        (50, "Yellow"),
        (74, "Yellow"),
        (75, "Green"),
        (100, "Green"),
        (None, None),
    ],
)
def test_band_edges(value, label):
    band = grade_for(value, grade_bands())
    assert (band.label if band else None) == label


@pytest.fixture
def company_scorecard():
    scorecard = Scorecard.objects.create(name="Company health")
    adoption = Measure.objects.create(scorecard=scorecard, name="Adoption", weight=3)
    support = Measure.objects.create(scorecard=scorecard, name="Support", weight=1)
    Measure.objects.create(scorecard=scorecard, name="Sentiment", weight=2)
    return scorecard, adoption, support


def test_setting_scores_keeps_health_and_todays_snapshot(company_scorecard):
    _, adoption, support = company_scorecard
    company = CompanyFactory()
    user = UserFactory()

    score_set(subject=company, measure=adoption, value=80, comment="Rollout done", by=user)
    company.refresh_from_db()
    assert company.health_score == Decimal("80.00")  # only the scored measure counts

    score_set(subject=company, measure=support, value=40, by=user)
    company.refresh_from_db()
    assert company.health_score == Decimal("70.00")
    snapshots = ScoreSnapshot.objects.filter(company=company, relationship__isnull=True)
    assert [(s.day, s.overall) for s in snapshots] == [(dt.date.today(), Decimal("70.00"))]

    score_set(subject=company, measure=adoption, value=None, by=user)
    score_set(subject=company, measure=support, value=None, by=user)
    company.refresh_from_db()
    assert company.health_score is None
    assert snapshots.get().overall is None


def test_a_score_outside_0_to_100_is_refused(company_scorecard):
    _, adoption, _ = company_scorecard
    company = CompanyFactory()
    with pytest.raises(ValidationError):
        score_set(subject=company, measure=adoption, value=101, by=None)
    company.refresh_from_db()
    assert company.health_score is None


def test_a_relationship_is_scored_on_its_types_scorecard(company_scorecard):
    _, adoption, _ = company_scorecard
    kind = RelationshipTypeFactory()
    own = Scorecard.objects.create(name="Product health", relationship_type=kind)
    usage = Measure.objects.create(scorecard=own, name="Usage", weight=1)
    relationship = RelationshipFactory(relationship_type=kind)

    with pytest.raises(ValidationError):
        score_set(subject=relationship, measure=adoption, value=50, by=None)
    score_set(subject=relationship, measure=usage, value=55, by=None)
    relationship.refresh_from_db()
    relationship.company.refresh_from_db()
    assert relationship.health_score == Decimal("55.00")
    assert relationship.company.health_score is None


def test_only_one_company_scorecard():
    Scorecard.objects.create(name="One")
    with pytest.raises(ValidationError):
        Scorecard(name="Two").full_clean()


# ---------- NPS ----------


def test_nps_is_promoters_minus_detractors_in_percent():
    assert nps([10, 9, 8, 7, 6, 0]) == 0  # 2 promoters, 2 detractors of 6
    assert nps([10, 10, 9, 8]) == 75
    assert nps([0, 3, 6]) == -100
    assert nps([7, 8]) == 0
    assert nps([]) is None


def test_plan_progress():
    assert plan_progress(1, 3) == 33
    assert plan_progress(0, 0) is None


# ---------- CTAs, playbooks, statuses ----------


def _cta(**fields) -> CTA:
    return cta_create(
        by=None,
        company=fields.pop("company", None) or CompanyFactory(),
        name=fields.pop("name", "Renewal at risk"),
        cta_type=CTAType.objects.get(name="Risk"),
        priority=CTAPriority.objects.get(name="High"),
        **fields,
    )


def test_a_new_cta_starts_in_the_first_open_status():
    cta = _cta()
    assert cta.status.name == "New" and not cta.is_closed


def test_a_cta_name_is_at_most_80_characters():
    with pytest.raises(ValidationError) as error:
        _cta(name="x" * 81)
    assert "name" in error.value.message_dict


def test_a_playbook_adds_its_tasks_due_after_their_offsets():
    owner = UserFactory()
    playbook = Playbook.objects.create(name="Save the account")
    PlaybookTask.objects.create(playbook=playbook, title="Call the sponsor", day_offset=0, order=0)
    PlaybookTask.objects.create(playbook=playbook, title="Exec review", day_offset=7, order=1)
    cta = _cta(owner=owner)
    playbook_apply(cta=cta, playbook=playbook, today=dt.date(2026, 1, 10))
    assert [(t.title, t.due_date, t.owner) for t in cta.tasks.all()] == [
        ("Call the sponsor", dt.date(2026, 1, 10), owner),
        ("Exec review", dt.date(2026, 1, 17), owner),
    ]


def test_closing_with_open_tasks_needs_confirmation_and_records_who_and_when():
    user = UserFactory()
    cta = _cta()
    task_create(cta=cta, title="Open task")
    closed = CTAStatus.objects.get(name="Closed success")
    with pytest.raises(ValidationError) as error:
        cta_set_status(cta=cta, status=closed, by=user)
    assert "1 open task" in error.value.message_dict["status"][0]
    cta.refresh_from_db()
    assert not cta.is_closed and cta.closed_at is None

    cta_set_status(cta=cta, status=closed, by=user, confirm_open_tasks=True)
    cta.refresh_from_db()
    assert cta.is_closed and cta.closed_by == user and cta.closed_at is not None

    cta_set_status(cta=cta, status=CTAStatus.objects.get(name="New"), by=user)
    cta.refresh_from_db()
    assert not cta.is_closed and cta.closed_at is None and cta.closed_by is None


def test_a_cta_relationship_must_be_of_its_company():
    with pytest.raises(ValidationError) as error:
        _cta(relationship=RelationshipFactory())
    assert error.value.message_dict["relationship"] == ["Choose a relationship of this company."]


# ---------- timeline ----------


def test_only_the_author_edits_or_deletes_an_activity():
    author, other = UserFactory(), UserFactory()
    company = CompanyFactory()
    activity = activity_log(
        by=author,
        company=company,
        activity_type=ActivityType.objects.get(name="Call"),
        subject="Kick-off call",
    )
    with pytest.raises(PermissionDenied):
        activity_update(activity=activity, by=other, subject="Hijacked")
    with pytest.raises(PermissionDenied):
        activity_delete(activity=activity, by=other)
    activity.refresh_from_db()
    assert activity.subject == "Kick-off call"
    activity_update(activity=activity, by=author, subject="Kick-off call (notes added)")
    activity_delete(activity=activity, by=author)
    assert not type(activity).objects.exists()


def test_attendees_must_be_people_of_the_company():
    company = CompanyFactory()
    with pytest.raises(ValidationError) as error:
        activity_log(
            by=UserFactory(),
            company=company,
            activity_type=ActivityType.objects.get(name="Meeting"),
            subject="QBR",
            attendees=[CompanyPersonFactory()],
        )
    assert "attendees" in error.value.message_dict


def test_a_type_limited_to_relationship_types_is_refused_elsewhere():
    kind = RelationshipTypeFactory(name="Implementation")
    go_live = ActivityType.objects.create(name="Go-live check")
    go_live.relationship_types.add(kind)
    company = CompanyFactory()
    with pytest.raises(ValidationError):
        activity_log(by=UserFactory(), company=company, activity_type=go_live, subject="x")
    relationship = RelationshipFactory(company=company, relationship_type=kind)
    activity = activity_log(
        by=UserFactory(),
        company=company,
        relationship=relationship,
        activity_type=go_live,
        subject="Ready",
    )
    assert activity.pk


# ---------- success plans ----------


def test_a_plan_copies_its_types_template_objectives_and_tasks():
    plan_type = SuccessPlanType.objects.create(name="Onboarding")
    objective = TemplateObjective.objects.create(plan_type=plan_type, name="Go live", day_offset=30)
    TemplateTask.objects.create(objective=objective, title="Configure SSO", day_offset=10)
    owner = UserFactory()
    plan = success_plan_create(
        by=owner, plan_type=plan_type, company=CompanyFactory(), name="Acme onboarding", owner=owner
    )
    objectives = list(plan.objectives.all())
    assert [(o.name, o.cta_type.name, o.owner) for o in objectives] == [
        ("Go live", "Objective", owner)
    ]
    assert objectives[0].due_date == dt.date.today() + dt.timedelta(days=30)
    assert [t.title for t in objectives[0].tasks.all()] == ["Configure SSO"]
