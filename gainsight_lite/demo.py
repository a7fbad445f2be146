"""The demo book of business that `manage.py seed_demo` loads.

The book is built by a sequence of small steps (`STEPS`), each a function that adds one part
of the book and keeps what later steps need on the `DemoBook` it is given. A later part of
the app (layouts, timeline, CTAs, scorecards...) adds its own step at the end of `STEPS`.

Records with rules go through the services (`company_create`, `relationship_create`, ...);
plain rows (people and their links) are bulk-created. Every random choice comes from the
book's seeded generators, so one seed always gives the same book (dates are relative to
the day it is seeded).

What marks the demo book, so `--reset` deletes it and nothing else: company external IDs
start with `DEMO-`, demo logins have an email at `DEMO_EMAIL_DOMAIN`, the partners and
relationship types have the names below. The CSM's work (activities, CTAs, scores, plans,
usage, NPS) goes with the companies; the lookups the demo added for it (CTA reasons,
playbooks, scorecards, plan types, usage metrics) have the names below and go when nothing
else uses them. The lookups the migration made (activity types, CTA types, priorities,
statuses, grade bands) stay.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import factory.random
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from faker import Faker

from companies.models import MAX_LEVEL, Company, CompanyPerson, Person
from companies.services import company_create
from layouts.models import Layout, LayoutCondition, Section
from layouts.sections import REGISTRY
from layouts.services import layout_default_ensure
from partners.models import Partner
from partners.roles import CSM, READ_ONLY
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)
from relationships.services import relationship_create
from success.defaults import ACTIVITY_TYPES
from success.models import (
    CTA,
    Activity,
    ActivityType,
    CTAPriority,
    CTAReason,
    CTAStatus,
    CTAType,
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
from success.services import (
    cta_create,
    cta_set_status,
    cta_update,
    overall_score,
    playbook_apply,
    snapshot_take,
    success_plan_create,
)
from tests.factories import (
    CompanyPersonFactory,
    PartnerFactory,
    PartnerUserFactory,
    PersonFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    UserFactory,
)

DEFAULT_SEED = 2026
DEFAULT_COMPANIES = 60
# Below this the book has too few hierarchies for both partners and a five-level group.
MIN_COMPANIES = 30
EXTERNAL_ID_PREFIX = "DEMO-"
DEMO_EMAIL_DOMAIN = "demo.gainsight-lite.example"
PARTNER_A = "Partner A"
PARTNER_B = "Partner B"

Kind = RelationshipTypeField.Kind
Role = CompanyPerson.Role
Sentiment = CompanyPerson.Sentiment

# ---------------------------------------------------------------------------------------
# Logins and internal users
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    first_name: str
    last_name: str
    groups: tuple[str, ...] = ()
    partner: str | None = None
    superuser: bool = False


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "admin", "Admin (superuser, Django admin)", "Alex", "Admin", superuser=True),
    DemoLogin("csm", "csm", "CSM", "Casey", "Morgan", groups=(CSM,)),
    DemoLogin("viewer", "viewer", "Read-only", "Val", "Reader", groups=(READ_ONLY,)),
    DemoLogin(
        "partner-a",
        "partner-a",
        "Partner A user (companies and relationships)",
        "Pat",
        "Anders",
        partner=PARTNER_A,
    ),
    DemoLogin(
        "partner-b",
        "partner-b",
        "Partner B user (companies only)",
        "Robin",
        "Berg",
        partner=PARTNER_B,
    ),
)

# Other CSMs who own part of the book; they have no password (they are not demo logins).
OTHER_CSMS: tuple[tuple[str, str, str], ...] = (
    ("maria.lopez", "Maria", "Lopez"),
    ("james.okafor", "James", "Okafor"),
    ("sofia.lindqvist", "Sofia", "Lindqvist"),
)

# ---------------------------------------------------------------------------------------
# Relationship types and their fields
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str
    required: bool = False
    shown_in_lists: bool = False
    choices: tuple[str, ...] = ()
    help_text: str = ""


ANALYTICS_CLOUD = "Analytics Cloud"
DATA_PLATFORM = "Data Platform"
IMPLEMENTATION = "Implementation Project"
BUSINESS_UNIT = "Business Unit"

EDITIONS = ("Standard", "Professional", "Enterprise")
PLANS = ("Starter", "Growth", "Scale")
HOSTING_REGIONS = ("EU (Frankfurt)", "US (Virginia)", "APAC (Singapore)")
PHASES = ("Discovery", "Design", "Build", "Test", "Go-live", "Hypercare")
BU_REGIONS = ("EMEA", "North America", "APAC", "LATAM")

RELATIONSHIP_TYPES: dict[str, tuple[str, tuple[FieldSpec, ...]]] = {
    ANALYTICS_CLOUD: (
        "Our analytics product: dashboards, reports and alerts, sold per seat.",
        (
            FieldSpec("edition", "Edition", Kind.CHOICE, True, True, EDITIONS),
            FieldSpec("seats", "Licensed seats", Kind.NUMBER, True, True),
            FieldSpec(
                "adoption",
                "Seat adoption",
                Kind.PERCENT,
                shown_in_lists=True,
                help_text="Active users in the last 30 days as a share of licensed seats.",
            ),
            FieldSpec("go_live", "Go-live date", Kind.DATE),
            FieldSpec("sso_enabled", "SSO enabled", Kind.BOOLEAN),
            FieldSpec("admin_console", "Admin console", Kind.URL),
        ),
    ),
    DATA_PLATFORM: (
        "Our managed data platform, sold on a monthly commitment.",
        (
            FieldSpec("plan", "Plan", Kind.CHOICE, True, True, PLANS),
            FieldSpec(
                "hosting_region", "Hosting region", Kind.CHOICE, True, False, HOSTING_REGIONS
            ),
            FieldSpec("monthly_commit", "Monthly commitment", Kind.CURRENCY, shown_in_lists=True),
            FieldSpec("storage_tb", "Storage (TB)", Kind.NUMBER),
            FieldSpec(
                "hipaa_workload",
                "HIPAA workload",
                Kind.BOOLEAN,
                help_text="Health data is stored: the customer signed a BAA.",
            ),
            FieldSpec("support_contact", "Support contact", Kind.EMAIL),
            FieldSpec("architecture_notes", "Architecture notes", Kind.LONG_TEXT),
        ),
    ),
    IMPLEMENTATION: (
        "A paid implementation or migration project, run by us or a partner.",
        (
            FieldSpec("project_code", "Project code", Kind.TEXT, True, True),
            FieldSpec("phase", "Phase", Kind.CHOICE, True, True, PHASES),
            FieldSpec("kickoff", "Kickoff", Kind.DATE, required=True),
            FieldSpec("target_go_live", "Target go-live", Kind.DATE),
            FieldSpec("budget", "Budget", Kind.CURRENCY),
            FieldSpec("percent_complete", "Complete", Kind.PERCENT, shown_in_lists=True),
            FieldSpec("status_report", "Status report", Kind.URL),
            FieldSpec("scope", "Scope", Kind.LONG_TEXT),
        ),
    ),
    BUSINESS_UNIT: (
        "A business unit of the customer that buys and uses our products on its own budget.",
        (
            FieldSpec("cost_center", "Cost center", Kind.TEXT, True, True),
            FieldSpec("headcount", "Headcount", Kind.NUMBER, shown_in_lists=True),
            FieldSpec("region", "Region", Kind.CHOICE, choices=BU_REGIONS),
            FieldSpec("executive_contact", "Executive contact", Kind.EMAIL),
            FieldSpec("goals", "Business goals", Kind.LONG_TEXT),
        ),
    ),
}

# ---------------------------------------------------------------------------------------
# Names and places
# ---------------------------------------------------------------------------------------

INDUSTRIES: dict[str, str] = {
    # industry -> the word a group in it puts in its name
    "Software": "Systems",
    "Manufacturing": "Industries",
    "Healthcare": "Health",
    "Retail": "Retail",
    "Financial Services": "Financial",
    "Logistics": "Logistics",
    "Energy": "Energy",
    "Telecommunications": "Telecom",
    "Education": "Learning",
    "Media": "Media",
}

REGIONS: dict[str, tuple[str, ...]] = {
    "Europe": ("Germany", "France", "Netherlands", "Spain", "Italy"),
    "Americas": ("United States", "Canada", "Brazil", "Mexico"),
    "Asia Pacific": ("Japan", "Australia", "Singapore", "India"),
    "Nordics": ("Sweden", "Norway", "Denmark", "Finland"),
}
CITIES: dict[str, tuple[str, ...]] = {
    "Germany": ("Munich", "Hamburg", "Frankfurt"),
    "France": ("Paris", "Lyon", "Toulouse"),
    "Netherlands": ("Amsterdam", "Rotterdam", "Eindhoven"),
    "Spain": ("Madrid", "Barcelona", "Valencia"),
    "Italy": ("Milan", "Turin", "Bologna"),
    "United States": ("Chicago", "Austin", "Atlanta"),
    "Canada": ("Toronto", "Montreal", "Calgary"),
    "Brazil": ("São Paulo", "Curitiba", "Recife"),
    "Mexico": ("Monterrey", "Guadalajara", "Querétaro"),
    "Japan": ("Osaka", "Nagoya", "Fukuoka"),
    "Australia": ("Sydney", "Melbourne", "Brisbane"),
    "Singapore": ("Jurong", "Changi", "Tuas"),
    "India": ("Bengaluru", "Pune", "Chennai"),
    "Sweden": ("Gothenburg", "Malmö", "Uppsala"),
    "Norway": ("Bergen", "Trondheim", "Stavanger"),
    "Denmark": ("Aarhus", "Odense", "Aalborg"),
    "Finland": ("Tampere", "Espoo", "Oulu"),
}
SITES = ("Plant", "Distribution Center", "Labs", "Service Center")
# The sponsor of a country, city or site company is its local head, not a C-level officer.
LOCAL_SPONSOR_TITLES = ("Managing Director", "General Manager", "Site Director", "Country Manager")
BU_NAMES = (
    "Finance",
    "Marketing",
    "Supply Chain",
    "Human Resources",
    "Sales Operations",
    "Customer Service",
    "Research & Development",
)
PROJECT_NAMES = {
    ANALYTICS_CLOUD: ("Analytics Cloud rollout", "Executive dashboards", "SSO and provisioning"),
    DATA_PLATFORM: ("Data Platform migration", "Warehouse consolidation", "Real-time ingestion"),
}
TITLES: dict[str, tuple[str, ...]] = {
    Role.EXECUTIVE_SPONSOR: (
        "Chief Operating Officer",
        "Chief Information Officer",
        "Chief Financial Officer",
        "Chief Data Officer",
        "VP of Operations",
    ),
    Role.DECISION_MAKER: (
        "Director of IT",
        "Head of Analytics",
        "Director of Finance Systems",
        "VP of Engineering",
        "Head of Procurement",
    ),
    Role.CHAMPION: (
        "Analytics Lead",
        "BI Manager",
        "Data Platform Lead",
        "Operations Manager",
        "Solutions Architect",
    ),
    Role.USER: (
        "Data Analyst",
        "Financial Analyst",
        "Business Analyst",
        "Data Engineer",
        "Reporting Specialist",
        "Operations Analyst",
    ),
}

# ---------------------------------------------------------------------------------------
# The book being built
# ---------------------------------------------------------------------------------------

Progress = Callable[[str, int, int], None]


def no_progress(label: str, done: int, total: int) -> None:
    """The progress callback that says nothing."""


@dataclass
class CompanySpec:
    """A company of the book before it is written: its place in the hierarchy and its name."""

    name: str
    level: int
    parent: CompanySpec | None
    group: int  # index of its hierarchy in the book
    place: str = ""  # the region, country or city its children are named after
    domain: str = ""  # email domain of its people (shared by a whole group)
    children: list[CompanySpec] = field(default_factory=list)
    company: Company | None = None


@dataclass
class DemoBook:
    """What the steps share: the seeded generators and the records made so far.

    Company instances kept here are not refreshed when later inserts move the tree:
    read tree fields (lft, rght, tree_id) from the database, not from them.
    """

    seed: int
    size: int
    progress: Progress
    rng: random.Random
    fake: Faker
    today: dt.date
    users: dict[str, User] = field(default_factory=dict)
    csms: list[User] = field(default_factory=list)
    partners: dict[str, Partner] = field(default_factory=dict)
    types: dict[str, RelationshipType] = field(default_factory=dict)
    specs: list[CompanySpec] = field(default_factory=list)
    groups: list[list[CompanySpec]] = field(default_factory=list)
    group_industry: dict[int, str] = field(default_factory=dict)  # by group index
    companies: list[Company] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    people: dict[int, list[CompanyPerson]] = field(default_factory=dict)  # by company pk
    activities: dict[int, list[Activity]] = field(default_factory=dict)  # by company pk
    notes: list[str] = field(default_factory=list)

    def money(self, low: int, high: int, step: int = 500) -> Decimal:
        return Decimal(self.rng.randrange(low, high + 1, step))


def _mrr(arr: Decimal) -> Decimal:
    return (arr / 12).quantize(Decimal("0.01"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------


def seed_partners(book: DemoBook) -> None:
    """Partner A runs companies and relationships, Partner B companies only."""
    scopes = {
        PARTNER_A: (Partner.DataScope.COMPANIES_AND_RELATIONSHIPS, "EMEA"),
        PARTNER_B: (Partner.DataScope.COMPANIES_ONLY, "NA"),
    }
    for name, (scope, region) in scopes.items():
        book.partners[name] = PartnerFactory(
            name=name,
            data_scope=scope,
            region=region,
            contact_email=f"success@{_slug(name)}.example",
        )


def seed_users(book: DemoBook) -> None:
    """The demo logins and the other CSMs; an existing user of the same name is left alone."""
    new_logins: list[tuple[User, str]] = []
    for login in DEMO_LOGINS:
        existing = User.objects.filter(username=login.username).first()
        if existing is not None:
            book.users[login.username] = existing
            book.notes.append(
                f"The user “{login.username}” already existed: its password was left unchanged."
            )
            continue
        user = UserFactory(
            username=login.username,
            first_name=login.first_name,
            last_name=login.last_name,
            email=f"{login.username}@{DEMO_EMAIL_DOMAIN}",
            # Hashed once below: the factory would otherwise hash a throwaway password first.
            password=None,
            is_staff=login.superuser,
            is_superuser=login.superuser,
            groups=list(login.groups),
        )
        new_logins.append((user, login.password))
        if login.partner is not None:
            PartnerUserFactory(partner=book.partners[login.partner], user=user)
        book.users[login.username] = user
    # The short demo passwords skip the validators on purpose: they are demo only. Hashing is
    # most of the seeding time and hashlib releases the GIL, so the hashes run side by side.
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda pair: pair[0].set_password(pair[1]), new_logins))
    User.objects.bulk_update([user for user, _ in new_logins], ["password"])
    book.csms = [book.users["csm"]]
    for username, first_name, last_name in OTHER_CSMS:
        user = UserFactory(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            password=None,
            groups=[CSM],
        )
        book.users[username] = user
        book.csms.append(user)


def seed_relationship_types(book: DemoBook) -> None:
    """Two products, a project and a business unit, each with its own typed fields."""
    for order, (name, (description, fields)) in enumerate(RELATIONSHIP_TYPES.items()):
        kind = RelationshipTypeFactory(name=name, description=description, order=order)
        existing = set(kind.fields.values_list("key", flat=True))
        RelationshipTypeField.objects.bulk_create(
            [
                RelationshipTypeFieldFactory.build(
                    relationship_type=kind,
                    key=spec.key,
                    label=spec.label,
                    kind=spec.kind,
                    required=spec.required,
                    shown_in_lists=spec.shown_in_lists,
                    choices=list(spec.choices),
                    help_text=spec.help_text,
                    order=position,
                )
                for position, spec in enumerate(fields)
                if spec.key not in existing
            ]
        )
    # Prefetched once: every relationship_create checks its attributes against these fields.
    book.types = {
        kind.name: kind
        for kind in RelationshipType.objects.filter(name__in=RELATIONSHIP_TYPES).prefetch_related(
            "fields"
        )
    }


def plan_hierarchies(book: DemoBook) -> None:
    """Shape the book: a few groups five levels deep, smaller groups, and single companies."""
    rng = book.rng
    # Demo names never clash with companies already there.
    used_names = set(Company.objects.values_list("name", flat=True))
    brands: set[str] = set()
    remaining = book.size

    def new_group(depth: int, size: int) -> None:
        industry = rng.choice(list(INDUSTRIES))
        while True:
            brand = book.fake.last_name()
            name = f"{brand} {INDUSTRIES[industry]}"
            if brand not in brands and name not in used_names:
                break
        brands.add(brand)
        index = len(book.groups)
        root = CompanySpec(name=name, level=0, parent=None, group=index, domain=_slug(name))
        used_names.add(name)
        nodes = [root]
        parent = root
        for _ in range(depth - 1):  # the spine that makes the group `depth` levels deep
            parent = _child_spec(book, parent, used_names)
            nodes.append(parent)
        while len(nodes) < size:
            candidates = [n for n in nodes if n.level < depth - 1 and _child_places(n, used_names)]
            if not candidates:
                break
            nodes.append(_child_spec(book, rng.choice(candidates), used_names))
        book.groups.append(nodes)
        book.specs.extend(nodes)
        book.group_industry[index] = industry

    deep_groups = max(2, book.size // 40)
    for _ in range(deep_groups):
        size = min(rng.randint(6, 9), remaining)
        new_group(MAX_LEVEL + 1, size)
        remaining = book.size - len(book.specs)
    # Room for at least two smaller groups: one for each partner.
    singles = min(round(book.size * 0.3), remaining - 4)
    while remaining - singles >= 2:
        budget = remaining - singles
        size = rng.randint(2, 6)
        if len(book.groups) == deep_groups:
            size = min(size, budget - 2)  # the first leaves room for a second
        size = min(size, budget)
        if budget - size == 1:
            size += 1
        new_group(min(size, rng.randint(2, 4)), size)
        remaining = book.size - len(book.specs)
    while len(book.specs) < book.size:
        while True:
            name = book.fake.company() if rng.random() < 0.6 else _single_name(book)
            if name not in used_names:
                break
        used_names.add(name)
        index = len(book.groups)
        spec = CompanySpec(name=name, level=0, parent=None, group=index, domain=_slug(name))
        book.groups.append([spec])
        book.specs.append(spec)
        book.group_industry[index] = rng.choice(list(INDUSTRIES))
    # Written group by group in the order of their top company's name: MPTT keeps root
    # companies in name order, so each new tree is appended instead of shifting the others.
    book.specs = [spec for group in sorted(book.groups, key=lambda g: g[0].name) for spec in group]


def _single_name(book: DemoBook) -> str:
    word = book.rng.choice(["Partners", "Labs", "Group", "Works", "Solutions", "Co."])
    return f"{book.fake.last_name()} {word}"


def _child_places(parent: CompanySpec, used_names: set[str]) -> list[str]:
    """Where a new child of `parent` may be: a region, country, city or site not taken."""
    taken = {child.place for child in parent.children}
    if parent.level == 0:
        options: tuple[str, ...] = tuple(REGIONS)
    elif parent.level == 1:
        options = REGIONS[parent.place]
    elif parent.level == 2:
        options = CITIES[parent.place]
    else:
        options = SITES
    return [
        place
        for place in options
        if place not in taken and _child_name(parent, place) not in used_names
    ]


def _child_name(parent: CompanySpec, place: str) -> str:
    root = parent
    while root.parent is not None:
        root = root.parent
    if parent.level == 3:  # a site in the parent's city: "Harper Health Munich Plant"
        return f"{parent.name} {place}"
    return f"{root.name} {place}"


def _child_spec(book: DemoBook, parent: CompanySpec, used_names: set[str]) -> CompanySpec:
    place = book.rng.choice(_child_places(parent, used_names))
    spec = CompanySpec(
        name=_child_name(parent, place),
        level=parent.level + 1,
        parent=parent,
        group=parent.group,
        place=place,
        domain=parent.domain,
    )
    parent.children.append(spec)
    used_names.add(spec.name)
    return spec


def seed_companies(book: DemoBook) -> None:
    """Write the planned companies, parents first, with revenue, dates, CSM and partner."""
    rng, today = book.rng, book.today
    managers = _partner_of_groups(book)
    group_csm: dict[int, User] = {}
    total = len(book.specs)
    for number, spec in enumerate(book.specs, start=1):
        single = len(book.groups[spec.group]) == 1
        if spec.group not in group_csm:
            # The `csm` login owns about a third of the book, the other CSMs the rest.
            group_csm[spec.group] = book.csms[0] if rng.random() < 0.35 else rng.choice(book.csms)
        csm = group_csm[spec.group]
        if spec.level >= 2 and rng.random() < 0.25:
            csm = rng.choice(book.csms)  # a regional CSM looks after part of a group
        if single:
            segment = rng.choices(list(Company.Segment), weights=[2, 4, 4])[0]
            status = rng.choices(list(Company.Status), weights=[70, 14, 8, 8])[0]
        else:
            segment = Company.Segment.ENTERPRISE if spec.level <= 1 else Company.Segment.MID_MARKET
            healthy = rng.random() < 0.82
            status = Company.Status.ACTIVE if healthy else Company.Status.AT_RISK
        fields: dict[str, Any] = {
            "name": spec.name,
            "parent": spec.parent.company if spec.parent else None,
            "external_id": f"{EXTERNAL_ID_PREFIX}{number:04d}",
            "industry": book.group_industry[spec.group],
            "segment": segment,
            "status": status,
            "csm": csm,
            "managed_by": managers.get(spec.group),
        }
        if status == Company.Status.PROSPECT:
            fields["stage"] = Company.Stage.ONBOARDING
        else:
            low, high = {
                Company.Segment.ENTERPRISE: (120_000, 600_000),
                Company.Segment.MID_MARKET: (30_000, 120_000),
                Company.Segment.SMB: (6_000, 30_000),
            }[segment]
            # Renewals spread over the coming year; about one in ten is already overdue.
            renewal = today + dt.timedelta(days=rng.randint(-45, 365))
            if status == Company.Status.CHURNED:
                renewal = today - dt.timedelta(days=rng.randint(20, 200))
            contract = renewal - dt.timedelta(days=365 * rng.randint(1, 4))
            if contract > today - dt.timedelta(days=30):
                contract -= dt.timedelta(days=365)
            arr = Decimal(0) if status == Company.Status.CHURNED else book.money(low, high)
            fields.update(
                arr=arr,
                mrr=_mrr(arr),
                renewal_date=renewal,
                original_contract_date=contract,
                stage=_stage(book, renewal, contract),
            )
        spec.company = company_create(**fields)
        book.companies.append(spec.company)
        book.progress("Seeding companies", number, total)


def _stage(book: DemoBook, renewal: dt.date, contract: dt.date) -> str:
    if (renewal - book.today).days <= 90:
        return Company.Stage.RENEWAL
    if (book.today - contract).days < 180:
        return Company.Stage.ONBOARDING
    return book.rng.choice([Company.Stage.ADOPTION, Company.Stage.EXPANSION])


def _partner_of_groups(book: DemoBook) -> dict[int, Partner]:
    """Which whole hierarchies each partner runs.

    Partner A: the second five-level group and every fourth smaller group; Partner B: other
    smaller groups. The first five-level group and the single companies stay in-house.
    """
    deep = [i for i, g in enumerate(book.groups) if max(s.level for s in g) == MAX_LEVEL]
    smaller = [i for i, g in enumerate(book.groups) if len(g) > 1 and i not in deep]
    managers = {deep[1]: book.partners[PARTNER_A]}
    for position, index in enumerate(smaller):
        if position % 4 == 0:
            managers[index] = book.partners[PARTNER_A]
        elif position % 4 == 1:
            managers[index] = book.partners[PARTNER_B]
    return managers


def seed_relationships(book: DemoBook) -> None:
    """Products, business units and projects for every customer, with valid attributes.

    A company's ARR is split over its product and business-unit relationships, so the
    relationships add up to the company; projects carry a budget, not ARR.
    """
    specs: list[tuple[Company, list[dict[str, Any]]]] = []
    for company in book.companies:
        if company.status != Company.Status.PROSPECT:
            specs.append((company, _relationships_of(book, company)))
    # Partner A also runs some projects and platforms of companies no partner manages.
    unmanaged = [
        rel
        for company, rels in specs
        if company.managed_by_id is None
        for rel in rels
        if rel["relationship_type"].name in (IMPLEMENTATION, DATA_PLATFORM)
    ]
    unmanaged.sort(key=lambda rel: rel["relationship_type"].name != IMPLEMENTATION)
    for rel in unmanaged[: max(3, len(unmanaged) // 4)]:
        rel["managed_by"] = book.partners[PARTNER_A]
    total = sum(len(rels) for _, rels in specs)
    done = 0
    for _company, rels in specs:
        for rel in rels:
            book.relationships.append(relationship_create(**rel))
            done += 1
            book.progress("Seeding relationships", done, total)


def _relationships_of(book: DemoBook, company: Company) -> list[dict[str, Any]]:
    rng, today = book.rng, book.today
    assert company.renewal_date is not None and company.original_contract_date is not None
    products = [t for t in (ANALYTICS_CLOUD, DATA_PLATFORM) if rng.random() < 0.6]
    if not products:
        products = [rng.choice((ANALYTICS_CLOUD, DATA_PLATFORM))]
    units: list[str] = []
    if company.segment == Company.Segment.ENTERPRISE:
        units = rng.sample(BU_NAMES, rng.randint(1, 2))
    elif company.segment == Company.Segment.MID_MARKET and rng.random() < 0.3:
        units = rng.sample(BU_NAMES, 1)
    revenue = [(t, t) for t in products] + [(BUSINESS_UNIT, name) for name in units]
    weights = [1.0 if kind != BUSINESS_UNIT else 0.5 for kind, _ in revenue]
    shares = _split(company.arr, weights)
    churned = company.status == Company.Status.CHURNED
    at_risk = rng.randrange(len(revenue)) if company.status == Company.Status.AT_RISK else -1
    rels: list[dict[str, Any]] = []
    for position, ((kind, name), arr) in enumerate(zip(revenue, shares, strict=True)):
        start = company.original_contract_date + dt.timedelta(days=rng.randint(0, 120))
        start = min(start, today - dt.timedelta(days=10))
        renewal = company.renewal_date
        if position > 0 and not churned:
            # The company renews on its earliest relationship's date; the others come later.
            renewal += dt.timedelta(days=rng.randint(0, 150))
        status = Relationship.Status.ACTIVE
        if churned:
            status = Relationship.Status.CHURNED
        elif position == at_risk:
            status = Relationship.Status.AT_RISK
        rels.append(
            {
                "company": company,
                "relationship_type": book.types[kind],
                "name": name,
                "status": status,
                "stage": company.stage,
                "csm": company.csm,
                "arr": arr,
                "mrr": _mrr(arr),
                "start_date": start,
                "renewal_date": renewal,
                "attributes": _attributes(book, company, kind, arr, start),
            }
        )
    if not churned and (company.stage == Company.Stage.ONBOARDING or rng.random() < 0.2):
        product = products[0]
        kickoff = today - dt.timedelta(days=rng.randint(10, 150))
        rels.append(
            {
                "company": company,
                "relationship_type": book.types[IMPLEMENTATION],
                "name": rng.choice(PROJECT_NAMES[product]),
                "status": rng.choices(
                    [Relationship.Status.ACTIVE, Relationship.Status.ON_HOLD], weights=[85, 15]
                )[0],
                "stage": Company.Stage.ONBOARDING,
                "csm": company.csm,
                "start_date": kickoff,
                "attributes": _attributes(book, company, IMPLEMENTATION, Decimal(0), kickoff),
            }
        )
    return rels


def _split(total: Decimal, weights: list[float]) -> list[Decimal]:
    """`total` in whole units, shared by `weights`; the last share takes the rounding."""
    shares = [Decimal(round(float(total) * w / sum(weights))) for w in weights[:-1]]
    return [*shares, total - sum(shares, Decimal(0))]


def _attributes(
    book: DemoBook, company: Company, kind: str, arr: Decimal, start: dt.date
) -> dict[str, Any]:
    """Values for the type's fields, as a CSM would type them; optional ones sometimes empty."""
    rng, fake, today = book.rng, book.fake, book.today
    domain = f"{_slug(company.name)}.example"
    values: dict[str, Any]
    if kind == ANALYTICS_CLOUD:
        edition = {
            Company.Segment.ENTERPRISE: "Enterprise",
            Company.Segment.MID_MARKET: "Professional",
        }.get(company.segment, "Standard")
        values = {
            "edition": edition,
            "seats": max(5, int(arr / 600)),
            "adoption": round(rng.uniform(22, 97), rng.choice([0, 1])),
            "go_live": start + dt.timedelta(days=rng.randint(30, 90)),
            "sso_enabled": company.segment == Company.Segment.ENTERPRISE or rng.random() < 0.3,
            "admin_console": f"https://{_slug(company.name)}.analytics-cloud.example/admin",
        }
    elif kind == DATA_PLATFORM:
        values = {
            "plan": {Company.Segment.ENTERPRISE: "Scale", Company.Segment.MID_MARKET: "Growth"}.get(
                company.segment, "Starter"
            ),
            "hosting_region": rng.choice(HOSTING_REGIONS),
            "monthly_commit": _mrr(arr),
            "storage_tb": rng.randint(1, 250),
            "hipaa_workload": company.industry == "Healthcare",
            "support_contact": f"dataops@{domain}",
            "architecture_notes": fake.paragraph(nb_sentences=3) if rng.random() < 0.5 else "",
        }
    elif kind == IMPLEMENTATION:
        phase_index = min(len(PHASES) - 1, (today - start).days // 25)
        values = {
            "project_code": f"IMP-{start.year}-{rng.randint(100, 999)}",
            "phase": PHASES[phase_index],
            "kickoff": start,
            "target_go_live": start + dt.timedelta(days=rng.choice([90, 120, 150])),
            "budget": book.money(15_000, 120_000, 2_500),
            "percent_complete": min(100, phase_index * 18 + rng.randint(0, 10)),
            "status_report": f"https://projects.gainsight-lite.example/{_slug(company.name)}",
            "scope": fake.paragraph(nb_sentences=2),
        }
    else:
        values = {
            "cost_center": f"CC-{rng.randint(1000, 9999)}",
            "headcount": rng.randint(12, 900),
            "region": rng.choice(BU_REGIONS),
            "executive_contact": f"{_slug(fake.last_name())}@{domain}"
            if rng.random() < 0.7
            else "",
            "goals": fake.sentence(nb_words=12),
        }
    required = {s.key for s in RELATIONSHIP_TYPES[kind][1] if s.required}
    for key, value in values.items():
        if key not in required and rng.random() < 0.1:
            values[key] = ""  # an optional field nobody filled in yet
        elif isinstance(value, dt.date | Decimal):
            # Typed as a form would send them; clean_attributes stores the clean form.
            values[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return values


def seed_people(book: DemoBook) -> None:
    """People at every company: a sponsor, a decision maker, a champion and users.

    Managers are set layer by layer (sponsor, then decision maker, champion, users), so each
    layer is one bulk insert. A group's executive sponsor is also the sponsor of its
    first-level subsidiaries: one Person, several CompanyPerson rows.
    """
    rng, fake = book.rng, book.fake
    emails = set(Person.objects.values_list("email", flat=True))
    people: list[Person] = []
    rows: list[tuple[Company, Person, str, str, str]] = []  # company, person, role, title, mood
    sponsor_of_root: dict[int, tuple[Person, str]] = {}

    def new_person(domain: str) -> Person:
        while True:
            first, last = fake.first_name(), fake.last_name()
            local = f"{_slug(first)}.{_slug(last)}".replace("-", "")
            email = f"{local}@{domain}.example"
            if email not in emails:
                break
        emails.add(email)
        person = PersonFactory.build(first_name=first, last_name=last, email=email)
        people.append(person)
        return person

    for spec in book.specs:
        company = spec.company
        assert company is not None
        size = {
            Company.Segment.ENTERPRISE: rng.randint(4, 7),
            Company.Segment.MID_MARKET: rng.randint(3, 5),
            Company.Segment.SMB: rng.randint(2, 3),
        }.get(company.segment, 2)
        if company.status == Company.Status.PROSPECT:
            size = 2
        unhappy = company.status in (Company.Status.AT_RISK, Company.Status.CHURNED)
        roles = [Role.EXECUTIVE_SPONSOR, Role.CHAMPION]
        if size >= 3:
            roles.insert(1, Role.DECISION_MAKER)
        roles += [Role.USER] * (size - len(roles))
        for role in roles:
            if role == Role.EXECUTIVE_SPONSOR and spec.level == 1:
                assert spec.parent is not None and spec.parent.company is not None
                person, title = sponsor_of_root[spec.parent.company.pk]
            else:
                titles = TITLES[role]
                if role == Role.EXECUTIVE_SPONSOR and spec.level >= 2:
                    titles = LOCAL_SPONSOR_TITLES
                person, title = new_person(spec.domain), rng.choice(titles)
            if role == Role.EXECUTIVE_SPONSOR and spec.level == 0:
                sponsor_of_root[company.pk] = (person, title)
            if unhappy and role in (Role.CHAMPION, Role.USER):
                sentiment = rng.choices(list(Sentiment), weights=[1, 3, 4, 1])[0]
            else:
                sentiment = rng.choices(list(Sentiment), weights=[5, 3, 1, 2])[0]
            rows.append((company, person, role, title, sentiment))
    Person.objects.bulk_create(people)

    layers = [Role.EXECUTIVE_SPONSOR, Role.DECISION_MAKER, Role.CHAMPION, Role.USER]
    above: dict[int, CompanyPerson] = {}  # company pk -> the person the next layer reports to
    total, done = len(rows), 0
    for role in layers:
        layer = [
            CompanyPersonFactory.build(
                company=company,
                person=person,
                role=role,
                title=title,
                sentiment=sentiment,
                is_sponsor=role == Role.EXECUTIVE_SPONSOR
                or (role == Role.DECISION_MAKER and rng.random() < 0.3),
                manager=above.get(company.pk),
            )
            for company, person, row_role, title, sentiment in rows
            if row_role == role
        ]
        CompanyPerson.objects.bulk_create(layer)
        for company_person in layer:
            book.people.setdefault(company_person.company_id, []).append(company_person)
            if role != Role.USER:
                above[company_person.company_id] = company_person
        done += len(layer)
        book.progress("Seeding people", done, total)


def seed_relationship_people(book: DemoBook) -> None:
    """Put one to three of the company's people on each relationship, in a matching role."""
    role_on_relationship: dict[str, str] = {
        Role.EXECUTIVE_SPONSOR: RelationshipPerson.Role.EXECUTIVE_SPONSOR,
        Role.DECISION_MAKER: RelationshipPerson.Role.DECISION_MAKER,
        Role.CHAMPION: RelationshipPerson.Role.CHAMPION,
    }
    links: list[RelationshipPerson] = []
    for relationship in book.relationships:
        people = book.people.get(relationship.company_id, [])
        champions = [p for p in people if p.role == Role.CHAMPION]
        others = [p for p in people if p.role != Role.CHAMPION]
        chosen = champions[:1] + book.rng.sample(others, min(len(others), book.rng.randint(0, 2)))
        for company_person in chosen:
            role = role_on_relationship.get(company_person.role)
            if role is None:
                role = book.rng.choice(
                    [RelationshipPerson.Role.USER, RelationshipPerson.Role.ADMIN]
                )
            links.append(
                RelationshipPersonFactory.build(
                    relationship=relationship, company_person=company_person, role=role
                )
            )
    RelationshipPerson.objects.bulk_create(links)
    book.progress("Linking people to relationships", len(links), len(links))


# ---------------------------------------------------------------------------------------
# 360 layouts
# ---------------------------------------------------------------------------------------

# Ends the description of every layout the demo made: `--reset` deletes those and no other.
DEMO_LAYOUT_MARK = "(demo layout)"
EXECUTIVE = "Executive"
PARTNER_C360 = "Partner C360"
BI_SITE = "https://bi.gainsight-lite.example"
# The demo's embed sections show real, stable public pages (the made-up BI host above does not
# resolve, so an embed of it was an empty frame); where a page refuses to be framed, the
# section's "Open in a new tab" link still opens it.
EMBED_LOOKUP = "https://en.wikipedia.org/w/index.php?search={name}"
EMBED_DOCS = "https://docs.djangoproject.com/en/stable/releases/"


@dataclass(frozen=True)
class SectionSpec:
    """A section of a demo layout: options not in its kind's configuration are left out."""

    kind: str
    title: str
    collapsed: bool = False
    options: tuple[tuple[str, Any], ...] = ()


C360_SECTIONS = (
    SectionSpec("summary", "Summary"),
    SectionSpec(
        "attributes",
        "Account details",
        options=(
            (
                "fields",
                [
                    "external_id",
                    "industry",
                    "segment",
                    "stage",
                    "status",
                    "arr",
                    "mrr",
                    "renewal_date",
                    "original_contract_date",
                    "csm",
                    "managed_by",
                ],
            ),
        ),
    ),
    SectionSpec("relationships", "Relationships"),
    SectionSpec("people", "People"),
    SectionSpec("timeline", "Timeline"),
    SectionSpec("scorecard", "Scorecard"),
    SectionSpec("cockpit", "Cockpit"),
    SectionSpec("success_plans", "Success plans"),
    SectionSpec("usage", "Usage"),
    SectionSpec("surveys", "NPS"),
    SectionSpec("hierarchy", "Hierarchy"),
    SectionSpec(
        "related_list",
        "Child companies",
        options=(
            ("source", "children"),
            ("columns", ["name", "segment", "status", "arr", "renewal_date"]),
            ("sort", "-arr"),
            ("limit", 10),
        ),
    ),
    SectionSpec(
        "embed",
        "Company lookup",
        collapsed=True,
        options=(
            ("url_template", EMBED_LOOKUP),
            ("height", 420),
            ("title", "Public encyclopedia search for the company"),
        ),
    ),
    SectionSpec("history", "History", collapsed=True),
)
EXECUTIVE_SECTIONS = (
    SectionSpec(
        "summary", "At a glance", options=(("widgets", ["arr", "renewal", "csm", "relationships"]),)
    ),
    SectionSpec("relationships", "Relationships"),
    SectionSpec("hierarchy", "Group structure"),
)
# What a partner user works with, in the order they work it: every kind here is one a
# partner user may see, so the page holds no placeholder that would answer 404.
PARTNER_SECTIONS = (
    SectionSpec(
        "summary",
        "Summary",
        options=(
            ("widgets", ["health", "arr", "renewal", "csm", "open_ctas", "nps", "last_activity"]),
        ),
    ),
    SectionSpec(
        "attributes",
        "Account details",
        options=(
            (
                "fields",
                ["industry", "segment", "stage", "status", "arr", "renewal_date", "csm"],
            ),
        ),
    ),
    SectionSpec("timeline", "Timeline"),
    SectionSpec("cockpit", "Cockpit"),
    SectionSpec("success_plans", "Success plans"),
    SectionSpec("scorecard", "Scorecard"),
)
# The products' release notes; projects and business units have none.
R360_USAGE = {
    ANALYTICS_CLOUD: EMBED_DOCS,
    DATA_PLATFORM: EMBED_DOCS,
}


def _r360_sections(relationship_type: RelationshipType) -> tuple[SectionSpec, ...]:
    own_fields = [f"attr.{f.key}" for f in relationship_type.fields.all()]
    sections = [
        SectionSpec(
            "summary",
            "Summary",
            options=(
                (
                    "widgets",
                    ["health", "arr", "renewal", "stage", "csm", "open_ctas", "last_activity"],
                ),
            ),
        ),
        SectionSpec(
            "attributes",
            f"{relationship_type.name} details",
            options=(
                (
                    "fields",
                    [
                        "status",
                        "stage",
                        "start_date",
                        "renewal_date",
                        "csm",
                        "managed_by",
                        *own_fields,
                    ],
                ),
            ),
        ),
        SectionSpec("people", "People on this relationship"),
        SectionSpec("timeline", "Timeline"),
        SectionSpec("scorecard", "Scorecard"),
        SectionSpec("cockpit", "Cockpit"),
        SectionSpec("success_plans", "Success plans"),
        SectionSpec("usage", "Usage"),
        SectionSpec("surveys", "NPS"),
        SectionSpec(
            "related_list",
            "Other relationships of this company",
            options=(
                ("source", "other_relationships"),
                ("columns", ["name", "type", "status", "arr", "renewal_date"]),
                ("sort", "-arr"),
                ("limit", 10),
            ),
        ),
    ]
    usage = R360_USAGE.get(relationship_type.name)
    if usage is not None:
        sections.append(
            SectionSpec(
                "embed",
                "Release notes",
                collapsed=True,
                options=(("url_template", usage), ("height", 420)),
            )
        )
    sections.append(SectionSpec("history", "History", collapsed=True))
    return tuple(sections)


def _demo_default_layout(
    book: DemoBook, relationship_type: RelationshipType | None, description: str
) -> Layout | None:
    """The page's default layout for the demo to fill, or None when it is someone else's."""
    target = Layout.Target.RELATIONSHIP if relationship_type else Layout.Target.COMPANY
    existing = Layout.objects.filter(
        target=target, relationship_type=relationship_type, is_default=True
    ).first()
    if existing is not None and not existing.description.endswith(DEMO_LAYOUT_MARK):
        book.notes.append(
            f"The default layout “{existing}” already existed: its sections were left unchanged."
        )
        return None
    layout = layout_default_ensure(relationship_type=relationship_type)
    layout.description = f"{description} {DEMO_LAYOUT_MARK}"
    layout.full_clean()
    layout.save()
    return layout


def _demo_sections(layout: Layout, specs: tuple[SectionSpec, ...]) -> None:
    """Replace the layout's sections with `specs`, leaving out kinds not registered (yet)."""
    sections: list[Section] = []
    for spec in specs:
        kind = REGISTRY.get(spec.kind)
        if kind is None or layout.target not in kind.targets:
            continue
        config = kind.default_config(layout)
        config.update({key: value for key, value in spec.options if key in config})
        section = Section(
            layout=layout,
            kind=spec.kind,
            title=spec.title,
            order=len(sections) + 1,
            collapsed=spec.collapsed,
            config=config,
        )
        section.full_clean()  # the kind checks the configuration
        sections.append(section)
    layout.sections.all().delete()
    Section.objects.bulk_create(sections)


def seed_layouts(book: DemoBook) -> None:
    """The 360 layouts: a default C360 with every kind of section, an Executive C360 for
    Enterprise accounts, a Partner C360 for partner users (only the sections they may see),
    and a default R360 per relationship type with the type's fields."""
    c360 = _demo_default_layout(book, None, "Every section, for any company.")
    if c360 is not None:
        _demo_sections(c360, C360_SECTIONS)

    executive = Layout.objects.filter(
        target=Layout.Target.COMPANY, name=EXECUTIVE, description__endswith=DEMO_LAYOUT_MARK
    ).first() or Layout(
        name=EXECUTIVE,
        target=Layout.Target.COMPANY,
        priority=10,
        description=f"The big picture for Enterprise accounts. {DEMO_LAYOUT_MARK}",
    )
    executive.full_clean()
    executive.save()
    executive.conditions.all().delete()
    condition = LayoutCondition(layout=executive, subject_field="segment", value="Enterprise")
    condition.full_clean()
    condition.save()
    _demo_sections(executive, EXECUTIVE_SECTIONS)

    # Tried before the Executive layout: a partner user gets it for every company.
    partner = Layout.objects.filter(
        target=Layout.Target.COMPANY, name=PARTNER_C360, description__endswith=DEMO_LAYOUT_MARK
    ).first() or Layout(
        name=PARTNER_C360,
        target=Layout.Target.COMPANY,
        priority=5,
        description=f"Only the sections a partner user works with. {DEMO_LAYOUT_MARK}",
    )
    partner.full_clean()
    partner.save()
    partner.conditions.all().delete()
    condition = LayoutCondition(layout=partner, subject_field="viewer.kind", value="partner")
    condition.full_clean()
    condition.save()
    _demo_sections(partner, PARTNER_SECTIONS)

    for relationship_type in book.types.values():
        r360 = _demo_default_layout(
            book, relationship_type, f"The {relationship_type.name} page, with its own fields."
        )
        if r360 is not None:
            _demo_sections(r360, _r360_sections(relationship_type))


# ---------------------------------------------------------------------------------------
# The CSM's work: timeline, CTAs and playbooks, scorecards, success plans, usage, NPS
# ---------------------------------------------------------------------------------------

DOCS_SITE = "https://docs.gainsight-lite.example"
SUPPORT_SITE = "https://support.gainsight-lite.example"
MEETINGS_SITE = "https://meet.gainsight-lite.example"
PRODUCTS = (ANALYTICS_CLOUD, DATA_PLATFORM)
YEAR = 365


def _relationships_by_company(book: DemoBook) -> dict[int, list[Relationship]]:
    by_company: dict[int, list[Relationship]] = {}
    for relationship in book.relationships:
        by_company.setdefault(relationship.company_id, []).append(relationship)
    return by_company


def _is_product(relationship: Relationship) -> bool:
    return relationship.relationship_type.name in PRODUCTS


def _customer_since(company: Company, today: dt.date) -> dt.date:
    """The first day of the past year the company was a customer (or talking to us)."""
    start = today - dt.timedelta(days=YEAR)
    if company.original_contract_date is not None:
        start = max(start, company.original_contract_date - dt.timedelta(days=30))
    return min(start, today - dt.timedelta(days=30))


def _customer_until(company: Company, today: dt.date) -> dt.date:
    """The last day anything happens with the company: a churned one goes quiet after it left."""
    if company.status == Company.Status.CHURNED and company.renewal_date is not None:
        return min(today - dt.timedelta(days=1), company.renewal_date + dt.timedelta(days=14))
    return today - dt.timedelta(days=1)


def _fit(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _working_moment(book: DemoBook, day: dt.date) -> dt.datetime:
    """A time in working hours on `day` (moved back to Friday from a weekend)."""
    if day.weekday() >= 5:
        day -= dt.timedelta(days=day.weekday() - 4)
    moment = dt.datetime.combine(
        day, dt.time(book.rng.randint(8, 17), book.rng.choice([0, 15, 30, 45]))
    )
    return timezone.make_aware(moment)


# ---------- Timeline ----------

# Per type, (subject, notes); the notes keep their line breaks and their links.
ACTIVITY_TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Call": (
        (
            "Check-in call with {contact}",
            "Monthly check-in on {product}.\n- Usage is steady; {contact} wants training for "
            "the new analysts.\n- Asked about scheduled exports on the roadmap.\n\n"
            "Next: send the training calendar.",
        ),
        (
            "Support escalation follow-up",
            "Walked {contact} through the fix for the failing sync jobs.\n"
            "Ticket: {support}/tickets/{number}\nThey want a root-cause summary by Friday.",
        ),
        (
            "Renewal pricing call",
            "{contact} flagged budget pressure for next year and asked for a multi-year "
            "option.\nI will check the discount bands with Finance and come back next week.",
        ),
        (
            "Intro call with {contact}",
            "First call with {contact}, who now leads the rollout on their side.\n"
            "Went through the success plan and the open CTAs.\nAgreed on a monthly call.",
        ),
        (
            "Usage review with {contact}",
            "Looked at the usage trend together: {users} active users last week.\n"
            "The Finance team barely logs in; {contact} will ask their lead why.\n"
            "Dashboard: {bi}/accounts/{external_id}/usage",
        ),
    ),
    "Meeting": (
        (
            "Quarterly business review",
            "Agenda:\n1. Outcomes since the last QBR\n2. Adoption by team\n"
            "3. Roadmap and goals for next quarter\n\nDeck: {docs}/qbr/{slug}-{number}\n"
            "{contact} confirmed the goals; next QBR in three months.",
        ),
        (
            "Executive sponsor meeting",
            "Met {contact} with our VP of Customer Success.\nThey see {product} as key to "
            "this year's reporting project.\nConcern: time to value for the new teams.",
        ),
        (
            "Onboarding workshop",
            "Half-day workshop on site with {contact} and the admins.\n"
            "- Data sources connected\n- Roles and permissions agreed\n"
            "- SSO planned for next week\n\nNotes: {docs}/onboarding/{slug}",
        ),
        (
            "Roadmap session",
            "Showed the roadmap for the next two quarters.\n{contact} most wants row-level "
            "security and the new alerting.\nLogged both as product requests.",
        ),
        (
            "Admin training",
            "Trained {attendee_count} admins on user management and audit logs.\n"
            "Recording: {meet}/rec/{number}",
        ),
    ),
    "Email": (
        (
            "Sent the QBR summary",
            "Sent {contact} the summary and the action items from the review.\n"
            "Asked for feedback on the adoption targets.",
        ),
        (
            "Release notes for {month}",
            "Shared the {month} release notes and pointed out the new alerting features.\n"
            "{docs}/release-notes",
        ),
        (
            "Renewal quote sent",
            "Sent the renewal quote for {product} to {contact}.\n"
            "Valid for 30 days; signature expected before {renewal}.",
        ),
        (
            "Introduced the support team",
            "Introduced {contact} to our support lead and explained how to open a priority "
            "ticket.\n{support}/priority",
        ),
        (
            "Training invitation",
            "Invited {contact}'s team to the monthly webinar for new users.\n"
            "Registration: {meet}/webinars/new-users",
        ),
    ),
    "Update": (
        (
            "Account update",
            "Health steady. {contact} is engaged and the rollout of {product} is on plan.\n"
            "No open escalations.",
        ),
        (
            "Reorganisation at {company}",
            "{company} is merging two of its analytics teams.\n"
            "Risk: our champion's role may change. Watching it closely.",
        ),
        (
            "Usage dip",
            "Weekly active users fell for two weeks in a row; they are recovering.\n"
            "No action needed yet.",
        ),
        (
            "New budget cycle",
            "{contact} says next year's budget is being set now.\n"
            "Good moment to share the value summary.",
        ),
    ),
    "Milestone": (
        (
            "{product} went live",
            "{product} is live for every user.\nKickoff to go-live took {weeks} weeks.",
        ),
        (
            "Contract signed",
            "Signed the order form for {product}.\nHanded over from Sales; "
            "kickoff being scheduled.",
        ),
        ("{users} active users reached", "{product} passed {users} weekly active users."),
        ("Renewal signed", "{company} renewed {product} for another year."),
    ),
}
# A prospect is still evaluating: no renewals or go-lives yet.
PROSPECT_ACTIVITY_TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Call": (
        (
            "Discovery call with {contact}",
            "Current tools: spreadsheets and a legacy BI "
            "server.\nPain: month-end reporting takes a week.\nNext: a tailored demo.",
        ),
    ),
    "Meeting": (
        (
            "Product demo",
            "Demo for {contact} and two analysts.\nThey liked the "
            "alerting; asked about SSO and data residency.\nSlides: {docs}/demo",
        ),
    ),
    "Email": (
        (
            "Sent the proposal",
            "Sent {contact} the proposal and the security pack.\n{docs}/security",
        ),
    ),
    "Update": (
        (
            "Evaluation status",
            "{contact} is comparing us with two other vendors.\nDecision expected this quarter.",
        ),
    ),
    "Milestone": (("Trial started", "{company} started a 30-day trial."),),
}
ACTIVITY_WEIGHTS = {"Update": 15, "Call": 30, "Meeting": 20, "Email": 28, "Milestone": 7}
DURATIONS: dict[str, tuple[int, ...]] = {
    "Call": (15, 20, 30, 30, 45),
    "Meeting": (30, 45, 60, 60, 90, 120),
}
ATTENDEES = {"Call": (1, 2), "Meeting": (2, 4), "Email": (1, 1), "Update": (0, 0)}


