"""`manage.py seed_demo`: a believable, valid, deterministic demo book and its logins."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Q
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
from success.defaults import ACTIVITY_TYPES, CTA_STATUSES
from success.models import (
    CTA,
    Activity,
    ActivityType,
    CTAPriority,
    CTAReason,
    CTAStatus,
    CTAType,
    GradeBand,
    Measure,
    MeasureGroup,
    Playbook,
    PlaybookTask,
    Score,
    Scorecard,
    ScoreSnapshot,
    SuccessPlan,
    SuccessPlanType,
    SurveyResponse,
    Task,
    TemplateObjective,
    TemplateTask,
    UsageMetric,
    UsageValue,
)
from success.selectors.cockpit import overdue_cta_count
from success.services import plan_progress, subject_overall
from tests.factories import ActivityFactory, CompanyFactory, PlaybookFactory, UserFactory
from tests.pages import open_360

pytestmark = pytest.mark.django_db
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The tests that build their own book build the smallest one: its size does not matter to them.
SMALL = ("--companies", str(demo.MIN_COMPANIES))


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return seed(*SMALL)


def skip_the_csms_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed only the book of business: the CSM's work (timeline, CTAs, scores, usage...) is
    most of the seeding time, and the tests of the book's shape do not look at it."""
    monkeypatch.setattr(demo, "STEPS", demo.STEPS[: demo.STEPS.index(demo.seed_activities)])


