"""A CTA's `partner` (whose users see it) follows its company's and relationship's partners
through every change partners.services makes, so that `ctas_visible_to` (which reads it)
gives a partner user the very CTAs their permission rows give (`work_visible_by_probe`,
which reads the grants)."""

from __future__ import annotations

import importlib
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from partners.access import ctas_visible_to, work_visible_by_probe
from partners.models import Partner
from partners.services import (
    partner_assign,
    partner_delete,
    partner_unassign,
    partner_update,
    work_partner,
    work_partner_expression,
)
from relationships.services import relationship_update
from success.models import CTA
from success.services import cta_create, cta_update
from tests.factories import CompanyFactory, CTAFactory, PartnerFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def seen(user: User) -> set[str]:
    return set(ctas_visible_to(fresh(user)).values_list("name", flat=True))


def granted(user: User) -> set[str]:
    return set(work_visible_by_probe(fresh(user), CTA.objects.all()).values_list("name", flat=True))


def assert_follows_grants(*users: User) -> None:
    for user in users:
        assert seen(user) == granted(user), user


@pytest.fixture
def book(partner_a, partner_b):
    """A's company with a following relationship and one run by another partner; a house
    company with a relationship A runs; a CTA on each."""
    a_co = CompanyFactory(name="Alpha Co", managed_by=partner_a)
    house = CompanyFactory(name="House Co")
    followed = RelationshipFactory(company=a_co, name="Followed")
    other = RelationshipFactory(company=a_co, name="Other", managed_by=PartnerFactory())
    assigned = RelationshipFactory(company=house, name="Assigned", managed_by=partner_a)
    CTAFactory(company=a_co, name="on A")
    CTAFactory(company=a_co, relationship=followed, name="on followed")
    CTAFactory(company=a_co, relationship=other, name="on other")
    CTAFactory(company=house, name="on house")
    CTAFactory(company=house, relationship=assigned, name="on assigned")
    return SimpleNamespace(
        a_co=a_co, house=house, followed=followed, other=other, assigned=assigned
    )


def test_a_partners_ctas_are_those_its_grants_give(book, partner_a_user, partner_b_user):
    assert seen(partner_a_user) == {"on A", "on followed"}
    assert seen(partner_b_user) == set()
    assert_follows_grants(partner_a_user, partner_b_user)


def test_ctas_follow_a_company_to_another_partner_and_back_in_house(
    book, partner_a, partner_b, partner_a_user, partner_b_user
):
    partner_update(partner=partner_b, data_scope=Partner.DataScope.COMPANIES_AND_RELATIONSHIPS)
    partner_assign(records=[book.a_co], partner=partner_b)
    assert seen(partner_a_user) == set()
    assert seen(partner_b_user) == {"on A", "on followed"}
    assert_follows_grants(partner_a_user, partner_b_user)

    partner_unassign(records=[book.a_co])
    assert seen(partner_b_user) == set()
    assert CTA.objects.filter(partner__isnull=False).count() == 0
    assert_follows_grants(partner_a_user, partner_b_user)


def test_ctas_follow_a_relationship_given_its_own_partner_or_taken_back(
    book, partner_a, partner_b, partner_a_user
):
    # The other partner's relationship comes back to the company's partner...
    partner_unassign(records=[book.other])
    assert seen(partner_a_user) == {"on A", "on followed", "on other"}
    # ... and one that followed A goes to B: A no longer sees its CTA, nor does B
    # (no permission on the company).
    partner_assign(records=[book.followed], partner=partner_b)
    assert seen(partner_a_user) == {"on A", "on other"}
    assert_follows_grants(partner_a_user)


def test_ctas_follow_a_relationship_moved_to_another_company(book, partner_a_user):
    relationship_update(relationship=book.assigned, company=book.a_co)
    # The CTA stays on the house company, which A does not run: still not A's.
    assert "on assigned" not in seen(partner_a_user)
    assert_follows_grants(partner_a_user)


