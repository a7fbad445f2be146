"""`manage.py seed_demo`: a believable, valid, deterministic demo book and its logins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count, Max
from django.test import Client, override_settings
from django.utils import timezone

import gainsight_lite.demo as demo
from companies.models import Company, CompanyPerson, Person
from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from layouts.selection import layout_for, viewer_for
from layouts.services import layout_default_ensure
from partners.access import companies_visible_to, relationships_visible_to
from partners.models import Partner, PartnerUser
from partners.roles import CSM, READ_ONLY
from relationships.attributes import clean_attributes
from relationships.models import Relationship, RelationshipPerson, RelationshipType
from relationships.models import RelationshipTypeField as Field
from tests.factories import CompanyFactory, UserFactory
from tests.pages import open_360

pytestmark = pytest.mark.django_db
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The tests that build their own book build the smallest one: its size does not matter to them.
SMALL = ("--companies", str(demo.MIN_COMPANIES))


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return seed(*SMALL)


def company_names() -> list[str]:
    return sorted(Company.objects.values_list("name", flat=True))


def model_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture(scope="class")
def book(django_db_setup, django_db_blocker):
    """One demo book, committed, for the tests that only read it; deleted afterwards."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        output = seed()
        try:
            yield output
        finally:
            demo.demo_book_delete()


