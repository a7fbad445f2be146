"""The Cockpit (`/cockpit/`: the CTAs to work, grouped and filtered, with bulk actions) and
the CTA dialogs every page shares: create, detail, edit, close or reopen, tasks, playbooks.

A CTA dialog is one fragment (root `#cta-dialog`) that the 360 pages and the Cockpit load into
the page's modal; asked without htmx it is drawn as a page of its own. Its forms swap the
fragment in place, so they work the same in the modal and on the page. Every write answers
with the `ctaChanged` event, which the cockpit sections, the summary and the Cockpit's list
listen to.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, reswap, retarget, trigger_client_event

from companies.models import Company
from companies.selectors import companies_for_picker
from gainsight_lite.forms import (
    QuickSelect,
    ReadyChoices,
    add_service_errors,
    name_label,
    user_label,
)
from gainsight_lite.http import (
    CLOSE_MODAL,
    HtmxHttpRequest,
    dialog_saved,
    parse_id,
    wants_fragment,
)
from partners.access import (
    companies_visible_to,
    is_partner_user,
    relationships_visible_to,
    require_permission,
    users_choosable_by,
)
from relationships.models import Relationship
from success.events import CTA_CHANGED
from success.forms.cockpit import (
    CTA_OWNER_PERMISSION,
    BulkForm,
    CockpitFilterForm,
    CTAForm,
    PlaybookForm,
    StatusForm,
    TaskForm,
)
from success.models import Activity, CTAType
from success.selectors.cockpit import (
    GROUP_BY_DUE,
    OWNER_ANYONE,
    OWNER_ME,
    CockpitGroup,
    CTARow,
    cockpit_page,
    cockpit_selection,
    cta_for,
    cta_lookups,
    is_overdue,
    playbooks_for,
    safe_colour,
    status_choices,
    task_of,
)
from success.services import (
    cta_create,
    cta_set_status,
    cta_update,
    ctas_close,
    ctas_reassign,
    default_open_status,
    default_priority,
    playbook_apply,
    task_create,
    task_delete,
    task_set_done,
)


class SignedInRequest(HtmxHttpRequest):
    # Every view here is behind login_required: the user is never anonymous.
    user: User


ADD_CTA = "success.add_cta"
CHANGE_CTA = "success.change_cta"
ADD_TASK = "success.add_task"
CHANGE_TASK = "success.change_task"
DELETE_TASK = "success.delete_task"

FORM = "success/cta_form.html"
DETAIL = "success/cta_detail.html"
CLOSE = "success/cta_close.html"
COCKPIT = "success/cockpit.html"
BULK_CLOSE = "success/cockpit_bulk_close.html"
NOTICE = "success/cockpit_notice.html"

CTA_PAGES = "/cockpit/ctas/"
# After a status change: show the CTA again (its own dialog) or close the modal (a list's).
AFTER_DETAIL = "detail"
AFTER_CLOSE = "close"


def _changed(response: HttpResponse) -> HttpResponse:
    trigger_client_event(response, CTA_CHANGED)
    return response


def _in_page(request: SignedInRequest) -> bool:
    """Whether the dialog is drawn on a CTA's own page rather than in the modal."""
    if not wants_fragment(request):
        return True
    current = request.htmx.current_url_abs_path or ""
    return current.startswith(CTA_PAGES)


def _dialog(
    request: SignedInRequest, template: str, context: dict[str, Any], *, title: str
) -> HttpResponse:
    """The dialog fragment for htmx; the same fragment on a page of its own otherwise.

    A fragment asked from a CTA's own page (the browser is on /cockpit/ctas/…) is drawn for
    the page: without the modal's close buttons.
    """
    if wants_fragment(request):
        return render(request, template, {**context, "in_page": _in_page(request)})
    return render(
        request,
        "success/cta_page.html",
        {**context, "in_page": True, "dialog_template": template, "page_title": title},
    )


# ---------- the Cockpit ----------


