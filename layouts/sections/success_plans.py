"""Success plans: the subject's plans with their progress, and "New plan" for the subject.

On a C360 the company's plans, with its relationships' plans too unless the section is set
otherwise; on an R360 the relationship's own. Completed and cancelled plans are left out
unless the section is set to show them. A new plan made here is for the page's company (and
relationship, on an R360); its type's template objectives are copied into it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from gainsight_lite.forms import add_service_errors
from gainsight_lite.http import dialog_saved
from layouts.sections.base import (
    CTA_CHANGED,
    PLAN_CHANGED,
    SectionContext,
    SectionKind,
    register,
)
from relationships.models import Relationship
from success.forms.plans import SuccessPlanForm
from success.selectors.plans import OPEN, plan_section
from success.services import success_plan_create

ADD_PLAN = "success.add_successplan"
PLAN_FORM = "success/plan_form.html"
DEFAULT_LIMIT = 5
MAX_LIMIT = 50


@register
class SuccessPlans(SectionKind):
    key = "success_plans"
    label = "Success plans"
    template = "layouts/sections/success_plans.html"
    # A new plan, an objective closed or a task ticked changes what the section shows.
    refresh_on = (PLAN_CHANGED, CTA_CHANGED)
    skeleton_height = 200
    partner_visible = True
    actions = {"new": "new"}

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        on_company = layout is None or layout.target == "company"

        class SuccessPlansConfig(forms.Form):
            if on_company:
                include_relationships = forms.BooleanField(
                    label="Include the relationships' plans",
                    required=False,
                    initial=True,
                    help_text="Also list the plans made for the company's relationships.",
                )
            include_closed = forms.BooleanField(
                label="Show completed and cancelled plans",
                required=False,
                initial=False,
                help_text="Otherwise only draft and active plans are listed.",
            )
            limit = forms.IntegerField(
                label="Plans shown",
                min_value=1,
                max_value=MAX_LIMIT,
                initial=DEFAULT_LIMIT,
                help_text=f"1 to {MAX_LIMIT}; a link leads to the rest.",
            )

        return SuccessPlansConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        config = ctx.config
        on_company = not isinstance(ctx.subject, Relationship)
        include_closed = bool(config.get("include_closed", False))
        section = plan_section(
            user=ctx.user,
            subject=ctx.subject,
            include_relationships=on_company and bool(config.get("include_relationships", True)),
            include_closed=include_closed,
            limit=_limit(config.get("limit")),
        )
        query = {"company": ctx.company.pk, **({} if include_closed else {"status": OPEN})}
        return {
            "listing": section,
            "on_company": on_company,
            "include_closed": include_closed,
            "can_add": ctx.user.has_perm(ADD_PLAN),
            "new_url": ctx.url("new"),
            "all_url": f"{reverse('success:plans')}?{urlencode(query)}",
        }

    def new(self, ctx: SectionContext) -> HttpResponse:
        """The "New plan" dialog: the company (and relationship) is the page's."""
        if not ctx.user.has_perm(ADD_PLAN):
            raise PermissionDenied("Your role does not allow adding success plans.")
        relationship = ctx.subject if isinstance(ctx.subject, Relationship) else None
        request = ctx.request
        fixed = {"user": ctx.user, "company": ctx.company, "relationship": relationship}
        if request.method == "POST":
            form = SuccessPlanForm(request.POST, **fixed)
            if form.is_valid():
                try:
                    success_plan_create(by=ctx.user, **form.plan_values())
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    # The dialog closes and the section reloads itself.
                    return dialog_saved(PLAN_CHANGED, CTA_CHANGED)
        else:
            form = SuccessPlanForm(initial={"owner": ctx.user.pk}, **fixed)
        return render(
            request,
            PLAN_FORM,
            {
                "form": form,
                "adding": True,
                "picking_company": False,
                "company": ctx.company,
                "relationship": relationship,
                "action_url": ctx.url("new"),
            },
        )


def _limit(value: Any) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT
    return min(max(limit, 1), MAX_LIMIT)