def seed_activities(book: DemoBook) -> None:
    """Ten to twenty-five activities per company over the past year, some on relationships.

    Plain rows, bulk-created: every rule of `activity_log` holds by construction (the
    relationship and the attendees are the company's, the default types are offered
    everywhere).
    """
    rng, today = book.rng, book.today
    types = {t.name: t for t in ActivityType.objects.filter(name__in=ACTIVITY_TYPES, active=True)}
    names = [name for name in ACTIVITY_WEIGHTS if name in types]
    weights = [ACTIVITY_WEIGHTS[name] for name in names]
    relationships = _relationships_by_company(book)
    activities: list[Activity] = []
    attendees: list[tuple[Activity, list[CompanyPerson]]] = []
    for company in book.companies:
        start, end = _customer_since(company, today), _customer_until(company, today)
        count = {
            Company.Segment.ENTERPRISE: rng.randint(18, 25),
            Company.Segment.MID_MARKET: rng.randint(12, 20),
            Company.Segment.SMB: rng.randint(10, 14),
        }[Company.Segment(company.segment)]
        prospect = company.status == Company.Status.PROSPECT
        if prospect:
            count = rng.randint(5, 9)
        people = book.people.get(company.pk, [])
        rels = relationships.get(company.pk, [])
        products = [r for r in rels if _is_product(r)]
        span = (end - start).days
        for number in range(count):
            # The first activities of the list make sure every type appears in the book.
            name = names[number] if number < len(names) else rng.choices(names, weights)[0]
            if number < 2 * len(rels):  # every relationship has a little history
                relationship: Relationship | None = rels[number % len(rels)]
            else:
                relationship = rng.choice(rels) if rels and rng.random() < 0.25 else None
            # Skewed to recent days: a CSM logs more as an account heats up.
            day = end - dt.timedelta(days=int(span * rng.random() ** 1.4))
            low, high = ATTENDEES.get(name, (0, 2))
            chosen = rng.sample(people, min(len(people), rng.randint(low, high)))
            texts = (PROSPECT_ACTIVITY_TEXTS if prospect else ACTIVITY_TEXTS)[name]
            subject, notes = rng.choice(texts)
            product = relationship or (rng.choice(products) if products else None)
            contact = (chosen or people)[0].person.first_name if (chosen or people) else "the team"
            values = {
                "contact": contact,
                "company": company.name,
                "product": product.name if product else "the platform",
                "renewal": f"{company.renewal_date:%d %b %Y}"
                if company.renewal_date
                else "the renewal date",
                "month": f"{day:%B}",
                "users": rng.choice([50, 100, 150, 200, 250, 500]),
                "weeks": rng.randint(6, 16),
                "attendee_count": max(2, len(chosen)),
                "number": rng.randint(10_000, 99_999),
                "slug": _slug(company.name),
                "external_id": company.external_id,
                "docs": DOCS_SITE,
                "support": SUPPORT_SITE,
                "meet": MEETINGS_SITE,
                "bi": BI_SITE,
            }
            # The CSM of the account logs most of it; colleagues cover now and then.
            author = company.csm if rng.random() < 0.8 and company.csm else rng.choice(book.csms)
            activity = Activity(
                company=company,
                relationship=relationship,
                activity_type=types[name],
                subject=_fit(subject.format_map(values), 200),
                notes=notes.format_map(values) if rng.random() < 0.9 else "",
                occurred_at=_working_moment(book, day),
                duration_minutes=rng.choice(DURATIONS[name]) if name in DURATIONS else None,
                author=author,
            )
            activities.append(activity)
            attendees.append((activity, chosen))
    Activity.objects.bulk_create(activities, batch_size=500)
    # Logged when they happened, as far as the timeline can tell.
    Activity.objects.filter(company__external_id__startswith=EXTERNAL_ID_PREFIX).update(
        created_at=F("occurred_at"), updated_at=F("occurred_at")
    )
    through = Activity.attendees.through
    through.objects.bulk_create(
        [
            through(activity_id=activity.pk, companyperson_id=person.pk)
            for activity, people in attendees
            for person in people
        ],
        batch_size=1000,
    )
    for activity in activities:
        book.activities.setdefault(activity.company_id, []).append(activity)
    book.progress("Logging activities", len(activities), len(activities))