@pytest.fixture
def without_the_csms_work(monkeypatch):
    skip_the_csms_work(monkeypatch)


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
            # The frame follows the company: its template names one of the record's fields.
            assert "{name}" in embed.config["url_template"]

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

    def test_partner_users_get_the_partner_c360_with_only_their_sections(self, book):
        partner_layout = Layout.objects.get(name=demo.PARTNER_C360)
        assert "partner" in partner_layout.name.lower()
        conditions = partner_layout.conditions.all()
        assert [(c.subject_field, c.operator, c.value) for c in conditions] == [
            ("viewer.kind", "is", "partner")
        ]
        kinds = [s.kind for s in partner_layout.sections.all()]
        assert kinds == [
            "summary",
            "attributes",
            "timeline",
            "cockpit",
            "success_plans",
            "scorecard",
        ]
        assert all(REGISTRY[kind].partner_visible for kind in kinds)
        partner_a = User.objects.get(username="partner-a")
        theirs = list(companies_visible_to(partner_a))
        # Enterprise accounts too: the partner layout is tried before the Executive one.
        assert {c.segment for c in theirs} >= {Company.Segment.ENTERPRISE}
        for company in theirs:
            assert layout_for(subject=company, viewer=viewer_for(partner_a)) == partner_layout
        csm = viewer_for(User.objects.get(username="csm"))
        for company in Company.objects.all():
            assert layout_for(subject=company, viewer=csm) != partner_layout, company.name
        client = Client()
        client.force_login(partner_a)
        html = open_360(client, f"/companies/{theirs[0].pk}/")
        assert "could not be loaded" not in html
        assert client.get(f"/companies/{theirs[0].pk}/").context["layout"] == partner_layout

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

    # ---------- the CSM's work ----------

    def test_activities_cover_the_past_year_with_every_default_type(self, book):
        today = timezone.localdate()
        activities = Activity.objects.select_related("activity_type", "author", "relationship")
        assert {a.activity_type.name for a in activities} == set(ACTIVITY_TYPES)
        per_company = Counter(a.company_id for a in activities)
        assert set(per_company) == set(Company.objects.values_list("pk", flat=True))
        customers = Company.objects.exclude(status=Company.Status.PROSPECT)
        assert all(10 <= per_company[c.pk] <= 25 for c in customers)
        days = [timezone.localdate(a.occurred_at) for a in activities]
        assert all(today - dt.timedelta(days=366) <= day < today for day in days)
        assert min(days) < today - dt.timedelta(days=270), "the year is covered"
        assert sum(day >= today - dt.timedelta(days=30) for day in days) > 60, "recent ones"
        assert all(
            a.relationship is None or a.relationship.company_id == a.company_id for a in activities
        )
        assert not Relationship.objects.annotate(n=Count("activities")).filter(n=0).exists()
        authors = Counter(a.author.username for a in activities)
        assert set(authors) <= {"csm", *(u for u, _, _ in demo.OTHER_CSMS)}
        assert authors.most_common(1)[0][0] == "csm"
        assert any("\n" in a.notes and "https://" in a.notes for a in activities)
        calls = [a for a in activities if a.activity_type.name in ("Call", "Meeting")]
        assert all(a.duration_minutes for a in calls)
        links = Activity.attendees.through.objects.select_related("activity", "companyperson")
        assert links.count() > len(calls)
        assert all(link.companyperson.company_id == link.activity.company_id for link in links)
        # Logged when they happened.
        assert all(a.created_at == a.occurred_at for a in activities[:50])

    def test_ctas_in_every_status_and_type_keep_the_rules(self, book):
        ctas = CTA.objects.select_related("status", "cta_type", "reason", "relationship")
        assert {c.status.name for c in ctas} == {name for name, _ in CTA_STATUSES}
        assert {c.cta_type.name for c in ctas} >= {"Risk", "Lifecycle", "Expansion", "Activity"}
        for cta in ctas:
            assert cta.is_closed == cta.status.is_closed, cta
            assert (cta.closed_at is not None) == cta.is_closed, cta
            assert (cta.closed_by_id is not None) == cta.is_closed, cta
            if cta.closed_at is not None:
                assert cta.created_at <= cta.closed_at <= timezone.now(), cta
            assert cta.reason is None or cta.reason.cta_type_id == cta.cta_type_id, cta
            assert cta.relationship is None or cta.relationship.company_id == cta.company_id
            assert (cta.cta_type.name == "Objective") == (cta.success_plan_id is not None), cta
            assert len(cta.name) <= 80
        for cta_type, reasons in demo.CTA_REASONS.items():
            assert set(reasons) <= set(
                CTAReason.objects.filter(cta_type__name=cta_type).values_list("name", flat=True)
            )
        follow_ups = ctas.filter(source_activity__isnull=False).select_related("source_activity")
        assert follow_ups.exists()
        for cta in follow_ups:
            assert cta.source_activity is not None
            assert cta.source_activity.company_id == cta.company_id
            assert cta.source_activity.relationship_id == cta.relationship_id
        assert CTA.objects.filter(priority__name="High", is_closed=False).exists()
        assert CTA.objects.filter(priority__name="Low").exists()

    def test_the_csm_has_open_ctas_overdue_due_today_later_and_snoozed(self, book):
        today = timezone.localdate()
        csm = User.objects.get(username="csm")
        mine = CTA.objects.filter(owner=csm, is_closed=False)
        assert 20 <= mine.exclude(cta_type__name="Objective").count() <= 45
        awake = mine.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        assert awake.filter(due_date__lt=today).exists()
        assert awake.filter(due_date=today).exists()
        assert awake.filter(due_date__gt=today).exists()
        assert awake.filter(due_date__isnull=True).exists()
        assert mine.filter(snoozed_until__gt=today).exists()
        assert overdue_cta_count(user=csm, today=today) == awake.filter(due_date__lt=today).count()
        # Other CSMs have their own plates.
        assert CTA.objects.filter(is_closed=False).exclude(owner=csm).exists()

    def test_playbooks_have_tasks_with_offsets_and_their_tasks_are_on_ctas(self, book):
        playbooks = Playbook.objects.prefetch_related("tasks")
        assert sorted(p.name for p in playbooks) == sorted(s.name for s in demo.PLAYBOOKS)
        for playbook in playbooks:
            offsets = [t.day_offset for t in playbook.tasks.all()]
            assert 3 <= len(offsets) <= 6 and offsets == sorted(offsets) and offsets[-1] > 0
        titles = set(PlaybookTask.objects.values_list("title", flat=True))
        applied = Task.objects.filter(title__in=titles)
        assert applied.values("cta").distinct().count() >= 10
        assert applied.filter(done=True).exists() and applied.filter(done=False).exists()
        assert not Task.objects.filter(done=True, done_at__isnull=True).exists()
        assert not Task.objects.filter(done=False, done_at__isnull=False).exists()
        # A closed-success CTA has every task done.
        assert not Task.objects.filter(cta__status__name="Closed success", done=False).exists()

    def test_a_scored_company_has_90_days_of_history_ending_today_on_its_health(self, book):
        today = timezone.localdate()
        scored = Company.objects.filter(health_score__isnull=False)
        assert scored.count() > Company.objects.count() // 2
        assert Company.objects.filter(health_score__isnull=True).exists(), "a few not scored"
        assert not ScoreSnapshot.objects.filter(
            company__health_score__isnull=True, relationship__isnull=True
        ).exists()
        for company in scored[:10]:
            days = list(
                ScoreSnapshot.objects.filter(company=company, relationship__isnull=True)
                .order_by("day")
                .values_list("day", "overall")
            )
            assert [day for day, _ in days] == [
                today - dt.timedelta(days=n) for n in range(89, -1, -1)
            ]
            assert days[-1][1] == company.health_score == subject_overall(company)
        overalls = [o for _, o in days]
        assert len(set(overalls)) > 1, "the history moves"
        relationship = Relationship.objects.filter(health_score__isnull=False).first()
        assert relationship is not None
        last = ScoreSnapshot.objects.filter(relationship=relationship).latest("day")
        assert (last.day, last.overall) == (today, relationship.health_score)
        assert ScoreSnapshot.objects.filter(relationship=relationship).count() == 90
        assert Score.objects.exclude(comment="").exists()
        assert Score.objects.filter(value__lt=50).exists() and Score.objects.filter(value__gte=75)

    def test_scorecards_for_companies_and_every_relationship_type(self, book):
        company_card = Scorecard.objects.get(relationship_type__isnull=True)
        measures = {m.name: m for m in company_card.measures.select_related("group")}
        assert {name: m.weight for name, m in measures.items()} == {
            "Adoption": 30,
            "Support": 20,
            "Sentiment": 20,
            "Engagement": 15,
            "Value realised": 15,
        }
        assert len({m.group_id for m in measures.values()}) == 2
        assert None not in {m.group_id for m in measures.values()}
        for kind in RelationshipType.objects.all():
            assert 3 <= kind.scorecard.measures.count() <= 4, kind.name
        for score in Score.objects.select_related("measure__scorecard", "relationship")[:300]:
            expected = score.relationship.relationship_type_id if score.relationship else None
            assert score.measure.scorecard.relationship_type_id == expected

    def test_success_plans_in_every_status_with_objectives_and_varied_progress(self, book):
        plans = SuccessPlan.objects.annotate(
            total=Count("objectives"),
            closed=Count("objectives", filter=Q(objectives__is_closed=True)),
        )
        assert {p.status for p in plans} == set(SuccessPlan.Status.values)
        assert 10 <= plans.count() <= 25
        assert all(p.total >= 2 for p in plans)
        assert plans.filter(relationship__isnull=False).exists()
        for plan in plans:
            if plan.status in (SuccessPlan.Status.COMPLETED, SuccessPlan.Status.CANCELLED):
                assert plan.closed == plan.total, plan
            if plan.status == SuccessPlan.Status.DRAFT:
                assert plan.closed == 0, plan
        progress = {plan_progress(p.closed, p.total) for p in plans}
        assert len(progress) >= 3
        objectives = CTA.objects.filter(success_plan__isnull=False).select_related("success_plan")
        for objective in objectives:
            assert objective.success_plan is not None
            assert objective.company_id == objective.success_plan.company_id
        assert Task.objects.filter(cta__success_plan__isnull=False).exists()

    def test_52_weeks_of_usage_for_every_company_and_the_products(self, book):
        today = timezone.localdate()
        monday = today - dt.timedelta(days=today.weekday())
        weeks = [monday - dt.timedelta(weeks=n) for n in range(51, -1, -1)]
        metrics = list(UsageMetric.objects.values_list("name", flat=True))
        assert metrics == ["Active users", "Logins", "Reports run"]
        company = Company.objects.filter(status=Company.Status.ACTIVE).first()
        for metric in metrics:
            rows = UsageValue.objects.filter(
                company=company, relationship__isnull=True, metric__name=metric
            )
            assert list(rows.order_by("week").values_list("week", flat=True)) == weeks
        per_company = UsageValue.objects.filter(relationship__isnull=True).values("company")
        counts = per_company.annotate(n=Count("id"))
        assert len(counts) == Company.objects.count()
        assert {row["n"] for row in counts} == {52 * len(metrics)}
        products = Relationship.objects.filter(relationship_type__name__in=demo.PRODUCTS)
        assert set(
            UsageValue.objects.filter(relationship__isnull=False).values_list(
                "relationship", flat=True
            )
        ) == set(products.values_list("pk", flat=True))
        trends = []
        for company in Company.objects.exclude(status=Company.Status.PROSPECT):
            users = list(
                UsageValue.objects.filter(
                    company=company, relationship__isnull=True, metric__name="Active users"
                )
                .order_by("week")
                .values_list("value", flat=True)
            )
            first, last = float(sum(users[2:10])), float(sum(users[-8:]))
            trends.append(
                "up" if last > first * 1.15 else "down" if last < first * 0.85 else "flat"
            )
        assert {"up", "down", "flat"} <= set(trends)

    def test_nps_answers_come_from_the_companys_people_over_the_past_year(self, book):
        today = timezone.localdate()
        responses = SurveyResponse.objects.select_related("relationship")
        per_company = Counter(r.company_id for r in responses)
        customers = Company.objects.exclude(status=Company.Status.PROSPECT)
        assert all(2 <= per_company[c.pk] <= 8 for c in customers)
        people = set(CompanyPerson.objects.values_list("company_id", "person_id"))
        assert all((r.company_id, r.person_id) in people for r in responses)
        assert all(0 <= r.score <= 10 for r in responses)
        assert {r.score >= 9 for r in responses} == {True, False}
        assert any(r.score <= 6 for r in responses)
        assert responses.exclude(comment="").exists() and responses.filter(comment="").exists()
        assert all(today - dt.timedelta(days=366) <= r.responded_on < today for r in responses)
        assert all(
            r.relationship is None or r.relationship.company_id == r.company_id for r in responses
        )

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


