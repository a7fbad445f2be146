"""Reads of the Cockpit and of CTAs: which CTAs a viewer sees, grouped, a page at a time.

Every read goes through `partners.access.ctas_visible_to`, and each is a fixed number of
queries whatever the number of CTAs: one for a page's rows (with their company,
relationship, type, priority, status and owner joined), one for the count, one for the
rows' task counts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404

from companies.models import Company
from gainsight_lite.http import parse_id
from gainsight_lite.pagination import page_range
from partners.access import (
    AnyUser,
    ctas_visible_to,
)
from relationships.models import Relationship
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


# ---------- task counts ----------


@dataclass
class CTARow:
    """A CTA in a list, with its task counts and whether it is overdue."""

    cta: CTA
    tasks_done: int = 0
    tasks_total: int = 0
    overdue: bool = False

    @property
    def open_tasks(self) -> int:
        return self.tasks_total - self.tasks_done

    @property
    def priority_colour(self) -> str:
        return safe_colour(self.cta.priority.colour)


def safe_colour(value: str) -> str:
    """An admin-typed colour, only when it is a plain #rgb or #rrggbb (it goes into the page's
    markup: a colour saved around the model's validation renders as none, never as markup)."""
    return value if HEX_COLOUR.fullmatch(value or "") else ""


def _rows(ctas: Iterable[CTA], *, today: dt.date) -> list[CTARow]:
    """Rows for `ctas`, their task counts read in one query."""
    ctas = list(ctas)
    counts = {
        row["cta_id"]: row
        for row in Task.objects.filter(cta_id__in=[c.pk for c in ctas])
        .values("cta_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done=True)))
        .order_by()
    }
    return [
        CTARow(
            cta=cta,
            tasks_done=counts.get(cta.pk, {}).get("done", 0),
            tasks_total=counts.get(cta.pk, {}).get("total", 0),
            overdue=is_overdue(cta, today=today),
        )
        for cta in ctas
    ]


def is_overdue(cta: CTA, *, today: dt.date) -> bool:
    return not cta.is_closed and cta.due_date is not None and cta.due_date < today


def _list_related(ctas: QuerySet[CTA]) -> QuerySet[CTA]:
    return ctas.select_related(
        "company",
        "relationship",
        "relationship__relationship_type",
        "cta_type",
        "reason",
        "priority",
        "status",
        "owner",
    )


# ---------- the Cockpit ----------


@dataclass
class CockpitFilters:
    """What the Cockpit shows; the defaults are "my open CTAs, grouped by due date"."""

    group: str = GROUP_BY_DUE
    owner: str = OWNER_ME
    cta_type: CTAType | None = None
    priority: CTAPriority | None = None
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


def cockpit_ctas(*, user: AnyUser, filters: CockpitFilters, today: dt.date) -> QuerySet[CTA]:
    """The CTAs the Cockpit lists for `filters`, in the order of its grouping."""
    ctas = ctas_visible_to(user)
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
        ctas = ctas.filter(cta_type=filters.cta_type)
    if filters.priority is not None:
        ctas = ctas.filter(priority=filters.priority)
    if filters.company:
        ctas = ctas.filter(company__name__icontains=filters.company)
    if filters.relationship_type == RELATIONSHIP_NONE:
        ctas = ctas.filter(relationship__isnull=True)
    elif parse_id(filters.relationship_type) is not None:
        ctas = ctas.filter(relationship__relationship_type_id=parse_id(filters.relationship_type))
    if not filters.show_snoozed:
        # Snoozed until a later day: out of sight until then.
        ctas = ctas.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
    due = F("due_date").asc(nulls_last=True)
    if filters.group == GROUP_BY_PRIORITY:
        return ctas.order_by("priority__order", "priority_id", due, "pk")
    return ctas.order_by(due, "priority__order", "pk")


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


def cockpit_page(
    *, user: AnyUser, filters: CockpitFilters, page_number: Any, today: dt.date
) -> CockpitPage:
    """One page (50 CTAs) of the Cockpit, grouped by due date or by priority.

    The page is cut from the list in its grouping order, so each group on it is contiguous;
    a group that spans two pages appears on both.
    """
    paginator = Paginator(
        _list_related(cockpit_ctas(user=user, filters=filters, today=today)), PAGE_SIZE
    )
    # get_page: a number out of range gives the last page, anything not a number the first.
    page = paginator.get_page(page_number)
    rows = _rows(page.object_list, today=today)
    groups: list[CockpitGroup] = []
    for row in rows:
        if filters.group == GROUP_BY_PRIORITY:
            key, label = f"priority-{row.cta.priority_id}", row.cta.priority.name
            colour = row.priority_colour
        else:
            key = due_group(row.cta.due_date, today=today)
            label, colour = DUE_GROUPS[key], ""
        if not groups or groups[-1].key != key:
            groups.append(CockpitGroup(key=key, label=label, colour=colour))
        groups[-1].rows.append(row)
    return CockpitPage(page=page, page_range=page_range(page), groups=groups, today=today)


def overdue_cta_count(*, user: AnyUser, today: dt.date) -> int:
    """How many of `user`'s own open CTAs are past due (snoozed ones wait their day).

    One COUNT on the (owner, is_closed, due_date) index.
    """
    if not user.is_authenticated:
        return 0
    return (
        ctas_visible_to(user)
        .filter(owner=user, is_closed=False, due_date__lt=today)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        .count()
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
    Three queries: the rows, the counts, the task counts.
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
    counts = ctas.aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(is_closed=False, due_date__lt=today))
    )
    ordered = _list_related(ctas).order_by(
        "is_closed", F("due_date").asc(nulls_last=True), "priority__order", "pk"
    )
    rows = _rows(ordered[:limit], today=today)
    return CockpitSection(rows=rows, total=counts["total"], overdue=counts["overdue"])


def reasons_for(*, cta_type: CTAType | int | None) -> QuerySet[CTAReason]:
    """The reasons of a CTA type, in their order (none without a type)."""
    if cta_type is None:
        return CTAReason.objects.none()
    return CTAReason.objects.filter(cta_type=cta_type).order_by("order", "name")