# ---------- CTAs, tasks and playbooks ----------


@dataclass(frozen=True)
class PlaybookSpec:
    name: str
    cta_type: str
    description: str
    tasks: tuple[tuple[str, int], ...]  # title, day offset


ONBOARDING_KICKOFF = "Onboarding kickoff"
SAVE_THE_ACCOUNT = "Save the account"
RENEWAL_PREP = "Renewal prep"
EXPANSION_DISCOVERY = "Expansion discovery"
PLAYBOOKS = (
    PlaybookSpec(
        ONBOARDING_KICKOFF,
        CTAType.LIFECYCLE,
        "From signature to first value: kickoff, setup, training and success criteria.",
        (
            ("Send the welcome pack and kickoff agenda", 0),
            ("Run the kickoff meeting", 3),
            ("Set up SSO and provisioning", 7),
            ("Train the admins", 10),
            ("Agree success criteria and a go-live date", 14),
        ),
    ),
    PlaybookSpec(
        SAVE_THE_ACCOUNT,
        CTAType.RISK,
        "An account at risk: find the cause, agree a recovery plan, bring in the sponsor.",
        (
            ("Review usage, tickets and NPS", 0),
            ("Call the champion to find the root cause", 2),
            ("Agree a recovery plan with the customer", 7),
            ("Brief the executive sponsor", 10),
            ("Check usage has recovered", 30),
        ),
    ),
    PlaybookSpec(
        RENEWAL_PREP,
        CTAType.LIFECYCLE,
        "Ninety days before a renewal: show the value, then quote.",
        (
            ("Review health, usage and open CTAs", 0),
            ("Prepare the value summary", 7),
            ("Hold the renewal meeting", 21),
            ("Send the renewal quote", 30),
        ),
    ),
    PlaybookSpec(
        EXPANSION_DISCOVERY,
        CTAType.EXPANSION,
        "A team or product we could add: qualify it and hand it to Sales.",
        (
            ("Map the teams not using us yet", 0),
            ("Discovery call with the new team", 5),
            ("Hand over to the account executive", 20),
        ),
    ),
)
CTA_REASONS: dict[str, tuple[str, ...]] = {
    CTAType.RISK: ("Low usage", "Champion left", "Support escalation", "Budget cuts"),
    CTAType.LIFECYCLE: ("Onboarding", "Renewal due", "Quarterly business review"),
    CTAType.EXPANSION: ("New team", "Upsell", "New product interest"),
    CTAType.ACTIVITY: ("Follow-up", "Customer request"),
}
FOLLOW_UP = "Follow-up"
CTA_NAMES: dict[str, tuple[str, ...]] = {
    "Low usage": ("Usage of {product} down {pct}% this quarter", "Low adoption of {product}"),
    "Champion left": ("Champion left: find a new one", "{contact} is leaving: secure a successor"),
    "Support escalation": (
        "Escalated tickets on {product}",
        "P1 incident: follow up with {contact}",
    ),
    "Budget cuts": ("Budget freeze at {company}", "Seat reduction requested for {product}"),
    "Onboarding": ("Onboard {product}", "Kick off onboarding of {product}"),
    "Renewal due": ("Renewal of {product} on {renewal}", "Prepare the renewal of {product}"),
    "Quarterly business review": ("Prepare the Q{quarter} business review",),
    "New team": ("{unit} team wants {product}", "Expand {product} to a new team"),
    "Upsell": ("Upgrade to the Enterprise edition", "More seats for {product}"),
    "New product interest": ("Interest in {other}", "{contact} asked about {other}"),
    "Customer request": (
        "Send the API documentation to {contact}",
        "Set up training for new analysts",
        "Answer the security questionnaire",
    ),
}
CTA_TASKS: dict[str, tuple[str, ...]] = {
    CTAType.RISK: (
        "Review usage and tickets",
        "Call the champion",
        "Agree a recovery plan",
        "Update the executive sponsor",
    ),
    CTAType.LIFECYCLE: ("Book the meeting", "Prepare the deck", "Send the summary"),
    CTAType.EXPANSION: (
        "Qualify the opportunity",
        "Demo for the new team",
        "Loop in the account executive",
    ),
    CTAType.ACTIVITY: ("Draft the answer", "Send it", "Log the outcome on the timeline"),
}
OVERDUE, TODAY, THIS_WEEK, LATER, NO_DUE, SNOOZED = (
    "overdue",
    "today",
    "this week",
    "later",
    "no due date",
    "snoozed",
)
# The `csm` login's open CTAs take these in turn, so the Cockpit shows every group.
CSM_DUE_CYCLE = (OVERDUE, THIS_WEEK, LATER, TODAY, LATER, OVERDUE, NO_DUE, THIS_WEEK, SNOOZED)
DUE_WEIGHTS = {OVERDUE: 3, TODAY: 1, THIS_WEEK: 2, LATER: 4, NO_DUE: 1, SNOOZED: 1}


