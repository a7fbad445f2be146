"""The book's running counts kept by database triggers (gainsight_lite.row_counts): every write
path moves them in step, a rollback takes them back, a recount repairs them, and the pages
that show them (Home, the Cockpit's "Anyone" count) give the same figures as counting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction

from companies.models import Company
from companies.selectors import home_dashboard
from gainsight_lite import row_counts
from gainsight_lite.models import RowCount
from gainsight_lite.row_counts import (
    AT_RISK,
    COMPANY,
    COMPANY_GRANT,
    CTA_OPEN,
    RELATIONSHIP,
    RELATIONSHIP_GRANT,
    partner_book,
    row_counts_check,
    row_counts_rebuild,
    row_counts_restore,
    row_counts_triggers_drop,
    table_total,
)
from partners.access import companies_visible_count, relationships_visible_count
from partners.models import Partner
from partners.services import partner_assign, partner_unassign
from relationships.models import Relationship
from success.models import CTA, CTAStatus
from success.selectors.cockpit import OWNER_ANYONE, CockpitFilters, cockpit_page
from success.services import ctas_close
from tests.factories import (
    CompanyFactory,
    CTAFactory,
    PartnerFactory,
    PartnerUserFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def assert_in_step() -> None:
    found = row_counts_check()
    assert found.ok, found.lines()


def book_of(partner: Partner) -> tuple[int, Decimal, int]:
    book = partner_book(partner.pk)
    return book.total, book.arr, book.at_risk


def counted_book(partner: Partner) -> tuple[int, Decimal, int]:
    """The same figures counted from the table."""
    companies = list(Company.objects.filter(managed_by=partner))
    return (
        len(companies),
        sum((c.arr for c in companies), Decimal(0)),
        sum(c.status == AT_RISK for c in companies),
    )


def test_at_risk_is_the_models_status():
    assert AT_RISK == Company.Status.AT_RISK


def test_created_updated_and_deleted_companies_move_the_counts():
    partner = PartnerFactory()
    other = PartnerFactory()
    companies = CompanyFactory.create_batch(3, managed_by=partner, arr=Decimal("1000.10"))
    CompanyFactory(arr=Decimal("5.55"))
    assert table_total(COMPANY) == 4
    assert book_of(partner) == (3, Decimal("3000.30"), 0)

    first, second, third = companies
    first.status = Company.Status.AT_RISK
    first.arr = Decimal("0.01")
    first.save()
    assert book_of(partner) == (3, Decimal("2000.21"), 1)

    # Moved to another partner by the service (a bulk UPDATE): both books move.
    partner_assign(records=[first, second], partner=other)
    assert book_of(partner) == (1, Decimal("1000.10"), 0)
    assert book_of(other) == (2, Decimal("1000.11"), 1)
    partner_unassign(records=[second])
    assert book_of(other) == (1, Decimal("0.01"), 1)

    # A queryset update of many rows at once, and a delete.
    Company.objects.filter(managed_by=other).update(status=Company.Status.ACTIVE)
    assert book_of(other) == (1, Decimal("0.01"), 0)
    third.delete()
    assert book_of(partner) == (0, Decimal(0), 0)
    assert table_total(COMPANY) == 3
    assert_in_step()


def test_relationships_ctas_and_grants_follow_every_write_path():
    partner = PartnerFactory()
    company = CompanyFactory(managed_by=partner)
    relationships = RelationshipFactory.create_batch(3, company=company)
    RelationshipFactory()
    open_ctas = CTAFactory.create_batch(3, company=company)
    closed = CTAStatus.objects.filter(is_closed=True).first()
    CTAFactory(company=company, status=closed)
    assert table_total(RELATIONSHIP) == 4
    assert table_total(CTA_OPEN) == 3
    group = partner.group_id
    grants = row_counts.grant_total
    assert grants(COMPANY_GRANT, group_id=group, permission_id=_view(Company)) == 1
    assert grants(RELATIONSHIP_GRANT, group_id=group, permission_id=_view(Relationship)) == 3

    # Closing through the service moves the open count; reopening moves it back.
    ctas_close(ctas=CTA.objects.filter(pk=open_ctas[0].pk), by=UserFactory())
    assert table_total(CTA_OPEN) == 2
    CTA.objects.filter(pk=open_ctas[0].pk).update(is_closed=False)
    assert table_total(CTA_OPEN) == 3

    # Deleting a relationship takes its grants; deleting the company cascades to the rest.
    relationships[0].delete()
    assert table_total(RELATIONSHIP) == 3
    company.delete()
    assert table_total(RELATIONSHIP) == 1
    assert table_total(CTA_OPEN) == 0
    assert row_counts.grant_total(COMPANY_GRANT, group_id=group, permission_id=_view(Company)) == 0
    assert_in_step()


def _view(model: type[Company] | type[Relationship]) -> int:
    from partners.access import _permission

    permission = _permission(model, "view")
    return permission if isinstance(permission, int) else permission.get()["pk"]


def test_a_rolled_back_write_takes_its_counts_back():
    CompanyFactory(arr=Decimal(100))
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyFactory(arr=Decimal(50))
        # The company's check constraint refuses it: the whole block rolls back.
        Company.objects.filter(arr=Decimal(50)).update(arr=Decimal(-1))
    assert table_total(COMPANY) == 1
    assert_in_step()


def test_the_check_finds_drift_and_missing_triggers_and_the_rebuild_repairs_them():
    partner = PartnerFactory()
    CompanyFactory.create_batch(2, managed_by=partner)
    RowCount.objects.filter(kind=COMPANY, owner=partner.pk).update(total=7)
    found = row_counts_check()
    assert [(d.kind, d.owner, d.kept[0], d.actual[0]) for d in found.drifts] == [
        (COMPANY, partner.pk, 7, 2)
    ]
    assert "rows 7 kept, 2 in the table" in found.lines()[0]

    row_counts_rebuild()
    assert_in_step()

    dropped = row_counts_triggers_drop()
    assert "row_counts_company_insert" in dropped
    CompanyFactory()  # not counted while the triggers are gone
    found = row_counts_check()
    assert set(found.missing) == set(dropped)
    assert found.drifts

    assert set(row_counts_restore()) == set(dropped)
    assert_in_step()
    CompanyFactory()
    assert table_total(COMPANY) == 4
    assert_in_step()


def test_the_command_reports_and_rebuilds(capsys):
    CompanyFactory()
    RowCount.objects.filter(kind=COMPANY).delete()
    with pytest.raises(CommandError, match="difference"):
        call_command("row_counts")
    assert "company (owner 0, detail 0): rows 0 kept, 1 in the table" in capsys.readouterr().out
    call_command("row_counts", "--rebuild")
    assert "Rebuilt" in capsys.readouterr().out
    call_command("row_counts")
    assert "agree" in capsys.readouterr().out


def test_bulk_inserts_are_counted():
    partner = PartnerFactory()
    Company.objects.bulk_create(
        [
            Company(
                name=f"Bulk {n}",
                arr=Decimal("10.25"),
                status=AT_RISK if n % 2 else Company.Status.ACTIVE,
                managed_by=partner,
                lft=1,
                rght=2,
                tree_id=1000 + n,
                level=0,
            )
            for n in range(5)
        ]
    )
    assert book_of(partner) == (5, Decimal("51.25"), 2) == counted_book(partner)
    assert_in_step()


def test_home_shows_the_same_figures_as_counting(partner_a):
    csm = UserFactory()
    ours = CompanyFactory.create_batch(3, managed_by=partner_a, csm=csm)
    ours[0].status = AT_RISK
    ours[0].save()
    CompanyFactory.create_batch(2, csm=csm, status=AT_RISK)
    RelationshipFactory.create_batch(2, company=ours[1])
    RelationshipFactory()
    member = PartnerUserFactory(partner=partner_a).user

    theirs = home_dashboard(user=member)
    assert (theirs.company_count, theirs.relationship_count) == (3, 2)
    assert (theirs.my_company_count, theirs.my_arr, theirs.my_at_risk_count) == counted_book(
        partner_a
    )
    assert theirs.company_count == companies_visible_count(member)

    internal = home_dashboard(user=csm)
    assert internal.company_count == Company.objects.count() == 6
    assert internal.relationship_count == Relationship.objects.count() == 3
    assert (internal.my_company_count, internal.my_at_risk_count) == (5, 3)
    assert relationships_visible_count(csm) == 3

    # An inactive partner's users see nothing, and have no book shown.
    partner_a.active = False
    partner_a.save()
    member = type(member).objects.get(pk=member.pk)
    hidden = home_dashboard(user=member)
    assert (hidden.company_count, hidden.my_company_count, hidden.my_arr) == (0, 0, Decimal(0))


@pytest.mark.parametrize("show_snoozed", [False, True])
def test_the_cockpits_anyone_count_is_every_open_cta_less_the_snoozed(show_snoozed):
    today = dt.date.today()
    CTAFactory.create_batch(4)
    CTAFactory(snoozed_until=today + dt.timedelta(days=3))
    CTAFactory(snoozed_until=today)
    CTAFactory(status=CTAStatus.objects.filter(is_closed=True).first())
    filters = CockpitFilters(owner=OWNER_ANYONE, show_snoozed=show_snoozed)

    page = cockpit_page(user=UserFactory(), filters=filters, page_number=1, today=today)

    assert page.page.paginator.count == (6 if show_snoozed else 5)
    listed = sum(len(group.rows) for group in page.groups)
    assert listed == page.page.paginator.count


def test_a_narrowed_anyone_view_still_counts_its_own_rows():
    today = dt.date.today()
    first = CTAFactory()
    CTAFactory.create_batch(3)
    filters = CockpitFilters(owner=OWNER_ANYONE, company=first.company.name)

    page = cockpit_page(user=UserFactory(), filters=filters, page_number=1, today=today)

    expected = CTA.objects.filter(is_closed=False, company__name__icontains=first.company.name)
    assert page.page.paginator.count == expected.count()


def test_the_counts_table_is_read_not_counted_on_home(django_assert_max_num_queries, client):
    csm = UserFactory()
    client.force_login(csm)
    CompanyFactory.create_batch(3)
    with django_assert_max_num_queries(12) as captured:
        assert client.get("/").status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    assert not any(
        "COUNT(" in q and ('"companies_company"' in q or '"relationships_relationship"' in q)
        for q in sql
        if 'WHERE "companies_company"."csm_id" =' not in q
    ), sql
    assert sum('FROM "gainsight_lite_rowcount"' in q for q in sql) == 2


@pytest.mark.django_db(transaction=True)
def test_postgresql_writers_never_wait_for_a_long_transaction_and_readers_sum_the_shares():
    """A transaction holding a count's share (a long import) does not make another writer
    of the same count wait: that one adds to another share; readers sum them."""
    if connection.vendor != "postgresql":
        pytest.skip("shares are PostgreSQL's")
    CompanyFactory()  # committed: the count's first share exists
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            CompanyFactory()  # holds the share until the block ends
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                # What the trigger runs for a company inserted on the other connection.
                cursor.execute("SELECT row_counts_add('company', 0, 0, 1, 500, 1)")
            assert table_total(COMPANY) == 3
    finally:
        other.close()
    shares = RowCount.objects.filter(kind=COMPANY, owner=0)
    assert sorted(shares.values_list("total", flat=True)) == [1, 2]
    arr = sum(Company.objects.values_list("arr", flat=True), Decimal(5))
    assert partner_book(0) == row_counts.Book(total=3, arr=arr, at_risk=1)
    call_command("row_counts", "--rebuild")
    assert sorted(shares.values_list("total", flat=True)) == [2]


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_the_counts_in_step():
    """A flush empties every table, the counts' too (SQLite: a DELETE per table, their
    triggers running; PostgreSQL: TRUNCATE, no trigger): every count ends at zero."""
    partner = PartnerFactory()
    CompanyFactory.create_batch(2, managed_by=partner)
    CTAFactory()
    call_command("flush", interactive=False, verbosity=0)
    assert not RowCount.objects.exclude(total=0).exists()
    assert_in_step()


def test_every_migrate_puts_back_dropped_triggers_and_recounts():
    """SQLite drops a table's triggers when a migration rebuilds the table (ALTER TABLE by
    copy): post_migrate installs what is missing and recounts what was written meanwhile."""
    from django.core.management.sql import emit_post_migrate_signal

    row_counts_triggers_drop()
    CompanyFactory(managed_by=PartnerFactory())
    assert not row_counts_check().ok

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert_in_step()
    assert table_total(COMPANY) == 1


def test_a_count_back_to_nothing_leaves_no_row():
    """A partner whose companies are all gone (or moved away) keeps no row of its own."""
    partner = PartnerFactory()
    companies = CompanyFactory.create_batch(2, managed_by=partner)
    companies[0].delete()
    assert RowCount.objects.filter(kind=COMPANY, owner=partner.pk).exists()
    partner_unassign(records=[companies[1]])
    assert not RowCount.objects.filter(kind=COMPANY, owner=partner.pk).exists()
    assert not RowCount.objects.filter(kind=COMPANY_GRANT, owner=partner.group_id).exists()
    assert_in_step()


def test_a_csv_import_counts_its_companies_once_and_keeps_the_trigger(partner_a):
    """The import inserts its companies with the INSERT trigger set aside (SQLite) and counts
    them in one statement; the trigger is back afterwards, and a refused file counts nothing."""
    from gainsight_lite.csvio.importers import run_import
    from tests.csvio.helpers import csv_bytes

    CompanyFactory(arr=Decimal(7))
    report = run_import(
        "companies",
        csv_bytes(
            ["external_id", "name", "parent_external_id", "arr", "status", "partner"],
            ["P1", "Parent", "", "100.25", "at_risk", "partner a"],
            ["C1", "Child", "P1", "0.50", "active", "partner a"],
            ["C2", "Other", "", "3", "active", ""],
        ),
    )
    assert report.errors == []
    assert book_of(partner_a) == (2, Decimal("100.75"), 1) == counted_book(partner_a)
    assert table_total(COMPANY) == 4
    assert_in_step()

    refused = run_import(
        "companies",
        csv_bytes(["external_id", "name", "arr"], ["N1", "New", "5"], ["N2", "", "x"]),
    )
    assert refused.errors and not refused.written
    assert table_total(COMPANY) == 4
    CompanyFactory()  # the trigger counts again
    assert table_total(COMPANY) == 5
    assert_in_step()