@pytest.mark.usefixtures("book")
class TestTheDemoBook:
    """What the default book holds (seeded once: these tests only read it)."""

    def test_logins_exist_and_each_can_log_in_with_its_password(self, book):
        for login in demo.DEMO_LOGINS:
            assert Client().login(username=login.username, password=login.password), login.username
        admin = User.objects.get(username="admin")
        assert admin.is_superuser and admin.is_staff
        assert list(User.objects.get(username="csm").groups.values_list("name", flat=True)) == [CSM]
        viewer = User.objects.get(username="viewer")
        assert list(viewer.groups.values_list("name", flat=True)) == [READ_ONLY]
        assert not viewer.is_staff
        assert PartnerUser.objects.get(user__username="partner-a").partner.name == "Partner A"
        assert PartnerUser.objects.get(user__username="partner-b").partner.name == "Partner B"
        assert "partner-b  partner-b" in book

    def test_the_book_has_sixty_companies_in_hierarchies_at_most_five_levels_deep(self, book):
        assert Company.objects.count() == demo.DEFAULT_COMPANIES
        assert Company.objects.aggregate(deepest=Max("level"))["deepest"] == 4
        trees = (
            Company.objects.order_by()
            .values("tree_id")
            .annotate(size=Count("id"), depth=Max("level"))
        )
        assert sum(1 for t in trees if t["size"] == 1) >= 5, "some single companies"
        assert sum(1 for t in trees if t["size"] > 1) >= 5, "some groups with subsidiaries"
        assert sum(1 for t in trees if t["depth"] == 4) >= 2, "a few groups reach level 5"
        assert len(set(Company.objects.values_list("name", flat=True))) == Company.objects.count()

    def test_the_company_tree_is_valid_mptt(self, book):
        companies = {c.pk: c for c in Company.objects.all()}
        descendants = dict.fromkeys(companies, 0)
        for company in companies.values():
            assert company.lft < company.rght
            parent_id = company.parent_id
            if parent_id is None:
                assert company.level == 0 and company.lft == 1
            else:
                parent = companies[parent_id]
                assert company.tree_id == parent.tree_id
                assert company.level == parent.level + 1
                assert parent.lft < company.lft and company.rght < parent.rght
            while parent_id is not None:
                descendants[parent_id] += 1
                parent_id = companies[parent_id].parent_id
        for pk, company in companies.items():
            assert (company.rght - company.lft - 1) // 2 == descendants[pk], company.name

        def tree_fields() -> list[tuple[int, int, int, int, int]]:
            return sorted(Company.objects.values_list("pk", "tree_id", "lft", "rght", "level"))

        before = tree_fields()
        Company.objects.rebuild()
        assert tree_fields() == before

    def test_relationship_types_have_four_to_eight_fields_using_every_kind(self, book):
        types = RelationshipType.objects.prefetch_related("fields")
        assert sorted(t.name for t in types) == [
            "Analytics Cloud",
            "Business Unit",
            "Data Platform",
            "Implementation Project",
        ]
        kinds: set[str] = set()
        for kind in types:
            fields = list(kind.fields.all())
            assert 4 <= len(fields) <= 8, kind.name
            assert any(f.required for f in fields), kind.name
            assert any(f.shown_in_lists for f in fields), kind.name
            kinds |= {f.kind for f in fields}
        assert kinds == set(Field.Kind.values)

    def test_every_relationship_has_attributes_that_pass_its_types_rules(self, book):
        relationships = Relationship.objects.select_related("relationship_type").prefetch_related(
            "relationship_type__fields"
        )
        assert relationships.count() >= 100
        for relationship in relationships:
            fields = relationship.relationship_type.fields.all()
            cleaned, errors = clean_attributes(fields, relationship.attributes)
            assert errors == {}, (relationship, errors)
            assert cleaned == relationship.attributes
            required = {f.key for f in fields if f.required}
            assert required <= set(relationship.attributes)
        assert Relationship.objects.values("relationship_type").distinct().count() == 4

    def test_revenue_adds_up_and_renewals_spread_over_the_coming_year(self, book):
        today = timezone.localdate()
        for company in Company.objects.prefetch_related("relationships"):
            assert company.arr == sum((r.arr for r in company.relationships.all()), Decimal(0))
            assert company.mrr == (company.arr / 12).quantize(Decimal("0.01"))
            for relationship in company.relationships.all():
                assert relationship.mrr == (relationship.arr / 12).quantize(Decimal("0.01"))
        renewals = [d for d in Company.objects.values_list("renewal_date", flat=True) if d]
        assert all(d <= today + dt.timedelta(days=365) for d in renewals)
        assert any(d < today for d in renewals), "some renewals are overdue"
        assert any(d <= today + dt.timedelta(days=90) for d in renewals if d >= today)
        assert any(d > today + dt.timedelta(days=180) for d in renewals)
        assert Company.objects.filter(status=Company.Status.AT_RISK).exists()

    def test_people_are_one_per_email_with_roles_and_managers_in_the_same_company(self, book):
        emails = list(Person.objects.values_list("email", flat=True))
        assert len(emails) == len({e.lower() for e in emails})
        company_people = CompanyPerson.objects.select_related("manager")
        assert set(company_people.values_list("role", flat=True)) >= {
            CompanyPerson.Role.CHAMPION,
            CompanyPerson.Role.DECISION_MAKER,
            CompanyPerson.Role.EXECUTIVE_SPONSOR,
            CompanyPerson.Role.USER,
        }
        managers = [(cp, cp.manager) for cp in company_people if cp.manager is not None]
        assert len(managers) > Company.objects.count()
        assert all(manager.company_id == cp.company_id for cp, manager in managers)
        sponsors = company_people.filter(role=CompanyPerson.Role.EXECUTIVE_SPONSOR)
        assert all(cp.is_sponsor for cp in sponsors)
        assert sponsors.values("company").distinct().count() == Company.objects.count()
        # A group's executive sponsor is one Person at several of its companies.
        assert Person.objects.annotate(n=Count("companies")).filter(n__gt=1).exists()
        links = RelationshipPerson.objects.select_related("relationship", "company_person")
        assert links.count() >= Relationship.objects.count()
        assert all(link.company_person.company_id == link.relationship.company_id for link in links)

    def test_several_csms_own_companies(self, book):
        owners = Company.objects.values_list("csm__username", flat=True).distinct()
        assert "csm" in owners and len(set(owners)) >= 3
        assert Company.objects.filter(csm__username="csm").count() < Company.objects.count()

    def test_partners_have_their_scopes_and_run_whole_hierarchies(self, book):
        partner_a = Partner.objects.get(name="Partner A")
        partner_b = Partner.objects.get(name="Partner B")
        assert partner_a.data_scope == Partner.DataScope.COMPANIES_AND_RELATIONSHIPS
        assert partner_b.data_scope == Partner.DataScope.COMPANIES_ONLY
        for partner in (partner_a, partner_b):
            trees = set(
                Company.objects.filter(managed_by=partner).values_list("tree_id", flat=True)
            )
            assert len(trees) >= 2, f"{partner} runs a few hierarchies"
            # Whole hierarchies: every company of those trees is the partner's.
            assert (
                not Company.objects.filter(tree_id__in=trees).exclude(managed_by=partner).exists()
            )
        assert (
            Company.objects.filter(managed_by__isnull=True).count() > Company.objects.count() // 2
        )
        # Partner A also runs some relationships of companies no partner manages.
        assert Relationship.objects.filter(
            managed_by=partner_a, company__managed_by__isnull=True
        ).exists()
        assert not Relationship.objects.filter(managed_by=partner_b).exists()
        partner_a_user = User.objects.get(username="partner-a")
        partner_b_user = User.objects.get(username="partner-b")
        assert companies_visible_to(partner_a_user).filter(level=4).exists()
        assert relationships_visible_to(partner_a_user).count() > 0
        assert companies_visible_to(partner_b_user).count() > 0
        assert relationships_visible_to(partner_b_user).count() == 0

    def test_the_default_c360_layout_has_every_kind_of_section_made_for_companies(self, book):
        c360 = Layout.objects.get(target=Layout.Target.COMPANY, is_default=True)
        sections = list(c360.sections.all())
        company_kinds = {key for key, kind in REGISTRY.items() if "company" in kind.targets}
        assert {s.kind for s in sections} == company_kinds
        assert [s.order for s in sections] == list(range(1, len(sections) + 1))
        if "related_list" in REGISTRY:
            children = c360.sections.get(kind="related_list")
            assert (children.title, children.config["source"]) == ("Child companies", "children")
        if "embed" in REGISTRY:
            embed = c360.sections.get(kind="embed")
            assert embed.collapsed
            assert embed.config["url_template"].startswith("https://")
            assert "{external_id}" in embed.config["url_template"]

    def test_the_executive_layout_shows_enterprise_accounts_fewer_sections(self, book):
        executive = Layout.objects.get(name="Executive")
        c360 = Layout.objects.get(target=Layout.Target.COMPANY, is_default=True)
        assert executive.target == Layout.Target.COMPANY and executive.priority < c360.priority
        assert [(c.subject_field, c.operator, c.value) for c in executive.conditions.all()] == [
            ("segment", "is", "Enterprise")
        ]
        kinds = [s.kind for s in executive.sections.all()]
        assert kinds == [k for k in ("summary", "relationships", "hierarchy") if k in REGISTRY]
        assert len(kinds) < c360.sections.count()
        summary = executive.sections.get(kind="summary")
        assert len(summary.config["widgets"]) < len(
            REGISTRY["summary"].default_config(None)["widgets"]
        )
        csm = viewer_for(User.objects.get(username="csm"))
        for company in Company.objects.all():
            expected = executive if company.segment == Company.Segment.ENTERPRISE else c360
            assert layout_for(subject=company, viewer=csm) == expected, company.name

    def test_each_relationship_type_has_an_r360_layout_with_its_own_fields(self, book):
        for kind in RelationshipType.objects.prefetch_related("fields"):
            layout = Layout.objects.get(relationship_type=kind, is_default=True)
            sections = {s.kind: s for s in layout.sections.all()}
            assert {"summary", "attributes", "people"} <= set(sections), kind.name
            shown = sections["attributes"].config["fields"]
            assert {f"attr.{f.key}" for f in kind.fields.all()} <= set(shown), kind.name
            if "related_list" in REGISTRY:
                other = sections["related_list"]
                assert other.title == "Other relationships of this company"
                assert other.config["source"] == "other_relationships"

    def test_every_demo_section_passes_its_kinds_checks(self, book):
        sections = Section.objects.select_related("layout__relationship_type")
        assert sections.count() >= 20
        for section in sections:
            stored = section.config
            section.full_clean()
            assert section.config == stored, section

    def test_the_demo_pages_open_with_every_section(self, book):
        client = Client()
        client.force_login(User.objects.get(username="csm"))
        enterprise = Company.objects.filter(segment=Company.Segment.ENTERPRISE).first()
        other = Company.objects.exclude(segment=Company.Segment.ENTERPRISE).first()
        subjects = [f"/companies/{enterprise.pk}/", f"/companies/{other.pk}/"] + [
            f"/relationships/{Relationship.objects.filter(relationship_type=kind).earliest('pk').pk}/"
            for kind in RelationshipType.objects.all()
        ]
        for url in subjects:
            html = open_360(client, url)
            assert "could not be loaded" not in html, url
        executive = client.get(f"/companies/{enterprise.pk}/").context["layout"]
        assert executive.name == "Executive"

    def test_a_second_run_adds_nothing_and_prints_the_logins_again(self, book):
        before = model_counts()
        output = seed()
        assert model_counts() == before
        assert "already loaded" in output
        assert "partner-a  partner-a" in output


