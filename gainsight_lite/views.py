from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companies.selectors import home_dashboard
from gainsight_lite.http import HtmxHttpRequest
from gainsight_lite.search import DROPDOWN_LIMIT, PAGE_LIMIT, search
from partners.access import sees_relationships


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness with a database round trip; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any database failure means "not healthy"
        return HttpResponse(
            f"error: database unavailable ({type(error).__name__})\n",
            status=503,
            content_type="text/plain",
        )
    return HttpResponse("ok: database reachable\n", content_type="text/plain")


@login_required
@require_GET
@never_cache
def healthz_auth(request: HttpRequest) -> HttpResponse:
    """A signed-in user's smallest page: the floor the benchmark compares pages with.

    It costs what every page costs (session, user, middleware) and nothing else.
    """
    return HttpResponse("ok: signed in\n", content_type="text/plain")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: what they may see and their own renewals."""
    context = {
        "dashboard": home_dashboard(user=request.user),
        "sees_relationships": sees_relationships(request.user),
    }
    return render(request, "home.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def search_view(request: HtmxHttpRequest) -> HttpResponse:
    """Search results: the top bar's dropdown for htmx, the full results page otherwise."""
    dropdown = bool(request.htmx) and not request.htmx.history_restore_request
    results = search(
        user=request.user,
        query=request.GET.get("q", ""),
        limit=DROPDOWN_LIMIT if dropdown else PAGE_LIMIT,
    )
    if dropdown:
        return render(request, "includes/search_dropdown.html", {"results": results})
    return render(request, "search.html", {"results": results})
