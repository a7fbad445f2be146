"""Reads of companies for the pages, always through the access rules of `partners.access`.

Each function answers in a fixed number of queries whatever the size of the book.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from companies.models import Company, CompanyPerson, Person
from companies.templatetags.gs import (
    EMPTY,
    days_text,
    days_until,
    id_urls,
    money,
    short_date,
    urgency,
)
from gainsight_lite import row_counts
from gainsight_lite.forms import name_label
from gainsight_lite.pagination import page_range
from gainsight_lite.search import clean_query
from gainsight_lite.search_index import text_matches
from partners.access import (
    AnyUser,
    companies_visible_count,
    companies_visible_in_order_to,
    companies_visible_to,
    company_visible_probe,
    is_partner_user,
    partner_of,
    relationships_visible_count,
    relationships_visible_to,
)

PAGE_SIZE = 50
RENEWAL_WINDOW_DAYS = 90
# The hierarchy section lists at most this many companies below the one on the page.
DESCENDANTS_SHOWN = 50
# The "move under…" search answers with at most this many companies.
MOVE_TARGETS_SHOWN = 10
SEARCH_MAX = 100

DEFAULT_SORT = "hierarchy"
# Orders an index gives (tree_id, lft; name): a page can be read by walking the index.
INDEXED_SORTS = {"hierarchy", "name", "-name"}
# The only orderings the list accepts; anything else falls back to the default.
SORTS: dict[str, tuple[str, list[OrderBy]]] = {
    "hierarchy": ("Hierarchy", [F("tree_id").asc(), F("lft").asc()]),
    "name": ("Name, A to Z", [F("name").asc(), F("pk").asc()]),
    "-name": ("Name, Z to A", [F("name").desc(), F("pk").desc()]),
    "-arr": ("ARR, highest first", [F("arr").desc(), F("name").asc(), F("pk").asc()]),
    "arr": ("ARR, lowest first", [F("arr").asc(), F("name").asc(), F("pk").asc()]),
    "renewal": (
        "Renewal, soonest first",
        [F("renewal_date").asc(nulls_last=True), F("name").asc(), F("pk").asc()],
    ),
    "-renewal": (
        "Renewal, latest first",
        [F("renewal_date").desc(nulls_last=True), F("name").asc(), F("pk").asc()],
    ),
}


@dataclass(frozen=True)
class CompanyFilters:
    """What the companies list is narrowed and sorted by (already checked by the form)."""

    q: str = ""
    segment: str = ""
    status: str = ""
    csm: User | None = None
    sort: str = DEFAULT_SORT

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.segment or self.status or self.csm)


class CompanyRow(TypedDict):
    """One line of the companies list, display-ready: the template only looks values up (in a
    dict, the template engine's first try — an object's attribute costs it an exception). The
    texts are escaped HTML (`SafeString`)."""

    pk: int
    name: str
    url: str
    # "—" when the company has none.
    external_id: str
    # The segment's key ("" when none) for the badge's class, and its label.
    segment: str
    segment_label: str
    status: str
    status_label: str
    # "—" when the company has no stage.
    stage_label: str
    arr: str
    # Both "" without a renewal date.
    renewal: str
    renewal_days: str
    renewal_urgency: str
    # "" when nobody is the CSM.
    csm_name: str
    relationship_count: int
    relationships: str
    indent: int
    tree_class: str
    # The parent's name is only shown when the viewer may see the parent too.
    parent_name: str | None


@dataclass
class CompanyListPage:
    page: Page[dict[str, Any]]
    rows: list[CompanyRow]
    tree: bool
    sort: str

    @property
    def page_range(self) -> list[int | str]:
        return page_range(self.page)


@dataclass
class Ancestor:
    company: Company
    # True when a company the viewer may not see sits between this one and the previous.
    gap_before: bool = False


def csm_choices(*, user: AnyUser) -> QuerySet[User]:
    """Users who are the CSM of at least one company `user` may see.

    Asked per user (a few hundred, each found by the CSM index at their first visible
    company), not by collecting the CSM of every visible company (the whole book) — except
    for a partner with a small share of the book, whose companies are fewer than the walk.
    """
    if is_partner_user(user) and _visible_size(user) <= SMALL_SHARE:
        # A small partner: its few companies' CSMs, collected through the join.
        csm_ids = companies_visible_to(user).filter(csm__isnull=False).values("csm_id")
        users = User.objects.filter(pk__in=csm_ids)
    else:
        # A scalar subquery (LIMIT 1), not EXISTS: PostgreSQL would unnest an EXISTS into a
        # join of all the visible companies grouped by CSM (60 ms for a partner of 20,000).
        cares_for = companies_visible_in_order_to(user).filter(csm=OuterRef("pk"))
        first = Subquery(cares_for.order_by().values("pk")[:1])
        users = User.objects.alias(first_company=first).filter(first_company__isnull=False)
    return users.order_by("first_name", "last_name", "username")


def companies_filtered(
    *, user: AnyUser, filters: CompanyFilters, in_order: bool = False
) -> QuerySet[Company]:
    """The companies `user` may see, narrowed and sorted by `filters`.

    `in_order`: the access rule asked per row, for walking the sort's index (one page).
    """
    visible = companies_visible_in_order_to(user) if in_order else companies_visible_to(user)
    companies = visible.select_related("csm", "parent")
    if is_partner_user(user):
        # A partner sees a parent's name only when it may see the parent (internal users see
        # every company).
        companies = companies.annotate(parent_grant=company_visible_probe(user, "parent_id"))
    if filters.q:
        companies = companies.filter(text_matches("company", filters.q))
    if filters.segment:
        companies = companies.filter(segment=filters.segment)
    if filters.status:
        companies = companies.filter(status=filters.status)
    if filters.csm is not None:
        companies = companies.filter(csm=filters.csm)
    _, ordering = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    return companies.order_by(*ordering)


def relationship_counts(*, user: AnyUser, company_ids: list[int]) -> dict[int, int]:
    """How many relationships `user` may see at each of these companies (one query)."""
    rows = (
        relationships_visible_to(user)
        .filter(company_id__in=company_ids)
        .order_by()
        .values("company_id")
        .annotate(total=Count("pk"))
    )
    return {row["company_id"]: row["total"] for row in rows}


def visible_company_ids(*, user: AnyUser, company_ids: set[int]) -> set[int]:
    """Which of these companies `user` may see (one query)."""
    if not company_ids:
        return set()
    return set(companies_visible_to(user).filter(pk__in=company_ids).values_list("pk", flat=True))


class _CountedPaginator(Paginator):
    """A paginator told its count (read more cheaply than by counting its rows)."""

    def __init__(self, object_list: QuerySet[Company, Any], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _visible_size(user: AnyUser) -> int:
    """How many companies `user` may see, counted once per request."""
    if not hasattr(user, "_visible_size"):
        user._visible_size = companies_visible_count(user)  # type: ignore[union-attr,attr-defined]
    size: int = user._visible_size  # type: ignore[union-attr,attr-defined]
    return size


# Below this many companies a partner's rows are cheaper joined than walked in an order.
SMALL_SHARE = 5000


def _walk_is_cheaper(*, user: AnyUser, offset: int) -> bool:
    """Whether a partner's page is cheaper walked in the list's order than joined and sorted.

    Walking reads about (offset + page) x book / visible companies; the join reads and sorts
    all visible ones (about twice the cost a row): a partner holding a large share of the
    book walks its first pages, a small one (or a deep page) joins.
    """
    if not is_partner_user(user):
        return False
    visible = _visible_size(user)
    if visible <= SMALL_SHARE:
        return False
    return (offset + PAGE_SIZE) * _book_size() < 2 * visible * visible


def _book_size() -> int:
    """How many companies the book holds, to choose a plan by (one query).

    On PostgreSQL the planner's estimate (`pg_class.reltuples`, kept by ANALYZE and
    autovacuum) while it has one: COUNT(*) reads every row there (10-30 ms at 100k), and a
    choice of plan needs no exact figure. SQLite counts (a b-tree walk, well under 1 ms).
    """
    if connection.vendor != "postgresql":
        return Company.objects.order_by().count()
    table = Company._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN reltuples > 0 THEN reltuples::bigint "
            f"ELSE (SELECT COUNT(*) FROM {connection.ops.quote_name(table)}) END "
            "FROM pg_class WHERE oid = %s::regclass",
            [table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else Company.objects.order_by().count()


def company_list_page(
    *, user: AnyUser, filters: CompanyFilters, page_number: Any
) -> CompanyListPage:
    """One page of the companies list with each row's relationship count and parent.

    With nothing narrowing the list and the hierarchy order, rows come in tree order and are
    indented by level — but only for viewers who see every company, since a partner user's
    companies can hang under parents they may not see; they get the parent's name instead.
    """
    sort = filters.sort if filters.sort in SORTS else DEFAULT_SORT
    partner = is_partner_user(user)
    tree = sort == DEFAULT_SORT and not filters.narrowed and not partner
    if filters.narrowed:
        listed = companies_filtered(user=user, filters=filters)
        paginator: Paginator[Any] = Paginator(_row_values(listed, partner=partner), PAGE_SIZE)
        # get_page: a number out of range gives the last page, anything not a number the first.
        page = paginator.get_page(page_number)
    else:
        # Nothing narrows the list: the count comes from the grants, no company row read, and
        # the page's number from it (Django's rules, on a range) before the query is chosen.
        count = _visible_size(user)
        number = Paginator(range(count), PAGE_SIZE).get_page(page_number).number
        walk = sort in INDEXED_SORTS and _walk_is_cheaper(
            user=user, offset=(number - 1) * PAGE_SIZE
        )
        listed = companies_filtered(user=user, filters=filters, in_order=walk)
        paginator = _CountedPaginator(_row_values(listed, partner=partner), PAGE_SIZE, count=count)
        page = paginator.page(number)
    values = list(page.object_list)
    counts = relationship_counts(user=user, company_ids=[v["pk"] for v in values])
    rows = company_rows(values, counts=counts, tree=tree)
    return CompanyListPage(page=page, rows=rows, tree=tree, sort=sort)


# The columns a row of the list shows, read as values (no Company or User built per row).
ROW_COLUMNS = (
    "pk",
    "name",
    "external_id",
    "segment",
    "status",
    "stage",
    "arr",
    "renewal_date",
    "level",
    "csm__first_name",
    "csm__last_name",
    "csm__username",
    "parent__name",
)
SEGMENT_LABELS = dict(Company.Segment.choices)
STATUS_LABELS = dict(Company.Status.choices)
STAGE_LABELS = dict(Company.Stage.choices)


def _row_values(companies: QuerySet[Company], *, partner: bool) -> QuerySet[Company, Any]:
    """The list's columns of `companies` (and, for a partner, whether it may see each parent:
    `parent_grant` is NULL when not)."""
    return companies.values(*ROW_COLUMNS, *(["parent_grant"] if partner else []))


def _escaped(text: str) -> SafeString:
    """`text` escaped as the templates' autoescaping does (Django's `escape` is `html.escape`)."""
    return SafeString(html.escape(text))


def company_rows(
    values: list[dict[str, Any]], *, counts: dict[int, int], tree: bool
) -> list[CompanyRow]:
    """The rows of the list from the companies' `ROW_COLUMNS` values: each text computed with
    the same functions as the templates' `gs` filters, with one `today` and one reversed URL
    for the page, and escaped here, once (`SafeString`): the template's autoescaping then has
    nothing left to do per value (a quarter of the rows' drawing)."""
    today = timezone.localdate()
    url_of = id_urls("layouts:company")
    language = get_language()
    rows: list[CompanyRow] = []
    for v in values:
        days = days_until(v["renewal_date"], today)
        username = v["csm__username"]
        count = counts.get(v["pk"], 0)
        segment = v["segment"]
        stage = v["stage"]
        indent = v["level"] if tree else 0
        parent = None if tree or v.get("parent_grant", True) is None else v["parent__name"]
        rows.append(
            CompanyRow(
                pk=v["pk"],
                name=_escaped(v["name"]),
                url=_escaped(url_of(v["pk"])),
                external_id=_escaped(v["external_id"] or EMPTY),
                segment=_escaped(segment),
                segment_label=_escaped(SEGMENT_LABELS.get(segment, segment)),
                status=_escaped(v["status"]),
                status_label=_escaped(STATUS_LABELS.get(v["status"], v["status"])),
                stage_label=_escaped(STAGE_LABELS.get(stage, stage) or EMPTY),
                arr=_escaped(money(v["arr"])),
                renewal=_escaped(short_date(v["renewal_date"], language)),
                renewal_days=_escaped(days_text(days)),
                renewal_urgency=_escaped(urgency(days)),
                csm_name=_escaped(
                    name_label(v["csm__first_name"], v["csm__last_name"], username)
                    if username is not None
                    else ""
                ),
                relationship_count=count,
                # What `intcomma` writes: below a thousand, the digits alone.
                relationships=_escaped(str(count) if count < 1000 else intcomma(count)),
                indent=indent,
                # The name cell's classes: a number drawn by a template goes through localize.
                tree_class=_escaped(
                    f"indent-{indent} tree-name--child" if indent else f"indent-{indent}"
                ),
                parent_name=None if parent is None else _escaped(parent),
            )
        )
    return rows


def company_ancestors(*, user: AnyUser, company: Company) -> list[Ancestor]:
    """The company's ancestors `user` may see, top first, marking where hidden ones sit."""
    ancestors = companies_visible_to(user).filter(
        tree_id=company.tree_id, lft__lt=company.lft, rght__gt=company.rght
    )
    result: list[Ancestor] = []
    expected_level = 0
    for ancestor in ancestors.order_by("lft").only("id", "name", "level"):
        result.append(Ancestor(company=ancestor, gap_before=ancestor.level != expected_level))
        expected_level = ancestor.level + 1
    return result


def company_hierarchy_gap(*, company: Company, ancestors: list[Ancestor]) -> bool:
    """Whether hidden companies sit between the last visible ancestor and `company`."""
    if company.level == 0:
        return False
    if not ancestors:
        return True
    return ancestors[-1].company.level != company.level - 1


@dataclass
class HomeDashboard:
    company_count: int
    relationship_count: int
    my_company_count: int
    my_arr: Decimal
    my_at_risk_count: int
    my_renewals: list[Company] = field(default_factory=list)
    renewal_window_days: int = RENEWAL_WINDOW_DAYS
    # A partner user's own book is what their partner manages, not what they are the CSM of.
    partner_name: str | None = None


def home_dashboard(*, user: AnyUser) -> HomeDashboard:
    """The home page figures for `user`: what they may see, and their own book (4 queries).

    An internal user's book is the companies they are the CSM of (summed through the CSM
    index); a partner user's, every company their partner manages (all they may see), read
    with what they may see (`companies_/relationships_visible_count`) from the running counts
    the database keeps (`gainsight_lite.row_counts`): no company row read, exact.
    """
    companies = companies_visible_to(user)
    partner = partner_of(user)
    my_book: dict[str, Any]
    if partner is not None:
        mine = companies
        # What the partner manages is what its users see (partners.services keeps the grants
        # with managed_by); a partner whose users see nothing (inactive) has no book for them.
        book = row_counts.partner_book(partner.pk) if _visible_size(user) else row_counts.Book()
        my_book = {"total": book.total, "arr": book.arr, "at_risk": book.at_risk}
    else:
        mine = companies.filter(csm_id=user.pk)
        my_book = mine.aggregate(
            total=Count("pk"),
            arr=Sum("arr"),
            at_risk=Count("pk", filter=Q(status=Company.Status.AT_RISK)),
        )
    today = timezone.localdate()
    # A partner holding a large share of the book finds its next renewals walking the
    # renewal date index and probing each company's grant (a few dozen rows), not by joining
    # and sorting all its companies (SQLite: 27 -> 7 ms for 20k of 100k); a small one joins.
    soon = companies_visible_in_order_to(user) if _walk_is_cheaper(user=user, offset=0) else mine
    renewals = list(
        soon.filter(
            renewal_date__gte=today,
            renewal_date__lte=today + dt.timedelta(days=RENEWAL_WINDOW_DAYS),
        ).order_by("renewal_date", "name")[:10]
    )
    return HomeDashboard(
        company_count=_visible_size(user),
        relationship_count=relationships_visible_count(user),
        my_company_count=my_book["total"],
        my_arr=my_book["arr"] or Decimal(0),
        my_at_risk_count=my_book["at_risk"],
        my_renewals=renewals,
        partner_name=partner.name if partner is not None else None,
    )


# Selectors of the 360 sections: each returns the context of its section's template.


def company_people_section(*, company: Company, sponsors_only: bool = False) -> dict[str, Any]:
    """The people at the company, sponsors first, with their managers (one query)."""
    people = CompanyPerson.objects.filter(company=company)
    if sponsors_only:
        people = people.filter(is_sponsor=True)
    rows = list(
        people.select_related("person", "manager__person").order_by(
            "-is_sponsor", "person__last_name", "person__first_name", "pk"
        )
    )
    return {"people": rows, "count": len(rows)}


def company_people_choices(*, company: Company) -> QuerySet[CompanyPerson]:
    """The company's people in name order, for a manager or relationship-member select."""
    return (
        CompanyPerson.objects.filter(company=company)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "pk")
    )