def test_reset_rebuilds_the_book_and_leaves_other_records_alone(seeded):
    own_company = CompanyFactory(name="Our real customer", external_id="ACC-1")
    own_user = UserFactory(username="someone", email="someone@example.com")
    old_pks = set(Company.objects.values_list("pk", flat=True))
    names = company_names()
    counts = model_counts()

    output = seed("--reset", *SMALL)

    assert "Deleted the demo book." in output
    assert company_names() == names
    assert model_counts() == counts
    assert set(Company.objects.values_list("pk", flat=True)) & old_pks == {own_company.pk}
    assert User.objects.filter(pk=own_user.pk).exists()
    assert Client().login(username="csm", password="csm")
    assert Layout.objects.filter(name="Executive").count() == 1
    assert Layout.objects.filter(target=Layout.Target.COMPANY, is_default=True).count() == 1


def test_a_default_layout_someone_else_made_is_left_alone():
    own = layout_default_ensure()
    own.sections.update(title="Our own")

    output = seed(*SMALL)

    assert "The default layout “Default (C360)” already existed" in output
    assert set(own.sections.values_list("title", flat=True)) == {"Our own"}
    assert Layout.objects.filter(name="Executive").exists()
    demo.demo_book_delete()
    assert list(Layout.objects.all()) == [own]


