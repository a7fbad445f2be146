"""Success plans: the list, one plan with its objectives and tasks, and their writes.

Every plan comes through `success.selectors.plans` (scoped by `partners.access`): a plan the
user may not see answers 404. Writes need the model permission (a read-only user gets no
controls and a 403), go through `success.services`, and answer with HX-Trigger events —
`planChanged` (and `ctaChanged` for objectives and tasks) — so the page refreshes in place.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from companies.models import Company
from companies.selectors import companies_for_picker
from gainsight_lite.forms import add_service_errors
from gainsight_lite.http import dialog_saved, wants_fragment
from partners.access import require_permission
from success.events import CTA_CHANGED, PLAN_CHANGED
from success.forms.plans import ObjectiveForm, PlanFilterForm, SuccessPlanForm
from success.models import CTAType
from success.selectors.plans import (
    plan_detail,
    plan_for,
    plan_list_page,
    plan_objective_of,
    plan_task_of,
)
from success.services import (
    cta_create,
    cta_set_status,
    default_closed_status,
    default_open_status,
    default_priority,
    open_task_count,
    success_plan_create,
    success_plan_update,
    task_set_done,
)

ADD_PLAN = "success.add_successplan"
CHANGE_PLAN = "success.change_successplan"
ADD_OBJECTIVE = "success.add_cta"
CHANGE_OBJECTIVE = "success.change_cta"
CHANGE_TASK = "success.change_task"


class SignedInRequest(HttpRequest):
    """A request past `login_required`: its user is a real user."""

    user: User


LIST = "success/plan_list.html"
DETAIL = "success/plan_detail.html"
PLAN_FORM = "success/plan_form.html"
OBJECTIVE_FORM = "success/plan_objective_form.html"
OBJECTIVE_CLOSE = "success/plan_objective_close.html"


# ---------- the list ----------


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def plan_list(request: SignedInRequest) -> HttpResponse:
    form = PlanFilterForm(request.GET, user=request.user)
    filters = form.filters()
    listing = plan_list_page(
        user=request.user, filters=filters, page_number=request.GET.get("page")
    )
    context = {
        "form": form,
        "filters": filters,
        "listing": listing,
        "can_add": request.user.has_perm(ADD_PLAN),
    }
    if wants_fragment(request):
        return render(request, f"{LIST}#results", context)
    return render(request, LIST, context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: SignedInRequest) -> HttpResponse:
    """The "New success plan" dialog of the list: pick the company, then the plan's fields."""
    require_permission(request.user, ADD_PLAN)
    if request.method == "POST":
        form = SuccessPlanForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                plan = success_plan_create(by=request.user, **form.plan_values())
            except ValidationError as error:
                add_service_errors(form, error, fallback=None)
            else:
                response = HttpResponseClientRedirect(
                    reverse("success:plan_detail", args=[plan.pk])
                )
                trigger_client_event(response, PLAN_CHANGED)
                return response
    else:
        form = SuccessPlanForm(user=request.user, initial={"owner": request.user.pk})
    company = form.chosen_company()
    q = request.POST.get("company_q", "")
    return render(
        request,
        PLAN_FORM,
        {
            "form": form,
            "adding": True,
            "picking_company": True,
            "company": company,
            "q": q,
            "companies": _company_choices(request, q, company),
            "action_url": reverse("success:plan_new"),
            "companies_url": reverse("success:plan_new_companies"),
            "relationships_url": reverse("success:plan_new_relationships"),
        },
    )


def _company_choices(request: SignedInRequest, q: str, chosen: Company | None) -> list[Company]:
    companies = companies_for_picker(user=request.user, q=q)
    # The chosen company stays on offer when a new search no longer finds it.
    if chosen is not None and chosen not in companies:
        companies.insert(0, chosen)
    return companies


@login_required
@require_GET
def plan_new_companies(request: SignedInRequest) -> HttpResponse:
    """As a company name is typed in the dialog: up to ten companies to choose from."""
    require_permission(request.user, ADD_PLAN)
    q = request.GET.get("company_q", "")
    return render(
        request,
        f"{PLAN_FORM}#companies",
        {
            "q": q,
            "companies": companies_for_picker(user=request.user, q=q),
            "relationships_url": reverse("success:plan_new_relationships"),
        },
    )


@login_required
@require_GET
def plan_new_relationships(request: SignedInRequest) -> HttpResponse:
    """Once a company is chosen: its relationships, for the plan's relationship field."""
    require_permission(request.user, ADD_PLAN)
    form = SuccessPlanForm(user=request.user, initial={"company": request.GET.get("company", "")})
    # The form offers the relationships of the company it was given, if the user may see it.
    return render(
        request, f"{PLAN_FORM}#relationship", {"form": form, "company": form.chosen_company()}
    )


