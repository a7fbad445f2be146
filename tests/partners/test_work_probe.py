"""partners.access's per-row probes for work objects and the counts from the grants alone:
`relationship_visible_probe`, `work_visible_by_probe` and `relationships_visible_count` give
the same answers as the joined `*_visible_to` querysets, for every kind of user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import OuterRef, Subquery

from companies.models import Company
from partners.access import (
    activities_visible_to,
    companies_visible_count,
    companies_visible_to,
    ctas_visible_to,
    relationship_visible_probe,
    relationships_visible_count,
    relationships_visible_to,
    success_plans_visible_to,
    work_visible_by_probe,
)
from relationships.models import Relationship
from success.models import CTA, Activity, SuccessPlan
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    PartnerFactory,
    RelationshipFactory,
    SuccessPlanFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["admin_user", "csm_user", "viewer_user", "partner_a_user", "partner_b_user"]


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def book(partner_a, partner_b):
    """Work on A's, B's and house companies, with and without relationships of each kind."""
    a_co = CompanyFactory(name="Alpha Co", managed_by=partner_a)
    b_co = CompanyFactory(name="Bravo Co", managed_by=partner_b)
    house = CompanyFactory(name="House Co")
    relationships = [
        RelationshipFactory(company=a_co, name="A Followed"),
        RelationshipFactory(company=a_co, name="A Other", managed_by=PartnerFactory()),
        RelationshipFactory(company=house, name="A Assigned", managed_by=partner_a),
        RelationshipFactory(company=b_co, name="B Followed"),
        RelationshipFactory(company=house, name="House Only"),
    ]
    for company in (a_co, b_co, house):
        for factory in (ActivityFactory, CTAFactory, SuccessPlanFactory):
            factory(company=company)
    for relationship in relationships:
        for factory in (ActivityFactory, CTAFactory, SuccessPlanFactory):
            factory(company=relationship.company, relationship=relationship)
    return relationships


def _relationships_seen(user) -> dict[str, bool]:
    rows = (
        CTA.objects.filter(relationship__isnull=False)
        .annotate(probe=relationship_visible_probe(user, "relationship_id"))
        .values_list("relationship__name", "probe")
    )
    return {name: probe is not None for name, probe in rows}


def test_the_relationship_probe_finds_a_partners_granted_relationships(book, partner_a_user):
    assert _relationships_seen(partner_a_user) == {
        "A Followed": True,
        "A Other": False,
        "A Assigned": True,
        "B Followed": False,
        "House Only": False,
    }


def test_the_relationship_probe_is_null_for_companies_only_partners_and_nobody(
    book, partner_b_user
):
    assert set(_relationships_seen(partner_b_user).values()) == {False}
    assert set(_relationships_seen(AnonymousUser()).values()) == {False}


def test_internal_users_probe_every_relationship(book, csm_user):
    assert set(_relationships_seen(csm_user).values()) == {True}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("model", "visible_to"),
    [
        (Activity, activities_visible_to),
        (CTA, ctas_visible_to),
        (SuccessPlan, success_plans_visible_to),
    ],
)
def test_probed_work_is_the_joined_work(request, persona, model, visible_to, book):
    user = fresh(request.getfixturevalue(persona))
    expected = set(visible_to(user).values_list("pk", flat=True))

    probed = work_visible_by_probe(user, model.objects.all())

    assert set(probed.values_list("pk", flat=True)) == expected
    assert probed.count() == len(expected)


def test_probed_work_keeps_the_callers_filters(book, partner_a_user):
    mine = CTA.objects.filter(relationship__isnull=False)

    probed = set(work_visible_by_probe(partner_a_user, mine).values_list("pk", flat=True))

    assert probed == set(
        ctas_visible_to(partner_a_user)
        .filter(relationship__isnull=False)
        .values_list("pk", flat=True)
    )
    # "A Followed" only: "A Assigned" is granted, but its company is not.
    assert len(probed) == 1


@pytest.mark.parametrize("persona", PERSONAS)
def test_probed_work_nested_in_another_query_is_the_joined_work(request, persona, book):
    """The probes keep pointing at their own rows when their query is nested (relabelled)
    inside another one, as the timeline's "newest visible activity of each company"."""
    user = fresh(request.getfixturevalue(persona))
    expected = set(activities_visible_to(user).values_list("company_id", flat=True))
    newest = (
        work_visible_by_probe(user, Activity.objects.filter(company=OuterRef("pk")))
        .order_by("-occurred_at")
        .values("pk")[:1]
    )

    nested = Company.objects.alias(newest=Subquery(newest)).filter(newest__isnull=False)

    assert set(nested.values_list("pk", flat=True)) == expected


def test_nobody_and_an_inactive_partner_probe_no_work(book, partner_a, partner_a_user):
    assert work_visible_by_probe(AnonymousUser(), CTA.objects.all()).count() == 0

    partner_a.active = False
    partner_a.save()
    assert work_visible_by_probe(fresh(partner_a_user), CTA.objects.all()).count() == 0


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_counts_from_the_grants_are_the_visible_records(request, persona, book):
    user = fresh(request.getfixturevalue(persona))

    assert relationships_visible_count(user) == relationships_visible_to(user).count()
    assert companies_visible_count(user) == companies_visible_to(user).count()


def test_the_partners_relationship_count_reads_only_the_grants(
    book, partner_a_user, django_assert_num_queries
):
    user = fresh(partner_a_user)
    relationships_visible_to(user).count()  # reads the partner (and the permission ids)
    with django_assert_num_queries(1) as captured:
        assert relationships_visible_count(user) == 2
    assert f'"{Relationship._meta.db_table}"' not in captured.captured_queries[0]["sql"]


def test_counts_for_nobody_and_an_inactive_partner(book, partner_a, partner_a_user, partner_b_user):
    assert relationships_visible_count(AnonymousUser()) == 0
    assert relationships_visible_count(fresh(partner_b_user)) == 0

    partner_a.active = False
    partner_a.save()
    assert relationships_visible_count(fresh(partner_a_user)) == 0
