"""Hierarchy (C360): ancestors, the family below as a tree, rolled-up figures, "move under…".

Everything shown is limited to the companies the viewer may see. Users who may change
companies can move this one (with everything below it) under another company or to the top
level; the hierarchy rules (five levels, no cycles) answer in the dialog, in their words.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from companies.forms import CompanyMoveForm
from companies.models import MAX_LEVEL, Company
from companies.selectors import (
    DESCENDANTS_SHOWN,
    company_hierarchy_section,
    company_move_targets,
    visible_company_ids,
)
from companies.services import company_move
from companies.templatetags.gs import money
from layouts.sections.base import (
    COMPANY,
    SectionContext,
    SectionKind,
    register,
)
from partners.access import can
from success.selectors.scores import grade_bands
from success.templatetags.scores import score_badge

MOVE_DIALOG = "layouts/sections/hierarchy_move.html"
MAX_NODES_LIMIT = 500


@register
class Hierarchy(SectionKind):
    key = "hierarchy"
    label = "Hierarchy"
    targets = frozenset({COMPANY})
    template = "layouts/sections/hierarchy.html"
    skeleton_height = 220
    actions = {"move": "move", "move-search": "move_search"}

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        class HierarchyConfig(forms.Form):
            max_nodes = forms.IntegerField(
                label="Companies shown below",
                min_value=1,
                max_value=MAX_NODES_LIMIT,
                initial=DESCENDANTS_SHOWN,
                help_text="The tree stops after this many companies and says how many more "
                "there are; the family totals always count every company.",
            )

        return HierarchyConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        max_nodes = ctx.config.get("max_nodes") or DESCENDANTS_SHOWN
        family = company_hierarchy_section(user=ctx.user, company=ctx.company, max_nodes=max_nodes)
        bands = grade_bands()  # each company's health badge takes its band's colour
        statuses = dict(Company.Status.choices)
        for node in family["nodes"]:
            company = node.company
            node.drawn = {
                "status": statuses.get(company.status, company.status),
                "badge": score_badge(company.health_score, bands, "small"),
                "arr": money(company.arr),
            }
        return {
            **family,
            "can_move": can(ctx.user, "change", Company),
            "move_url": ctx.url("move"),
            "level_count": MAX_LEVEL + 1,
            "bands": bands,
        }

    def move(self, ctx: SectionContext) -> HttpResponse:
        _require_change(ctx)
        company = ctx.company
        request = ctx.request
        if request.method == "POST":
            form = CompanyMoveForm(request.POST, user=ctx.user)
            if form.is_valid():
                try:
                    company_move(
                        company=company, new_parent=form.cleaned_data["parent"], by=ctx.user
                    )
                except ValidationError as error:
                    # The hierarchy rules' own sentences (five levels, own descendant).
                    for message in error.messages:
                        form.add_error("parent", message)
                else:
                    # The page header's breadcrumb shows the old place: reload the whole page.
                    response = HttpResponse(status=204)
                    response["HX-Refresh"] = "true"
                    return response
            q = form.data.get("q", "")
            chosen = form.data.get("parent", "")
        else:
            form = CompanyMoveForm(user=ctx.user)
            q = chosen = ""
        parent_shown = bool(
            company.parent_id
            and visible_company_ids(user=ctx.user, company_ids={company.parent_id})
        )
        return render(
            request,
            MOVE_DIALOG,
            {
                "form": form,
                "company": company,
                "current_parent": company.parent if parent_shown else None,
                "q": q,
                "chosen": str(chosen),
                "targets": company_move_targets(user=ctx.user, company=company, q=q),
                "action_url": ctx.url("move"),
                "search_url": ctx.url("move-search"),
            },
        )

    def move_search(self, ctx: SectionContext) -> HttpResponse:
        """As the name is typed: up to ten companies to move under."""
        _require_change(ctx)
        q = ctx.request.GET.get("q", "")
        return render(
            ctx.request,
            f"{MOVE_DIALOG}#results",
            {
                "company": ctx.company,
                "q": q,
                "chosen": ctx.request.GET.get("parent", ""),
                "targets": company_move_targets(user=ctx.user, company=ctx.company, q=q),
            },
        )


def _require_change(ctx: SectionContext) -> None:
    if not can(ctx.user, "change", Company):
        raise PermissionDenied("Your role does not allow moving companies.")