@dataclass
class CTASpec:
    """A CTA to write: what it is, its dates, and how far it got."""

    company: Company
    cta_type: str
    reason: str
    relationship: Relationship | None = None
    open: bool = True
    won: bool = True  # a closed one: success or lost
    playbook: str | None = None
    source: Activity | None = None
    created: dt.date | None = None
    due: dt.date | None = None
    snoozed_until: dt.date | None = None
    closed: dt.date | None = None
    priority: int = 1  # 0 the most urgent


@dataclass
class Lookups:
    """The CTA lookups, read once."""

    types: dict[str, CTAType]
    reasons: dict[tuple[str, str], CTAReason]
    priorities: list[CTAPriority]
    open_statuses: list[CTAStatus]
    closed_statuses: list[CTAStatus]
    playbooks: dict[str, Playbook]

    def priority(self, rank: int) -> CTAPriority:
        """0 the most urgent, 1 the middle, 2 the least (whatever an admin made of them)."""
        return self.priorities[min(len(self.priorities) - 1, rank * (len(self.priorities) // 2))]

    @property
    def new(self) -> CTAStatus:
        return self.open_statuses[0]

    @property
    def in_progress(self) -> CTAStatus:
        return self.open_statuses[min(1, len(self.open_statuses) - 1)]

    @property
    def success(self) -> CTAStatus:
        return self.closed_statuses[0]

    @property
    def lost(self) -> CTAStatus:
        return self.closed_statuses[min(1, len(self.closed_statuses) - 1)]


def _cta_lookups() -> Lookups:
    """The reasons and playbooks the demo needs (added when missing) and the default lookups."""
    types = {t.name: t for t in CTAType.objects.all()}
    for cta_type, names in CTA_REASONS.items():
        existing = set(types[cta_type].reasons.values_list("name", flat=True))
        CTAReason.objects.bulk_create(
            CTAReason(cta_type=types[cta_type], name=name, order=order)
            for order, name in enumerate(names)
            if name not in existing
        )
    reasons = {
        (reason.cta_type.name, reason.name): reason
        for reason in CTAReason.objects.select_related("cta_type")
    }
    for spec in PLAYBOOKS:
        playbook, created = Playbook.objects.get_or_create(
            name=spec.name,
            defaults={"cta_type": types[spec.cta_type], "description": spec.description},
        )
        if created:
            PlaybookTask.objects.bulk_create(
                PlaybookTask(playbook=playbook, title=title, day_offset=offset, order=order)
                for order, (title, offset) in enumerate(spec.tasks)
            )
    return Lookups(
        types=types,
        reasons=reasons,
        priorities=list(CTAPriority.objects.order_by("order", "pk")),
        open_statuses=list(CTAStatus.objects.filter(is_closed=False).order_by("order", "pk")),
        closed_statuses=list(CTAStatus.objects.filter(is_closed=True).order_by("order", "pk")),
        playbooks={
            p.name: p
            for p in Playbook.objects.filter(
                name__in=[s.name for s in PLAYBOOKS], active=True
            ).prefetch_related("tasks")
        },
    )


def _open_cta_specs(book: DemoBook, company: Company, rels: list[Relationship]) -> list[CTASpec]:
    """What is on the CSM's plate for the company today, from its status and stage."""
    rng = book.rng
    specs: list[CTASpec] = []
    products = [r for r in rels if _is_product(r)]
    if company.status == Company.Status.CHURNED:
        return specs
    if company.status == Company.Status.PROSPECT:
        return [CTASpec(company, CTAType.ACTIVITY, "Customer request", priority=2)]
    if company.status == Company.Status.AT_RISK:
        at_risk = [r for r in rels if r.status == Relationship.Status.AT_RISK]
        specs.append(
            CTASpec(
                company,
                CTAType.RISK,
                rng.choice(CTA_REASONS[CTAType.RISK]),
                relationship=at_risk[0] if at_risk else None,
                playbook=SAVE_THE_ACCOUNT if rng.random() < 0.6 else None,
                priority=0,
            )
        )
    stage = company.stage
    if stage == Company.Stage.RENEWAL:
        specs.append(
            CTASpec(
                company,
                CTAType.LIFECYCLE,
                "Renewal due",
                relationship=products[0] if products else None,
                playbook=RENEWAL_PREP if rng.random() < 0.7 else None,
                priority=0 if rng.random() < 0.5 else 1,
            )
        )
    elif stage == Company.Stage.ONBOARDING:
        specs.append(
            CTASpec(
                company,
                CTAType.LIFECYCLE,
                "Onboarding",
                relationship=rng.choice(rels) if rels else None,
                playbook=ONBOARDING_KICKOFF if rng.random() < 0.7 else None,
            )
        )
    elif stage == Company.Stage.EXPANSION:
        specs.append(
            CTASpec(
                company,
                CTAType.EXPANSION,
                rng.choice(("New team", "Upsell")),
                relationship=rng.choice(products) if products and rng.random() < 0.5 else None,
                playbook=EXPANSION_DISCOVERY if rng.random() < 0.5 else None,
                priority=rng.choice((1, 2)),
            )
        )
    elif rng.random() < 0.25:
        specs.append(CTASpec(company, CTAType.LIFECYCLE, "Quarterly business review", priority=2))
    if rng.random() < 0.25:
        specs.append(CTASpec(company, CTAType.ACTIVITY, FOLLOW_UP, priority=rng.choice((1, 2))))
    if company.segment == Company.Segment.ENTERPRISE and rng.random() < 0.2:
        cta_type, reason = rng.choice(
            [
                (CTAType.RISK, "Support escalation"),
                (CTAType.EXPANSION, "New product interest"),
                (CTAType.ACTIVITY, "Customer request"),
            ]
        )
        specs.append(CTASpec(company, cta_type, reason, priority=1))
    return specs


def _closed_cta_specs(book: DemoBook, company: Company) -> list[CTASpec]:
    """What the CSM did for the company over the past year, won or lost."""
    rng = book.rng
    if company.status == Company.Status.PROSPECT:
        return []
    count = rng.randint(1, 3) + (company.segment == Company.Segment.ENTERPRISE)
    specs = []
    for _ in range(count):
        cta_type = rng.choices(list(CTA_REASONS), weights=[3, 3, 2, 3])[0]
        specs.append(
            CTASpec(
                company,
                cta_type,
                rng.choice(CTA_REASONS[cta_type]),
                open=False,
                won=rng.random() < 0.75,
                priority=rng.choice((0, 1, 1, 2)),
            )
        )
    if company.status == Company.Status.CHURNED:
        specs.append(CTASpec(company, CTAType.RISK, "Budget cuts", open=False, won=False))
    return specs


def _due(book: DemoBook, bucket: str) -> tuple[dt.date | None, dt.date | None]:
    """A due date in the Cockpit group `bucket`, and a snooze date for snoozed ones."""
    rng, today = book.rng, book.today
    week_left = 6 - today.weekday()  # days to Sunday, when "this week" ends
    if bucket == OVERDUE:
        return today - dt.timedelta(days=rng.randint(1, 21)), None
    if bucket == TODAY:
        return today, None
    if bucket == THIS_WEEK:
        return today + dt.timedelta(days=rng.randint(1, week_left) if week_left else 1), None
    if bucket == LATER:
        return today + dt.timedelta(days=rng.randint(8, 75)), None
    if bucket == SNOOZED:
        due = today + dt.timedelta(days=rng.randint(-10, 5))
        return due, today + dt.timedelta(days=rng.randint(3, 14))
    return None, None


def _follow_up_source(book: DemoBook, spec: CTASpec, before: dt.date) -> Activity | None:
    """A call or meeting of the company in the six weeks before `before`, to follow up."""
    candidates = [
        a
        for a in book.activities.get(spec.company.pk, [])
        if a.activity_type.name in ("Call", "Meeting")
        and before - dt.timedelta(days=42) <= timezone.localdate(a.occurred_at) < before
    ]
    return book.rng.choice(candidates) if candidates else None


def _cta_name(book: DemoBook, spec: CTASpec, rels: list[Relationship]) -> str:
    rng, company = book.rng, spec.company
    if spec.source is not None:
        return _fit(f"Follow up: {spec.source.subject}", 80)
    people = book.people.get(company.pk, [])
    champion = next((p for p in people if p.role == Role.CHAMPION), people[0] if people else None)
    product = spec.relationship or next((r for r in rels if _is_product(r)), None)
    names = [r.relationship_type.name for r in rels]
    other = next((p for p in PRODUCTS if p not in names), "the Data Platform")
    day = spec.due or book.today
    values = {
        "product": product.name if product else "the platform",
        "company": company.name,
        "contact": champion.person.first_name if champion else "the champion",
        "renewal": f"{company.renewal_date:%d %b}" if company.renewal_date else "renewal",
        "pct": rng.randrange(15, 45, 5),
        "quarter": (day.month - 1) // 3 + 1,
        "unit": rng.choice(BU_NAMES),
        "other": other,
    }
    return _fit(rng.choice(CTA_NAMES[spec.reason]).format_map(values), 80)


def seed_ctas(book: DemoBook) -> None:
    """Open CTAs on every account, due in every Cockpit group, and a year of closed ones.

    Through the services, so statuses, closing and playbook due dates follow the rules; the
    creation and closing times are then moved back to the days they happened.
    """
    rng, today = book.rng, book.today
    lookups = _cta_lookups()
    relationships = _relationships_by_company(book)
    csm = book.users["csm"]
    specs: list[CTASpec] = []
    for company in book.companies:
        rels = relationships.get(company.pk, [])
        specs += _open_cta_specs(book, company, rels)
        specs += _closed_cta_specs(book, company)
    csm_turn = 0
    dated: list[tuple[CTA, dt.date, dt.date | None]] = []  # cta, created, closed
    own_tasks: list[Task] = []
    ticked: list[Task] = []
    for number, spec in enumerate(specs, start=1):
        company = spec.company
        rels = relationships.get(company.pk, [])
        owner = company.csm or rng.choice(book.csms)
        start = _customer_since(company, today)
        if spec.open:
            if owner == csm:
                bucket = CSM_DUE_CYCLE[csm_turn % len(CSM_DUE_CYCLE)]
                csm_turn += 1
            else:
                bucket = rng.choices(list(DUE_WEIGHTS), weights=list(DUE_WEIGHTS.values()))[0]
            spec.due, spec.snoozed_until = _due(book, bucket)
            spec.created = min(spec.due or today, today) - dt.timedelta(days=rng.randint(3, 40))
        else:
            end = _customer_until(company, today) - dt.timedelta(days=3)
            spec.created = end - dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))
            spec.due = spec.created + dt.timedelta(days=rng.randint(7, 30))
        if spec.reason == FOLLOW_UP:
            spec.source = _follow_up_source(book, spec, min(spec.due or today, today))
            if spec.source is None:
                spec.reason = "Customer request"
            else:
                spec.relationship = spec.source.relationship
                spec.created = timezone.localdate(spec.source.occurred_at)
        spec.created = max(spec.created, start)
        if not spec.open:
            end = _customer_until(company, today)
            spec.closed = min(end, spec.created + dt.timedelta(days=rng.randint(3, 45)))
        if spec.relationship is None and spec.source is None and rels and rng.random() < 0.25:
            spec.relationship = rng.choice(rels)
        in_progress = not spec.open or (today - spec.created).days > 10 or rng.random() < 0.4
        cta = cta_create(
            by=owner,
            company=company,
            relationship=spec.relationship,
            name=_cta_name(book, spec, rels),
            cta_type=lookups.types[spec.cta_type],
            reason=lookups.reasons[(spec.cta_type, spec.reason)],
            priority=lookups.priority(spec.priority),
            status=lookups.in_progress if in_progress else lookups.new,
            owner=owner,
            due_date=spec.due,
            snoozed_until=spec.snoozed_until,
            source_activity=spec.source,
        )
        playbook = lookups.playbooks.get(spec.playbook or "")
        if playbook is not None:
            tasks = playbook_apply(cta=cta, playbook=playbook, today=spec.created)
        else:
            # A few tasks of the CSM's own: plain rows, written together below.
            titles = rng.sample(CTA_TASKS[spec.cta_type], rng.randint(1, 3))
            tasks = [
                Task(
                    cta=cta,
                    title=title,
                    owner=owner,
                    due_date=spec.created + dt.timedelta(days=3 * (index + 1)),
                    order=index,
                )
                for index, title in enumerate(titles)
            ]
            own_tasks += tasks
        for task in tasks:
            assert task.due_date is not None
            if spec.open:
                task.done = in_progress and task.due_date < today and rng.random() < 0.75
            else:
                task.done = spec.won or rng.random() < 0.5
            if task.done:
                day = min(task.due_date, spec.closed or today - dt.timedelta(days=1))
                task.done_at = _at(day, 15)
                if task.pk is not None:
                    ticked.append(task)
        if not spec.open:
            status = lookups.success if spec.won else lookups.lost
            cta_set_status(cta=cta, status=status, by=owner, confirm_open_tasks=True)
        dated.append((cta, spec.created, spec.closed))
        book.progress("Opening CTAs", number, len(specs))
    Task.objects.bulk_create(own_tasks, batch_size=500)
    # Ticked off on the day (as `task_set_done` would have, then).
    Task.objects.bulk_update(ticked, ["done", "done_at"], batch_size=300)
    _backdate_ctas(dated)


def _at(day: dt.date, hour: int) -> dt.datetime:
    """`hour` o'clock on `day`, or now if that is still to come."""
    return min(timezone.make_aware(dt.datetime.combine(day, dt.time(hour))), timezone.now())


def _backdate_ctas(dated: list[tuple[CTA, dt.date, dt.date | None]]) -> None:
    """Move the creation and closing times back to the days they happened."""
    for cta, created, closed in dated:
        cta.created_at = cta.updated_at = _at(created, 9)
        if closed is not None:
            cta.closed_at = cta.updated_at = max(cta.created_at, _at(closed, 16))
    CTA.objects.bulk_update(
        [cta for cta, _, _ in dated], ["created_at", "updated_at", "closed_at"], batch_size=300
    )


# ---------- Scorecards ----------

COMPANY_SCORECARD = "Customer health"
# The company scorecard's measures by group, with weights that add up to 100.
COMPANY_MEASURES: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("Product", (("Adoption", 30), ("Engagement", 15), ("Value realised", 15))),
    ("Relationship", (("Support", 20), ("Sentiment", 20))),
)
RELATIONSHIP_MEASURES: dict[str, tuple[tuple[str, int], ...]] = {
    ANALYTICS_CLOUD: (("Seat adoption", 40), ("Dashboard engagement", 30), ("Support", 30)),
    DATA_PLATFORM: (
        ("Reliability", 35),
        ("Data growth", 25),
        ("Support", 20),
        ("Cost efficiency", 20),
    ),
    IMPLEMENTATION: (("On schedule", 40), ("On budget", 30), ("Stakeholder satisfaction", 30)),
    BUSINESS_UNIT: (("Executive alignment", 40), ("Adoption", 35), ("Sentiment", 25)),
}
SCORE_COMMENTS: dict[str, tuple[str, ...]] = {
    "low": (
        "{Measure} is the main concern: see the open Risk CTA.",
        "{Measure} dropped after their reorganisation; recovery plan agreed.",
        "Well below target; raised with the sponsor.",
    ),
    "mid": (
        "{Measure} is fine but flat since the last QBR.",
        "Some gaps in {measure}; discussed at the last check-in.",
        "Steady; worth a look at the next check-in.",
    ),
    "high": (
        "{Measure} well above target this quarter.",
        "On track; nothing to flag.",
        "Strong: the champion shares the wins internally.",
    ),
}
HISTORY_DAYS = 90


