"""`seed_demo --scale large`: bulk-written rows that keep every rule the services keep."""

from __future__ import annotations

import re
from collections import defaultdict
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery

from companies.models import MAX_LEVEL, Company, CompanyPerson, Person
from companies.services import company_create
from gainsight_lite import demo_large
from gainsight_lite.demo import DEMO_LOGINS, PARTNER_A, PARTNER_B
from gainsight_lite.search_index import contains, search_index_check
from layouts.models import Layout, Section
from partners.management.commands.check_partner_permissions import find_drift
from partners.models import Partner, PartnerUser
from relationships.attributes import clean_attributes
from relationships.models import Relationship, RelationshipType
from success.models import CTA, Activity, Score, ScoreSnapshot, Task, UsageValue
from tests.factories import CompanyFactory

COMPANIES = 500


@pytest.fixture
def large_book(db):
    return demo_large.large_book_build(companies=COMPANIES, seed=7)


def assert_valid_trees() -> None:
    """The nested sets MPTT expects: each tree numbered 1..2n without a gap, children inside
    their parent one level down, roots and siblings in name order."""
    rows = list(
        Company.objects.values("pk", "name", "parent_id", "tree_id", "lft", "rght", "level")
    )
    by_pk = {row["pk"]: row for row in rows}
    trees: dict[int, list[dict]] = defaultdict(list)
    children: dict[int | None, list[dict]] = defaultdict(list)
    for row in rows:
        trees[row["tree_id"]].append(row)
        children[row["parent_id"]].append(row)
    for tree_id, members in trees.items():
        roots = [row for row in members if row["parent_id"] is None]
        assert len(roots) == 1, f"tree {tree_id} has {len(roots)} roots"
        root = roots[0]
        assert (root["lft"], root["rght"], root["level"]) == (1, 2 * len(members), 0)
        numbers = sorted(n for row in members for n in (row["lft"], row["rght"]))
        assert numbers == list(range(1, 2 * len(members) + 1))
    for row in rows:
        assert row["level"] <= MAX_LEVEL
        kids = sorted(children[row["pk"]], key=lambda kid: kid["lft"])
        assert (row["rght"] - row["lft"] - 1) // 2 == _descendants(row["pk"], children)
        assert [kid["name"] for kid in kids] == sorted(kid["name"] for kid in kids)
        parent = by_pk.get(row["parent_id"])
        if parent is not None:
            assert parent["tree_id"] == row["tree_id"]
            assert parent["lft"] < row["lft"] < row["rght"] < parent["rght"]
            assert row["level"] == parent["level"] + 1
    roots_by_tree = sorted(children[None], key=lambda root: root["tree_id"])
    assert [r["name"] for r in roots_by_tree] == sorted(r["name"] for r in roots_by_tree)


def _descendants(pk: int, children: dict[int | None, list[dict]]) -> int:
    return sum(1 + _descendants(kid["pk"], children) for kid in children[pk])


def _near(count: int, expected: float, share: float = 0.1) -> bool:
    return abs(count - expected) <= expected * share


@pytest.mark.django_db
def test_large_book_keeps_every_rule_the_services_keep(large_book):
    """One build (it is the slow part), every rule checked on it."""
    check_trees_are_what_mptt_would_have_built()
    check_figures_are_the_issues_scaled()
    check_partner_a_manages_a_fifth_and_the_grants_follow_managed_by()
    check_logins_exist_and_every_partner_has_users()
    check_stored_fields_agree_with_what_the_services_keep()
    check_ids_continue_after_the_book()
    check_search_index_has_every_row_and_its_triggers_are_back()


def check_trees_are_what_mptt_would_have_built() -> None:
    assert_valid_trees()
    assert Company.objects.filter(level=MAX_LEVEL).exists(), "no hierarchy five levels deep"
    assert Company.objects.filter(parent__isnull=True, rght=2).exists(), "no single company"
    # MPTT's own reads and writes work on them: descendants by lft/rght are the parent links'.
    deep = Company.objects.filter(level=1, rght__gt=F("lft") + 5).first()
    assert deep is not None
    by_link = set(Company.objects.filter(parent=deep).values_list("pk", flat=True))
    assert by_link <= set(deep.get_descendants().values_list("pk", flat=True))
    leaf = Company.objects.filter(level=2, rght=F("lft") + 1).first()
    assert leaf is not None
    company_create(name="Zz new site", parent=leaf, external_id="NEW-1")
    company_create(name="Aa new group", external_id="NEW-2")
    assert_valid_trees()
    Company.objects.filter(external_id__startswith="NEW-").order_by("-level").delete()


def check_figures_are_the_issues_scaled() -> None:
    assert Company.objects.count() == COMPANIES
    assert _near(Relationship.objects.count(), 3 * COMPANIES)
    assert _near(Person.objects.count(), 3 * COMPANIES)
    assert CompanyPerson.objects.count() == Person.objects.count()
    assert _near(Activity.objects.count(), 20 * COMPANIES)
    assert _near(CTA.objects.count(), 5 * COMPANIES)
    assert Task.objects.count() > CTA.objects.count()
    used_types = Relationship.objects.values("relationship_type").distinct().count()
    assert used_types == RelationshipType.objects.count() == 5
    scored = Company.objects.filter(health_score__isnull=False).count()
    assert scored == COMPANIES // 10
    assert ScoreSnapshot.objects.count() == scored * 90
    assert UsageValue.objects.count() == scored * 26 * 3
    assert Score.objects.values("company").distinct().count() == scored


