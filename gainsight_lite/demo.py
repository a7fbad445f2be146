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
relationship types have the names below.
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
from django.db.models import Count, Q
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
BI_SITE = "https://bi.gainsight-lite.example"


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
        "Usage dashboard",
        collapsed=True,
        options=(
            ("url_template", f"{BI_SITE}/accounts/{{external_id}}/usage"),
            ("height", 420),
            ("title", "Product usage dashboard (BI)"),
        ),
    ),
)
EXECUTIVE_SECTIONS = (
    SectionSpec(
        "summary", "At a glance", options=(("widgets", ["arr", "renewal", "csm", "relationships"]),)
    ),
    SectionSpec("relationships", "Relationships"),
    SectionSpec("hierarchy", "Group structure"),
)
# Usage dashboards exist for the products, not for projects or business units.
R360_USAGE = {
    ANALYTICS_CLOUD: f"{BI_SITE}/analytics-cloud/usage?account={{external_id}}"
    "&edition={attr.edition}",
    DATA_PLATFORM: f"{BI_SITE}/data-platform/usage?account={{external_id}}&plan={{attr.plan}}",
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
                ("fields", ["status", "stage", "start_date", "renewal_date", "csm", *own_fields]),
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
                "Usage dashboard",
                collapsed=True,
                options=(("url_template", usage), ("height", 420)),
            )
        )
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
    Enterprise accounts, and a default R360 per relationship type with the type's fields."""
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

    for relationship_type in book.types.values():
        r360 = _demo_default_layout(
            book, relationship_type, f"The {relationship_type.name} page, with its own fields."
        )
        if r360 is not None:
            _demo_sections(r360, _r360_sections(relationship_type))


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


def demo_counts() -> dict[str, int]:
    """How many records the demo book has, by kind, for the command's summary."""
    companies = demo_companies()
    return {
        "companies": companies.count(),
        "relationships": Relationship.objects.filter(company__in=companies).count(),
        "people": CompanyPerson.objects.filter(company__in=companies).count(),
        "partners": Partner.objects.filter(name__in=[PARTNER_A, PARTNER_B]).count(),
    }