def _filter_form(
    request: SignedInRequest,
) -> tuple[CockpitFilterForm, list[tuple[int, SafeString]]]:
    """The filter form with its choices (the CTA lookups, one query; `form.lookups`) and the
    people CTAs may be given to, as (id, name) pairs: one list for the owner filter and the
    bulk bar's select."""
    user = request.user
    # Each name escaped once here (safe text): the owner filter and the bulk bar's select
    # both draw the list, a few hundred colleagues each.
    owners = [
        (pk, SafeString(escape(name_label(first_name, last_name, username))))
        for pk, first_name, last_name, username in users_choosable_by(
            user, permission=CTA_OWNER_PERMISSION
        ).values_list("pk", "first_name", "last_name", "username")
    ]
    partner = is_partner_user(user)
    default_owner = OWNER_ANYONE if partner else OWNER_ME
    data = request.GET.copy()
    # The defaults drawn as chosen in the form, not only applied.
    data.setdefault("owner", default_owner)
    data.setdefault("group", GROUP_BY_DUE)
    form = CockpitFilterForm(
        data,
        lookups=cta_lookups(),
        # Partner users pick among "me / anyone" only: the internal staff list is not theirs.
        owners=[] if partner else owners,
        # Partner users own no CTAs (yet): their Cockpit starts with everything they may see.
        default_owner=default_owner,
    )
    return form, owners


def _owner_select(owners: list[tuple[int, SafeString]]) -> SafeString:
    """The bulk bar's "Give to" select, drawn in Python (hundreds of colleagues)."""
    select = QuickSelect(
        attrs={"id": "bulk-owner", "class": "bulkbar__select"},
        choices=ReadyChoices([("", "Choose an owner…"), *((str(pk), name) for pk, name in owners)]),
    )
    return select.render("owner", None)


def _row_html(row: CTARow, *, can_change: bool) -> str:
    """One line of the Cockpit's table: the markup the template's row loop drew, each text
    escaped once here (the loop's three dozen lookups, tests and autoescapes per row were
    half the page's drawing: ~0.2 ms a row)."""
    name = escape(row["name"])
    detail_url = escape(row["detail_url"])
    overdue = row["overdue"]
    is_closed = row["is_closed"]
    sub = escape(row["status_name"])
    if row["reason_name"]:
        sub += f" · {escape(row['reason_name'])}"
    if row["snoozed_until"]:
        sub += f" · snoozed until {escape(row['snoozed_until'])}"
    if row["relationship_url"]:
        relationship = (
            f'<a href="{escape(row["relationship_url"])}">{escape(row["relationship_name"])}</a>\n'
            f'<span class="cell-sub">{escape(row["relationship_type_name"])}</span>'
        )
    else:
        relationship = '<span class="muted">—</span>'
    if row["due_date"]:
        due = (
            f"{escape(row['due_text'])}\n"
            f'<span class="days days--block{" days--overdue" if overdue else ""}">'
            f"{'Overdue · ' if overdue else ''}{escape(row['days_left'])}</span>"
        )
    else:
        due = '<span class="muted">No due date</span>'
    owner = escape(row["owner_name"]) if row["owner_name"] else '<span class="muted">Nobody</span>'
    if row["tasks"]:
        done = " tasks-count--done" if row["tasks_all_done"] else ""
        tasks = f'<span class="tasks-count{done}">{escape(row["tasks"])}</span>'
    else:
        tasks = '<span class="muted">—</span>'
    check = close = ""
    if can_change:
        check = (
            f'<td class="cockpit-check"><input type="checkbox" name="cta"'
            f' value="{escape(row["pk"])}" aria-label="Select {name}"></td>\n'
        )
        button = (
            f'<button type="button" class="button button--quiet button--small"\n'
            f'hx-get="{escape(row["status_url"])}?after=close" hx-target="#modal"'
            f' hx-swap="innerHTML"\naria-label="Close {name}">Close</button>\n'
            if not is_closed
            else ""
        )
        close = f'<td class="table__actions">\n{button}</td>\n'
    return (
        f'<tr class="cockpit-row{" is-overdue" if overdue else ""}'
        f'{" is-closed" if is_closed else ""}">\n'
        f"{check}"
        f'<td class="cell-name">\n'
        f'<a class="strong-link" href="{detail_url}" hx-get="{detail_url}" hx-target="#modal"'
        f' hx-swap="innerHTML">{name}</a>\n'
        f'<span class="cell-sub">{sub}</span>\n'
        f"</td>\n"
        f'<td><a href="{escape(row["company_url"])}">{escape(row["company_name"])}</a></td>\n'
        f"<td>\n{relationship}\n</td>\n"
        f'<td><span class="chip">{escape(row["type_name"])}</span></td>\n'
        f'<td><span class="priority">{row["priority_dot"]}{escape(row["priority_name"])}'
        f"</span></td>\n"
        f'<td class="nowrap">\n{due}\n</td>\n'
        f'<td class="nowrap">{owner}</td>\n'
        f'<td class="num">\n{tasks}\n</td>\n'
        f"{close}"
        f"</tr>\n"
    )