def _demo_scorecard(
    book: DemoBook,
    name: str,
    relationship_type: RelationshipType | None,
    groups: tuple[tuple[str, tuple[tuple[str, int], ...]], ...],
) -> list[Measure] | None:
    """The scorecard's active measures, made when missing; None when it is someone else's."""
    scorecard = Scorecard.objects.filter(relationship_type=relationship_type).first()
    if scorecard is None:
        scorecard = Scorecard(name=name, relationship_type=relationship_type)
        scorecard.full_clean()
        scorecard.save()
    elif scorecard.name != name:
        book.notes.append(
            f"The scorecard “{scorecard.name}” already existed: the demo left it unscored."
        )
        return None
    if not scorecard.measures.exists():
        order = 0
        for group_order, (group_name, measures) in enumerate(groups):
            group = (
                MeasureGroup.objects.create(scorecard=scorecard, name=group_name, order=group_order)
                if group_name
                else None
            )
            for measure_name, weight in measures:
                Measure.objects.create(
                    scorecard=scorecard, group=group, name=measure_name, weight=weight, order=order
                )
                order += 1
    return list(scorecard.measures.filter(active=True).order_by("order", "pk"))


def _base_health(book: DemoBook, status: str) -> float:
    """Where a subject's scores sit, from its status."""
    means: dict[str, int] = {
        Company.Status.AT_RISK: 46,
        Company.Status.CHURNED: 28,
        Relationship.Status.ON_HOLD: 58,
    }
    return max(12.0, min(92.0, book.rng.gauss(means.get(status, 76), 9)))