def company_person_of(*, company: Company, pk: Any) -> CompanyPerson | None:
    """The company's person `pk` with their person and manager, or None when not at it."""
    try:
        return (
            CompanyPerson.objects.select_related("person", "manager__person", "company")
            .filter(company=company)
            .get(pk=pk)
        )
    except (CompanyPerson.DoesNotExist, ValueError, TypeError):
        return None


def person_by_email(*, email: str) -> Person | None:
    """The person with this email address, ignoring case, or None."""
    # An email address is at most 254 characters; a NUL byte or a control character never
    # reaches the query (PostgreSQL refuses a NUL).
    email = clean_query(email, max_length=254)
    if not email:
        return None
    return Person.objects.filter(email__iexact=email).first()


@dataclass
class TreeNode:
    """One company below the one on the page, in tree order."""

    company: Company
    # Levels below the page's company: 1 for a child, 2 for a grandchild...
    depth: int
    # True when the node's parent is a company the viewer may not see.
    gap_before: bool = False
    # The node's C360 page.
    url: str = ""
    # What the node's row draws (status label, health badge, ARR), set by the section that
    # shows it: computed once there rather than by a tag and filters per node.
    drawn: dict[str, Any] = field(default_factory=dict)


def company_hierarchy_section(
    *, user: AnyUser, company: Company, max_nodes: int = DESCENDANTS_SHOWN
) -> dict[str, Any]:
    """Ancestors, descendants in tree order (at most `max_nodes`) and the subtree's totals.

    Everything is limited to what `user` may see; three queries whatever the family's size.
    """
    ancestors = company_ancestors(user=user, company=company)
    visible = companies_visible_to(user)
    subtree = visible.filter(tree_id=company.tree_id, lft__gt=company.lft, rght__lt=company.rght)
    # Tree order is `lft` order: every company comes right after its parent's earlier
    # children's subtrees, so a capped list is always a connected top of the tree.
    descendants = list(
        subtree.order_by("lft").only(
            "id", "name", "status", "arr", "health_score", "level", "parent_id"
        )[:max_nodes]
    )
    totals = subtree.aggregate(
        descendants=Count("pk"),
        children=Count("pk", filter=Q(level=company.level + 1)),
        arr=Sum("arr"),
        mrr=Sum("mrr"),
    )
    shown = {company.pk}
    nodes = []
    url_of = id_urls("layouts:company")  # one reverse() for every node
    for node in descendants:
        nodes.append(
            TreeNode(
                company=node,
                depth=node.level - company.level,
                gap_before=node.parent_id not in shown,
                url=url_of(node.pk),
            )
        )
        shown.add(node.pk)
    return {
        "ancestors": ancestors,
        "gap_before_company": company_hierarchy_gap(company=company, ancestors=ancestors),
        "nodes": nodes,
        "more_nodes": max(totals["descendants"] - len(nodes), 0),
        "children_count": totals["children"],
        "descendant_count": totals["descendants"],
        "subtree_arr": (totals["arr"] or Decimal(0)) + company.arr,
        "subtree_mrr": (totals["mrr"] or Decimal(0)) + company.mrr,
        "company": company,
    }


