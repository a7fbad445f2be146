"""partners.access: visibility joined in SQL on the direct permission tables, and what a
partner user may change (their bundle's model permission AND the object permission)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from companies.models import Company
from partners.access import (
    activities_visible_to,
    can,
    companies_visible_to,
    ctas_visible_to,
    get_company_for,
    get_relationship_for,
    relationships_visible_to,
    success_plans_visible_to,
)
from partners.models import (
    CompanyGroupObjectPermission,
    Partner,
    RelationshipGroupObjectPermission,
)
from partners.services import partner_update, partner_user_update
from relationships.models import Relationship
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    PartnerFactory,
    PartnerUserFactory,
    RelationshipFactory,
    SuccessPlanFactory,
)

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request loads them: nothing cached."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def book(partner_a, partner_b):
    """A's and B's companies, an unmanaged one, and relationships of each kind."""
    a_co = CompanyFactory(name="Alpha Co", managed_by=partner_a)
    b_co = CompanyFactory(name="Bravo Co", managed_by=partner_b)
    house = CompanyFactory(name="House Co")
    RelationshipFactory(company=a_co, name="A Followed")
    RelationshipFactory(company=a_co, name="A Co Other Partner", managed_by=PartnerFactory())
    RelationshipFactory(company=house, name="A Assigned", managed_by=partner_a)
    RelationshipFactory(company=b_co, name="B Followed")
    RelationshipFactory(company=house, name="House Only")
    return a_co, b_co, house


def names(queryset) -> list[str]:
    return sorted(record.name for record in queryset)


# ---------- who sees what ----------


@pytest.mark.parametrize("persona", ["admin_user", "csm_user", "viewer_user"])
def test_internal_users_see_every_record(request, persona, book):
    user = request.getfixturevalue(persona)

    assert names(companies_visible_to(user)) == ["Alpha Co", "Bravo Co", "House Co"]
    assert len(relationships_visible_to(user)) == 5


def test_a_partner_user_sees_their_partners_records_only(book, partner_a_user):
    assert names(companies_visible_to(partner_a_user)) == ["Alpha Co"]
    assert names(relationships_visible_to(partner_a_user)) == ["A Assigned", "A Followed"]


def test_a_companies_only_partner_sees_no_relationship(book, partner_b_user):
    assert names(companies_visible_to(partner_b_user)) == ["Bravo Co"]
    assert names(relationships_visible_to(partner_b_user)) == []


def test_an_inactive_partners_users_see_nothing(book, partner_a, partner_a_user):
    partner_update(partner=partner_a, active=False)
    user = fresh(partner_a_user)

    assert names(companies_visible_to(user)) == []
    assert names(relationships_visible_to(user)) == []
    assert list(activities_visible_to(user)) == []
    with pytest.raises(Http404):
        get_company_for(user, book[0].pk)


def test_a_partner_user_sees_nothing_behind_the_services_back(book, partner_a_user):
    """Visibility is the permission rows, not managed_by: a raw update grants nothing."""
    Company.objects.filter(name="House Co").update(
        managed_by=partner_a_user.partner_membership.partner
    )

    assert names(companies_visible_to(fresh(partner_a_user))) == ["Alpha Co"]


def test_work_is_visible_with_its_company_and_its_relationship(
    book, partner_a_user, partner_b_user
):
    a_co, b_co, house = book
    followed = Relationship.objects.get(name="A Followed")
    foreign = Relationship.objects.get(name="A Co Other Partner")
    ActivityFactory(company=a_co, subject="On the company")
    ActivityFactory(company=a_co, relationship=followed, subject="On its relationship")
    ActivityFactory(company=a_co, relationship=foreign, subject="On another partner's")
    ActivityFactory(company=house, subject="In house")
    ActivityFactory(company=b_co, subject="B company")
    ActivityFactory(
        company=b_co, relationship=Relationship.objects.get(name="B Followed"), subject="B rel"
    )
    CTAFactory(company=a_co, relationship=followed, name="A CTA")
    CTAFactory(company=a_co, relationship=foreign, name="Foreign CTA")
    SuccessPlanFactory(company=a_co, name="A Plan")
    SuccessPlanFactory(company=house, name="House Plan")

    assert sorted(a.subject for a in activities_visible_to(partner_a_user)) == [
        "On its relationship",
        "On the company",
    ]
    # Companies only: the company's work, none on a relationship.
    assert [a.subject for a in activities_visible_to(partner_b_user)] == ["B company"]
    assert names(ctas_visible_to(partner_a_user)) == ["A CTA"]
    assert names(success_plans_visible_to(partner_a_user)) == ["A Plan"]


# ---------- in SQL, in a fixed number of queries ----------


def _build(size: int, partner: Partner) -> None:
    for number in range(size):
        company = CompanyFactory(name=f"Managed {size}-{number}", managed_by=partner)
        RelationshipFactory(company=company)
        ActivityFactory(company=company)
        CTAFactory(company=company)
        CompanyFactory(name=f"Unmanaged {size}-{number}")


def _read_all(user: User) -> list[int]:
    return [
        len(list(companies_visible_to(user))),
        len(list(relationships_visible_to(user))),
        len(list(activities_visible_to(user))),
        len(list(ctas_visible_to(user))),
        len(list(success_plans_visible_to(user))),
    ]


def test_visibility_runs_the_same_queries_at_any_size(
    partner_a, partner_a_user, django_assert_max_num_queries
):
    counts, params = [], []
    managed = 0
    for size in (2, 25):
        _build(size, partner_a)
        managed += size
        user = fresh(partner_a_user)
        with django_assert_max_num_queries(6) as captured:
            seen = _read_all(user)
        counts.append(len(captured.captured_queries))
        params.append(len(companies_visible_to(user).query.sql_with_params()[1]))
        assert seen == [managed, managed, managed, managed, 0]

    # One query for the partner, then one per list; the parameters do not grow with the
    # records: no list of ids is ever sent.
    assert counts[0] == counts[1] == 6
    assert params[0] == params[1]


def test_lists_join_the_permission_tables_and_work_objects_probe_them(partner_a_user):
    companies = str(companies_visible_to(partner_a_user).query)
    relationships = str(relationships_visible_to(partner_a_user).query)
    activities = str(activities_visible_to(partner_a_user).query)

    assert f'INNER JOIN "{CompanyGroupObjectPermission._meta.db_table}"' in companies
    assert f'INNER JOIN "{RelationshipGroupObjectPermission._meta.db_table}"' in relationships
    assert "EXISTS" in activities
    assert CompanyGroupObjectPermission._meta.db_table in activities


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " / ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_permission_tables_are_read_through_their_unique_index(partner_a, partner_a_user):
    ActivityFactory(company=CompanyFactory(managed_by=partner_a))
    company_table = CompanyGroupObjectPermission._meta.db_table
    unique_index = f"{company_table}_group_id_permission_id_content_object_id"

    companies = _plan(companies_visible_to(partner_a_user).order_by("name")[:50])
    activities = _plan(activities_visible_to(partner_a_user)[:25])

    # The list walks the partner's rows of the (group, permission, company) unique index and
    # looks each company up by its key; the work objects probe the same index once per row.
    assert f"SEARCH {company_table} USING COVERING INDEX {unique_index}" in companies
    assert "SEARCH companies_company USING INTEGER PRIMARY KEY" in companies
    assert f"USING COVERING INDEX {unique_index}" in activities
    assert f"SCAN {company_table}" not in companies + activities


# ---------- what a partner user may change: bundle AND object permission ----------


@pytest.fixture
def editors():
    """A bundle that may change companies and relationships."""
    bundle = Group.objects.create(name="Partner editors")
    bundle.permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_company",
                "change_company",
                "view_relationship",
                "change_relationship",
            ]
        )
    )
    return bundle


def test_the_default_bundle_cannot_change_even_its_own_company(book, partner_a_user):
    own = book[0]

    assert not can(partner_a_user, "change", Company, own)
    assert not can(partner_a_user, "change", Company)
    with pytest.raises(PermissionDenied):
        get_company_for(partner_a_user, own.pk, action="change")
    assert get_company_for(partner_a_user, own.pk) == own


def test_a_bundle_with_change_changes_only_its_partners_records(book, partner_a_user, editors):
    partner_user_update(partner_user=partner_a_user.partner_membership, bundle=editors)
    user = fresh(partner_a_user)
    own, other, house = book

    assert get_company_for(user, own.pk, action="change") == own
    assert can(user, "change", Company, own)
    assert not can(user, "change", Company, other)
    for foreign in (other, house):
        with pytest.raises(Http404):
            get_company_for(user, foreign.pk, action="change")
    followed = Relationship.objects.get(name="A Followed")
    assert get_relationship_for(user, followed.pk, action="change") == followed
    with pytest.raises(Http404):
        get_relationship_for(user, Relationship.objects.get(name="House Only").pk, action="change")


def test_without_the_object_permission_a_visible_record_cannot_be_changed(
    book, partner_a_user, editors
):
    partner_user_update(partner_user=partner_a_user.partner_membership, bundle=editors)
    own = book[0]
    CompanyGroupObjectPermission.objects.filter(
        content_object=own, permission__codename="change_company"
    ).delete()
    user = fresh(partner_a_user)

    assert get_company_for(user, own.pk) == own
    assert not can(user, "change", Company, own)
    with pytest.raises(PermissionDenied):
        get_company_for(user, own.pk, action="change")


def test_a_companies_only_partner_changes_no_relationship_whatever_its_bundle(
    book, partner_b_user, editors
):
    partner_user_update(partner_user=partner_b_user.partner_membership, bundle=editors)
    user = fresh(partner_b_user)

    assert can(user, "change", Company, book[1])
    assert not can(user, "change", Relationship)
    with pytest.raises(Http404):
        get_relationship_for(user, Relationship.objects.get(name="B Followed").pk, action="change")


def test_nobody_deletes_a_partners_company_through_a_partner_user(book, partner_a_user, editors):
    editors.permissions.add(Permission.objects.get(codename="delete_company"))
    partner_user_update(partner_user=partner_a_user.partner_membership, bundle=editors)

    # Partner groups hold view and change only.
    with pytest.raises(PermissionDenied):
        get_company_for(fresh(partner_a_user), book[0].pk, action="delete")


def test_internal_users_change_by_their_groups(book, csm_user, viewer_user):
    own = book[0]

    assert get_company_for(csm_user, own.pk, action="change") == own
    assert can(csm_user, "change", Relationship)
    assert not can(viewer_user, "change", Company, own)
    with pytest.raises(PermissionDenied):
        get_company_for(viewer_user, own.pk, action="change")


def test_a_partner_user_in_two_partners_is_refused(partner_a_user, partner_b):
    with pytest.raises(ValidationError):
        PartnerUserFactory(partner=partner_b, user=partner_a_user)
    assert fresh(partner_a_user).partner_membership.partner.name == "Partner A"