def check_partner_a_manages_a_fifth_and_the_grants_follow_managed_by() -> None:
    partner_a = Partner.objects.get(name=PARTNER_A)
    share = Company.objects.filter(managed_by=partner_a).count() / COMPANIES
    assert 0.19 <= share <= 0.4
    others = Company.objects.filter(managed_by__isnull=False).exclude(managed_by=partner_a)
    assert others.exists()
    assert Company.objects.filter(managed_by__name=PARTNER_B).exists()
    # Whole hierarchies go to one partner: a child has its parent's partner (or none).
    pairs = Company.objects.exclude(parent=None).values_list("managed_by", "parent__managed_by")
    assert all(own == parents for own, parents in pairs)
    assert find_drift() == []
    assert PartnerUser.objects.filter(user__username="partner-a", partner=partner_a).exists()


def check_logins_exist_and_every_partner_has_users() -> None:
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert user.check_password(login.password)
    without_users = Partner.objects.annotate(users=Count("members")).filter(users=0)
    assert not without_users.exists()


def check_stored_fields_agree_with_what_the_services_keep() -> None:
    # is_closed is the status's; a closed CTA has its closing time and every task done.
    assert not CTA.objects.exclude(is_closed=F("status__is_closed")).exists()
    assert not CTA.objects.filter(is_closed=True, closed_at__isnull=True).exists()
    assert not CTA.objects.filter(is_closed=False, closed_at__isnull=False).exists()
    assert not Task.objects.filter(cta__is_closed=True, done=False).exists()
    # The health score is today's snapshot.
    latest = ScoreSnapshot.objects.filter(company=OuterRef("pk"), relationship=None).order_by(
        "-day"
    )
    scored = Company.objects.filter(health_score__isnull=False).annotate(
        latest=Subquery(latest.values("overall")[:1])
    )
    assert scored.exists()
    assert not scored.exclude(health_score=F("latest")).exists()
    # Activities, CTAs and their relationship belong to the same company.
    for model in (Activity, CTA):
        mixed = model.objects.exclude(relationship=None).exclude(relationship__company=F("company"))
        assert not mixed.exists()
    # Relationship attributes are what clean_attributes keeps.
    for relationship in Relationship.objects.select_related("relationship_type").prefetch_related(
        "relationship_type__fields"
    ):
        cleaned, errors = clean_attributes(
            relationship.relationship_type.fields.all(), relationship.attributes
        )
        assert errors == {}, (relationship, errors)
        assert cleaned == relationship.attributes
    connection.check_constraints()


def check_ids_continue_after_the_book() -> None:
    """New rows get ids after the ones the book chose (PostgreSQL's sequences moved on)."""
    company = CompanyFactory()
    assert company.pk > Company.objects.exclude(pk=company.pk).order_by("-pk")[0].pk
    company.delete()


def check_search_index_has_every_row_and_its_triggers_are_back() -> None:
    """The build drops the search triggers and rebuilds the index once: it must find the
    book's rows, agree with the tables, and index rows written after the build again."""
    assert search_index_check() == []
    person = Person.objects.order_by("pk")[COMPANIES]
    found = Person.objects.filter(contains("person", f"{person.first_name} {person.last_name}"))
    assert person in found
    relationship = Relationship.objects.order_by("-pk")[0]
    assert relationship in Relationship.objects.filter(contains("relationship", relationship.name))
    company = company_create(name="Quokka Unlisted Holdings", external_id="NEW-3")
    assert list(Company.objects.filter(contains("company", "okka unl"))) == [company]
    company.delete()
    assert not Company.objects.filter(contains("company", "okka unl")).exists()


@pytest.mark.django_db
def test_command_refuses_a_database_with_companies_and_too_small_a_book(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="at least"):
        call_command("seed_demo", "--scale", "large", "--companies", "50", stdout=StringIO())
    CompanyFactory()
    with pytest.raises(CommandError, match="without companies"):
        call_command("seed_demo", "--scale", "large", "--companies", "300", stdout=StringIO())
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", "--scale", "large", "--reset", stdout=StringIO())


@pytest.mark.django_db
def test_command_seeds_then_says_it_is_loaded(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--scale", "large", "--companies", "300", stdout=out)
    assert "Seeded the large demo book" in out.getvalue()
    # The seconds of each step, after the book is in.
    for step in ("Companies", "Timeline activities", "Building indexes", "Search index"):
        assert re.search(rf"^  {step} +\d+\.\d +\d+\.\d$", out.getvalue(), re.MULTILINE), step
    assert "partner-a" in out.getvalue()
    # A book seeded before a section kind joined the demo layouts gets it on the next run.
    history = Section.objects.filter(
        layout__is_default=True, layout__target=Layout.Target.COMPANY, kind="history"
    )
    assert history.exists()
    history.delete()
    again = StringIO()
    call_command("seed_demo", "--scale", "large", "--companies", "300", stdout=again)
    assert "already loaded" in again.getvalue()
    assert "layouts now have this version's sections" in again.getvalue()
    assert Company.objects.count() == 300
    assert history.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's visibility map")
@pytest.mark.django_db(transaction=True)
def test_a_build_of_its_own_vacuums_so_index_only_scans_skip_the_tables():
    """Outside a caller's transaction the build ends with VACUUM (ANALYZE): every page of the
    bulk-loaded tables is marked all-visible (ANALYZE alone leaves the map empty)."""
    demo_large.large_book_build(companies=300, seed=7)

    tables = ["companies_company", "success_activity", "partners_companygroupobjectpermission"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relpages, relallvisible FROM pg_class WHERE relname = ANY(%s)",
            [tables],
        )
        pages = {name: (total, visible) for name, total, visible in cursor.fetchall()}
    assert set(pages) == set(tables)
    for name, (total, visible) in pages.items():
        assert total > 0 and visible == total, (name, total, visible)