@dataclass
class MoveTarget:
    """A company a company may be moved under, with its parent when the viewer may see it."""

    company: Company
    parent: Company | None = None


PICKER_MIN_LENGTH = 2
PICKER_SHOWN = 8


def companies_for_picker(*, user: AnyUser, q: str, limit: int = PICKER_SHOWN) -> list[Company]:
    """The as-you-type company picker of every dialog (a CTA's, an activity's, a plan's, the
    timeline's filter): up to `limit` companies `user` may see whose name or external ID
    contains `q` — the exact external ID first, then names that start with it (one query).

    `q` goes through `clean_query` (no NUL byte reaches the database); under two characters
    nothing is searched.
    """
    q = clean_query(q, max_length=SEARCH_MAX)
    if len(q) < PICKER_MIN_LENGTH:
        return []
    rank = Case(
        When(external_id__iexact=q, then=Value(0)),
        When(name__istartswith=q, then=Value(1)),
        default=Value(2),
    )
    return list(
        companies_visible_to(user)
        .filter(text_matches("company", q))
        .only("id", "name", "external_id", "level", "parent_id")
        .order_by(rank, "name", "pk")[:limit]
    )


def company_move_targets(*, user: AnyUser, company: Company, q: str) -> list[MoveTarget]:
    """Up to ten companies `user` may see whose name or external ID contains `q` (two queries).

    The company itself and its own descendants are left out: it can never move under them.
    """
    q = clean_query(q, max_length=SEARCH_MAX)
    if not q:
        return []
    # Best matches first: the exact external ID, then names that start with the text.
    rank = Case(
        When(external_id__iexact=q, then=Value(0)),
        When(name__istartswith=q, then=Value(1)),
        default=Value(2),
    )
    matches = list(
        companies_visible_to(user)
        .filter(text_matches("company", q))
        .exclude(tree_id=company.tree_id, lft__gte=company.lft, rght__lte=company.rght)
        .select_related("parent")
        .order_by(rank, "name", "pk")[:MOVE_TARGETS_SHOWN]
    )
    parent_ids = {c.parent_id for c in matches if c.parent_id is not None}
    # A partner user's company can hang under a parent they may not see: never name it.
    shown = visible_company_ids(user=user, company_ids=parent_ids)
    return [
        MoveTarget(company=c, parent=c.parent if c.parent_id in shown else None) for c in matches
    ]