def test_the_same_seed_gives_the_same_company_names():
    seed("--seed", "7", *SMALL)
    first = company_names()
    seed("--reset", "--seed", "7", *SMALL)
    assert company_names() == first
    seed("--reset", "--seed", "8", *SMALL)
    assert company_names() != first


def test_more_companies_on_request_still_at_most_five_levels():
    seed("--companies", "120")
    assert Company.objects.count() == 120
    assert Company.objects.aggregate(deepest=Max("level"))["deepest"] == 4


def test_too_few_companies_is_refused_with_a_sentence():
    with pytest.raises(CommandError, match="at least 30 companies"):
        seed("--companies", "5")
    assert not Company.objects.exists()


def test_a_failing_step_leaves_nothing_half_written(monkeypatch):
    def broken_step(book: demo.DemoBook) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setattr(demo, "STEPS", [*demo.STEPS, broken_step])
    with pytest.raises(RuntimeError):
        seed(*SMALL)
    for model in (Company, Relationship, Person, Partner, RelationshipType, User):
        assert not model.objects.exists(), model.__name__


def test_a_failing_reset_keeps_the_old_book(seeded, monkeypatch):
    before = set(Company.objects.values_list("pk", flat=True))

    def broken_step(book: demo.DemoBook) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setattr(demo, "STEPS", [*demo.STEPS, broken_step])
    with pytest.raises(RuntimeError):
        seed("--reset", *SMALL)
    assert set(Company.objects.values_list("pk", flat=True)) == before


def test_an_existing_user_keeps_their_password():
    UserFactory(username="admin", password="a-real-admin-password", is_superuser=True)
    output = seed(*SMALL)
    assert "“admin” already existed" in output
    assert Client().login(username="admin", password="a-real-admin-password")
    assert not Client().login(username="admin", password="admin")
    assert Client().login(username="csm", password="csm")


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_updating_line_on_a_terminal_and_plain_lines_otherwise():
    terminal = Terminal()
    call_command("seed_demo", *SMALL, stdout=terminal)
    assert "\rSeeding companies 20/30\033[K" in terminal.getvalue()

    plain = seed("--reset", *SMALL)
    assert "\r" not in plain
    assert "Seeding companies 15/30\n" in plain
    assert "Seeding companies 30/30\n" in plain
    assert "Seeding companies 20/30" not in plain