def _score_history(book: DemoBook, current: int, drift: int) -> list[int]:
    """A measure's daily values over the window, ending on `current`.

    Walked back from today: a CSM changes a score every few weeks, mostly in the subject's
    direction (drift +1: it used to be higher, so it is declining; -1: improving).
    """
    rng = book.rng
    values = [current]
    for _ in range(HISTORY_DAYS - 1):
        value = values[-1]
        if rng.random() < 0.08:
            sign = drift if drift and rng.random() < 0.75 else rng.choice((-1, 1))
            value = max(0, min(100, value + sign * rng.randint(2, 9)))
        values.append(value)
    return values[::-1]


def seed_scorecards(book: DemoBook) -> None:
    """Scores with comments for most companies and relationships, and 90 days of history.

    The current scores and the older snapshots are bulk-created; today's snapshot goes
    through `snapshot_take`, which also sets the subject's health score.
    """
    rng, today = book.rng, book.today
    scorecards: dict[str | None, list[Measure] | None] = {
        None: _demo_scorecard(book, COMPANY_SCORECARD, None, COMPANY_MEASURES)
    }
    for type_name, specs in RELATIONSHIP_MEASURES.items():
        scorecards[type_name] = _demo_scorecard(
            book, f"{type_name} health", book.types[type_name], (("", specs),)
        )
    subjects: list[tuple[Company | Relationship, str, list[Measure]]] = []
    company_measures = scorecards[None]
    for customer in book.companies:
        # Prospects and a few customers nobody has scored yet.
        if company_measures and customer.status != Company.Status.PROSPECT and rng.random() > 0.06:
            subjects.append((customer, customer.status, company_measures))
    for rel in book.relationships:
        type_measures = scorecards[rel.relationship_type.name]
        # A relationship in trouble is always scored; a few healthy ones are not yet.
        if type_measures and (rel.status != Relationship.Status.ACTIVE or rng.random() > 0.1):
            subjects.append((rel, rel.status, type_measures))
    scores: list[Score] = []
    changed: list[dt.date] = []  # by score, the day it was last changed
    snapshots: list[ScoreSnapshot] = []
    for subject, status, measures in subjects:
        company = subject if isinstance(subject, Company) else subject.company
        relationship = subject if isinstance(subject, Relationship) else None
        base = _base_health(book, status)
        declining = status in (Company.Status.AT_RISK, Company.Status.CHURNED)
        if declining:
            drift = 1 if rng.random() < 0.8 else 0
        elif company.stage == Company.Stage.ONBOARDING:
            drift = -1
        else:
            drift = rng.choice((-1, 0, 0, 1))
        # A measure left unscored now and then ("not scored" is not 0), never the first.
        scored = [m for n, m in enumerate(measures) if n == 0 or rng.random() > 0.08]
        histories: list[tuple[int, list[int]]] = []
        for measure in scored:
            value = round(max(0, min(100, base + rng.gauss(0, 11))))
            if rng.random() < 0.7:
                value = min(100, 5 * round(value / 5))  # CSMs score in round numbers
            band = "low" if value < 50 else "mid" if value < 75 else "high"
            comment = ""
            if rng.random() < 0.75:
                comment = rng.choice(SCORE_COMMENTS[band]).format(
                    Measure=measure.name, measure=measure.name.lower()
                )
            scores.append(
                Score(
                    company=company,
                    relationship=relationship,
                    measure=measure,
                    value=value,
                    comment=comment,
                    updated_by=company.csm,
                )
            )
            history = _score_history(book, value, drift)
            histories.append((measure.weight, history))
            # Last changed on the last day its history moved (or before the window).
            unchanged = next(
                (n for n, old in enumerate(reversed(history)) if old != value), HISTORY_DAYS
            )
            changed.append(today - dt.timedelta(days=unchanged))
        overall = None
        previous: list[tuple[int, int]] = []
        for days_ago in range(HISTORY_DAYS - 1, 0, -1):
            index = HISTORY_DAYS - 1 - days_ago
            pairs = [(weight, values[index]) for weight, values in histories]
            if pairs != previous:  # scores change every few weeks: most days repeat the last
                overall, previous = overall_score(pairs), pairs
            snapshots.append(
                ScoreSnapshot(
                    # Ids rather than instances: thousands of rows, built fast.
                    company_id=company.pk,
                    relationship_id=relationship.pk if relationship else None,
                    day=today - dt.timedelta(days=days_ago),
                    overall=overall,
                )
            )
    Score.objects.bulk_create(scores, batch_size=500)
    now = timezone.now()
    for score, day in zip(scores, changed, strict=True):
        score.updated_at = min(_working_moment(book, day), now)
    Score.objects.bulk_update(scores, ["updated_at"], batch_size=300)
    ScoreSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    for number, (subject, _, _) in enumerate(subjects, start=1):
        snapshot_take(subject=subject, day=today)
        book.progress("Scoring health", number, len(subjects))


