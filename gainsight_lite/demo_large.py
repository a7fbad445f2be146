"""The large demo book (`manage.py seed_demo --scale large`): a big customer's data, fast.

About 100,000 companies in hierarchies up to five levels, 300,000 relationships over five
types, 300,000 people, 2,000,000 timeline activities, 500,000 CTAs with their tasks, 50
partners (Partner A alone manages about a fifth of the companies), and for 10,000 companies
the scores with 90 days of history and 26 weeks of usage. `--companies` scales every figure.

The small demo (gainsight_lite/demo.py) writes through the services, row by row; at this size
that would take hours. Here the lookups, logins, partners and layouts still go through the
small demo's steps and the services, and the bulk of the rows is planned in Python and
written with one multi-row statement per batch (SQLite: executemany; PostgreSQL: COPY), with
the primary keys chosen here so that rows can point at each other without reading anything
back. Everything a service would keep in step is computed, not left out:

- the MPTT fields (tree_id, lft, rght, level) of every company, by a walk over each planned
  tree (roots and siblings in name order, as `order_insertion_by` keeps them);
- `health_score` equal to the latest score snapshot, `is_closed` equal to the CTA status's;
- the guardian permission rows, by `partners.services.partner_grants_sync` (the very rows
  the assignment service writes: `check_partner_permissions` finds no drift).

Every random choice comes from one seeded generator: one seed gives the same book (dates are
relative to the day it is seeded). The book needs a database with no company yet: seed it
into its own database, e.g. `DATABASE_URL=sqlite:///bench.sqlite3`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any

import factory.random
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from faker import Faker
from faker.providers.person.en_US import Provider as PersonNames

from companies.models import MAX_LEVEL, Company, CompanyPerson, Person
from gainsight_lite import demo
from gainsight_lite.demo import (
    ACTIVITY_TEXTS,
    ACTIVITY_WEIGHTS,
    ANALYTICS_CLOUD,
    BU_NAMES,
    BU_REGIONS,
    BUSINESS_UNIT,
    CITIES,
    COMPANY_MEASURES,
    COMPANY_SCORECARD,
    CTA_NAMES,
    CTA_REASONS,
    CTA_TASKS,
    DATA_PLATFORM,
    DEMO_EMAIL_DOMAIN,
    EDITIONS,
    HISTORY_DAYS,
    HOSTING_REGIONS,
    IMPLEMENTATION,
    INDUSTRIES,
    PARTNER_A,
    PARTNER_B,
    PHASES,
    PLANS,
    PROJECT_NAMES,
    REGIONS,
    SITES,
    TITLES,
    DemoBook,
    FieldSpec,
    Progress,
    no_progress,
)
from gainsight_lite.row_counts import row_counts_restore, row_counts_triggers_drop
from gainsight_lite.search_index import search_index_install, search_index_triggers_drop
from partners.models import Partner, PartnerUser
from partners.roles import CSM
from partners.services import partner_grants_sync, partner_user_add
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)
from success.models import (
    CTA,
    Activity,
    ActivityType,
    Score,
    ScoreSnapshot,
    Task,
    UsageValue,
)
from success.services import overall_score
from tests.factories import PartnerFactory

# Company external IDs of the large book start with this (and so with the demo's "DEMO-").
EXTERNAL_ID_PREFIX = "DEMO-L"
LARGE_COMPANIES = 100_000
# Below this a book has too few hierarchies for its partners.
MIN_LARGE_COMPANIES = 200

# Per company, on average: the figures for 100,000 companies.
RELATIONSHIPS_PER_COMPANY = 3
PEOPLE_PER_COMPANY = 3
ACTIVITIES_PER_COMPANY = 20
CTAS_PER_COMPANY = 5
SCORED_SHARE = 0.1  # 10,000 of 100,000 companies have scores, history and usage
USAGE_WEEKS = 26
PARTNERS = 50
PARTNER_A_SHARE = 0.2  # "a partner managing 20k of 100k companies"
OTHER_PARTNERS_SHARE = 0.03  # the other partners together
COMPANIES_PER_CSM = 500
PARTNER_A_USERS = 4  # with the partner-a login
PARTNER_USERS = 2  # every other partner (Partner B: with the partner-b login)

SUPPORT_PLAN = "Support Plan"
SUPPORT_TIERS = ("Standard", "Premier", "Mission critical")
SUPPORT_PLAN_TYPE: tuple[str, tuple[FieldSpec, ...]] = (
    "A support contract: its tier, response time and named contacts.",
    (
        FieldSpec("tier", "Tier", RelationshipTypeField.Kind.CHOICE, True, True, SUPPORT_TIERS),
        FieldSpec("response_hours", "Response time (hours)", RelationshipTypeField.Kind.NUMBER),
        FieldSpec("named_contacts", "Named contacts", RelationshipTypeField.Kind.NUMBER),
        FieldSpec("portal", "Support portal", RelationshipTypeField.Kind.URL),
    ),
)
BATCH_ROWS = 5_000
# The tables written in bulk: their secondary indexes are built after the rows are in.
BULK_MODELS: list[type[models.Model]] = [
    Company,
    Person,
    CompanyPerson,
    Relationship,
    RelationshipPerson,
    Activity,
    Activity.attendees.through,
    CTA,
    Task,
    Score,
    ScoreSnapshot,
    UsageValue,
]


@dataclass
class CompanyPlan:
    """A company before it is written: its place in a tree and what the rows need."""

    id: int
    name: str
    level: int
    parent: CompanyPlan | None
    group: int
    place: str = ""
    children: list[CompanyPlan] = field(default_factory=list)
    free_places: list[str] = field(default_factory=list)
    tree_id: int = 0
    lft: int = 0
    rght: int = 0
    segment: str = ""
    status: str = Company.Status.ACTIVE
    stage: str = ""
    industry: str = ""
    arr: int = 0
    renewal: dt.date | None = None
    contract: dt.date | None = None
    csm_id: int = 0
    partner_id: int | None = None
    health: Decimal | None = None
    relationship_ids: list[int] = field(default_factory=list)
    people_ids: list[int] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)


@dataclass
class LargeBook:
    """What the large book's steps share."""

    companies: int
    rng: random.Random
    book: DemoBook
    today: dt.date
    now: dt.datetime
    progress: Progress
    writer: RowWriter
    plans: list[CompanyPlan] = field(default_factory=list)
    groups: list[list[CompanyPlan]] = field(default_factory=list)
    csm_ids: list[int] = field(default_factory=list)
    partner_users: dict[int, list[int]] = field(default_factory=dict)  # partner id -> users
    partners: list[Partner] = field(default_factory=list)
    types: dict[str, RelationshipType] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # What each step of the build took: (step, wall-clock seconds, CPU seconds of this process).
    phases: list[tuple[str, float, float]] = field(default_factory=list)

    def scaled(self, per_company: float) -> int:
        return round(self.companies * per_company)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time one step of the build into `phases`."""
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.phases.append((name, time.perf_counter() - wall, time.process_time() - cpu))


# ---------------------------------------------------------------------------------------
# Writing rows in bulk
# ---------------------------------------------------------------------------------------


def _batched(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _column(model: type[models.Model], name: str) -> str:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return str(model_field.column)


class RowWriter:
    """Inserts plain rows (values as the database stores them) in batches.

    SQLite gets one `executemany` per batch, PostgreSQL one COPY per table. Values are
    ready-made: text, numbers, None, ISO dates, and timestamps from `stamp()`.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.postgres = connection.vendor == "postgresql"
        # Timestamps are written as UTC text: SQLite's form has no offset (as Django writes
        # it there), PostgreSQL's says it is UTC.
        self.offset = "+00:00" if self.postgres else ""
        self.models: list[type[models.Model]] = []
        self.dropped_indexes: list[tuple[str, str]] = []
        self.dropped_foreign_keys: list[tuple[str, str, str]] = []

    def next_id(self, model: type[models.Model]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT MAX("id") FROM "{model._meta.db_table}"')
            (largest,) = cursor.fetchone()
        return (largest or 0) + 1

    def stamp(self, moment: dt.datetime) -> str:
        """A naive UTC datetime as the database keeps a DateTimeField (whole seconds)."""
        return moment.isoformat(" ", "seconds") + self.offset

    def write(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        label: str,
        total: int,
    ) -> int:
        """Insert `rows` (tuples in the order of `fields`) into `model`'s table."""
        table = model._meta.db_table
        columns = ", ".join(f'"{_column(model, name)}"' for name in fields)
        if model not in self.models:
            self.models.append(model)
        connection.ensure_connection()
        raw: Any = connection.connection
        done = 0
        total = max(total, 1)
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy,
            ):
                for batch in _batched(rows, BATCH_ROWS):
                    for row in batch:
                        copy.write_row(row)
                    done += len(batch)
                    self.progress(label, min(done, total), total)
        else:
            marks = ", ".join("?" * len(fields))
            sql = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
            cursor = raw.cursor()
            try:
                for batch in _batched(rows, BATCH_ROWS):
                    cursor.executemany(sql, batch)
                    done += len(batch)
                    self.progress(label, min(done, total), total)
            finally:
                cursor.close()
        if done != total:
            self.progress(label, total, total)
        return done

    def foreign_keys_drop(self, models_: Sequence[type[models.Model]]) -> None:
        """PostgreSQL: drop these tables' foreign keys until `foreign_keys_create`.

        Deferred foreign keys queue one trigger event per row and refuse CREATE INDEX while
        any is pending; adding each constraint back checks the whole table in one join, as
        pg_restore does. (SQLite: switched off around the transaction, checked at the end.)
        """
        if not self.postgres:
            return
        tables = [model._meta.db_table for model in models_]
        self._pending_checks_run()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE c.contype = 'f' AND t.relname = ANY(%s)",
                [tables],
            )
            found = cursor.fetchall()
            for table, name, _ in found:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        self.dropped_foreign_keys.extend(found)

    def _pending_checks_run(self) -> None:
        """PostgreSQL: run the deferred checks of the rows written so far (the services'),
        which otherwise forbid altering or indexing their tables in this transaction."""
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def foreign_keys_create(self) -> None:
        """Add back the foreign keys `foreign_keys_drop` dropped; each checks its table."""
        self._pending_checks_run()
        total = len(self.dropped_foreign_keys)
        with connection.cursor() as cursor:
            for number, (table, name, definition) in enumerate(self.dropped_foreign_keys, 1):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                self.progress("Checking foreign keys", number, total)
        self.dropped_foreign_keys = []

    def indexes_drop(self, models_: Sequence[type[models.Model]]) -> None:
        """Drop the secondary indexes of these tables until `indexes_create`.

        Building an index once over sorted rows is several times faster than growing it one
        random insert at a time. The primary keys and unique constraints stay (an index that
        backs a unique constraint is kept on PostgreSQL; SQLite's implicit ones cannot go).
        """
        tables = [model._meta.db_table for model in models_]
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                    "current_schema() AND tablename = ANY(%s) AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint)",
                    [tables],
                )
            else:
                marks = ", ".join(["%s"] * len(tables))
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                    f"AND tbl_name IN ({marks})",
                    tables,
                )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f'DROP INDEX "{name}"')
        self.dropped_indexes.extend(found)

    def indexes_create(self) -> None:
        """Build the indexes `indexes_drop` dropped, as they were."""
        self._pending_checks_run()
        total = len(self.dropped_indexes)
        with connection.cursor() as cursor:
            for number, (_, definition) in enumerate(self.dropped_indexes, start=1):
                cursor.execute(definition)
                self.progress("Building indexes", number, total)
        self.dropped_indexes = []

    def sequences_reset(self) -> None:
        """PostgreSQL: move the id sequences past the ids chosen here."""
        if not self.postgres or not self.models:
            return
        statements = connection.ops.sequence_reset_sql(no_style(), self.models)
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


