"""Reads of the Cockpit and of CTAs: which CTAs a viewer sees, grouped, a page at a time.

Every read goes through `partners.access.ctas_visible_to`, and each is a fixed number of
queries whatever the number of CTAs: one for a page's rows (with their company,
relationship, type, priority, status and owner joined, read as the columns shown), one for the
count, one for the rows' task counts. A list's rows come out ready to draw (`CTARow`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, TypedDict, cast, overload

from django.core.paginator import Page, Paginator
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString

from companies.models import Company
from companies.templatetags.gs import DATE_FORMAT, days_text, days_until, id_urls
from gainsight_lite import row_counts
from gainsight_lite.forms import name_label
from gainsight_lite.http import parse_id
from gainsight_lite.pagination import page_range
from partners.access import (
    AnyUser,
    ctas_visible_to,
    ctas_visible_where,
    is_partner_user,
)
from relationships.models import Relationship, RelationshipType
from success.models import CTA, CTAPriority, CTAReason, CTAStatus, CTAType, Playbook, Task

PAGE_SIZE = 50
HEX_COLOUR = re.compile(r"#(?:[0-9A-Fa-f]{3}){1,2}")

GROUP_BY_DUE = "due"
GROUP_BY_PRIORITY = "priority"

OVERDUE = "overdue"
TODAY = "today"
THIS_WEEK = "this_week"
LATER = "later"
NO_DUE_DATE = "no_due_date"
DUE_GROUPS = {
    OVERDUE: "Overdue",
    TODAY: "Today",
    THIS_WEEK: "This week",
    LATER: "Later",
    NO_DUE_DATE: "No due date",
}

OWNER_ME = "me"
OWNER_ANYONE = "anyone"
OWNER_NOBODY = "nobody"
STATUS_OPEN = ""
STATUS_CLOSED = "closed"
RELATIONSHIP_NONE = "none"


# ---------- one CTA ----------


def cta_for(*, user: AnyUser, pk: Any) -> CTA:
    """The CTA `pk` with what its dialog shows, if `user` may see it; else 404."""
    try:
        return (
            ctas_visible_to(user)
            .select_related(
                "company",
                "relationship",
                "relationship__relationship_type",
                "cta_type",
                "reason",
                "priority",
                "status",
                "owner",
                "created_by",
                "closed_by",
                "source_activity",
                "success_plan",
            )
            .prefetch_related(
                Prefetch(
                    "tasks", queryset=Task.objects.select_related("owner").order_by("order", "pk")
                )
            )
            .get(pk=pk)
        )
    except (CTA.DoesNotExist, ValueError, TypeError):
        raise Http404("No such CTA.") from None


def task_of(*, cta: CTA, pk: Any) -> Task:
    """The task `pk` of `cta`; 404 for any other."""
    try:
        return Task.objects.get(cta=cta, pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404("This task is not on this CTA.") from None


def playbooks_for(*, cta_type: CTAType | int | None) -> list[Playbook]:
    """The playbooks in use, those made for `cta_type` first, then by name (one query)."""
    type_id = cta_type.pk if isinstance(cta_type, CTAType) else cta_type
    playbooks = list(
        Playbook.objects.filter(active=True).annotate(task_count=Count("tasks")).order_by("name")
    )
    return sorted(playbooks, key=lambda p: p.cta_type_id != type_id or type_id is None)


@dataclass
class StatusChoices:
    open: list[CTAStatus]
    closed: list[CTAStatus]


def status_choices() -> StatusChoices:
    """The statuses in their order, split into open and closed ones (one query)."""
    statuses = list(CTAStatus.objects.order_by("order", "pk"))
    return StatusChoices(
        open=[s for s in statuses if not s.is_closed], closed=[s for s in statuses if s.is_closed]
    )


# ---------- list rows ----------


class CTARow(TypedDict):
    """A CTA in a list, ready to draw: its texts, links and task counts worked out once.

    The templates only look these up (a dict: the template engine's quickest lookup); the
    texts come from the functions behind the template filters (`date`, `days_left`,
    `display_name`), so a row reads as it did when drawn by them.
    """

    pk: str  # as text: a number drawn by a template goes through number formatting
    name: str
    is_closed: bool
    status_name: str
    reason_name: str  # empty without a reason
    company_name: str
    company_url: str
    relationship_name: str  # empty for a CTA on the company itself
    relationship_url: str
    relationship_type_name: str
    type_name: str
    priority_id: int
    priority_name: str
    priority_colour: str  # a safe #rgb/#rrggbb, or empty
    priority_dot: SafeString  # `{% colour_dot priority_colour %}`
    due_date: dt.date | None
    due_text: str  # "Nov 23, 2026"
    due_short: str  # "Nov 23"
    days_left: str  # "in 3 days", "yesterday"
    overdue: bool
    snoozed_until: str  # "Nov 30" while snoozed until a day after today, else empty
    closed_on: str  # "Nov 20" for a closed CTA, else empty
    owner_name: str  # empty without an owner
    detail_url: str
    status_url: str
    tasks_done: int
    tasks_total: int
    tasks: str  # "1/3", empty without tasks
    tasks_all_done: bool


def safe_colour(value: str) -> str:
    """An admin-typed colour, only when it is a plain #rgb or #rrggbb (it goes into the page's
    markup: a colour saved around the model's validation renders as none, never as markup)."""
    return value if HEX_COLOUR.fullmatch(value or "") else ""


def is_overdue(cta: CTA, *, today: dt.date) -> bool:
    return _overdue(cta.is_closed, cta.due_date, today=today)


def _overdue(is_closed: bool, due: dt.date | None, *, today: dt.date) -> bool:
    return not is_closed and due is not None and due < today


# The columns a row shows: read as values, without a model instance per CTA and per record
# it points to. The type's, reason's, status's and priority's names come from `cta_lookups`
# or `NAME_COLUMNS` (four joins fewer: PostgreSQL planned the nine-table join for 3-5 ms to run
# it in under 1).
ROW_COLUMNS = (
    "pk",
    "name",
    "is_closed",
    "due_date",
    "snoozed_until",
    "closed_at",
    "company_id",
    "company__name",
    "relationship_id",
    "relationship__name",
    "relationship__relationship_type__name",
    "cta_type_id",
    "reason_id",
    "status_id",
    "priority_id",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


Lookup = tuple[str, int]  # (TYPE | REASON | STATUS | PRIORITY | RELATIONSHIP_TYPE, id)
TYPE, REASON, STATUS, PRIORITY = "type", "reason", "status", "priority"
RELATIONSHIP_TYPE = "relationship_type"
# The tables read by `cta_lookups`, each as (kind, model, its colour column or None).
_LOOKUP_TABLES: tuple[tuple[str, type[Any], str | None], ...] = (
    (TYPE, CTAType, None),
    (REASON, CTAReason, None),
    (STATUS, CTAStatus, None),
    (PRIORITY, CTAPriority, "colour"),
    (RELATIONSHIP_TYPE, RelationshipType, None),
)


@dataclass
class CTALookups:
    """The CTA types, reasons, statuses and priorities and the relationship types, as
    (kind, id, name, colour, order) rows in the order the Cockpit's choices list them: each
    kind by its order then name (relationship types by name)."""

    rows: list[tuple[str, int, str, str, int]]

    @cached_property
    def names(self) -> dict[Lookup, tuple[str, str]]:
        """(kind, id) -> (name, colour: a priority's, else empty)."""
        return {(kind, pk): (name, colour) for kind, pk, name, colour, _ in self.rows}

    def choices(self, kind: str) -> list[tuple[int, str]]:
        """(id, name) of one kind, in order."""
        return [(pk, name) for row_kind, pk, name, _, _ in self.rows if row_kind == kind]

    @cached_property
    def ranks(self) -> dict[int, int]:
        """A priority's id -> its order."""
        return {pk: order for kind, pk, _, _, order in self.rows if kind == PRIORITY}


@cache
def _lookups_sql(vendor: str) -> str:
    """One UNION ALL over the lookup tables: a fixed statement, written once per database
    vendor (compiling it through the ORM cost more than running it: a few dozen rows)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    arms = []
    for kind, model, colour in _LOOKUP_TABLES:
        table = quote(model._meta.db_table)
        shade = quote(colour) if colour else "''"
        # Relationship types are listed by name alone.
        order = quote("order") if kind != RELATIONSHIP_TYPE else "0"
        arms.append(
            f"SELECT '{kind}', {quote('id')}, {quote('name')}, {shade}, {order} FROM {table}"
        )
    return " UNION ALL ".join(arms) + " ORDER BY 1, 5, 3"


def cta_lookups() -> CTALookups:
    """Every CTA type, reason, status and priority and every relationship type: a few dozen
    rows of five small tables, in one query (the Cockpit's filter choices, its rows' names
    and its priority order all come from it)."""
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(_lookups_sql(connection.vendor))
        return CTALookups(rows=[tuple(row) for row in cursor.fetchall()])  # type: ignore[misc]


class RowMaker:
    """Builds the rows of one request: one `today`, each address reversed once, the text of
    each date worked out once however many rows share it."""

    def __init__(self, *, today: dt.date, names: dict[Lookup, tuple[str, str]]) -> None:
        self.today = today
        self.names = names
        self.cta_url = id_urls("success:cta_detail")
        self.status_url = id_urls("success:cta_status")
        self.company_url = id_urls("layouts:company")
        self.relationship_url = id_urls("layouts:relationship")
        self._dates: dict[tuple[Any, str], str] = {}
        self._dots: dict[str, SafeString] = {}

    def date(self, value: dt.date | dt.datetime | None, format: str) -> str:
        """`value|date:format`: a time in the current time zone, as the filter draws it."""
        if value is None:
            return ""
        key = (value, format)
        text = self._dates.get(key)
        if text is None:
            aware = isinstance(value, dt.datetime) and timezone.is_aware(value)
            local = timezone.localtime(value) if aware else value  # type: ignore[arg-type]
            text = self._dates[key] = date_format(local, format)
        return text

    def dot(self, colour: str) -> SafeString:
        """`{% colour_dot colour %}`, drawn once per colour."""
        dot = self._dots.get(colour)
        if dot is None:
            # Imported here: the template tags' module reads this one.
            from success.templatetags.scores import colour_dot

            dot = self._dots[colour] = colour_dot(colour)
        return dot

    def name(self, kind: str, pk: int | None) -> str:
        return self.names.get((kind, pk), ("", ""))[0] if pk is not None else ""

    def row(self, values: dict[str, Any]) -> CTARow:
        pk = values["pk"]
        priority_name, priority_colour = self.names.get((PRIORITY, values["priority_id"]), ("", ""))
        colour = safe_colour(priority_colour)
        done, total = values["tasks_done"] or 0, values["tasks_total"] or 0
        due = values["due_date"]
        snoozed = values["snoozed_until"]
        is_closed = values["is_closed"]
        relationship_id = values["relationship_id"]
        return {
            "pk": str(pk),
            "name": values["name"],
            "is_closed": is_closed,
            "status_name": self.name(STATUS, values["status_id"]),
            "reason_name": self.name(REASON, values["reason_id"]),
            "company_name": values["company__name"],
            "company_url": self.company_url(values["company_id"]),
            "relationship_name": values["relationship__name"] or "",
            "relationship_url": self.relationship_url(relationship_id) if relationship_id else "",
            "relationship_type_name": values["relationship__relationship_type__name"] or "",
            "type_name": self.name(TYPE, values["cta_type_id"]),
            "priority_id": values["priority_id"],
            "priority_name": priority_name,
            "priority_colour": colour,
            "priority_dot": self.dot(colour),
            "due_date": due,
            "due_text": self.date(due, DATE_FORMAT),
            "due_short": self.date(due, "M j"),
            "days_left": days_text(days_until(due, self.today)),
            "overdue": _overdue(is_closed, due, today=self.today),
            "snoozed_until": self.date(snoozed, "M j") if snoozed and snoozed > self.today else "",
            "closed_on": self.date(values["closed_at"], "M j") if is_closed else "",
            "owner_name": name_label(
                values["owner__first_name"], values["owner__last_name"], values["owner__username"]
            )
            if values["owner_id"]
            else "",
            "detail_url": self.cta_url(pk),
            "status_url": self.status_url(pk),
            "tasks_done": done,
            "tasks_total": total,
            "tasks": f"{done}/{total}" if total else "",
            "tasks_all_done": bool(total) and done == total,
        }


def _per_cta(sql: str) -> RawSQL:
    """A scalar subquery on each CTA row (`sql`, with {cta} for the CTA table's quoted name):
    written out, as a few of them compiled through the ORM cost more than they run — a
    primary key or an index probe per row of a page."""
    return RawSQL(sql.format(cta=f'"{CTA._meta.db_table}"'), ())


_TASKS = f'"{Task._meta.db_table}"'
# Each row's task counts (the tasks' cta_id index): no query of their own.
TASK_COUNTS = {
    "tasks_total": f'SELECT COUNT(*) FROM {_TASKS} WHERE {_TASKS}."cta_id" = {{cta}}."id"',
    "tasks_done": (
        f'SELECT COUNT(*) FROM {_TASKS} WHERE {_TASKS}."cta_id" = {{cta}}."id" AND {_TASKS}."done"'
    ),
}
# A row's type, reason and status names (by primary key), when no lookups were read.
NAME_COLUMNS = {
    f"{kind}_name": (f'SELECT "name" FROM "{model._meta.db_table}" WHERE "id" = {{cta}}."{column}"')
    for kind, model, column in (
        (TYPE, CTAType, "cta_type_id"),
        (REASON, CTAReason, "reason_id"),
        (STATUS, CTAStatus, "status_id"),
    )
}


def _rows(
    ctas: QuerySet[CTA],
    *,
    today: dt.date,
    lookups: CTALookups | None = None,
    extra: dict[str, RawSQL] | None = None,
) -> tuple[list[CTARow], list[dict[str, Any]]]:
    """The rows of `ctas` (a page of them), and their values: in one query, with their task
    counts, and without `lookups` their type's, reason's, status's and priority's names and
    the priority's colour. `extra`: more columns, read with the rows' values."""
    columns = {name: _per_cta(sql) for name, sql in TASK_COUNTS.items()}
    if lookups is None:
        columns.update((name, _per_cta(sql)) for name, sql in NAME_COLUMNS.items())
    columns.update(extra or {})
    names = [*ROW_COLUMNS, *columns]
    if lookups is None:
        # The page's rows are ordered by their priority's order: joined already.
        names += ["priority__name", "priority__colour"]
    found = list(ctas.annotate(**columns).values(*names))
    if lookups is not None:
        names_of = lookups.names
    else:
        names_of = {}
        for values in found:
            names_of[(TYPE, values["cta_type_id"])] = (values["type_name"], "")
            names_of[(STATUS, values["status_id"])] = (values["status_name"], "")
            if values["reason_id"] is not None:
                names_of[(REASON, values["reason_id"])] = (values["reason_name"], "")
            names_of[(PRIORITY, values["priority_id"])] = (
                values["priority__name"],
                values["priority__colour"],
            )
    maker = RowMaker(today=today, names=names_of)
    return [maker.row(values) for values in found], found


# ---------- the Cockpit ----------


@dataclass
class CockpitFilters:
    """What the Cockpit shows; the defaults are "my open CTAs, grouped by due date"."""

    group: str = GROUP_BY_DUE
    owner: str = OWNER_ME
    cta_type: int | None = None  # ids
    priority: int | None = None
    status: str = STATUS_OPEN
    company: str = ""
    relationship_type: str = ""
    show_snoozed: bool = False
    default_owner: str = OWNER_ME

    @property
    def narrowed(self) -> bool:
        return bool(
            self.owner != self.default_owner
            or self.cta_type
            or self.priority
            or self.status
            or self.company
            or self.relationship_type
            or self.show_snoozed
        )


def _filtered(
    *,
    user: AnyUser,
    filters: CockpitFilters,
    today: dt.date,
    visible: QuerySet[CTA] | None = None,
    snoozed: bool | None = None,
) -> QuerySet[CTA]:
    """The CTAs the Cockpit lists for `filters`, unordered: of `visible` (by default
    `ctas_visible_to(user)`), with the snoozed ones when `snoozed` (by default when
    `filters.show_snoozed`)."""
    ctas = ctas_visible_to(user) if visible is None else visible
    if filters.owner == OWNER_ME:
        ctas = ctas.filter(owner=user) if user.is_authenticated else ctas.none()
    elif filters.owner == OWNER_NOBODY:
        ctas = ctas.filter(owner__isnull=True)
    elif parse_id(filters.owner) is not None:
        ctas = ctas.filter(owner_id=parse_id(filters.owner))
    if filters.status == STATUS_CLOSED:
        ctas = ctas.filter(is_closed=True)
    elif parse_id(filters.status) is not None:
        ctas = ctas.filter(status_id=parse_id(filters.status))
    else:
        ctas = ctas.filter(is_closed=False)
    if filters.cta_type is not None:
        ctas = ctas.filter(cta_type_id=filters.cta_type)
    if filters.priority is not None:
        ctas = ctas.filter(priority_id=filters.priority)
    if filters.company:
        ctas = ctas.filter(company__name__icontains=filters.company)
    if filters.relationship_type == RELATIONSHIP_NONE:
        ctas = ctas.filter(relationship__isnull=True)
    elif parse_id(filters.relationship_type) is not None:
        ctas = ctas.filter(relationship__relationship_type_id=parse_id(filters.relationship_type))
    if not (filters.show_snoozed if snoozed is None else snoozed):
        # Snoozed until a later day: out of sight until then.
        ctas = ctas.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
    return ctas.order_by()


def _ordered(ctas: QuerySet[CTA], *, group: str) -> QuerySet[CTA]:
    due = F("due_date").asc(nulls_last=True)
    if group == GROUP_BY_PRIORITY:
        return ctas.order_by("priority__order", "priority_id", due, "pk")
    return ctas.order_by(due, "priority__order", "pk")


def cockpit_ctas(*, user: AnyUser, filters: CockpitFilters, today: dt.date) -> QuerySet[CTA]:
    """The CTAs the Cockpit lists for `filters`, in the order of its grouping."""
    return _ordered(_filtered(user=user, filters=filters, today=today), group=filters.group)


def due_group(due: dt.date | None, *, today: dt.date) -> str:
    """Which due-date group a date falls in; "this week" runs to the coming Sunday."""
    if due is None:
        return NO_DUE_DATE
    if due < today:
        return OVERDUE
    if due == today:
        return TODAY
    if due <= today + dt.timedelta(days=6 - today.weekday()):
        return THIS_WEEK
    return LATER


@dataclass
class CockpitGroup:
    key: str
    label: str
    rows: list[CTARow] = field(default_factory=list)
    colour: str = ""


@dataclass
class CockpitPage:
    page: Page[CTA]
    page_range: list[Any]
    groups: list[CockpitGroup]
    today: dt.date


class _Counted(Sequence[CTA]):
    """What a Paginator needs of a list whose size is known: its length (the page's rows are
    read apart, a bucket at a time)."""

    def __init__(self, count: int) -> None:
        self._count = count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> CTA: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CTA]: ...
    def __getitem__(self, index: int | slice) -> CTA | Sequence[CTA]:
        if isinstance(index, slice):
            return []
        raise IndexError(index)


Bucket = tuple[dt.date | None, int, int]  # due date, priority id, how many CTAs


def _grouped(ctas: QuerySet[CTA]) -> QuerySet[CTA, tuple[Any, ...]]:
    return (
        ctas.values("due_date", "priority_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("due_date", "priority_id", "n")
    )


def _counted_buckets(
    *, user: AnyUser, filters: CockpitFilters, today: dt.date, page_number: Any
) -> tuple[Page[CTA], list[Bucket]]:
    """The page asked for, and (due date, priority, how many) buckets of the listed CTAs,
    enough of them to place that page's rows; three or four queries.

    The count from indexes alone: an internal user's, the open CTAs minus those snoozed to a
    later day (the running count of open CTAs the database keeps when nothing else narrows
    the list, else a COUNT of a partial index; and a range of the open CTAs' snoozed index); a
    partner user's, a range of their partner's covering (partner, due date, priority, snoozed
    until, relationship) index.

    The buckets, grouped by due date: only those of the dates up to the one at the page's last
    row (`_buckets_to`), so an early page costs its dates, not the whole book; grouped by
    priority, all of them.
    """
    ctas = _filtered(user=user, filters=filters, today=today)
    if is_partner_user(user):
        count = ctas.count()
    else:
        if _every_open(filters):
            # Every open CTA: the running count the database keeps (`row_counts`), exact.
            count = row_counts.table_total(row_counts.CTA_OPEN)
        else:
            count = _filtered(user=user, filters=filters, today=today, snoozed=True).count()
        if not filters.show_snoozed:
            count -= (
                _filtered(user=user, filters=filters, today=today, snoozed=True)
                .filter(snoozed_until__gt=today)
                .count()
            )
    page = Paginator(_Counted(count), PAGE_SIZE).get_page(page_number)
    end = min(page.number * PAGE_SIZE, count)
    if end == 0:
        return page, []
    if filters.group == GROUP_BY_PRIORITY:
        return page, list(_grouped(ctas))
    return page, _buckets_to(ctas, end=end)


def _every_open(filters: CockpitFilters) -> bool:
    """Whether `filters` (of an "Anyone" view) leave every open CTA in the list, snoozed ones
    aside: no status, type, priority, company or relationship type narrows it."""
    return (
        filters.owner == OWNER_ANYONE
        and filters.status == STATUS_OPEN
        and filters.cta_type is None
        and filters.priority is None
        and not filters.company
        and not filters.relationship_type
    )


def _buckets_to(ctas: QuerySet[CTA], *, end: int) -> list[Bucket]:
    """The buckets of `ctas` up to the due date of its row `end` in due order (two queries):
    SQLite walks the open CTAs' (due_date, priority, snoozed_until, is_closed) index to that
    row, then counts the range up to its date, so an early page costs its dates, not the
    whole book. The undated CTAs come last and are counted only when the page reaches them.
    (The date is read first: as a subquery in the counting query SQLite tested it on every
    undated CTA, probing a partner's grants for each.)"""
    cut = (
        ctas.filter(due_date__isnull=False)
        .order_by("due_date")
        .values_list("due_date", flat=True)[end - 1 : end]
        .first()
    )
    if cut is not None:
        return list(_grouped(ctas.filter(due_date__lte=cut)))
    return list(_grouped(ctas))


def _bucketed_rows(
    ctas: QuerySet[CTA],
    buckets: list[Bucket],
    *,
    group: str,
    start: int,
    end: int,
    today: dt.date,
    lookups: CTALookups,
) -> list[CTARow]:
    """Rows `start` to `end` of the open CTAs in `ctas` in the Cockpit's order, read without
    sorting them all.

    The order (due date, empty last, then priority order, then id; or priority first) runs
    through `buckets` of one due date and one priority, in each of which it is the id's: the
    open CTAs' partial (due_date, priority, id) index. The page's rows are taken from the
    buckets it covers, each at its offset (LIMIT n OFFSET j, one per bucket, their ids in one
    query), then read by id and sorted as a page of 50. Three queries: the ids, the rows,
    their task counts (the priorities' order comes with the `lookups`).
    """
    if end <= start:
        return []
    ranks = lookups.ranks

    def key(bucket: Bucket) -> tuple[Any, ...]:
        due, priority_id, _ = bucket
        dated = (due is None, due or dt.date.min)
        by_priority = (ranks.get(priority_id, 0), priority_id)
        return (*by_priority, *dated) if group == GROUP_BY_PRIORITY else (*dated, *by_priority)

    arms: list[QuerySet[CTA, Any]] = []
    first = 0
    for due, priority_id, count in sorted(buckets, key=key):
        last = first + count
        if last > start and first < end:
            skip = max(start - first, 0)
            take = min(end, last) - first - skip
            bucket = ctas.filter(priority_id=priority_id)
            bucket = (
                bucket.filter(due_date__isnull=True) if due is None else bucket.filter(due_date=due)
            )
            arms.append(bucket.order_by("pk").values_list("pk")[skip : skip + take])
        if last >= end:
            break
        first = last
    if not arms:
        return []
    ids = _union_ids(arms)
    rows, _ = _rows(
        _ordered(CTA.objects.filter(pk__in=ids), group=group), today=today, lookups=lookups
    )
    return rows


def _union_ids(arms: list[QuerySet[CTA, Any]]) -> list[int]:
    """The ids the sliced `arms` give, read in one query: `SELECT * FROM (arm LIMIT n OFFSET j)
    UNION ALL ...` (Django does not combine sliced querysets on SQLite). Each arm is an index
    range; the page's rows are then read by these ids (PostgreSQL, given the arms as an IN
    subquery, hash-joined every CTA to the page's tables before the semi-join)."""
    connection = connections[arms[0].db]
    parts: list[str] = []
    params: list[Any] = []
    for number, arm in enumerate(arms):
        sql, arm_params = arm.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) arm{number}")
        params.extend(arm_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [row[0] for row in cursor.fetchall()]


def _bucketed(filters: CockpitFilters) -> bool:
    """Whether the list is read by buckets: everyone's open CTAs, tens of thousands."""
    return filters.owner == OWNER_ANYONE and filters.status != STATUS_CLOSED


def cockpit_page(
    *,
    user: AnyUser,
    filters: CockpitFilters,
    page_number: Any,
    today: dt.date,
    lookups: CTALookups | None = None,
) -> CockpitPage:
    """One page (50 CTAs) of the Cockpit, grouped by due date or by priority.

    The page is cut from the list in its grouping order, so each group on it is contiguous;
    a group that spans two pages appears on both. Everyone's open CTAs (an "Anyone" view,
    a partner user's default) are read by buckets (`_bucketed_rows`); a person's own by their
    owner index, sorted. `lookups`: those the filter form read (else read here).
    """
    if lookups is None:
        lookups = cta_lookups()
    ctas = _filtered(user=user, filters=filters, today=today)
    if _bucketed(filters):
        page, buckets = _counted_buckets(
            user=user, filters=filters, today=today, page_number=page_number
        )
        start = (page.number - 1) * PAGE_SIZE
        end = min(start + PAGE_SIZE, page.paginator.count)
        rows = _bucketed_rows(
            ctas,
            buckets,
            group=filters.group,
            start=start,
            end=end,
            today=today,
            lookups=lookups,
        )
    else:
        ordered = Paginator(_ordered(ctas, group=filters.group), PAGE_SIZE)
        # get_page: a number out of range gives the last page, anything not a number the first.
        page = ordered.get_page(page_number)
        # The page's slice of the queryset, read as the columns shown.
        rows, _ = _rows(cast(QuerySet[CTA], page.object_list), today=today, lookups=lookups)
    groups: list[CockpitGroup] = []
    for row in rows:
        if filters.group == GROUP_BY_PRIORITY:
            key, label = f"priority-{row['priority_id']}", row["priority_name"]
            colour = row["priority_colour"]
        else:
            key = due_group(row["due_date"], today=today)
            label, colour = DUE_GROUPS[key], ""
        if not groups or groups[-1].key != key:
            groups.append(CockpitGroup(key=key, label=label, colour=colour))
        groups[-1].rows.append(row)
    return CockpitPage(page=page, page_range=page_range(page), groups=groups, today=today)


def overdue_cta_count(*, user: AnyUser, today: dt.date) -> int:
    """How many of `user`'s own open CTAs are past due (snoozed ones wait their day): the
    Cockpit's badge on every full page.

    One COUNT read from the covering (owner, due date, snoozed until, partner, relationship)
    index alone: a partner user's visibility is on the CTA's own row (`ctas_visible_where`).
    Its SQL is written out: built by the ORM, this one COUNT cost ~1.2 ms of Python on every
    page, ten times what the database spends on it.
    """
    visible = ctas_visible_where(user)
    if visible is None:
        return 0
    condition, params = visible
    connection = connections[DEFAULT_DB_ALIAS]
    due = CTA._meta.get_field("due_date")
    dates = [due.get_db_prep_value(day, connection) for day in (today, dt.date.min, today)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_overdue_sql(connection.vendor)} AND {condition}", [user.pk, *dates, *params]
        )
        return int(cursor.fetchone()[0])


@cache
def _overdue_sql(vendor: str) -> str:
    """Awake: never snoozed, or snoozed until today at the latest. Written as one COALESCE, not
    an OR, so PostgreSQL reads the covering index alone (the OR made a BitmapOr of two index
    scans and a visit to every overdue CTA's table row)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return (
        f"SELECT COUNT(*) FROM {quote(CTA._meta.db_table)}"
        f" WHERE {quote('owner_id')} = %s AND NOT {quote('is_closed')}"
        f" AND {quote('due_date')} < %s AND COALESCE({quote('snoozed_until')}, %s) <= %s"
    )


# ---------- bulk actions ----------


@dataclass
class Selection:
    """The CTAs a bulk action may touch, and how many of the posted ids it left out."""

    ctas: QuerySet[CTA]
    found: int
    ignored: int
    open_tasks: int = 0


def cockpit_selection(*, user: AnyUser, ids: Iterable[Any]) -> Selection:
    """The posted CTA ids re-filtered through what `user` may see; others are left out.

    An id that is not a number, does not exist or belongs to a CTA the user may not see is
    never acted on, only counted as ignored (two queries).
    """
    wanted = {pk for pk in (parse_id(value) for value in ids) if pk is not None}
    asked = len({str(value) for value in ids})
    ctas = ctas_visible_to(user).filter(pk__in=wanted)
    counts = ctas.aggregate(
        found=Count("pk", distinct=True),
        open_tasks=Count("tasks", filter=Q(tasks__done=False, is_closed=False)),
    )
    found = counts["found"] or 0
    return Selection(
        ctas=ctas, found=found, ignored=max(asked - found, 0), open_tasks=counts["open_tasks"] or 0
    )


# ---------- the cockpit section of a 360 page ----------


@dataclass
class CockpitSection:
    rows: list[CTARow]
    total: int
    overdue: int


def cockpit_section(
    *,
    user: AnyUser,
    subject: Company | Relationship,
    include_relationships: bool,
    include_closed: bool,
    limit: int,
    today: dt.date,
) -> CockpitSection:
    """The subject's CTAs for its cockpit section: open ones (and closed if asked), due first.

    On a company, `include_relationships` adds the CTAs of its relationships the user may see.
    One query: the rows with their names and task counts, and the counts of all of them as
    window aggregates (over every matching CTA, before the LIMIT).
    """
    ctas = ctas_visible_to(user)
    if isinstance(subject, Relationship):
        ctas = ctas.filter(relationship=subject)
    else:
        ctas = ctas.filter(company=subject)
        if not include_relationships:
            ctas = ctas.filter(relationship__isnull=True)
    if not include_closed:
        ctas = ctas.filter(is_closed=False)
    ordered = ctas.order_by(
        "is_closed", F("due_date").asc(nulls_last=True), "priority__order", "pk"
    )
    counts = {
        "total_": RawSQL("COUNT(*) OVER ()", ()),
        "overdue_": RawSQL(
            f'COUNT(CASE WHEN NOT "{CTA._meta.db_table}"."is_closed"'
            f' AND "{CTA._meta.db_table}"."due_date" < %s THEN 1 END) OVER ()',
            (today,),
        ),
    }
    rows, found = _rows(ordered[:limit], today=today, extra=counts)
    if not found:
        return CockpitSection(rows=[], total=0, overdue=0)
    return CockpitSection(rows=rows, total=found[0]["total_"], overdue=found[0]["overdue_"])
