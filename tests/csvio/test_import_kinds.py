"""Importing the other kinds: relationships, people, activities, usage, scores, partners."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from companies.models import Company, CompanyPerson, Person
from gainsight_lite.csvio.importers import KINDS, run_import
from partners.models import CompanyGroupObjectPermission, RelationshipGroupObjectPermission
from relationships.models import Relationship, RelationshipTypeField
from success.models import Activity, ActivityType, Score, Scorecard, ScoreSnapshot, UsageValue
from tests.csvio.helpers import csv_bytes
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    MeasureFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    ScorecardFactory,
    UsageMetricFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def errors(report) -> list[tuple[int, str]]:
    return [(problem.line, problem.column) for problem in report.errors]


@pytest.fixture
def analytics():
    kind = RelationshipTypeFactory(name="Analytics")
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="seats", kind=RelationshipTypeField.Kind.NUMBER, required=True
    )
    RelationshipTypeFieldFactory(
        relationship_type=kind,
        key="tier",
        kind=RelationshipTypeField.Kind.CHOICE,
        choices=["Gold", "Silver"],
    )
    return kind


# ---------- relationships ----------

REL = ["company_external_id", "type", "name", "status", "arr", "seats", "tier"]


def test_relationships_are_created_and_updated_with_their_fields(analytics):
    company = CompanyFactory(external_id="C1")
    existing = RelationshipFactory(
        company=company, relationship_type=analytics, name="Main", attributes={"seats": 5}
    )
    data = csv_bytes(
        REL,
        ["C1", "analytics", "Main", "at_risk", "100", "7", ""],
        ["C1", "Analytics", "Second", "", "", "3", "Gold"],
    )
    report = run_import("relationships", data)
    assert report.errors == []
    assert (report.created, report.updated) == (1, 1)
    existing.refresh_from_db()
    assert existing.status == "at_risk" and existing.attributes == {"seats": 7}
    second = Relationship.objects.get(name="Second")
    assert second.attributes == {"seats": 3, "tier": "Gold"}
    assert second.arr == Decimal("0.00") and second.status == "active"


def test_relationship_fields_are_checked_by_the_types_rules(analytics):
    CompanyFactory(external_id="C1")
    other = RelationshipTypeFactory(name="Services")
    RelationshipTypeFieldFactory(relationship_type=other, key="hours")
    data = csv_bytes(
        [*REL, "hours"],
        ["C1", "Analytics", "No seats", "", "", "", "", ""],
        ["C1", "Analytics", "Bad tier", "", "", "2", "Bronze", ""],
        ["C1", "Analytics", "Other type's field", "", "", "2", "", "10"],
        ["C1", "Nope", "Unknown type", "", "", "", "", ""],
        ["C9", "Analytics", "Unknown company", "", "", "2", "", ""],
        ["C1", "Analytics", "Twice", "", "", "2", "", ""],
        ["C1", "Analytics", "Twice", "", "", "2", "", ""],
    )
    report = run_import("relationships", data)
    assert errors(report) == [
        (2, "seats"),
        (3, "tier"),
        (4, "hours"),
        (5, "type"),
        (6, "company_external_id"),
        (8, "name"),
    ]
    assert "This field is required." in report.errors[0].message
    assert "Choose one of: Gold, Silver." in report.errors[1].message
    assert "is not a field of Analytics relationships" in report.errors[2].message
    assert not Relationship.objects.exists()


def test_new_relationships_follow_their_companys_partner(analytics, partner_a, partner_b):
    CompanyFactory(external_id="C1", managed_by=partner_a)
    data = csv_bytes(
        ["company_external_id", "type", "name", "seats", "partner"],
        ["C1", "Analytics", "Follows", "1", ""],
        ["C1", "Analytics", "Own partner", "1", "Partner B"],
    )
    report = run_import("relationships", data)
    assert report.errors == []
    follows = Relationship.objects.get(name="Follows")
    own = Relationship.objects.get(name="Own partner")
    assert RelationshipGroupObjectPermission.objects.filter(
        content_object=follows, group=partner_a.group
    ).exists()
    assert own.managed_by == partner_b
    # Partner B works companies only: its group gets no relationship permission.
    assert not RelationshipGroupObjectPermission.objects.filter(content_object=own).exists()


# ---------- people ----------

PEOPLE = [
    "email",
    "first_name",
    "last_name",
    "company_external_id",
    "title",
    "role",
    "sponsor",
    "manager_email",
]


def test_people_are_placed_at_companies_with_their_managers():
    CompanyFactory(external_id="C1")
    CompanyFactory(external_id="C2")
    known = PersonFactory(email="known@example.com", first_name="Known")
    data = csv_bytes(
        PEOPLE,
        ["Ada@Example.com", "Ada", "Lovelace", "C1", "CTO", "champion", "yes", "boss@example.com"],
        ["boss@example.com", "Bo", "Ss", "C1", "CEO", "Decision maker", "no", ""],
        ["known@example.com", "", "", "C2", "", "", "", ""],
    )
    report = run_import("people", data)
    assert report.errors == []
    assert report.created == 3
    ada = CompanyPerson.objects.get(person__email="ada@example.com")
    assert ada.role == "champion" and ada.is_sponsor and ada.title == "CTO"
    assert ada.manager is not None and ada.manager.person.email == "boss@example.com"
    assert CompanyPerson.objects.get(person=known).company.external_id == "C2"
    assert Person.objects.get(pk=known.pk).first_name == "Known"  # an empty name is left alone
    again = run_import("people", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_people_rows_are_checked():
    company = CompanyFactory(external_id="C1")
    CompanyPersonFactory(
        company=CompanyFactory(external_id="C2"),
        person=PersonFactory(email="elsewhere@example.com"),
    )
    data = csv_bytes(
        PEOPLE,
        ["not-an-email", "X", "", "C1", "", "", "", ""],
        ["new@example.com", "", "", "C1", "", "", "", ""],
        ["a@example.com", "A", "", "C1", "", "boss", "", ""],
        ["b@example.com", "B", "", "C1", "", "", "maybe", ""],
        ["c@example.com", "C", "", "C1", "", "", "", "elsewhere@example.com"],
        ["d@example.com", "D", "", "C1", "", "", "", "d@example.com"],
        ["e@example.com", "E", "", "C1", "", "", "", ""],
        ["e@example.com", "E", "", "C1", "", "", "", ""],
    )
    report = run_import("people", data)
    assert errors(report) == [
        (2, "email"),
        (3, "first_name"),
        (4, "role"),
        (5, "sponsor"),
        (6, "manager_email"),
        (7, "manager_email"),
        (9, "email"),
    ]
    assert not company.people.exists()


# ---------- activities ----------

ACT = [
    "company_external_id",
    "relationship_type",
    "relationship_name",
    "type",
    "subject",
    "occurred_at",
    "notes",
    "duration_minutes",
    "author",
]


def test_activities_are_logged_and_reimports_update_them(analytics):
    company = CompanyFactory(external_id="C1")
    relationship = RelationshipFactory(company=company, relationship_type=analytics, name="Main")
    UserFactory(username="jane")
    data = csv_bytes(
        ACT,
        ["C1", "", "", "Call", "Kick-off", "2026-03-01 10:30", "Went well", "30", "jane"],
        ["C1", "Analytics", "Main", "meeting", "QBR", "2026-03-02", "", "", "jane"],
    )
    report = run_import("activities", data)
    assert report.errors == [] and report.created == 2
    qbr = Activity.objects.get(subject="QBR")
    assert qbr.relationship == relationship and qbr.activity_type.name == "Meeting"
    assert qbr.occurred_at == timezone.make_aware(dt.datetime(2026, 3, 2))
    changed = data.replace(b"Went well", b"Went very well")
    again = run_import("activities", changed)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert Activity.objects.get(subject="Kick-off").notes == "Went very well"


def test_activity_rows_are_checked(analytics):
    CompanyFactory(external_id="C1")
    UserFactory(username="jane")
    special = ActivityTypeFactory_for(analytics)
    data = csv_bytes(
        ACT,
        ["C1", "", "", "Telepathy", "x", "2026-03-01", "", "", "jane"],
        ["C1", "", "", "Call", "x", "yesterday", "", "", "jane"],
        ["C1", "", "", "Call", "x", "2026-03-01", "", "9999", "jane"],
        ["C1", "", "", "Call", "x", "2026-03-01", "", "", "ghost"],
        ["C1", "Analytics", "Missing", "Call", "x", "2026-03-01", "", "", "jane"],
        ["C1", "", "", special.name, "x", "2026-03-01", "", "", "jane"],
        ["C1", "Analytics", "", "Call", "x", "2026-03-01", "", "", "jane"],
    )
    report = run_import("activities", data)
    assert errors(report) == [
        (2, "type"),
        (3, "occurred_at"),
        (4, "duration_minutes"),
        (5, "author"),
        (6, "relationship_name"),
        (7, "type"),
        (8, "relationship_name"),
    ]
    assert not Activity.objects.exists()


def ActivityTypeFactory_for(kind):  # noqa: N802 — reads as a factory
    activity_type = ActivityType.objects.create(name="Go-live", order=50)
    activity_type.relationship_types.add(kind)
    return activity_type


# ---------- usage ----------


def test_usage_values_by_monday():
    CompanyFactory(external_id="C1")
    UsageMetricFactory(name="Active users")
    data = csv_bytes(
        ["company_external_id", "metric", "week", "value"],
        ["C1", "active users", "2026-03-02", "120"],
        ["C1", "Active users", "2026-03-03", "5"],
        ["C1", "Logins", "2026-03-09", "5"],
        ["C1", "Active users", "2026-03-09", "many"],
    )
    report = run_import("usage", data)
    assert errors(report) == [(3, "week"), (4, "metric"), (5, "value")]
    report = run_import("usage", data, skip_invalid=True)
    assert report.created == 1
    assert UsageValue.objects.get().value == Decimal("120.00")
    again = run_import(
        "usage",
        csv_bytes(
            ["company_external_id", "metric", "week", "value"],
            ["C1", "Active users", "2026-03-02", "130"],
        ),
    )
    assert again.updated == 1 and UsageValue.objects.get().value == Decimal("130.00")


# ---------- scores ----------


def test_scores_set_the_snapshot_and_health_like_the_service(analytics):
    company = CompanyFactory(external_id="C1")
    card = Scorecard.objects.filter(relationship_type__isnull=True).first() or ScorecardFactory(
        name="Company health"
    )
    adoption = MeasureFactory(scorecard=card, name="Adoption", weight=3)
    MeasureFactory(scorecard=card, name="Support", weight=1)
    relationship = RelationshipFactory(company=company, relationship_type=analytics, name="Main")
    rel_card = ScorecardFactory(name="Analytics health", relationship_type=analytics)
    MeasureFactory(scorecard=rel_card, name="Usage", weight=1)
    header = [
        "company_external_id",
        "relationship_type",
        "relationship_name",
        "measure",
        "score",
        "comment",
    ]
    data = csv_bytes(
        header,
        ["C1", "", "", "Adoption", "80", "Good"],
        ["C1", "", "", "Support", "40", ""],
        ["C1", "Analytics", "Main", "Usage", "55", ""],
        ["C1", "", "", "Usage", "55", ""],
        ["C1", "", "", "Adoption", "101", ""],
    )
    report = run_import("scores", data)
    assert errors(report) == [(5, "measure"), (6, "score")]
    report = run_import("scores", data, skip_invalid=True)
    assert report.created == 3
    company.refresh_from_db()
    relationship.refresh_from_db()
    assert company.health_score == Decimal("70.00")  # (80×3 + 40) / 4
    assert relationship.health_score == Decimal("55.00")
    today = timezone.localdate()
    assert ScoreSnapshot.objects.get(company=company, relationship=None, day=today).overall == (
        Decimal("70.00")
    )
    assert Score.objects.get(measure=adoption).comment == "Good"
    cleared = run_import("scores", csv_bytes(header, ["C1", "", "", "Support", "", ""]))
    assert cleared.updated == 1
    company.refresh_from_db()
    assert company.health_score == Decimal("80.00")


# ---------- partner assignments ----------


def test_partner_assignments_go_through_the_service(analytics, partner_a):
    company = CompanyFactory(external_id="C1")
    relationship = RelationshipFactory(company=company, relationship_type=analytics, name="Main")
    CompanyFactory(external_id="C2", managed_by=partner_a)
    header = ["company_external_id", "relationship_type", "relationship_name", "partner"]
    data = csv_bytes(
        header,
        ["C1", "", "", "Partner A"],
        ["C1", "Analytics", "Main", "Partner A"],
        ["C2", "", "", ""],
        ["C3", "", "", "Partner A"],
        ["C1", "", "", "Partner Z"],
    )
    report = run_import("partner_assignments", data, skip_invalid=True)
    assert errors(report) == [(5, "company_external_id"), (6, "partner")]
    assert report.updated == 3
    company.refresh_from_db()
    relationship.refresh_from_db()
    assert company.managed_by == partner_a and relationship.managed_by == partner_a
    assert CompanyGroupObjectPermission.objects.filter(content_object=company).count() == 2
    assert not CompanyGroupObjectPermission.objects.filter(
        content_object__external_id="C2"
    ).exists()
    assert Company.objects.get(external_id="C2").managed_by is None


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_reports_missing_required_columns(kind):
    report = run_import(kind, b"colour\nred\n")
    required = [column.name for column in KINDS[kind].columns if column.required]
    assert {problem.column for problem in report.errors} == set(required)
    assert report.blocked and not report.written


def test_an_import_of_activities_is_a_fixed_number_of_queries():
    UserFactory(username="jane")

    def queries(rows: int) -> int:
        company = CompanyFactory()
        data = csv_bytes(
            ["company_external_id", "type", "subject", "occurred_at", "author"],
            *[
                [company.external_id, "Call", f"Call {i}", "2026-03-01", "jane"]
                for i in range(rows)
            ],
        )
        with CaptureQueriesContext(connection) as captured:
            assert run_import("activities", data).written
        return len(captured)

    # One INSERT holds the rows up to SQLite's limit of parameters per statement.
    assert queries(5) == queries(80)
