"""The companies list and the company page (C360)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companies.forms import CompanyFilterForm
from companies.selectors import (
    company_ancestors,
    company_hierarchy_gap,
    company_hierarchy_section,
    company_list_page,
    company_people_section,
    section_block,
)
from partners.access import get_company_for
from relationships.selectors import relationship_cards_section


def _wants_fragment(request: HttpRequest) -> bool:
    # A history restore asks for the whole page even though it comes from htmx.
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanyFilterForm(request.GET, user=request.user)
    filters = form.filters()
    listing = company_list_page(
        user=request.user, filters=filters, page_number=request.GET.get("page")
    )
    context = {"form": form, "filters": filters, "listing": listing}
    if _wants_fragment(request):
        return render(request, "companies/list.html#results", context)
    return render(request, "companies/list.html", context)


@login_required
@require_GET
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_company_for(request.user, pk)
    ancestors = company_ancestors(user=request.user, company=company)
    sections = [
        section_block(
            "companies/sections/relationships.html",
            title="Relationships",
            context=relationship_cards_section(user=request.user, company=company),
        ),
        section_block(
            "companies/sections/people.html",
            title="People",
            context=company_people_section(company=company),
        ),
        section_block(
            "companies/sections/hierarchy.html",
            title="Hierarchy",
            context=company_hierarchy_section(user=request.user, company=company),
            column="side",
        ),
    ]
    context = {
        "company": company,
        "ancestors": ancestors,
        "gap_before_company": company_hierarchy_gap(company=company, ancestors=ancestors),
        "main_sections": [s for s in sections if s.column == "main"],
        "side_sections": [s for s in sections if s.column == "side"],
    }
    return render(request, "companies/detail.html", context)