# ---------------------------------------------------------------------------------------
# Users and partners (through the services: there are few of them)
# ---------------------------------------------------------------------------------------

FIRST_NAMES = list(PersonNames.first_names)
LAST_NAMES = list(PersonNames.last_names)


def seed_people_who_work(large: LargeBook) -> None:
    """The demo logins, Partner A and B, 48 other partners, the CSMs and partner users."""
    book, rng = large.book, large.rng
    demo.seed_partners(book)
    demo.seed_users(book)
    partner_count = max(3, min(PARTNERS, large.companies // 2_000))
    regions = ["EMEA", "NA", "APAC", "LATAM"]
    used = set(Partner.objects.values_list("name", flat=True))
    others: list[Partner] = []
    while len(others) < partner_count - 2:
        name = f"{rng.choice(LAST_NAMES)} {rng.choice(['Consulting', 'Partners', 'Services'])}"
        if name in used:
            continue
        used.add(name)
        scope = (
            Partner.DataScope.COMPANIES_ONLY
            if len(others) % 5 == 4
            else Partner.DataScope.COMPANIES_AND_RELATIONSHIPS
        )
        others.append(
            PartnerFactory(
                name=name,
                region=regions[len(others) % len(regions)],
                data_scope=scope,
                contact_email=f"success@{demo._slug(name)}.example",
            )
        )
    large.partners = [book.partners[PARTNER_A], book.partners[PARTNER_B], *others]

    # Internal CSMs beyond the demo's four: no password (they are not demo logins).
    csm_count = max(4, large.companies // COMPANIES_PER_CSM)
    taken = set(User.objects.values_list("username", flat=True))
    new_users: list[User] = []
    for number in range(csm_count - len(book.csms)):
        username = f"csm-{number + 1:04d}"
        if username in taken:
            continue
        new_users.append(_user(rng, username))
    partner_slots: list[tuple[Partner, User]] = []
    for partner in large.partners:
        wanted = PARTNER_A_USERS if partner.name == PARTNER_A else PARTNER_USERS
        have = PartnerUser.objects.filter(partner=partner).count()
        for number in range(wanted - have):
            username = f"{demo._slug(partner.name)}-{number + 1}"
            if username in taken:
                continue
            user = _user(rng, username)
            new_users.append(user)
            partner_slots.append((partner, user))
    User.objects.bulk_create(new_users)
    csm_group = Group.objects.get(name=CSM)
    csm_users = [u for u in new_users if u.username.startswith("csm-")]
    csm_group.user_set.add(*csm_users)
    for partner, user in partner_slots:
        partner_user_add(partner=partner, user=user)
    # The `csm` login first: it owns twice the share of any other CSM.
    large.csm_ids = [user.pk for user in book.csms] + [user.pk for user in csm_users]
    for partner_id, user_id in PartnerUser.objects.filter(partner__in=large.partners).values_list(
        "partner_id", "user_id"
    ):
        large.partner_users.setdefault(partner_id, []).append(user_id)


def _user(rng: random.Random, username: str) -> User:
    user = User(
        username=username,
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        email=f"{username}@{DEMO_EMAIL_DOMAIN}",
    )
    user.password = make_password(None)  # unusable: cannot log in
    return user


def seed_types_and_layouts(large: LargeBook) -> None:
    """The small demo's four relationship types, a fifth (Support Plan), and the layouts."""
    _types_and_layouts(large.book)
    large.types = dict(large.book.types)


def _types_and_layouts(book: DemoBook) -> None:
    demo.seed_relationship_types(book)
    description, fields = SUPPORT_PLAN_TYPE
    support, _ = RelationshipType.objects.get_or_create(
        name=SUPPORT_PLAN, defaults={"description": description, "order": len(book.types)}
    )
    existing = set(support.fields.values_list("key", flat=True))
    RelationshipTypeField.objects.bulk_create(
        RelationshipTypeField(
            relationship_type=support,
            key=spec.key,
            label=spec.label,
            kind=spec.kind,
            required=spec.required,
            shown_in_lists=spec.shown_in_lists,
            choices=list(spec.choices),
            order=position,
        )
        for position, spec in enumerate(fields)
        if spec.key not in existing
    )
    book.types[SUPPORT_PLAN] = RelationshipType.objects.prefetch_related("fields").get(
        pk=support.pk
    )
    demo.seed_layouts(book)


# ---------------------------------------------------------------------------------------
# Companies: hierarchies planned in memory, tree fields computed in one walk
# ---------------------------------------------------------------------------------------


def _child_places(node: CompanyPlan) -> list[str]:
    if node.level == 0:
        return list(REGIONS)
    if node.level == 1:
        return list(REGIONS[node.place])
    if node.level == 2:
        return list(CITIES[node.place])
    return list(SITES)


def plan_companies(large: LargeBook) -> None:
    """Shape the book: single companies, small groups, and large groups five levels deep."""
    rng = large.rng
    first_id = large.writer.next_id(Company)
    used = set(Company.objects.values_list("name", flat=True))
    words = list(INDUSTRIES.items())
    plans: list[CompanyPlan] = []

    def root_name() -> tuple[str, str]:
        while True:
            industry, word = rng.choice(words)
            brand = rng.choice(LAST_NAMES)
            if rng.random() < 0.5:
                brand = f"{brand}-{rng.choice(LAST_NAMES)}"
            name = f"{brand} {word}"
            if name not in used:
                used.add(name)
                return name, industry

    def add(
        name: str, level: int, parent: CompanyPlan | None, group: int, place: str
    ) -> CompanyPlan:
        node = CompanyPlan(
            id=first_id + len(plans),
            name=name,
            level=level,
            parent=parent,
            group=group,
            place=place,
        )
        if parent is not None:
            parent.children.append(node)
            parent.free_places.remove(place)
        plans.append(node)
        return node

    while len(plans) < large.companies:
        remaining = large.companies - len(plans)
        pick = rng.random()
        if pick < 0.8 or remaining < 2:
            size, depth = 1, 1
        elif pick < 0.98:
            size, depth = rng.randint(2, 12), rng.randint(2, 4)
        else:
            size, depth = rng.randint(20, 150), MAX_LEVEL + 1
        size = min(size, remaining)
        group = len(large.groups)
        name, industry = root_name()
        root = add(name, 0, None, group, "")
        root.industry = industry
        members = [root]
        open_nodes: list[CompanyPlan] = []
        if depth > 1:
            root.free_places = _child_places(root)
            open_nodes.append(root)
        while len(members) < size and open_nodes:
            # The first children make a spine down to the group's depth, then it fills out.
            parent = members[-1] if len(members) < depth else rng.choice(open_nodes)
            if not parent.free_places:
                parent = rng.choice(open_nodes)
            place = rng.choice(parent.free_places)
            child_name = (
                f"{parent.name} {place}" if parent.level == MAX_LEVEL - 1 else f"{name} {place}"
            )
            child = add(child_name, parent.level + 1, parent, group, place)
            child.industry = industry
            members.append(child)
            if not parent.free_places:
                open_nodes.remove(parent)
            if child.level < depth - 1:
                child.free_places = _child_places(child)
                open_nodes.append(child)
        large.groups.append(members)
    large.plans = plans
    _tree_fields(large)


def _tree_fields(large: LargeBook) -> None:
    """MPTT's fields: trees numbered in root-name order, each walked with siblings by name."""
    first_tree = 1
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT MAX("tree_id") FROM "{Company._meta.db_table}"')
        (largest,) = cursor.fetchone()
        first_tree = (largest or 0) + 1
    roots = sorted((group[0] for group in large.groups), key=lambda node: node.name)
    for offset, root in enumerate(roots):
        tree_id = first_tree + offset
        counter = 1
        # Iterative depth-first walk: (node, children left to visit).
        root.lft = counter
        stack: list[tuple[CompanyPlan, Iterator[CompanyPlan]]] = [
            (root, iter(sorted(root.children, key=lambda node: node.name)))
        ]
        root.tree_id = tree_id
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                counter += 1
                node.rght = counter
                stack.pop()
                continue
            counter += 1
            child.lft = counter
            child.tree_id = tree_id
            stack.append((child, iter(sorted(child.children, key=lambda n: n.name))))


def plan_company_fields(large: LargeBook) -> None:
    """Segment, status, revenue, dates, CSM and partner of every planned company."""
    rng, today = large.rng, large.today
    csms = large.csm_ids
    # The `csm` login owns about twice the share of any other CSM.
    csm_weights = [2.0] + [1.0] * (len(csms) - 1)
    order = list(range(len(large.groups)))
    rng.shuffle(order)
    partner_a, *others = large.partners
    target_a = round(large.companies * PARTNER_A_SHARE)
    target_others = round(large.companies * OTHER_PARTNERS_SHARE)
    managed_a = managed_others = 0
    turn = 0
    group_partner: dict[int, int] = {}
    for group in order:
        size = len(large.groups[group])
        if managed_a < target_a:
            group_partner[group] = partner_a.pk
            managed_a += size
        elif managed_others < target_others and size <= 40:
            group_partner[group] = others[turn % len(others)].pk
            managed_others += size
            turn += 1
    for index, members in enumerate(large.groups):
        csm = rng.choices(csms, weights=csm_weights)[0]
        single = len(members) == 1
        for node in members:
            node.partner_id = group_partner.get(index)
            node.csm_id = rng.choice(csms) if node.level >= 2 and rng.random() < 0.25 else csm
            if single:
                node.segment = rng.choices(list(Company.Segment), weights=[2, 4, 4])[0]
                node.status = rng.choices(list(Company.Status), weights=[70, 14, 8, 8])[0]
            else:
                node.segment = (
                    Company.Segment.ENTERPRISE if node.level <= 1 else Company.Segment.MID_MARKET
                )
                node.status = (
                    Company.Status.ACTIVE if rng.random() < 0.82 else Company.Status.AT_RISK
                )
            if node.status == Company.Status.PROSPECT:
                node.stage = Company.Stage.ONBOARDING
                continue
            low, high = {
                Company.Segment.ENTERPRISE: (120_000, 600_000),
                Company.Segment.MID_MARKET: (30_000, 120_000),
                Company.Segment.SMB: (6_000, 30_000),
            }[Company.Segment(node.segment)]
            renewal = today + dt.timedelta(days=rng.randint(-45, 365))
            if node.status == Company.Status.CHURNED:
                renewal = today - dt.timedelta(days=rng.randint(20, 200))
            contract = renewal - dt.timedelta(days=365 * rng.randint(1, 4))
            if contract > today - dt.timedelta(days=30):
                contract -= dt.timedelta(days=365)
            node.renewal, node.contract = renewal, contract
            node.arr = 0 if node.status == Company.Status.CHURNED else rng.randrange(low, high, 500)
            if (renewal - today).days <= 90:
                node.stage = Company.Stage.RENEWAL
            elif (today - contract).days < 180:
                node.stage = Company.Stage.ONBOARDING
            else:
                node.stage = rng.choice([Company.Stage.ADOPTION, Company.Stage.EXPANSION])


def _external_id(node: CompanyPlan) -> str:
    return f"{EXTERNAL_ID_PREFIX}{node.id:06d}"


def _money(value: int | float) -> str:
    return f"{value:.2f}"


def write_companies(large: LargeBook) -> None:
    """One row per planned company, parents first (the parent key is checked on insert)."""
    writer = large.writer
    now = writer.stamp(large.now)
    fields = (
        "id", "name", "parent", "external_id", "industry", "segment", "stage", "status",
        "arr", "mrr", "renewal_date", "original_contract_date", "csm", "managed_by",
        "health_score", "created_at", "updated_at", "lft", "rght", "tree_id", "level",
    )  # fmt: skip
    ordered = sorted(large.plans, key=lambda node: node.level)
    rows = (
        (
            node.id,
            node.name,
            node.parent.id if node.parent else None,
            _external_id(node),
            node.industry,
            node.segment,
            node.stage,
            node.status,
            _money(node.arr),
            _money(node.arr / 12),
            node.renewal.isoformat() if node.renewal else None,
            node.contract.isoformat() if node.contract else None,
            node.csm_id,
            node.partner_id,
            str(node.health) if node.health is not None else None,
            now,
            now,
            node.lft,
            node.rght,
            node.tree_id,
            node.level,
        )
        for node in ordered
    )
    large.counts["companies"] = writer.write(
        Company, fields, rows, label="Writing companies", total=len(ordered)
    )


# ---------------------------------------------------------------------------------------
# People and relationships
# ---------------------------------------------------------------------------------------


def write_people(large: LargeBook) -> None:
    """About three people per company (a sponsor first, the others report to them)."""
    rng, writer = large.rng, large.writer
    now = writer.stamp(large.now)
    person_id = writer.next_id(Person)
    link_id = writer.next_id(CompanyPerson)
    sizes: dict[str, tuple[int, int]] = {
        Company.Segment.ENTERPRISE: (4, 6),
        Company.Segment.MID_MARKET: (3, 4),
        Company.Segment.SMB: (2, 3),
    }
    target = large.scaled(PEOPLE_PER_COMPANY)
    # The segments' sizes, scaled so that the book has the target on average.
    expected = sum(sum(sizes[n.segment]) / 2 for n in large.plans)
    keep = target / max(1.0, expected)
    persons: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    emails: set[str] = set()
    roles = [CompanyPerson.Role.EXECUTIVE_SPONSOR, CompanyPerson.Role.DECISION_MAKER,
             CompanyPerson.Role.CHAMPION]  # fmt: skip
    sentiments = _pool(list(CompanyPerson.Sentiment), [5, 3, 1, 2])
    pick = rng.random
    for node in large.plans:
        low, high = sizes[node.segment]
        # Rounded up or down at random, so the sizes add up to the target on average.
        size = max(1, int((low + int(pick() * (high - low + 1))) * keep + pick()))
        domain = demo._slug(node.name)
        sponsor: int | None = None
        for position in range(size):
            first = FIRST_NAMES[int(pick() * len(FIRST_NAMES))]
            last = LAST_NAMES[int(pick() * len(LAST_NAMES))]
            email = f"{first}.{last}@{domain}.example".lower()
            if email in emails:
                email = f"{first}.{last}.{person_id}@{domain}.example".lower()
            emails.add(email)
            phone = f"+1 555 {100 + int(pick() * 900)} {1000 + int(pick() * 9000)}"
            persons.append((person_id, first, last, email, phone, now))
            role = roles[position] if position < len(roles) else CompanyPerson.Role.USER
            titles = TITLES[role]
            title = titles[int(pick() * len(titles))]
            sentiment = sentiments[int(pick() * len(sentiments))]
            links.append(
                (
                    link_id,
                    node.id,
                    person_id,
                    title,
                    role,
                    int(position == 0),
                    sentiment,
                    sponsor,
                    now,
                )  # fmt: skip
            )
            node.people_ids.append(link_id)
            if position == 0:
                sponsor = link_id
            if role == CompanyPerson.Role.CHAMPION or (position == 0 and not node.contacts):
                node.contacts.append(f"{first} {last}")
            person_id += 1
            link_id += 1
    large.counts["people"] = writer.write(
        Person,
        ("id", "first_name", "last_name", "email", "phone", "created_at"),
        persons,
        label="Writing people",
        total=len(persons),
    )
    writer.write(
        CompanyPerson,
        (
            "id",
            "company",
            "person",
            "title",
            "role",
            "is_sponsor",
            "sentiment",
            "manager",
            "created_at",
        ),  # fmt: skip
        links,
        label="Placing people at companies",
        total=len(links),
    )


# By segment (the stored text: TextChoices members hash as their value).
EDITION_BY_SEGMENT: dict[str, str] = {
    Company.Segment.ENTERPRISE: EDITIONS[2],
    Company.Segment.MID_MARKET: EDITIONS[1],
}
PLAN_BY_SEGMENT: dict[str, str] = {
    Company.Segment.ENTERPRISE: PLANS[2],
    Company.Segment.MID_MARKET: PLANS[1],
}


def _attributes(rng: random.Random, node: CompanyPlan, slug: str, kind: str, arr: int,
                start: dt.date, today: dt.date) -> str:  # fmt: skip
    """The type's fields as a CSM fills them in, already in their stored (clean) form."""
    values: dict[str, Any]
    if kind == ANALYTICS_CLOUD:
        values = {
            "edition": EDITION_BY_SEGMENT.get(node.segment, EDITIONS[0]),
            "seats": max(5, arr // 600),
            "adoption": rng.randint(22, 97),
            "go_live": (start + dt.timedelta(days=rng.randint(30, 90))).isoformat(),
            "sso_enabled": node.segment == Company.Segment.ENTERPRISE or rng.random() < 0.3,
            "admin_console": f"https://{slug}.analytics-cloud.example/admin",
        }
    elif kind == DATA_PLATFORM:
        values = {
            "plan": PLAN_BY_SEGMENT.get(node.segment, PLANS[0]),
            "hosting_region": rng.choice(HOSTING_REGIONS),
            "monthly_commit": round(arr / 12, 2),
            "storage_tb": rng.randint(1, 250),
            "hipaa_workload": node.industry == "Healthcare",
            "support_contact": f"dataops@{slug}.example",
        }
    elif kind == IMPLEMENTATION:
        phase = min(len(PHASES) - 1, (today - start).days // 25)
        values = {
            "project_code": f"IMP-{start.year}-{rng.randint(100, 999)}",
            "phase": PHASES[phase],
            "kickoff": start.isoformat(),
            "target_go_live": (start + dt.timedelta(days=rng.choice([90, 120, 150]))).isoformat(),
            "budget": rng.randrange(15_000, 120_000, 2_500),
            "percent_complete": min(100, phase * 18 + rng.randint(0, 10)),
            "status_report": f"https://projects.gainsight-lite.example/{slug}",
        }
    elif kind == BUSINESS_UNIT:
        values = {
            "cost_center": f"CC-{rng.randint(1000, 9999)}",
            "headcount": rng.randint(12, 900),
            "region": rng.choice(BU_REGIONS),
        }
    else:
        values = {
            "tier": rng.choice(SUPPORT_TIERS),
            "response_hours": rng.choice([1, 4, 8, 24]),
            "named_contacts": rng.randint(2, 10),
            "portal": f"https://support.gainsight-lite.example/{slug}",
        }
    return json.dumps(values)


def write_relationships(large: LargeBook) -> None:
    """About three relationships per company over the five types, with valid attributes."""
    rng, writer, today = large.rng, large.writer, large.today
    now = writer.stamp(large.now)
    relationship_id = writer.next_id(Relationship)
    types = large.types
    count_pool = _pool([1, 2, 3, 4, 5], [15, 25, 25, 20, 15])  # 2.95 on average
    scale = large.scaled(RELATIONSHIPS_PER_COMPANY) / (2.95 * large.companies)
    own_partner = [p.pk for p in large.partners if p.sees_relationships]
    type_pks = {kind: relationship_type.pk for kind, relationship_type in types.items()}
    rows: list[tuple[Any, ...]] = []
    pick = rng.random
    day = dt.timedelta(days=1)
    latest_start = today - dt.timedelta(days=10)
    no_contract = today - dt.timedelta(days=400)
    for node in large.plans:
        options = [
            (ANALYTICS_CLOUD, ANALYTICS_CLOUD),
            (DATA_PLATFORM, DATA_PLATFORM),
            (SUPPORT_PLAN, f"{rng.choice(SUPPORT_TIERS)} support"),
            (IMPLEMENTATION, rng.choice(PROJECT_NAMES[ANALYTICS_CLOUD])),
            (IMPLEMENTATION, rng.choice(PROJECT_NAMES[DATA_PLATFORM])),
            *((BUSINESS_UNIT, unit) for unit in rng.sample(BU_NAMES, 2)),
        ]
        count = min(len(options), max(1, round(count_pool[int(pick() * len(count_pool))] * scale)))
        chosen = rng.sample(options, count)
        slug = demo._slug(node.name)
        revenue = [kind for kind, _ in chosen if kind != IMPLEMENTATION]
        share = node.arr // max(1, len(revenue))
        churned = node.status == Company.Status.CHURNED
        for kind, name in chosen:
            arr = 0 if kind == IMPLEMENTATION else share
            base = node.contract or no_contract
            start = min(base + day * int(pick() * 121), latest_start)
            if churned:
                status = Relationship.Status.CHURNED
            elif node.status == Company.Status.AT_RISK and pick() < 0.4:
                status = Relationship.Status.AT_RISK
            elif kind == IMPLEMENTATION and pick() < 0.15:
                status = Relationship.Status.ON_HOLD
            else:
                status = Relationship.Status.ACTIVE
            renewal = node.renewal + day * int(pick() * 151) if node.renewal else None
            # A few projects and platforms of in-house companies are run by a partner.
            managed_by = None
            if (
                node.partner_id is None
                and kind in (IMPLEMENTATION, DATA_PLATFORM)
                and pick() < 0.05
            ):
                managed_by = own_partner[int(pick() * len(own_partner))]
            rows.append(
                (
                    relationship_id,
                    node.id,
                    type_pks[kind],
                    name,
                    status,
                    node.stage,
                    node.csm_id,
                    _money(arr),
                    _money(arr / 12),
                    start.isoformat(),
                    renewal.isoformat() if renewal else None,
                    managed_by,
                    _attributes(rng, node, slug, kind, arr, start, today),
                    now,
                    now,
                )  # fmt: skip
            )
            node.relationship_ids.append(relationship_id)
            if kind in (ANALYTICS_CLOUD, DATA_PLATFORM):
                node.products.append(kind)
            relationship_id += 1
    large.counts["relationships"] = writer.write(
        Relationship,
        (
            "id",
            "company",
            "relationship_type",
            "name",
            "status",
            "stage",
            "csm",
            "arr",
            "mrr",
            "start_date",
            "renewal_date",
            "managed_by",
            "attributes",
            "created_at",
            "updated_at",
        ),  # fmt: skip
        rows,
        label="Writing relationships",
        total=len(rows),
    )
    link_id = writer.next_id(RelationshipPerson)
    person_roles = list(RelationshipPerson.Role)
    links = (
        (
            link_id + n,
            rel,
            node.people_ids[int(pick() * len(node.people_ids))],
            person_roles[int(pick() * len(person_roles))],
            now,
        )
        for n, (node, rel) in enumerate(
            (node, rel) for node in large.plans for rel in node.relationship_ids
        )
    )
    writer.write(
        RelationshipPerson,
        ("id", "relationship", "company_person", "role", "created_at"),
        links,
        label="Putting people on relationships",
        total=len(rows),
    )


# ---------------------------------------------------------------------------------------
# Activities, CTAs and tasks
# ---------------------------------------------------------------------------------------


class _Fill(dict[str, Any]):
    """Format values for the demo's texts; a placeholder nobody filled stays readable."""

    def __missing__(self, key: str) -> str:
        return key


def _weights(large: LargeBook) -> list[float]:
    by_segment = {
        Company.Segment.ENTERPRISE: 3.0,
        Company.Segment.MID_MARKET: 1.2,
        Company.Segment.SMB: 0.6,
    }
    return [
        0.3 if node.status == Company.Status.PROSPECT else by_segment[Company.Segment(node.segment)]
        for node in large.plans
    ]


def _counts(large: LargeBook, per_company: float) -> list[int]:
    """How many records each company gets: `per_company` on average, more for big ones."""
    weights = _weights(large)
    factor = large.scaled(per_company) / sum(weights)
    rng = large.rng
    return [int(weight * factor + rng.random()) for weight in weights]


def _pool(options: Sequence[Any], weights: Sequence[int]) -> list[Any]:
    """The options repeated by their (whole-number) weights: one random() picks from it as
    `random.choices(options, weights)` would, without its per-call setup."""
    return [option for option, weight in zip(options, weights, strict=True) for _ in range(weight)]


def write_activities(large: LargeBook) -> None:
    """Twenty activities per company on average over the past year, some on relationships.

    Meetings have one of the company's people as attendee.
    """
    rng, writer, today = large.rng, large.writer, large.today
    types = {t.name: t.pk for t in ActivityType.objects.filter(name__in=ACTIVITY_WEIGHTS)}
    names = [name for name in ACTIVITY_WEIGHTS if name in types]
    weights = [ACTIVITY_WEIGHTS[name] for name in names]
    first_id = activity_id = writer.next_id(Activity)
    counts = _counts(large, ACTIVITIES_PER_COMPANY)
    total = sum(counts)
    start = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(8))
    attendees: list[tuple[int, int]] = []
    pick = rng.random
    # The type names repeated by weight, and every ten minutes of the working days of a year.
    kinds = [name for name, weight in zip(names, weights, strict=True) for _ in range(weight)]
    moments = [
        writer.stamp(start + dt.timedelta(days=day, minutes=minute))
        for day in range(365)
        for minute in range(0, 600, 10)
    ]
    durations = {"Call": (15, 60), "Meeting": (30, 90)}

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal activity_id
        for node, count in zip(large.plans, counts, strict=True):
            if not count:
                continue
            fill = _Fill(
                contact=node.contacts[0] if node.contacts else "the champion",
                company=node.name,
                product=node.products[0] if node.products else ANALYTICS_CLOUD,
                slug=demo._slug(node.name),
                docs=demo.DOCS_SITE,
                support=demo.SUPPORT_SITE,
                meet=demo.MEETINGS_SITE,
                bi=demo.BI_SITE,
                external_id=_external_id(node),
                number=rng.randint(10_000, 99_999),
                renewal=node.renewal.isoformat() if node.renewal else "next year",
                users=rng.randint(12, 400),
                weeks=rng.randint(2, 6),
                month="last month",
                attendee_count=2,
            )
            texts = {
                name: [
                    (s.format_map(fill)[:200], n.format_map(fill)) for s, n in ACTIVITY_TEXTS[name]
                ]
                for name in names
            }
            rels = node.relationship_ids
            people = node.people_ids
            authors = large.partner_users.get(node.partner_id or 0, [])
            for _ in range(count):
                # The hot loop of the book (two million rows): random() and precomputed
                # tables rather than choices(), randint() and datetime arithmetic.
                name = kinds[int(pick() * len(kinds))]
                options = texts[name]
                subject, notes = options[int(pick() * len(options))]
                moment = moments[int(pick() * len(moments))]
                span = durations.get(name)
                relationship = rels[int(pick() * len(rels))] if rels and pick() < 0.4 else None
                if name == "Meeting" and people:
                    attendees.append((activity_id, people[int(pick() * len(people))]))
                author = (
                    authors[int(pick() * len(authors))] if authors and pick() < 0.5 else node.csm_id
                )
                yield (
                    activity_id, node.id, relationship, types[name], subject, notes, moment,
                    span[0] + int(pick() * (span[1] - span[0])) if span else None, author,
                    moment, moment,
                )  # fmt: skip
                activity_id += 1

    large.counts["activities"] = writer.write(
        Activity,
        (
            "id",
            "company",
            "relationship",
            "activity_type",
            "subject",
            "notes",
            "occurred_at",
            "duration_minutes",
            "author",
            "created_at",
            "updated_at",
        ),  # fmt: skip
        rows(),
        label="Writing timeline activities",
        total=total,
    )
    through = Activity.attendees.through
    attendee_first = writer.next_id(through)
    writer.write(
        through,
        ("id", "activity", "companyperson"),
        ((attendee_first + n, a, p) for n, (a, p) in enumerate(attendees)),
        label="Adding meeting attendees",
        total=len(attendees),
    )
    assert activity_id - first_id == large.counts["activities"]


def write_ctas(large: LargeBook) -> None:
    """Five CTAs per company on average: most closed, the open ones due over the coming weeks,
    each with up to three tasks (all done on a closed CTA)."""
    rng, writer, today = large.rng, large.writer, large.today
    lookups = demo._cta_lookups()
    reasons = {
        type_name: [lookups.reasons[(type_name, name)] for name in names]
        for type_name, names in CTA_REASONS.items()
    }
    type_names = list(CTA_REASONS)
    # Every random choice of the hot loop (half a million rows) is one random() into a
    # precomputed table: options repeated by weight, moments and their stored text.
    pick = rng.random
    type_pool = _pool(type_names, [30, 35, 15, 20][: len(type_names)])
    type_pks = {name: lookups.types[name].pk for name in type_names}
    reason_rows = {
        name: [(reason.pk, CTA_NAMES.get(reason.name, (reason.name,))) for reason in options]
        for name, options in reasons.items()
    }
    priority_pool = _pool(
        [priority.pk for priority in lookups.priorities], [2, 5, 3][: len(lookups.priorities)]
    )
    open_rows = [(status.pk, int(status.is_closed)) for status in lookups.open_statuses]
    closed_first, closed_last = lookups.closed_statuses[0], lookups.closed_statuses[-1]
    won = (closed_first.pk, int(closed_first.is_closed))
    lost = (closed_last.pk, int(closed_last.is_closed))
    task_counts = (0, 1, 1, 2, 2, 3)
    task_titles = {name: CTA_TASKS.get(name, ("Follow up",)) for name in type_names}
    cta_id = writer.next_id(CTA)
    task_id = writer.next_id(Task)
    counts = _counts(large, CTAS_PER_COMPANY)
    total = sum(counts)
    tasks: list[tuple[Any, ...]] = []
    opened_from = dt.datetime.combine(today - dt.timedelta(days=300), dt.time(9))
    # A CTA is opened at a whole hour of the working day, on one of 290 days.
    opened = [
        opened_from + dt.timedelta(days=day, hours=hour) for day in range(290) for hour in range(8)
    ]
    opened_stamps = [writer.stamp(moment) for moment in opened]
    now = large.now
    day = dt.timedelta(days=1)

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal cta_id, task_id
        for node, count in zip(large.plans, counts, strict=True):
            if not count:
                continue
            rels = node.relationship_ids
            product = node.products[0] if node.products else ANALYTICS_CLOUD
            fill = _Fill(
                product=product,
                contact=node.contacts[0] if node.contacts else "the champion",
                company=node.name,
                renewal=node.renewal.isoformat() if node.renewal else "next year",
                other=DATA_PLATFORM if product == ANALYTICS_CLOUD else ANALYTICS_CLOUD,
            )
            authors = large.partner_users.get(node.partner_id or 0, [])
            csm = node.csm_id
            for _ in range(count):
                type_name = type_pool[int(pick() * len(type_pool))]
                options = reason_rows[type_name]
                reason_pk, names = options[int(pick() * len(options))]
                fill["pct"] = 15 + int(pick() * 26)
                fill["quarter"] = 1 + int(pick() * 4)
                fill["unit"] = BU_NAMES[int(pick() * len(BU_NAMES))]
                name = names[int(pick() * len(names))].format_map(fill)[:80]
                # The company's CSM, or one of its partner's users about half the time.
                owner = authors[int(pick() * len(authors))] if authors and pick() < 0.5 else csm
                moment = int(pick() * len(opened))
                created, created_at = opened[moment], opened_stamps[moment]
                closed = pick() < 0.6
                snoozed = None
                if closed:
                    status, is_closed = won if pick() < 0.75 else lost
                    closed_at: dt.datetime | None = min(created + day * (1 + int(pick() * 60)), now)
                    due: dt.date | None = (created + day * (7 + int(pick() * 39))).date()
                else:
                    status, is_closed = open_rows[int(pick() * len(open_rows))]
                    closed_at = None
                    bucket = pick()
                    if bucket < 0.1:
                        due = None
                    elif bucket < 0.35:
                        due = today - day * (1 + int(pick() * 30))
                    else:
                        due = today + day * int(pick() * 61)
                    if pick() < 0.05:
                        snoozed = (today + day * (1 + int(pick() * 14))).isoformat()
                closed_stamp = writer.stamp(closed_at) if closed_at else None
                relationship = rels[int(pick() * len(rels))] if rels and pick() < 0.5 else None
                yield (
                    cta_id, node.id, relationship,
                    name, type_pks[type_name], reason_pk,
                    priority_pool[int(pick() * len(priority_pool))],
                    status, is_closed, owner,
                    due.isoformat() if due else None,
                    snoozed,
                    csm, created_at, closed_stamp or created_at,
                    closed_stamp,
                    owner if closed_at else None,
                )  # fmt: skip
                titles = task_titles[type_name]
                for order in range(task_counts[int(pick() * len(task_counts))]):
                    if closed:
                        done, done_at = 1, closed_stamp
                    elif pick() < 0.3:
                        done = 1
                        done_at = writer.stamp(min(created + day * int(pick() * 6), now))
                    else:
                        done, done_at = 0, None
                    task_due = due - day * (3 * order) if due else None
                    tasks.append(
                        (
                            task_id,
                            cta_id,
                            titles[order % len(titles)],
                            owner,
                            task_due.isoformat() if task_due else None,
                            done,
                            done_at,
                            order,
                        )  # fmt: skip
                    )
                    task_id += 1
                cta_id += 1

    large.counts["ctas"] = writer.write(
        CTA,
        (
            "id",
            "company",
            "relationship",
            "name",
            "cta_type",
            "reason",
            "priority",
            "status",
            "is_closed",
            "owner",
            "due_date",
            "snoozed_until",
            "created_by",
            "created_at",
            "updated_at",
            "closed_at",
            "closed_by",
        ),  # fmt: skip
        rows(),
        label="Writing CTAs",
        total=total,
    )
    large.counts["tasks"] = writer.write(
        Task,
        ("id", "cta", "title", "owner", "due_date", "done", "done_at", "order"),
        tasks,
        label="Writing CTA tasks",
        total=len(tasks),
    )


# ---------------------------------------------------------------------------------------
# Scores, their history, usage
# ---------------------------------------------------------------------------------------


def plan_scores(large: LargeBook) -> list[tuple[CompanyPlan, list[int], list[list[int]]]]:
    """Scores of one company in ten: current values and 90 days of history per measure.

    Sets each scored company's health score to the overall score of today's snapshot.
    """
    rng, book = large.rng, large.book
    measures = demo._demo_scorecard(book, COMPANY_SCORECARD, None, COMPANY_MEASURES) or []
    if not measures:
        return []
    customers = [n for n in large.plans if n.status != Company.Status.PROSPECT]
    chosen = rng.sample(customers, min(len(customers), large.scaled(SCORED_SHARE)))
    chosen.sort(key=lambda node: node.id)
    planned = []
    for node in chosen:
        base = demo._base_health(book, node.status)
        declining = node.status in (Company.Status.AT_RISK, Company.Status.CHURNED)
        drift = (
            1
            if declining
            else -1
            if node.stage == Company.Stage.ONBOARDING
            else rng.choice((-1, 0, 0, 1))
        )
        values = [round(max(0, min(100, base + rng.gauss(0, 11)))) for _ in measures]
        histories = [demo._score_history(book, value, drift) for value in values]
        node.health = overall_score((m.weight, v) for m, v in zip(measures, values, strict=True))
        planned.append((node, values, histories))
    return planned


def write_scores(
    large: LargeBook, planned: list[tuple[CompanyPlan, list[int], list[list[int]]]]
) -> None:
    """The current scores and a snapshot per day (the last one equals the health score)."""
    if not planned:
        return
    writer, today = large.writer, large.today
    measures = demo._demo_scorecard(large.book, COMPANY_SCORECARD, None, COMPANY_MEASURES) or []
    now = writer.stamp(large.now)
    score_id = writer.next_id(Score)
    writer.write(
        Score,
        ("id", "company", "measure", "value", "comment", "updated_by", "updated_at"),
        (
            (score_id + n * len(measures) + m, node.id, measure.pk, value, "", node.csm_id, now)
            for n, (node, values, _) in enumerate(planned)
            for m, (measure, value) in enumerate(zip(measures, values, strict=True))
        ),
        label="Writing scores",
        total=len(planned) * len(measures),
    )
    days = [
        (today - dt.timedelta(days=HISTORY_DAYS - 1 - index)).isoformat()
        for index in range(HISTORY_DAYS)
    ]
    snapshot_id = writer.next_id(ScoreSnapshot)

    def snapshots() -> Iterator[tuple[Any, ...]]:
        number = snapshot_id
        for node, _, histories in planned:
            previous: list[int] | None = None
            overall: Decimal | None = None
            for index, day in enumerate(days):
                values = [history[index] for history in histories]
                if values != previous:  # scores change every few weeks
                    overall = overall_score(
                        (m.weight, v) for m, v in zip(measures, values, strict=True)
                    )
                    previous = values
                yield number, node.id, day, str(overall) if overall is not None else None
                number += 1
            assert overall == node.health

    large.counts["score snapshots"] = writer.write(
        ScoreSnapshot,
        ("id", "company", "day", "overall"),
        snapshots(),
        label="Writing score history",
        total=len(planned) * HISTORY_DAYS,
    )
    usage(large, [node for node, _, _ in planned])


def usage(large: LargeBook, nodes: list[CompanyPlan]) -> None:
    """26 weeks of active users, logins and reports run for the scored companies."""
    rng, writer, today = large.rng, large.writer, large.today
    metrics = demo._usage_metrics()
    last = today - dt.timedelta(days=today.weekday())
    weeks = [
        (last - dt.timedelta(weeks=USAGE_WEEKS - 1 - n)).isoformat() for n in range(USAGE_WEEKS)
    ]
    value_id = writer.next_id(UsageValue)

    def rows() -> Iterator[tuple[Any, ...]]:
        number = value_id
        for node in nodes:
            users = max(5.0, node.arr / 1_200)
            trend = -0.4 if node.status == Company.Status.AT_RISK else rng.uniform(-0.1, 0.5)
            per_user = (rng.uniform(2.5, 5.5), rng.uniform(0.4, 2.2))
            for index, week in enumerate(weeks):
                level = (
                    users * (1 - trend * (1 - index / (USAGE_WEEKS - 1))) * (1 + rng.gauss(0, 0.05))
                )
                level = max(0.0, level)
                for metric, value in zip(
                    metrics, (level, level * per_user[0], level * per_user[1]), strict=False
                ):
                    yield number, node.id, metric.pk, week, f"{round(value)}.00"
                    number += 1

    large.counts["usage values"] = writer.write(
        UsageValue,
        ("id", "company", "metric", "week", "value"),
        rows(),
        label="Writing usage",
        total=len(nodes) * USAGE_WEEKS * min(3, len(metrics)),
    )


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def large_book_loaded() -> bool:
    """Whether the large demo book is in the database."""
    return Company.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).exists()


def large_book_build(
    *,
    seed: int = demo.DEFAULT_SEED,
    companies: int = LARGE_COMPANIES,
    progress: Progress = no_progress,
) -> LargeBook:
    """Build the large book in one transaction, then refresh the planner's statistics (and,
    on PostgreSQL, the visibility map: VACUUM (ANALYZE), outside the caller's transaction).

    Refuses a database that already has companies: the book's ids, trees and partners are
    planned for an empty one.
    """
    if companies < MIN_LARGE_COMPANIES:
        raise ValueError(f"The large demo book needs at least {MIN_LARGE_COMPANIES} companies.")
    if Company.objects.exists():
        raise ValueError(
            "The large demo book needs a database without companies: seed it into its own "
            "database, e.g. DATABASE_URL=sqlite:///bench.sqlite3."
        )
    factory.random.reseed_random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    today = timezone.localdate()
    book = DemoBook(seed=seed, size=companies, progress=progress, rng=rng, fake=fake, today=today)
    large = LargeBook(
        companies=companies,
        rng=rng,
        book=book,
        today=today,
        # Every "now" of the book is this moment (UTC, whole seconds).
        now=timezone.now().astimezone(dt.UTC).replace(tzinfo=None, microsecond=0),
        progress=progress,
        writer=RowWriter(progress),
    )
    # Foreign keys are checked once at the end (SQLite: they cannot be switched off inside
    # a transaction, so this comes first; a no-op when the caller already opened one).
    with _bulk_mode():
        _large_book_write(large)
    return large


def _large_book_write(large: LargeBook) -> None:
    progress = large.progress
    with connection.constraint_checks_disabled(), transaction.atomic():
        with large.phase("Logins, partners and CSMs"):
            seed_people_who_work(large)
        with large.phase("Relationship types and layouts"):
            seed_types_and_layouts(large)
        with large.phase("Planning companies and scores"):
            plan_companies(large)
            plan_company_fields(large)
            planned = plan_scores(large)
        with large.phase("Dropping indexes"):
            large.writer.foreign_keys_drop(BULK_MODELS)
            large.writer.indexes_drop(BULK_MODELS)
            searched = search_index_triggers_drop()
            # The running counts: recounted once after the load (row_counts_restore below)
            # rather than a trigger per row.
            row_counts_triggers_drop()
        with large.phase("Companies"):
            write_companies(large)
        with large.phase("People"):
            write_people(large)
        with large.phase("Relationships"):
            write_relationships(large)
        with large.phase("Timeline activities"):
            write_activities(large)
        with large.phase("CTAs and tasks"):
            write_ctas(large)
        with large.phase("Scores, history and usage"):
            write_scores(large, planned)
        with large.phase("Building indexes"):
            large.writer.indexes_create()
        with large.phase("Search index"):
            progress("Building the search index", 0, 1)
            search_index_install(keys=searched)
            progress("Building the search index", 1, 1)
        with large.phase("Checking foreign keys"):
            if large.writer.postgres:
                large.writer.foreign_keys_create()
            else:
                progress("Checking foreign keys", 0, 1)
                connection.check_constraints(table_names=[m._meta.db_table for m in BULK_MODELS])
                progress("Checking foreign keys", 1, 1)
            large.writer.sequences_reset()
        with large.phase("Partner permissions"):
            progress("Granting partners their records", 0, 2)
            partner_grants_sync(records=Company.objects.filter(managed_by__isnull=False))
            progress("Granting partners their records", 1, 2)
            partner_grants_sync(records=Relationship.objects.filter(managed_by__isnull=False))
            progress("Granting partners their records", 2, 2)
        with large.phase("Counting the book"):
            progress("Counting the book", 0, 1)
            row_counts_restore()
            progress("Counting the book", 1, 1)
        # The atomic block commits as it exits: timed from here.
        committing = time.perf_counter(), time.process_time()
    large.phases.append(
        (
            "Committing",
            time.perf_counter() - committing[0],
            time.process_time() - committing[1],
        )
    )
    with large.phase("Analysing the tables"):
        progress("Analysing the tables", 0, 1)
        with connection.cursor() as cursor:
            if large.writer.postgres and not connection.in_atomic_block:
                # PostgreSQL: VACUUM too. A bulk-loaded table has no visibility map until
                # autovacuum comes by, so until then every index-only scan (the grant
                # counts and probes, the covering indexes) still reads the table's rows.
                # VACUUM cannot run inside a transaction: in a caller's, ANALYZE only.
                cursor.execute("VACUUM (ANALYZE)")
            else:
                cursor.execute("ANALYZE")
        progress("Analysing the tables", 1, 1)


@contextmanager
def _bulk_mode() -> Iterator[None]:
    """Settings for a bulk load, for this build's connection only (restored after).

    SQLite: a page cache of about 1 GB for the index builds over millions of rows, and, when
    the build runs its own transaction, a rollback journal kept in memory instead of the app's
    WAL: every page is written once at the commit instead of into the WAL and then again by
    the checkpoint. An error still rolls the whole book back (the journal is in memory); a
    build killed midway leaves a database to delete and migrate again, which for the book's
    own database (it holds nothing else) is all a crash can cost.

    PostgreSQL: memory for the index builds (maintenance_work_mem: each index sorted in memory
    rather than in temporary files) and for the joins that check each foreign key once.
    """
    settings: list[tuple[str, Any]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":

            def change(name: str, value: str) -> None:
                cursor.execute(f"PRAGMA {name}")
                settings.append((name, cursor.fetchone()[0]))
                cursor.execute(f"PRAGMA {name} = {value}")

            change("cache_size", "-1000000")  # KiB when negative
            if not connection.in_atomic_block:  # SQLite refuses these inside a transaction
                change("temp_store", "MEMORY")
                change("journal_mode", "MEMORY")
        elif connection.vendor == "postgresql":
            for name, value in (("maintenance_work_mem", "1GB"), ("work_mem", "256MB")):
                cursor.execute(f"SHOW {name}")
                settings.append((name, cursor.fetchone()[0]))
                cursor.execute(f"SET {name} = %s", [value])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in reversed(settings):
                if connection.vendor == "sqlite":
                    cursor.execute(f"PRAGMA {name} = {value}")
                else:
                    cursor.execute(f"SET {name} = %s", [value])


def large_book_layouts_refresh(*, seed: int = demo.DEFAULT_SEED) -> list[str]:
    """Bring a loaded large book's demo layouts up to this version's (a book seeded before a
    section kind joined them, e.g. History, gets it); returns the notes (layouts left alone).

    The same steps as the build: the demo's relationship types and layouts, each idempotent;
    the companies and everything else stay as they are.
    """
    fake = Faker("en_US")
    fake.seed_instance(seed)
    book = DemoBook(
        seed=seed,
        size=0,
        progress=no_progress,
        rng=random.Random(seed),
        fake=fake,
        today=timezone.localdate(),
    )
    with transaction.atomic():
        _types_and_layouts(book)
    return book.notes


def large_counts() -> dict[str, int]:
    """How many records of each kind the large book has (whole tables: it has them alone)."""
    return {
        "companies": Company.objects.count(),
        "relationships": Relationship.objects.count(),
        "people": Person.objects.count(),
        "activities": Activity.objects.count(),
        "CTAs": CTA.objects.count(),
        "tasks": Task.objects.count(),
        "partners": Partner.objects.count(),
        "score snapshots": ScoreSnapshot.objects.count(),
        "usage values": UsageValue.objects.count(),
    }
