"""The timeline: `/timeline/` (every activity the user may see) and the activity dialogs.

The dialogs (log, edit, delete) are shared with the timeline section of the 360 pages
(layouts/sections/timeline.py): a successful write closes the dialog and sends
ACTIVITY_LOGGED, so every timeline and summary on the page redraws itself.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from companies.models import Company
from layouts.sections.base import ACTIVITY_LOGGED
from partners.access import AnyUser, activities_visible_to
from relationships.models import Relationship
from success.forms.timeline import (
    ActivityForm,
    TimelineFilterForm,
    activity_initial,
    initial_from_query,
)
from success.models import Activity, ActivityType
from success.selectors.timeline import (
    TimelinePage,
    activities_page,
    activity_for,
    company_for_log,
    company_suggestions,
    follow_up_url_base,
    timeline_authors,
)
from success.services import activity_delete, activity_log, activity_update

ADD = "success.add_activity"
CHANGE = "success.change_activity"
DELETE = "success.delete_activity"
ADD_CTA = "success.add_cta"
PAGE_SIZE = 25
FILTER_NAMES = ("type", "author", "date_from", "date_to", "company")

FORM = "success/timeline_form.html"
DELETE_CONFIRM = "success/timeline_delete.html"
ROWS = "success/timeline_rows.html"


# ---------- what every timeline list shows ----------


def row_context(
    user: AnyUser,
    *,
    page: TimelinePage,
    more_url: str | None,
    plain_url: str | None,
    id_prefix: str,
    show_company: bool,
    show_relationship: bool,
) -> dict[str, Any]:
    """The context of `success/timeline_rows.html`: rows, controls and the "load more" row."""
    follow_up = follow_up_url_base() if user.has_perm(ADD_CTA) else None
    return {
        "page": page,
        "more_url": more_url,
        "plain_url": plain_url,
        "id_prefix": id_prefix,
        "show_company": show_company,
        "show_relationship": show_relationship,
        "can_change": user.has_perm(CHANGE),
        "can_delete": user.has_perm(DELETE),
        "follow_up_url": follow_up,
    }


def with_query(url: str, values: dict[str, str]) -> str:
    if not values:
        return url
    query = QueryDict(mutable=True)
    query.update(values)
    return f"{url}?{query.urlencode()}"


def _signed_in(request: HttpRequest) -> User:
    # Every view here is behind login_required: the user is never anonymous.
    return cast(User, request.user)


def saved() -> HttpResponse:
    """The answer to a successful write: close the dialog, redraw what shows activities."""
    # 204: htmx swaps nothing; the dialog is closed by the event, not emptied and reopened.
    response = HttpResponse(status=204)
    trigger_client_event(response, "closeModal")
    trigger_client_event(response, ACTIVITY_LOGGED)
    return response


def _add_errors(form: ActivityForm, error: ValidationError) -> None:
    """A service's ValidationError, next to the field it is about (else above the form)."""
    errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, messages in errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


# ---------- the dialogs ----------


def log_dialog(
    request: HttpRequest,
    *,
    company: Company | None,
    relationship: Relationship | None = None,
    fixed_relationship: bool = False,
    action_url: str,
    picker: bool = False,
) -> HttpResponse:
    """Log an activity: the form (GET) or its submission (POST).

    With `picker` (on /timeline/) the company comes from the request: chosen in the dialog's
    company search, among the companies the user may see.
    """
    user = _signed_in(request)
    if not user.has_perm(ADD):
        raise PermissionDenied("Your role does not allow logging activities.")
    values = request.POST if request.method == "POST" else request.GET
    if picker:
        company = company_for_log(user=user, pk=values.get("company"))
    company_error = ""
    if request.method == "POST":
        form = ActivityForm(
            request.POST,
            user=user,
            company=company,
            relationship=relationship,
            fixed_relationship=fixed_relationship,
            refresh_url=action_url,
        )
        if company is None:
            company_error = "Choose the company this activity is about."
        valid = form.is_valid()
        if valid and company is not None:
            try:
                activity_log(
                    by=user,
                    company=company,
                    attendees=form.attendee_values(),
                    **form.activity_values(),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return saved()
    else:
        initial = {**activity_initial(), **initial_from_query(request.GET)}
        form = ActivityForm(
            initial=initial,
            user=user,
            company=company,
            relationship=relationship,
            fixed_relationship=fixed_relationship,
            refresh_url=action_url,
        )
    return render(
        request,
        FORM,
        {
            "form": form,
            "adding": True,
            "company": company,
            "relationship": relationship if fixed_relationship else None,
            "picker": picker,
            "company_error": company_error,
            "action_url": action_url,
            "suggest_url": reverse("success:timeline_companies"),
        },
    )


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
                _add_errors(form, error)
            else:
                return saved()
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
        return saved()
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
    found = company_suggestions(user=request.user, q=request.GET.get("company_q", ""))
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


def _wants_fragment(request: HttpRequest) -> bool:
    # A history restore asks for the whole page even though it comes from htmx.
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def timeline_page(request: HttpRequest) -> HttpResponse:
    """The feed of every activity the user may see, newest first, with its filters."""
    user = request.user
    scope = activities_visible_to(user)
    wanted_company = request.GET.get("company")
    company = company_for_log(user=user, pk=wanted_company) if wanted_company else None
    form = TimelineFilterForm(
        request.GET,
        types=list(ActivityType.objects.order_by("order", "name")),
        authors=timeline_authors(activities=scope, small=False),
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
    if _wants_fragment(request):
        if request.GET.get("after"):
            return render(request, ROWS, context)
        return render(request, "success/timeline.html#browse", context)
    return render(request, "success/timeline.html", context)


urlpatterns: list[URLPattern] = [
    path("timeline/", timeline_page, name="timeline"),
    path("timeline/log/", timeline_log, name="timeline_log"),
    path("timeline/companies/", timeline_companies, name="timeline_companies"),
    path("timeline/activities/<int:pk>/edit/", activity_edit, name="activity_edit"),
    path("timeline/activities/<int:pk>/delete/", activity_remove, name="activity_delete"),
]
