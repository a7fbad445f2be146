"""Reads of success plans: the list, one plan with its objectives, the 360 section, pickers.

Every read starts from `partners.access.success_plans_visible_to` (or the company and
relationship rules it is built on), so a viewer never sees a plan they may not open. Each
function reads in a fixed number of queries, whatever the number of plans or objectives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from companies.models import Company
from gainsight_lite.pagination import page_range
from partners.access import (
    AnyUser,
    relationships_visible_to,
    success_plans_visible_to,
)
from relationships.models import Relationship
from success.models import CTA, CTAStatus, SuccessPlan, SuccessPlanType, Task
from success.services import objective_counted, objective_done, plan_progress

PAGE_SIZE = 25
SEARCH_MAX = 100
# Plans still being worked: the ones whose due date can be missed.
OPEN_STATUSES = (SuccessPlan.Status.DRAFT, SuccessPlan.Status.ACTIVE)
OPEN = "open"

# Sort key → (label, ordering). Plans without a due date come last either way.
SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "due": ("Due date, soonest first", (F("due_date").asc(nulls_last=True), "name", "pk")),
    "-due": ("Due date, latest first", (F("due_date").desc(nulls_last=True), "name", "pk")),
    "name": ("Name, A–Z", ("name", "pk")),
    "-name": ("Name, Z–A", ("-name", "-pk")),
}
DEFAULT_SORT = "due"


@dataclass
class PlanFilters:
    """What the success plans list is narrowed and sorted by (already checked by the form)."""

    q: str = ""
    status: str = ""
    plan_type: SuccessPlanType | None = None
    mine: bool = False
    due_before: dt.date | None = None
    company: Company | None = None
    sort: str = DEFAULT_SORT

    @property
    def narrowed(self) -> bool:
        return bool(
            self.q
            or self.status
            or self.plan_type
            or self.mine
            or self.due_before
            or self.company is not None
        )


@dataclass
class PlanRow:
    """One plan with its objective figures."""

    plan: SuccessPlan
    closed: int = 0
    total: int = 0

    @property
    def progress(self) -> int | None:
        return plan_progress(self.closed, self.total)

    @property
    def overdue(self) -> bool:
        return plan_overdue(self.plan)


@dataclass
class PlanListPage:
    page: Page[SuccessPlan]
    rows: list[PlanRow]
    sort: str

    @property
    def page_range(self) -> list[int | str]:
        return page_range(self.page)


@dataclass
class ObjectiveRow:
    """One objective of a plan with its tasks."""

    objective: CTA
    tasks: list[Task] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for task in self.tasks if task.done)

    @property
    def open_tasks(self) -> int:
        return len(self.tasks) - self.done

    @property
    def overdue(self) -> bool:
        due = self.objective.due_date
        return not self.objective.is_closed and due is not None and due < timezone.localdate()


@dataclass
class PlanDetail:
    plan: SuccessPlan
    objectives: list[ObjectiveRow]

    @property
    def closed(self) -> int:
        """The objectives done (closed as achieved): see `plan_progress`."""
        return sum(1 for row in self.objectives if objective_done(row.objective))

    @property
    def total(self) -> int:
        """The objectives that count (all but those closed as not applicable)."""
        return sum(1 for row in self.objectives if objective_counted(row.objective))

    @property
    def progress(self) -> int | None:
        return plan_progress(self.closed, self.total)

    @property
    def overdue(self) -> bool:
        return plan_overdue(self.plan)


def plan_overdue(plan: SuccessPlan) -> bool:
    """A draft or active plan past its due date."""
    due = plan.due_date
    return plan.status in OPEN_STATUSES and due is not None and due < timezone.localdate()


def objective_counts(*, plan_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Plan id → (objectives done, objectives that count), for the given plans (one query).

    As `plan_progress` has it: done = closed as achieved; every objective counts but those
    closed as not applicable.
    """
    if not plan_ids:
        return {}
    achieved = Q(is_closed=True, status__outcome=CTAStatus.Outcome.ACHIEVED)
    not_applicable = Q(is_closed=True, status__outcome=CTAStatus.Outcome.NOT_APPLICABLE)
    rows = (
        CTA.objects.filter(success_plan_id__in=plan_ids)
        .values("success_plan_id")
        .annotate(total=Count("pk", filter=~not_applicable), closed=Count("pk", filter=achieved))
        .order_by()
    )
    return {row["success_plan_id"]: (row["closed"], row["total"]) for row in rows}


def plan_rows(plans: list[SuccessPlan]) -> list[PlanRow]:
    """The plans with their objective figures (one query)."""
    counts = objective_counts(plan_ids=[plan.pk for plan in plans])
    return [PlanRow(plan, *counts.get(plan.pk, (0, 0))) for plan in plans]