# ---------- one plan ----------


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def plan_page(request: SignedInRequest, pk: int) -> HttpResponse:
    plan = plan_for(user=request.user, pk=pk)
    user = request.user
    context: dict[str, Any] = {
        "detail": plan_detail(plan=plan),
        "plan": plan,
        "can_change": user.has_perm(CHANGE_PLAN),
        "can_add_objective": user.has_perm(ADD_OBJECTIVE),
        "can_change_objective": user.has_perm(CHANGE_OBJECTIVE),
        "can_tick": user.has_perm(CHANGE_TASK),
    }
    if wants_fragment(request):
        return render(request, f"{DETAIL}#body", context)
    return render(request, DETAIL, context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    plan = plan_for(user=request.user, pk=pk)
    require_permission(request.user, CHANGE_PLAN)
    if request.method == "POST":
        form = SuccessPlanForm(request.POST, user=request.user, plan=plan)
        if form.is_valid():
            try:
                # A form without a version (a script's) is not checked; ours always has one.
                success_plan_update(
                    plan=plan,
                    by=request.user,
                    version=form.cleaned_data.get("version") or None,
                    **form.plan_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error, fallback=None)
            else:
                return dialog_saved(PLAN_CHANGED)
    else:
        form = SuccessPlanForm(user=request.user, plan=plan)
    return render(
        request,
        PLAN_FORM,
        {
            "form": form,
            "adding": False,
            "plan": plan,
            "company": plan.company,
            "action_url": reverse("success:plan_edit", args=[plan.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_objective_add(request: SignedInRequest, pk: int) -> HttpResponse:
    """Add an objective: a CTA of type Objective on the plan's company and relationship."""
    plan = plan_for(user=request.user, pk=pk)
    require_permission(request.user, ADD_OBJECTIVE)
    if request.method == "POST":
        form = ObjectiveForm(request.POST, user=request.user, plan=plan)
        if form.is_valid():
            try:
                cta_create(
                    by=request.user,
                    company=plan.company,
                    relationship=plan.relationship,
                    success_plan=plan,
                    cta_type=CTAType.objects.get(name=CTAType.OBJECTIVE),
                    priority=default_priority(),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error, fallback=None)
            else:
                return dialog_saved(PLAN_CHANGED, CTA_CHANGED)
    else:
        form = ObjectiveForm(user=request.user, plan=plan)
    return render(
        request,
        OBJECTIVE_FORM,
        {
            "form": form,
            "plan": plan,
            "action_url": reverse("success:plan_objective_add", args=[plan.pk]),
        },
    )


@login_required
@require_POST
def plan_objective_status(request: SignedInRequest, pk: int, objective_id: int) -> HttpResponse:
    """Close (`status=closed`) or reopen (`status=open`) an objective.

    Closing one with open tasks answers with a confirmation dialog; its button posts again
    with `confirm=1`.
    """
    plan = plan_for(user=request.user, pk=pk)
    require_permission(request.user, CHANGE_OBJECTIVE)
    objective = plan_objective_of(plan=plan, pk=objective_id)
    closing = request.POST.get("status") == "closed"
    status = default_closed_status() if closing else default_open_status()
    try:
        cta_set_status(
            cta=objective,
            status=status,
            by=request.user,
            confirm_open_tasks=request.POST.get("confirm") == "1",
        )
    except ValidationError:
        return render(
            request,
            OBJECTIVE_CLOSE,
            {
                "plan": plan,
                "objective": objective,
                "open_tasks": open_task_count(objective),
                "action_url": reverse(
                    "success:plan_objective_status", args=[plan.pk, objective.pk]
                ),
            },
        )
    return dialog_saved(PLAN_CHANGED, CTA_CHANGED)


@login_required
@require_POST
def plan_task_done(request: SignedInRequest, pk: int, task_id: int) -> HttpResponse:
    """Tick a task of one of the plan's objectives off (`done=1`) or back on."""
    plan = plan_for(user=request.user, pk=pk)
    require_permission(request.user, CHANGE_TASK)
    task = plan_task_of(plan=plan, pk=task_id)
    task_set_done(task=task, done=request.POST.get("done") == "1")
    return dialog_saved(PLAN_CHANGED, CTA_CHANGED)


urlpatterns: list[URLPattern] = [
    path("success-plans/", plan_list, name="plans"),
    path("success-plans/new/", plan_new, name="plan_new"),
    path("success-plans/new/companies/", plan_new_companies, name="plan_new_companies"),
    path(
        "success-plans/new/relationships/",
        plan_new_relationships,
        name="plan_new_relationships",
    ),
    path("success-plans/<int:pk>/", plan_page, name="plan_detail"),
    path("success-plans/<int:pk>/edit/", plan_edit, name="plan_edit"),
    path(
        "success-plans/<int:pk>/objectives/new/",
        plan_objective_add,
        name="plan_objective_add",
    ),
    path(
        "success-plans/<int:pk>/objectives/<int:objective_id>/status/",
        plan_objective_status,
        name="plan_objective_status",
    ),
    path(
        "success-plans/<int:pk>/tasks/<int:task_id>/done/",
        plan_task_done,
        name="plan_task_done",
    ),
]