# ---------- Success plans ----------

# Per plan type, its template objectives: (name, day offset, ((task, day offset), ...)).
PLAN_TYPES: dict[str, tuple[tuple[str, int, tuple[tuple[str, int], ...]], ...]] = {
    "Onboarding": (
        ("Kickoff held", 14, (("Agree the project plan", 5), ("Hold the kickoff meeting", 10))),
        ("Admins trained", 30, (("Run the admin training", 21), ("Share the admin guide", 25))),
        (
            "First dashboards live",
            60,
            (("Build the first three dashboards", 45), ("Review them with the champion", 55)),
        ),
    ),
    "Adoption": (
        ("Monthly usage review in place", 30, (("Agree the usage targets", 10),)),
        (
            "A power user in every team",
            60,
            (("Name the power users", 20), ("Run the power-user training", 45)),
        ),
        ("70% of seats active", 90, (("Send the adoption report", 80),)),
    ),
    "Renewal": (
        (
            "Value summary shared",
            30,
            (("Collect the outcomes", 14), ("Write the value summary", 25)),
        ),
        ("Executive sponsor meeting held", 45, (("Book the sponsor meeting", 30),)),
        ("Renewal signed", 90, (("Send the renewal quote", 60), ("Get the signature", 85))),
    ),
}
PlanStatus = SuccessPlan.Status
# Plans take these in turn: most are running, some are done or dropped.
PLAN_STATUS_CYCLE = (
    PlanStatus.ACTIVE,
    PlanStatus.DRAFT,
    PlanStatus.COMPLETED,
    PlanStatus.ACTIVE,
    PlanStatus.CANCELLED,
    PlanStatus.ACTIVE,
    PlanStatus.COMPLETED,
    PlanStatus.ACTIVE,
)


def _plan_types() -> dict[str, SuccessPlanType]:
    """The demo's plan types with their template objectives (made when missing)."""
    plan_types: dict[str, SuccessPlanType] = {}
    for order, (name, objectives) in enumerate(PLAN_TYPES.items()):
        plan_type, created = SuccessPlanType.objects.get_or_create(
            name=name, defaults={"order": order}
        )
        if created:
            for position, (objective_name, offset, tasks) in enumerate(objectives):
                objective = TemplateObjective.objects.create(
                    plan_type=plan_type, name=objective_name, day_offset=offset, order=position
                )
                TemplateTask.objects.bulk_create(
                    TemplateTask(objective=objective, title=title, day_offset=day, order=index)
                    for index, (title, day) in enumerate(tasks)
                )
        plan_types[name] = plan_type
    return plan_types


def seed_success_plans(book: DemoBook) -> None:
    """About one plan per four companies, some on a relationship, in every status.

    Made with `success_plan_create` (objectives copied from the type's templates); then
    completed plans have every objective closed, running ones some, cancelled ones none won.
    Creation, closing and ticking off times are moved back to the days they happened.
    """
    rng, today = book.rng, book.today
    yesterday = today - dt.timedelta(days=1)
    plan_types = _plan_types()
    lookups = _cta_lookups()
    relationships = _relationships_by_company(book)
    customers = [
        c for c in book.companies if c.status in (Company.Status.ACTIVE, Company.Status.AT_RISK)
    ]
    chosen = rng.sample(customers, min(len(customers), max(8, round(book.size / 4))))
    plans: list[SuccessPlan] = []
    dated: list[tuple[CTA, dt.date, dt.date | None]] = []
    tasks_changed: list[Task] = []
    for number, company in enumerate(chosen):
        status = PLAN_STATUS_CYCLE[number % len(PLAN_STATUS_CYCLE)]
        type_name = {
            Company.Stage.ONBOARDING: "Onboarding",
            Company.Stage.RENEWAL: "Renewal",
        }.get(Company.Stage(company.stage), "Adoption")
        rels = relationships.get(company.pk, [])
        relationship = None
        if rels and rng.random() < 0.45:
            relationship = rng.choice(rels)
        # Days from today to the due date, and from the due date back to the plan's start.
        due, length = {
            PlanStatus.ACTIVE: (rng.randint(30, 150), rng.randint(120, 200)),
            PlanStatus.DRAFT: (rng.randint(60, 180), rng.randint(60, 180)),
            PlanStatus.COMPLETED: (-rng.randint(10, 120), rng.randint(90, 150)),
            PlanStatus.CANCELLED: (-rng.randint(20, 90), rng.randint(60, 120)),
        }[status]
        due_date = today + dt.timedelta(days=due)
        created_day = min(today, due_date - dt.timedelta(days=length))
        if relationship is not None:
            name = f"{relationship.name} {type_name.lower()}"
        else:
            name = f"{type_name} plan {due_date.year}"

        owner = company.csm or rng.choice(book.csms)
        plan = success_plan_create(
            by=owner,
            plan_type=plan_types[type_name],
            company=company,
            relationship=relationship,
            name=name,
            status=status,
            owner=owner,
            due_date=due_date,
        )
        plan.created_at = plan.updated_at = _at(created_day, 10)
        plans.append(plan)
        objectives = list(plan.objectives.order_by("due_date", "pk").prefetch_related("tasks"))
        closing = {
            PlanStatus.COMPLETED: len(objectives),
            PlanStatus.ACTIVE: rng.randint(0, max(0, len(objectives) - 1)),
        }.get(status, 0)
        for index, objective in enumerate(objectives):
            tasks = list(objective.tasks.all())
            tasks_changed += tasks
            if status in (PlanStatus.COMPLETED, PlanStatus.CANCELLED):
                # A finished plan's objectives (and their tasks) were due before the plan was.
                objective_due = due_date - dt.timedelta(days=14 * (len(objectives) - index))
                cta_update(cta=objective, by=owner, due_date=objective_due)
                for position, task in enumerate(tasks):
                    task.due_date = objective_due - dt.timedelta(days=3 * (len(tasks) - position))
            assert objective.due_date is not None
            closed_day: dt.date | None = None
            if index < closing:
                closed_day = min(objective.due_date, yesterday)
                if status == PlanStatus.ACTIVE:
                    closed_day = max(created_day, today - dt.timedelta(days=rng.randint(1, 20)))
                done_at = _at(closed_day, 11)
                for task in tasks:
                    task.done, task.done_at = True, done_at
                objective.tasks.update(done=True, done_at=done_at)  # ticked off, then closed
                cta_set_status(cta=objective, status=lookups.success, by=owner)
            elif status == PlanStatus.CANCELLED:
                closed_day = due_date
                cta_set_status(
                    cta=objective, status=lookups.lost, by=owner, confirm_open_tasks=True
                )
            elif status == PlanStatus.ACTIVE and index == closing:
                cta_set_status(cta=objective, status=lookups.in_progress, by=owner)
            dated.append((objective, created_day, closed_day))
        book.progress("Writing success plans", number + 1, len(chosen))
    Task.objects.bulk_update(tasks_changed, ["due_date", "done", "done_at"], batch_size=300)
    SuccessPlan.objects.bulk_update(plans, ["created_at", "updated_at"])
    _backdate_ctas(dated)


# ---------- Usage ----------

USAGE_METRICS = (("Active users", "users"), ("Logins", "logins"), ("Reports run", "reports"))
USAGE_WEEKS = 52


