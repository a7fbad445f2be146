"""The timeline: `/timeline/` (every activity the user may see) and the activity dialogs.

The dialogs (log, edit, delete) are shared with the timeline section of the 360 pages
(layouts/sections/timeline.py): a successful write closes the dialog and sends
ACTIVITY_LOGGED, so every timeline and summary on the page redraws itself.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from companies.selectors import companies_for_picker
from gainsight_lite.forms import add_service_errors
from gainsight_lite.http import dialog_saved, wants_fragment
from partners.access import work_visible_by_probe
from success.events import ACTIVITY_LOGGED
from success.forms.timeline import (
    FORM,
    ActivityForm,
    TimelineFilterForm,
    activity_initial,
    initial_from_query,
    log_dialog,
)
from success.models import Activity, ActivityType
from success.selectors.timeline import (
    ADD,
    CHANGE,
    DELETE,
    ROWS,
    activities_page,
    activity_for,
    company_for_log,
    row_context,
    timeline_authors,
    with_query,
)
from success.services import activity_delete, activity_update

PAGE_SIZE = 25
FILTER_NAMES = ("type", "author", "date_from", "date_to", "company")

DELETE_CONFIRM = "success/timeline_delete.html"


def _signed_in(request: HttpRequest) -> User:
    # Every view here is behind login_required: the user is never anonymous.
    return cast(User, request.user)


# ---------- the dialogs ----------


def _own_activity(request: HttpRequest, pk: int, permission: str) -> Activity:
    """The activity `pk` if the user may see it (else 404) and wrote it (else 403)."""
    activity = activity_for(user=request.user, pk=pk)
    if activity is None:
        raise Http404("No such activity.")
    if activity.author_id != request.user.pk or not request.user.has_perm(permission):
        raise PermissionDenied("Only the author of an activity can change or delete it.")
    return activity


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _own_activity(request, pk, CHANGE)
    company = activity.company
    url = reverse("success:activity_edit", args=[activity.pk])
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user, company=company, refresh_url=url)
        if form.is_valid():
            try:
                activity_update(
                    activity=activity,
                    by=_signed_in(request),
                    attendees=form.attendee_values(),
                    **form.activity_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return dialog_saved(ACTIVITY_LOGGED)
    else:
        initial = {**activity_initial(activity), **initial_from_query(request.GET)}
        form = ActivityForm(
            initial=initial,
            user=request.user,
            company=company,
            relationship=activity.relationship,
            refresh_url=url,
        )
    return render(
        request,
        FORM,
        {
            "form": form,
            "adding": False,
            "activity": activity,
            "company": company,
            "action_url": url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _own_activity(request, pk, DELETE)
    if request.method == "POST":
        activity_delete(activity=activity, by=_signed_in(request))
        return dialog_saved(ACTIVITY_LOGGED)
    return render(request, DELETE_CONFIRM, {"activity": activity})


@login_required
@require_http_methods(["GET", "POST"])
def timeline_log(request: HttpRequest) -> HttpResponse:
    """Log an activity from /timeline/: the dialog with its company picker."""
    return log_dialog(
        request, company=None, action_url=reverse("success:timeline_log"), picker=True
    )


@login_required
@require_GET
def timeline_companies(request: HttpRequest) -> HttpResponse:
    """Companies matching what was typed in a company picker (the log dialog's or the filter's).

    In the filter a suggestion is a link to the feed narrowed to that company, keeping the
    other filters; in the dialog it redraws the dialog for that company, keeping what was typed.
    """
    purpose = "filter" if request.GET.get("for") == "filter" else "log"
    found = companies_for_picker(user=request.user, q=request.GET.get("company_q", ""))
    # The feed's other filters as they are (the feed checks them), empty ones left out.
    kept: dict[str, str] = {}
    for name in FILTER_NAMES:
        value = request.GET.get(name) or ""
        if value and name != "company":
            kept[name] = value
    rows = []
    for company in found:
        if purpose == "filter":
            url = with_query(reverse("success:timeline"), {**kept, "company": str(company.pk)})
        else:
            url = f"{reverse('success:timeline_log')}?company={company.pk}"
        rows.append({"company": company, "url": url})
    return render(
        request,
        "success/timeline_suggestions.html",
        {"rows": rows, "purpose": purpose, "typed": request.GET.get("company_q", "").strip()},
    )


# ---------- /timeline/ ----------


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def timeline_page(request: HttpRequest) -> HttpResponse:
    """The feed of every activity the user may see, newest first, with its filters."""
    user = request.user
    # The activities the user may see (`activities_visible_to`'s rows), decided per activity
    # by the grant probes: the page walks the newest first and stops after a page; PostgreSQL
    # read the rule's EXISTS as a hash of all the partner's relationship grants (~60k, ~40 ms).
    scope = work_visible_by_probe(user, Activity.objects.all())
    wanted_company = request.GET.get("company")
    company = company_for_log(user=user, pk=wanted_company) if wanted_company else None
    # "Load more" draws rows only: its author filter is checked alone, not the whole list.
    rows_only = wants_fragment(request) and bool(request.GET.get("after"))
    wanted_author = (request.GET.get("author") or "") if rows_only else None
    form = TimelineFilterForm(
        request.GET,
        types=list(ActivityType.objects.order_by("order", "name")),
        authors=timeline_authors(user=user, activities=scope, small=False, wanted=wanted_author),
        company=company,
        auto_id="timeline-%s",
    )
    filters = form.filters()
    page = activities_page(
        activities=filters.apply(scope), after=request.GET.get("after"), size=PAGE_SIZE
    )
    here = reverse("success:timeline")
    more = (
        with_query(here, {**filters.query(), "after": page.next_cursor})
        if page.next_cursor
        else None
    )
    context = {
        "form": form,
        "filters": filters,
        "continued": bool(request.GET.get("after")) and page.rows,
        "current_url": with_query(here, filters.query()),
        "clear_company_url": with_query(here, filters.query(company=None)),
        "can_log": user.has_perm(ADD),
        **row_context(
            user,
            page=page,
            more_url=more,
            plain_url=more,
            id_prefix="feed",
            show_company=True,
            show_relationship=True,
        ),
    }
    if rows_only:
        return render(request, ROWS, context)
    if wants_fragment(request):
        return render(request, "success/timeline.html#browse", context)
    return render(request, "success/timeline.html", context)


urlpatterns: list[URLPattern] = [
    path("timeline/", timeline_page, name="timeline"),
    path("timeline/log/", timeline_log, name="timeline_log"),
    path("timeline/companies/", timeline_companies, name="timeline_companies"),
    path("timeline/activities/<int:pk>/edit/", activity_edit, name="activity_edit"),
    path("timeline/activities/<int:pk>/delete/", activity_remove, name="activity_delete"),
]
