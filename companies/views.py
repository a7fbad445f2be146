"""The companies list. The company page (C360) is drawn by the layouts app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companies.forms import CompanyFilterForm
from companies.selectors import company_list_page
from gainsight_lite.http import wants_fragment
from partners.access import sees_relationships


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanyFilterForm(request.GET, user=request.user)
    filters = form.filters()
    listing = company_list_page(
        user=request.user, filters=filters, page_number=request.GET.get("page")
    )
    context = {
        "form": form,
        "filters": filters,
        "listing": listing,
        # A "companies only" partner's users see no relationship: no column, no download.
        "sees_relationships": sees_relationships(request.user),
    }
    if wants_fragment(request):
        return render(request, "companies/list.html#results", context)
    return render(request, "companies/list.html", context)