def _usage_metrics() -> list[UsageMetric]:
    metrics = []
    for order, (name, unit) in enumerate(USAGE_METRICS):
        metric, _ = UsageMetric.objects.get_or_create(
            name=name, defaults={"unit": unit, "order": order}
        )
        metrics.append(metric)
    return metrics


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _current_users(relationship: Relationship) -> float:
    """How many people use the product each week now, from its attributes and revenue."""
    attributes = relationship.attributes
    if relationship.relationship_type.name == ANALYTICS_CLOUD:
        seats = _number(attributes.get("seats"), float(relationship.arr) / 600)
        return max(3.0, seats * _number(attributes.get("adoption"), 60) / 100)
    return max(3.0, float(relationship.arr) / 1_200)


def _weekly_users(
    book: DemoBook, weeks: list[dt.date], current: float, trend: str, first: dt.date | None
) -> list[float]:
    """Active users per week: the trend's line with noise and holiday dips, 0 before `first`."""
    rng = book.rng
    start_level = {
        "growing": rng.uniform(0.45, 0.8),
        "flat": rng.uniform(0.92, 1.08),
        "declining": rng.uniform(1.35, 1.9),
    }[trend]
    skipped = sum(1 for week in weeks if first is not None and week < first)
    live = len(weeks) - skipped
    values = []
    for index, week in enumerate(weeks):
        if index < skipped:
            values.append(0.0)
            continue
        # Ramps up over the first ten weeks of a product that went live within the year.
        ramp = min(1.0, (index - skipped + 1) / 10) if skipped else 1.0
        progress = (index - skipped) / max(1, live - 1)
        level = current * (start_level + (1 - start_level) * progress) * ramp
        if (week.month, week.day) >= (12, 21) or (week.month, week.day) <= (1, 3):
            level *= 0.55  # the holidays
        values.append(max(0.0, level * (1 + rng.gauss(0, 0.05))))
    return values


def seed_usage(book: DemoBook) -> None:
    """52 weeks of active users, logins and reports for the products and every company.

    A company's usage is the sum of its products'; a prospect shows its trial. Bulk-created
    (the weeks are Mondays, the relationships the company's).
    """
    rng, today = book.rng, book.today
    metrics = _usage_metrics()
    last = today - dt.timedelta(days=today.weekday())
    weeks = [last - dt.timedelta(weeks=USAGE_WEEKS - 1 - n) for n in range(USAGE_WEEKS)]
    relationships = _relationships_by_company(book)
    rows: list[UsageValue] = []

    def add(company: Company, relationship: Relationship | None, users: list[float]) -> None:
        per_user = (rng.uniform(2.5, 5.5), rng.uniform(0.4, 2.2))
        relationship_id = relationship.pk if relationship else None
        for index, week in enumerate(weeks):
            values = [
                users[index],
                users[index] * per_user[0] * (1 + rng.gauss(0, 0.06)),
                users[index] * per_user[1] * (1 + rng.gauss(0, 0.1)),
            ]
            rows.extend(
                UsageValue(
                    company_id=company.pk,
                    relationship_id=relationship_id,
                    metric_id=metric.pk,
                    week=week,
                    value=Decimal(max(0, round(value))),
                )
                for metric, value in zip(metrics, values, strict=True)
            )

    for number, company in enumerate(book.companies, start=1):
        products = [r for r in relationships.get(company.pk, []) if _is_product(r)]
        total = [0.0] * USAGE_WEEKS
        if company.status == Company.Status.PROSPECT:
            trial = last - dt.timedelta(weeks=rng.randint(6, 16))
            total = _weekly_users(book, weeks, rng.uniform(8, 30), "growing", trial)
        for relationship in products:
            if relationship.status in (Relationship.Status.AT_RISK, Relationship.Status.CHURNED):
                trend = "declining"
            elif company.stage == Company.Stage.ONBOARDING:
                trend = "growing"
            else:
                trend = rng.choices(["growing", "flat", "declining"], weights=[45, 40, 15])[0]
            first = relationship.start_date if relationship.start_date else None
            users = _weekly_users(book, weeks, _current_users(relationship), trend, first)
            if relationship.status == Relationship.Status.CHURNED and company.renewal_date:
                gone = company.renewal_date
                users = [
                    0.0 if week > gone else value for week, value in zip(weeks, users, strict=True)
                ]
            add(company, relationship, users)
            total = [a + b for a, b in zip(total, users, strict=True)]
        add(company, None, total)
        book.progress("Recording usage", number, len(book.companies))
    UsageValue.objects.bulk_create(rows, batch_size=2000)


# ---------- NPS ----------

NPS_COMMENTS: dict[str, tuple[str, ...]] = {
    "promoter": (
        "The dashboards save my team hours every week.",
        "Great support team, always quick to help.",
        "Easy to roll out to new teams.",
        "The new alerting is exactly what we needed.",
        "Our CSM really understands our business.",
    ),
    "passive": (
        "Good product, but reports are slow at month end.",
        "Works well; the admin console could be simpler.",
        "We need a better Excel export.",
        "Fine for analysts, harder for occasional users.",
    ),
    "detractor": (
        "Too many sync failures this quarter.",
        "Hard to justify the price with our current usage.",
        "Support took days to answer our P1 ticket.",
        "Our users find it hard to learn.\nWe need more training in our language.",
        "We lost our main admin and nobody knows the setup.",
    ),
}
NPS_BY_SENTIMENT: dict[str, tuple[int, ...]] = {
    Sentiment.POSITIVE: (8, 9, 9, 10, 10),
    Sentiment.NEUTRAL: (6, 7, 7, 8, 8, 9),
    Sentiment.NEGATIVE: (2, 3, 4, 5, 6, 6),
    Sentiment.UNKNOWN: (5, 6, 7, 8, 9),
}


def seed_surveys(book: DemoBook) -> None:
    """Two to eight NPS answers per customer over the past year, from its people."""
    rng, today = book.rng, book.today
    relationships = _relationships_by_company(book)
    responses: list[SurveyResponse] = []
    for company in book.companies:
        people = book.people.get(company.pk, [])
        if company.status == Company.Status.PROSPECT or not people:
            continue
        products = [r for r in relationships.get(company.pk, []) if _is_product(r)]
        start, end = _customer_since(company, today), _customer_until(company, today)
        count = {
            Company.Segment.ENTERPRISE: rng.randint(4, 8),
            Company.Segment.MID_MARKET: rng.randint(3, 6),
        }.get(Company.Segment(company.segment), rng.randint(2, 4))
        unhappy = company.status in (Company.Status.AT_RISK, Company.Status.CHURNED)
        for _ in range(count):
            respondent = rng.choice(people)
            score = rng.choice(NPS_BY_SENTIMENT[respondent.sentiment])
            if unhappy:
                score = max(0, score - rng.randint(0, 3))
            kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            responses.append(
                SurveyResponse(
                    company=company,
                    relationship=rng.choice(products) if products and rng.random() < 0.3 else None,
                    person_id=respondent.person_id,
                    score=score,
                    comment=rng.choice(NPS_COMMENTS[kind]) if rng.random() < 0.55 else "",
                    responded_on=start
                    + dt.timedelta(days=rng.randint(0, max(0, (end - start).days))),
                )
            )
    SurveyResponse.objects.bulk_create(responses, batch_size=1000)
    book.progress("Collecting NPS answers", len(responses), len(responses))


Step = Callable[[DemoBook], None]

# In order; each step may use what the steps before it kept on the book.
STEPS: list[Step] = [
    seed_partners,
    seed_users,
    seed_relationship_types,
    plan_hierarchies,
    seed_companies,
    seed_relationships,
    seed_people,
    seed_relationship_people,
    seed_layouts,
    seed_activities,
    seed_ctas,
    seed_scorecards,
    seed_success_plans,
    seed_usage,
    seed_surveys,
]


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def demo_companies() -> Any:
    """The companies of the demo book."""
    return Company.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)


def demo_book_loaded() -> bool:
    """Whether the demo book is already in the database."""
    return demo_companies().exists()


@transaction.atomic
def demo_book_build(
    *,
    seed: int = DEFAULT_SEED,
    companies: int = DEFAULT_COMPANIES,
    progress: Progress = no_progress,
) -> DemoBook:
    """Build the whole demo book in one transaction: a failing step leaves nothing behind."""
    if companies < MIN_COMPANIES:
        raise ValueError(f"The demo book needs at least {MIN_COMPANIES} companies.")
    # The factories' own random values (phones, partner contacts) follow the seed too.
    factory.random.reseed_random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    book = DemoBook(
        seed=seed,
        size=companies,
        progress=progress,
        rng=random.Random(seed),
        fake=fake,
        today=timezone.localdate(),
    )
    for step in STEPS:
        step(book)
    return book


@transaction.atomic
def demo_book_delete() -> None:
    """Delete the demo book: its companies (with everything on them), people, types,
    partners and logins. Records that are not part of the demo are left alone."""
    companies = demo_companies()
    person_ids = list(
        CompanyPerson.objects.filter(company__in=companies).values_list("person_id", flat=True)
    )
    trail = _demo_history(companies)
    # A parent is protected while it has children: delete the deepest level first.
    for level in range(MAX_LEVEL, -1, -1):
        companies.filter(level=level).delete()
    Person.objects.filter(pk__in=person_ids).annotate(places=Count("companies")).filter(
        places=0
    ).delete()
    RelationshipType.objects.filter(name__in=RELATIONSHIP_TYPES).annotate(
        used=Count("relationships")
    ).filter(used=0).delete()
    usernames = [login.username for login in DEMO_LOGINS] + [u for u, _, _ in OTHER_CSMS]
    User.objects.filter(
        Q(username__in=usernames) & Q(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
    ).delete()
    Partner.objects.filter(name__in=[PARTNER_A, PARTNER_B]).delete()
    Layout.objects.filter(description__endswith=DEMO_LAYOUT_MARK).delete()
    _demo_lookups_delete()
    for rows in trail:
        rows.delete()


def _demo_history(companies: QuerySet[Company]) -> list[QuerySet[Any]]:
    """The demo book's audit trail, deletions included: it goes with the book, so a reset
    leaves the same tables it found (the history of records that are not the demo's stays)."""
    company_ids = list(companies.values_list("pk", flat=True))
    layout_ids = list(
        Layout.objects.filter(description__endswith=DEMO_LAYOUT_MARK).values_list("pk", flat=True)
    )
    partner_ids = list(
        Partner.objects.filter(name__in=[PARTNER_A, PARTNER_B]).values_list("pk", flat=True)
    )
    trail: list[QuerySet[Any]] = []
    # Ids a chunk at a time: well under SQLite's limit on query parameters.
    for start in range(0, max(len(company_ids), 1), 500):
        chunk = company_ids[start : start + 500]
        trail += [
            Company.history.filter(id__in=chunk),
            Relationship.history.filter(company_id__in=chunk),
            CTA.history.filter(company_id__in=chunk),
            Score.history.filter(company_id__in=chunk),
        ]
    trail += [
        Layout.history.filter(id__in=layout_ids),
        Section.history.filter(layout_id__in=layout_ids),
        Partner.history.filter(id__in=partner_ids),
    ]
    return trail


def _demo_lookups_delete() -> None:
    """Delete the lookups the demo added that nothing else uses any more.

    The CSM's work on the demo companies went with them; the lookups created by the
    migration (activity types, CTA types, priorities, statuses, grade bands) stay.
    """
    playbooks = Q(pk__in=[])
    for spec in PLAYBOOKS:
        playbooks |= Q(name=spec.name, description=spec.description)
    Playbook.objects.filter(playbooks).delete()
    reasons = Q(pk__in=[])
    for cta_type, names in CTA_REASONS.items():
        reasons |= Q(cta_type__name=cta_type, name__in=names)
    CTAReason.objects.filter(reasons).annotate(used=Count("ctas")).filter(used=0).delete()
    SuccessPlanType.objects.filter(name__in=PLAN_TYPES).annotate(used=Count("plans")).filter(
        used=0
    ).delete()
    UsageMetric.objects.filter(name__in=[name for name, _ in USAGE_METRICS]).annotate(
        used=Count("values")
    ).filter(used=0).delete()
    # Scorecards of the demo's relationship types went with the types; those of types
    # still in use stay when someone has scored against them.
    scorecards = [COMPANY_SCORECARD, *(f"{name} health" for name in RELATIONSHIP_MEASURES)]
    Scorecard.objects.filter(name__in=scorecards).annotate(used=Count("measures__scores")).filter(
        used=0
    ).delete()


def demo_counts() -> dict[str, int]:
    """How many records the demo book has, by kind, for the command's summary."""
    companies = demo_companies()
    return {
        "companies": companies.count(),
        "relationships": Relationship.objects.filter(company__in=companies).count(),
        "people": CompanyPerson.objects.filter(company__in=companies).count(),
        "partners": Partner.objects.filter(name__in=[PARTNER_A, PARTNER_B]).count(),
        "activities": Activity.objects.filter(company__in=companies).count(),
        "ctas": CTA.objects.filter(company__in=companies).count(),
        "success plans": SuccessPlan.objects.filter(company__in=companies).count(),
    }