@pytest.mark.usefixtures("without_the_csms_work")
def test_a_default_layout_someone_else_made_is_left_alone():
    own = layout_default_ensure()
    own.sections.update(title="Our own")

    output = seed(*SMALL)

    assert "The default layout “Default (C360)” already existed" in output
    assert set(own.sections.values_list("title", flat=True)) == {"Our own"}
    assert Layout.objects.filter(name="Executive").exists()
    demo.demo_book_delete()
    assert list(Layout.objects.all()) == [own]


def the_csms_work() -> list[list[str]]:
    """What the CSM's work of the book is, independent of primary keys."""
    return [
        sorted(map(str, rows))
        for rows in (
            Activity.objects.values_list("company__name", "subject", "notes", "occurred_at"),
            Activity.attendees.through.objects.values_list(
                "activity__subject", "companyperson__person__email"
            ),
            CTA.objects.values_list("company__name", "name", "due_date", "status__name"),
            Task.objects.values_list("cta__name", "title", "due_date", "done"),
            ScoreSnapshot.objects.values_list("company__name", "relationship__name", "overall"),
            Score.objects.values_list("company__name", "measure__name", "value", "comment"),
            SuccessPlan.objects.values_list("company__name", "name", "status", "due_date"),
            UsageValue.objects.values_list("company__name", "metric__name", "week", "value"),
            SurveyResponse.objects.values_list("company__name", "score", "comment"),
        )
    ]