def plans_filtered(*, user: AnyUser, filters: PlanFilters) -> QuerySet[SuccessPlan]:
    """The plans `user` may see, narrowed and sorted by `filters`."""
    plans = success_plans_visible_to(user).select_related(
        "company", "relationship", "plan_type", "owner"
    )
    if filters.q:
        plans = plans.filter(company__name__icontains=filters.q)
    if filters.company is not None:
        plans = plans.filter(company=filters.company)
    if filters.status == OPEN:
        plans = plans.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        plans = plans.filter(status=filters.status)
    if filters.plan_type is not None:
        plans = plans.filter(plan_type=filters.plan_type)
    if filters.mine:
        plans = plans.filter(owner_id=user.pk)
    if filters.due_before is not None:
        plans = plans.filter(due_date__lt=filters.due_before)
    sort = filters.sort if filters.sort in SORTS else DEFAULT_SORT
    return plans.order_by(*SORTS[sort][1])


def plan_list_page(*, user: AnyUser, filters: PlanFilters, page_number: Any) -> PlanListPage:
    """One page of the success plans list with each plan's progress (three queries)."""
    sort = filters.sort if filters.sort in SORTS else DEFAULT_SORT
    paginator = Paginator(plans_filtered(user=user, filters=filters), PAGE_SIZE)
    # get_page: a number out of range gives the last page, anything not a number the first.
    page = paginator.get_page(page_number)
    return PlanListPage(page=page, rows=plan_rows(list(page.object_list)), sort=sort)


def plan_for(*, user: AnyUser, pk: Any) -> SuccessPlan:
    """The plan `pk` if `user` may see it, else 404 (the same as a plan that does not exist)."""
    try:
        return (
            success_plans_visible_to(user)
            .select_related("company", "relationship", "plan_type", "owner")
            .get(pk=pk)
        )
    except (SuccessPlan.DoesNotExist, ValueError, TypeError):
        raise Http404("No such success plan.") from None


def plan_detail(*, plan: SuccessPlan) -> PlanDetail:
    """The plan's objectives, soonest due first, each with its tasks (two queries)."""
    tasks = Task.objects.select_related("owner").order_by("order", "pk")
    objectives = (
        CTA.objects.filter(success_plan=plan)
        .select_related("owner", "status")
        .prefetch_related(Prefetch("tasks", queryset=tasks))
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )
    return PlanDetail(
        plan=plan,
        objectives=[ObjectiveRow(cta, list(cta.tasks.all())) for cta in objectives],
    )


def plan_objective_of(*, plan: SuccessPlan, pk: Any) -> CTA:
    """One objective of the plan, else 404."""
    try:
        return CTA.objects.select_related("status").get(success_plan=plan, pk=pk)
    except (CTA.DoesNotExist, ValueError, TypeError):
        raise Http404("This objective is not on this plan.") from None


def plan_task_of(*, plan: SuccessPlan, pk: Any) -> Task:
    """One task of one of the plan's objectives, else 404."""
    try:
        return Task.objects.get(cta__success_plan=plan, pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404("This task is not on this plan.") from None


@dataclass
class PlanSection:
    rows: list[PlanRow]
    count: int

    @property
    def hidden(self) -> int:
        return self.count - len(self.rows)


def plan_section(
    *,
    user: AnyUser,
    subject: Company | Relationship,
    include_relationships: bool,
    include_closed: bool,
    limit: int,
) -> PlanSection:
    """The subject's plans for its 360 section, soonest due first (three queries).

    A company's section can include the plans of its relationships; a relationship's shows
    only its own.
    """
    plans = success_plans_visible_to(user)
    if isinstance(subject, Company):
        plans = plans.filter(company=subject)
        if not include_relationships:
            plans = plans.filter(relationship__isnull=True)
    else:
        plans = plans.filter(relationship=subject)
    if not include_closed:
        plans = plans.filter(status__in=OPEN_STATUSES)
    shown = list(
        plans.select_related("relationship", "plan_type", "owner").order_by(
            *SORTS[DEFAULT_SORT][1]
        )[:limit]
    )
    return PlanSection(rows=plan_rows(shown), count=plans.count())


def plan_relationship_choices(*, user: AnyUser, company: Company | None) -> QuerySet[Relationship]:
    """The relationships of `company` that `user` may see, for a plan's relationship field."""
    if company is None:
        return Relationship.objects.none()
    return (
        relationships_visible_to(user)
        .filter(company=company)
        .select_related("relationship_type")
        .order_by("name", "pk")
    )


def plan_type_choices(*, current: SuccessPlanType | None = None) -> QuerySet[SuccessPlanType]:
    """Active plan types, and the plan's own type even if no longer in use."""
    condition = Q(active=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return SuccessPlanType.objects.filter(condition).order_by("order", "name")