def _groups_html(
    groups: list[CockpitGroup], *, can_change: bool
) -> list[tuple[CockpitGroup, SafeString]]:
    """Each group of the page with its rows' markup (`_row_html`)."""
    return [
        (
            group,
            # Every text of a row is escaped by _row_html; the priority dot is our own markup.
            SafeString("".join(_row_html(row, can_change=can_change) for row in group.rows)),
        )
        for group in groups
    ]


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def cockpit(request: SignedInRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    form, owners = _filter_form(request)
    filters = form.filters()
    listing = cockpit_page(
        user=user,
        filters=filters,
        page_number=request.GET.get("page"),
        today=today,
        lookups=form.lookups,
    )
    can_change = user.has_perm(CHANGE_CTA)
    context = {
        "form": form,
        "filter_fields": [
            form[name] for name in ("owner", "type", "priority", "status", "relationship_type")
        ],
        "filters": filters,
        "listing": listing,
        "groups": _groups_html(listing.groups, can_change=can_change),
        "owner_select": _owner_select(owners) if can_change and listing.groups else "",
        "can_add": user.has_perm(ADD_CTA),
        "can_change": can_change,
    }
    if wants_fragment(request):
        return render(request, f"{COCKPIT}#results", context)
    return render(request, COCKPIT, context)


@login_required
@require_GET
def cockpit_badge(request: SignedInRequest) -> HttpResponse:
    """The navigation's overdue count alone, redrawn after a CTA changed."""
    return render(request, "success/cockpit_badge.html")


def _notice(request: SignedInRequest, message: str, *, error: bool = False) -> HttpResponse:
    """A line above the Cockpit's list saying what a bulk action did (or why it did not)."""
    response = render(request, NOTICE, {"message": message, "error": error})
    retarget(response, "#cockpit-notice")
    reswap(response, "innerHTML")  # type: ignore[arg-type]
    return response


def _ignored(count: int) -> str:
    if not count:
        return ""
    return (
        f" {count} selected CTA{' was' if count == 1 else 's were'} not found "
        "among the CTAs you may see and left alone."
    )


@login_required
@require_POST
def cockpit_bulk(request: SignedInRequest) -> HttpResponse:
    """Close or reassign the selected CTAs; ids the user may not see are ignored, and said so."""
    user = request.user
    require_permission(user, CHANGE_CTA)
    ids = request.POST.getlist("cta")
    selection = cockpit_selection(user=user, ids=ids)
    form = BulkForm(request.POST, user=user)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _notice(request, message, error=True)
    if selection.found == 0:
        return _notice(
            request, "Select at least one CTA first." + _ignored(selection.ignored), error=True
        )
    data = form.cleaned_data
    if data["action"] == "reassign":
        owner = data["owner"]
        changed = ctas_reassign(ctas=selection.ctas, owner=owner, by=user)
        message = (
            f"{changed} CTA{'' if changed == 1 else 's'} given to "
            f"{user_label(owner)}." + _ignored(selection.ignored)
        )
        return _changed(_notice(request, message))
    if not data.get("confirm"):
        return render(
            request,
            BULK_CLOSE,
            {
                "ids": ids,
                "selection": selection,
                "form": form,
                "closed_statuses": status_choices().closed,
                "chosen_status": data.get("status"),
            },
        )
    closed = ctas_close(ctas=selection.ctas, by=user, status=data.get("status"))
    response = _notice(
        request,
        f"{closed} CTA{'' if closed == 1 else 's'} closed." + _ignored(selection.ignored),
    )
    trigger_client_event(response, CLOSE_MODAL)
    return _changed(response)


# ---------- create and edit ----------


def _prefill(request: SignedInRequest) -> tuple[dict[str, Any], bool]:
    """Initial values from the query string (company, relationship, source_activity).

    Only records the user may see are taken; the company is fixed when one was given.
    """
    user = request.user
    params = request.GET
    initial: dict[str, Any] = {
        "priority": _safe(default_priority),
        "status": _safe(default_open_status),
    }
    if not is_partner_user(user):
        initial["owner"] = user.pk
    company: Company | None = None
    relationship: Relationship | None = None
    activity_id = parse_id(params.get("source_activity"))
    if activity_id is not None:
        activity = (
            Activity.objects.filter(company__in=companies_visible_to(user))
            .select_related("company", "relationship")
            .filter(pk=activity_id)
            .first()
        )
        visible_relationship = activity is not None and (
            activity.relationship_id is None
            or relationships_visible_to(user).filter(pk=activity.relationship_id).exists()
        )
        if activity is not None and visible_relationship:
            company, relationship = activity.company, activity.relationship
            initial["source_activity"] = activity.pk
            initial["name"] = f"Follow up: {activity.subject}"[:80]
            follow_up = CTAType.objects.filter(name=CTAType.ACTIVITY, active=True).first()
            if follow_up is not None:
                initial["cta_type"] = follow_up.pk
    relationship_id = parse_id(params.get("relationship"))
    if relationship is None and relationship_id is not None:
        relationship = (
            relationships_visible_to(user)
            .select_related("company")
            .filter(pk=relationship_id)
            .first()
        )
        if relationship is not None:
            company = relationship.company
    company_id = parse_id(params.get("company"))
    if company is None and company_id is not None:
        company = companies_visible_to(user).filter(pk=company_id).first()
    if company is not None:
        initial["company"] = company.pk
    if relationship is not None:
        initial["relationship"] = relationship.pk
    if "cta_type" not in initial:
        first_type = CTAType.objects.filter(active=True).order_by("order", "name").first()
        initial["cta_type"] = first_type.pk if first_type else None
    return initial, company is not None


def _safe(default: Any) -> Any:
    try:
        return default().pk
    except ValidationError:
        return None


def _form_context(form: CTAForm, *, fixed: bool, q: str = "") -> dict[str, Any]:
    company = form.chosen_company
    fixed = fixed and company is not None
    # Drawn again after an error: the search typed is run again, so its list stays the same.
    companies = companies_for_picker(user=form.user, q=q) if q and not fixed else []
    return {
        "form": form,
        "company": company,
        "fixed_company": fixed,
        "companies": companies,
        "q": q.strip(),
        "creating": form.cta is None,
        "cta": form.cta,
    }


@login_required
@require_http_methods(["GET", "POST"])
def cta_new(request: SignedInRequest) -> HttpResponse:
    user = request.user
    require_permission(user, ADD_CTA)
    if request.method == "POST":
        form = CTAForm(request.POST, user=user)
        fixed = request.POST.get("fixed_company") == "1"
        if form.is_valid():
            try:
                cta = cta_create(
                    by=user, playbook=form.cleaned_data.get("playbook"), **form.values()
                )
            except ValidationError as error:
                add_service_errors(form, error, fallback=None)
            else:
                return _changed(_detail(request, cta.pk, created=True))
    else:
        initial, fixed = _prefill(request)
        form = CTAForm(initial=initial, user=user)
    return _dialog(
        request,
        FORM,
        _form_context(form, fixed=fixed, q=request.POST.get("q", "")),
        title="New CTA",
    )


@login_required
@require_http_methods(["GET", "POST"])
def cta_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    user = request.user
    cta = cta_for(user=user, pk=pk)
    require_permission(user, CHANGE_CTA)
    if request.method == "POST":
        form = CTAForm(request.POST, user=user, cta=cta)
        if form.is_valid():
            try:
                # A form without a version (a script's) is not checked; ours always has one.
                version = form.cleaned_data.get("version") or None
                cta_update(cta=cta, by=user, version=version, **form.values())
            except ValidationError as error:
                add_service_errors(form, error, fallback=None)
            else:
                return _changed(_detail(request, cta.pk))
    else:
        form = CTAForm(
            initial={
                "relationship": cta.relationship_id,
                "name": cta.name,
                "cta_type": cta.cta_type_id,
                "reason": cta.reason_id,
                "priority": cta.priority_id,
                "status": cta.status_id,
                "owner": cta.owner_id,
                "due_date": cta.due_date,
                "snoozed_until": cta.snoozed_until,
            },
            user=user,
            cta=cta,
        )
    return _dialog(request, FORM, _form_context(form, fixed=True), title=f"Edit {cta.name}")


@login_required
@require_GET
def cta_form_options(request: SignedInRequest) -> HttpResponse:
    """The fields that follow the company and type chosen: relationship, reason, playbook."""
    user = request.user
    if not (user.has_perm(ADD_CTA) or user.has_perm(CHANGE_CTA)):
        raise PermissionDenied("Your role does not allow this change.")
    values = request.GET
    cta_id = values.get("cta", "")
    cta = cta_for(user=user, pk=cta_id) if cta_id else None
    initial = {
        name: values.get(name)
        for name in ("company", "relationship", "cta_type", "reason", "playbook")
    }
    form = CTAForm(initial=initial, user=user, cta=cta)
    return render(request, f"{FORM}#dependent", _form_context(form, fixed=True))


@login_required
@require_GET
def cta_company_search(request: SignedInRequest) -> HttpResponse:
    """As a company name is typed in the CTA dialog: matching companies the user may see."""
    user = request.user
    require_permission(user, ADD_CTA)
    q = request.GET.get("q", "")
    return render(
        request,
        f"{FORM}#companies",
        {"companies": companies_for_picker(user=user, q=q), "q": q.strip(), "company": None},
    )


# ---------- the CTA dialog: detail, tasks, playbooks ----------


def _detail(
    request: SignedInRequest,
    pk: int,
    *,
    created: bool = False,
    task_form: TaskForm | None = None,
    playbook_form: PlaybookForm | None = None,
) -> HttpResponse:
    user = request.user
    cta = cta_for(user=user, pk=pk)
    tasks = list(cta.tasks.all())
    statuses = status_choices()
    today = timezone.localdate()
    open_tasks = sum(1 for task in tasks if not task.done)
    context = {
        "cta": cta,
        "tasks": tasks,
        "open_tasks": open_tasks,
        "done_tasks": len(tasks) - open_tasks,
        "priority_colour": safe_colour(cta.priority.colour),
        "today": today,
        "overdue": is_overdue(cta, today=today),
        "created": created,
        "open_statuses": statuses.open,
        "can_change": user.has_perm(CHANGE_CTA),
        "can_add_task": user.has_perm(ADD_TASK),
        "can_change_task": user.has_perm(CHANGE_TASK),
        "can_delete_task": user.has_perm(DELETE_TASK),
        "task_form": task_form or TaskForm(initial={"owner": cta.owner_id}, user=user, cta=cta),
        "playbook_form": playbook_form or PlaybookForm(cta_type_id=cta.cta_type_id),
        "playbooks": playbooks_for(cta_type=cta.cta_type_id) if user.has_perm(ADD_TASK) else [],
    }
    response = _dialog(request, DETAIL, context, title=cta.name)
    if created and wants_fragment(request) and _in_page(request):
        # Created on the "New CTA" page: the address becomes the new CTA's own.
        push_url(response, reverse("success:cta_detail", args=[cta.pk]))
    return response


@login_required
@require_GET
@vary_on_headers("HX-Request")
def cta_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


@login_required
@require_POST
def cta_task_add(request: SignedInRequest, pk: int) -> HttpResponse:
    user = request.user
    cta = cta_for(user=user, pk=pk)
    require_permission(user, ADD_TASK)
    form = TaskForm(request.POST, user=user, cta=cta)
    if form.is_valid():
        try:
            task_create(cta=cta, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, fallback="title")
        else:
            return _changed(_detail(request, cta.pk))
    return _detail(request, cta.pk, task_form=form)


@login_required
@require_POST
def cta_task_done(request: SignedInRequest, pk: int, task_pk: int) -> HttpResponse:
    user = request.user
    cta = cta_for(user=user, pk=pk)
    require_permission(user, CHANGE_TASK)
    task = task_of(cta=cta, pk=task_pk)
    task_set_done(task=task, done=request.POST.get("done") == "1")
    return _changed(_detail(request, cta.pk))


@login_required
@require_POST
def cta_task_delete(request: SignedInRequest, pk: int, task_pk: int) -> HttpResponse:
    user = request.user
    cta = cta_for(user=user, pk=pk)
    require_permission(user, DELETE_TASK)
    task_delete(task=task_of(cta=cta, pk=task_pk), by=user)
    return _changed(_detail(request, cta.pk))


@login_required
@require_POST
def cta_playbook(request: SignedInRequest, pk: int) -> HttpResponse:
    """Apply a playbook to an existing CTA: its tasks are added, due from today."""
    user = request.user
    cta = cta_for(user=user, pk=pk)
    require_permission(user, ADD_TASK)
    form = PlaybookForm(request.POST, cta_type_id=cta.cta_type_id)
    if form.is_valid():
        try:
            playbook_apply(cta=cta, playbook=form.cleaned_data["playbook"])
        except ValidationError as error:
            add_service_errors(form, error, fallback="playbook")
        else:
            return _changed(_detail(request, cta.pk))
    return _detail(request, cta.pk, playbook_form=form)


# ---------- close and reopen ----------


@login_required
@require_http_methods(["GET", "POST"])
def cta_status(request: SignedInRequest, pk: int) -> HttpResponse:
    """Close a CTA (asking first when tasks are open) or reopen it; closing records who, when."""
    user = request.user
    cta = cta_for(user=user, pk=pk)
    require_permission(user, CHANGE_CTA)
    values = request.POST if request.method == "POST" else request.GET
    after = AFTER_CLOSE if values.get("after") == AFTER_CLOSE else AFTER_DETAIL
    open_tasks = sum(1 for task in cta.tasks.all() if not task.done)
    statuses = status_choices()
    form = StatusForm(request.POST) if request.method == "POST" else StatusForm()
    if request.method == "POST" and form.is_valid():
        status = form.cleaned_data["status"]
        try:
            cta_set_status(
                cta=cta, status=status, by=user, confirm_open_tasks=form.cleaned_data["confirm"]
            )
        except ValidationError:
            # Open tasks and no confirmation: the dialog below asks, with the same status.
            pass
        else:
            if after == AFTER_CLOSE:
                return dialog_saved(CTA_CHANGED)
            return _changed(_detail(request, cta.pk))
    chosen = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else None
    context = {
        "cta": cta,
        "form": form,
        "open_tasks": open_tasks,
        "closed_statuses": statuses.closed,
        "chosen": chosen or (statuses.closed[0] if statuses.closed else None),
        "after": after,
    }
    return _dialog(request, CLOSE, context, title=f"Close {cta.name}")


urlpatterns = [
    path("cockpit/", cockpit, name="cockpit"),
    path("cockpit/bulk/", cockpit_bulk, name="cockpit_bulk"),
    path("cockpit/badge/", cockpit_badge, name="cockpit_badge"),
    path("cockpit/ctas/new/", cta_new, name="cta_create"),
    path("cockpit/ctas/options/", cta_form_options, name="cta_form_options"),
    path("cockpit/ctas/companies/", cta_company_search, name="cta_company_search"),
    path("cockpit/ctas/<int:pk>/", cta_detail, name="cta_detail"),
    path("cockpit/ctas/<int:pk>/edit/", cta_edit, name="cta_edit"),
    path("cockpit/ctas/<int:pk>/status/", cta_status, name="cta_status"),
    path("cockpit/ctas/<int:pk>/tasks/", cta_task_add, name="cta_task_add"),
    path("cockpit/ctas/<int:pk>/tasks/<int:task_pk>/done/", cta_task_done, name="cta_task_done"),
    path(
        "cockpit/ctas/<int:pk>/tasks/<int:task_pk>/delete/",
        cta_task_delete,
        name="cta_task_delete",
    ),
    path("cockpit/ctas/<int:pk>/playbook/", cta_playbook, name="cta_playbook"),
]