def test_a_companies_only_partner_sees_no_relationship_cta(book, partner_a, partner_a_user):
    partner_update(partner=partner_a, data_scope=Partner.DataScope.COMPANIES_ONLY)
    assert seen(partner_a_user) == {"on A"}
    assert_follows_grants(partner_a_user)


def test_a_deleted_partners_ctas_go_back_in_house(book, partner_a):
    partner_delete(partner=partner_a)
    assert CTA.objects.filter(partner__isnull=False).count() == 0


def test_a_cta_takes_its_partner_as_it_is_saved_and_moved(book, partner_a, csm_user):
    cta = cta_create(
        by=csm_user,
        company=book.a_co,
        relationship=book.followed,
        name="New one",
        cta_type=CTA.objects.get(name="on A").cta_type,
        priority=CTA.objects.get(name="on A").priority,
    )
    assert cta.partner_id == partner_a.pk
    assert CTA.objects.get(pk=cta.pk).partner_id == partner_a.pk

    cta_update(cta=cta, by=csm_user, relationship=book.other)
    assert CTA.objects.get(pk=cta.pk).partner_id is None

    loaded = CTA.objects.get(pk=cta.pk)
    loaded.relationship = None
    loaded.save(update_fields=["relationship"])
    assert CTA.objects.get(pk=cta.pk).partner_id == partner_a.pk


def test_a_save_that_keeps_the_records_reads_no_partner(book, django_assert_num_queries):
    cta = CTA.objects.get(name="on A")
    cta.name = "Renamed"
    with django_assert_num_queries(2) as saved:  # the UPDATE and its audit row
        cta.save(update_fields=["name"])
    assert not any("companies_company" in query["sql"] for query in saved.captured_queries)
    cta.relationship = book.followed
    with django_assert_num_queries(3) as moved:  # and the records' partners
        cta.save()
    assert "companies_company" in moved.captured_queries[0]["sql"]


@pytest.mark.parametrize("company_partner", [None, "a"])
@pytest.mark.parametrize("own", ["no relationship", None, "a", "b"])
def test_the_rule_in_python_and_in_sql_agree(company_partner, own, partner_a, partner_b):
    partners = {None: None, "a": partner_a, "b": partner_b}
    company = CompanyFactory(managed_by=partners[company_partner])
    relationship = None
    if own != "no relationship":
        relationship = RelationshipFactory(company=company, managed_by=partners[own])
    cta = CTAFactory(company=company, relationship=relationship)
    in_sql = CTA.objects.filter(pk=cta.pk).values_list(work_partner_expression(), flat=True)
    expected = work_partner(
        company.managed_by_id,
        relationship.managed_by_id if relationship else None,
        on_relationship=relationship is not None,
    )
    assert cta.partner_id == in_sql.get() == expected
    if company_partner == "a" and own in ("no relationship", None, "a"):
        assert expected == partner_a.pk
    else:
        assert expected is None


def test_the_check_reports_and_repairs_a_cta_with_the_wrong_partner(book, partner_b):
    CTA.objects.filter(name="on house").update(partner=partner_b)
    CTA.objects.filter(name="on A").update(partner=None)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_partner_permissions", stdout=out)
    assert "2 CTAs whose partner is not their company's and relationship's" in out.getvalue()

    call_command("check_partner_permissions", "--repair", stdout=StringIO())
    assert CTA.objects.get(name="on house").partner_id is None
    assert CTA.objects.get(name="on A").partner_id == book.a_co.managed_by_id
    call_command("check_partner_permissions", stdout=StringIO())  # no drift left


def test_the_migration_fills_in_the_ctas_there_are(book, partner_a):
    expected = dict(CTA.objects.values_list("name", "partner_id"))
    assert expected["on A"] == partner_a.pk
    CTA.objects.update(partner=None)
    migration = importlib.import_module("success.migrations.0011_cta_partner")
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert dict(CTA.objects.values_list("name", "partner_id")) == expected