def test_the_same_seed_gives_the_same_book(monkeypatch):
    seed("--seed", "7", *SMALL)
    first, work = company_names(), the_csms_work()
    assert all(work)
    seed("--reset", "--seed", "7", *SMALL)
    assert company_names() == first
    assert the_csms_work() == work
    # The names are enough to tell another seed.
    skip_the_csms_work(monkeypatch)
    seed("--reset", "--seed", "8", *SMALL)
    assert company_names() != first


def test_deleting_the_book_removes_the_csms_work_and_keeps_the_default_lookups(seeded):
    own_user = UserFactory(username="someone", email="someone@example.com")
    own_activity = ActivityFactory(
        company=CompanyFactory(name="Our real customer", external_id="ACC-1"), author=own_user
    )
    own_playbook = PlaybookFactory(name="Our own playbook")
    defaults = [ActivityType, CTAType, CTAPriority, CTAStatus, GradeBand]
    default_counts = [model._default_manager.count() for model in defaults]
    assert all(default_counts)
    work = [CTA, Task, Score, ScoreSnapshot, SuccessPlan, UsageValue, SurveyResponse]
    assert all(model._default_manager.exists() for model in work)

    demo.demo_book_delete()

    lookups = [CTAReason, PlaybookTask, Scorecard, Measure, MeasureGroup, SuccessPlanType]
    lookups += [TemplateObjective, TemplateTask, UsageMetric]
    for model in work + lookups:
        assert not model._default_manager.exists(), model.__name__
    assert list(Activity.objects.all()) == [own_activity]
    assert list(Playbook.objects.all()) == [own_playbook]
    assert [model._default_manager.count() for model in defaults] == default_counts


@pytest.mark.usefixtures("without_the_csms_work")
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
    work = (Activity, CTA, Playbook, Scorecard, ScoreSnapshot, SuccessPlan, UsageValue)
    for model in (Company, Relationship, Person, Partner, RelationshipType, User, *work):
        assert not model.objects.exists(), model.__name__


@pytest.mark.usefixtures("without_the_csms_work")
def test_a_failing_reset_keeps_the_old_book(seeded, monkeypatch):
    before = set(Company.objects.values_list("pk", flat=True))

    def broken_step(book: demo.DemoBook) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setattr(demo, "STEPS", [*demo.STEPS, broken_step])
    with pytest.raises(RuntimeError):
        seed("--reset", *SMALL)
    assert set(Company.objects.values_list("pk", flat=True)) == before


@pytest.mark.usefixtures("without_the_csms_work")
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


@pytest.mark.usefixtures("without_the_csms_work")
def test_progress_is_one_updating_line_on_a_terminal_and_plain_lines_otherwise():
    terminal = Terminal()
    call_command("seed_demo", "--force", *SMALL, stdout=terminal)
    assert "\rSeeding companies 20/30\033[K" in terminal.getvalue()

    plain = seed("--reset", *SMALL)
    assert "\r" not in plain
    assert "Seeding companies 15/30\n" in plain
    assert "Seeding companies 30/30\n" in plain
    assert "Seeding companies 20/30" not in plain
