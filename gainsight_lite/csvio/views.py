"""The CSV downloads of the lists, and the admin's import page.

Downloads stream (StreamingHttpResponse over `.iterator()`), take the list page's own query
string and hold only what the user may see.

The import page: the admin uploads a file and chooses its kind; the file is kept in a
private folder under a random token that only their session knows (a path never comes from
the browser), and checked at once: the preview lists every error and the counts. Importing
then runs in a background thread of the web process, which writes its progress to a small JSON
file beside the upload; the page polls it with htmx every second and shows the final report.
A progress file (not the cache) because the worker that answers a poll may not be the one
running the import, and not the database because the import holds SQLite's write lock until
it commits.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import close_old_connections, connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gainsight_lite.csvio import exporters
from gainsight_lite.csvio.importers import KINDS, Report, run_import
from gainsight_lite.csvio.reading import Problem
from partners.access import activities_visible_to, is_cs_admin, is_partner_user, partner_of
from relationships.models import Relationship, RelationshipType

# ---------- downloads ----------


def _csv_response(chunks: Any, kind: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exporters.filename(kind)}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def companies_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The companies list as CSV, with the list's filters and order."""
    return _csv_response(
        exporters.companies_export(user=request.user, params=request.GET), "companies"
    )


@login_required
@require_GET
def relationships_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The relationships of one type (`type`: its id) as CSV, its fields as columns."""
    if not request.GET.get("type"):
        return HttpResponse(
            "Choose a relationship type (type=<id>) to download its relationships.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    relationship_type = exporters.relationship_type_for(params=request.GET)
    if relationship_type is None:
        raise Http404("No such relationship type.")
    slug = "relationships-" + "-".join(relationship_type.name.lower().split())[:40]
    return _csv_response(
        exporters.relationships_export(
            user=request.user, relationship_type=relationship_type, params=request.GET
        ),
        "".join(c for c in slug if c.isalnum() or c == "-"),
    )


@login_required
@require_GET
def relationship_downloads(request: HttpRequest) -> HttpResponse:
    """A page listing the relationship types, each with its download."""
    partner = partner_of(request.user)
    partner_sees_relationships = partner is None or partner.sees_relationships
    types = list(RelationshipType.objects.order_by("order", "name"))
    return render(
        request,
        "csvio/relationship_downloads.html",
        {
            "types": types,
            "statuses": Relationship.Status.choices,
            "sees_relationships": partner_sees_relationships,
        },
    )


@login_required
@require_GET
def cockpit_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The Cockpit's CTAs as CSV, with its filters (owner, type, status…), all pages."""
    from success.selectors.cockpit import cockpit_ctas
    from success.views.cockpit import _filter_form

    form, _ = _filter_form(request)  # type: ignore[arg-type]
    ctas = cockpit_ctas(user=request.user, filters=form.filters(), today=timezone.localdate())
    return _csv_response(exporters.ctas_export(ctas=ctas), "cockpit")


@login_required
@require_GET
def timeline_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The timeline feed as CSV with its filters (type, author, dates, company)."""
    from success.forms.timeline import TimelineFilterForm
    from success.models import ActivityType
    from success.selectors.timeline import company_for_log, timeline_authors

    user = request.user
    scope = activities_visible_to(user)
    wanted = request.GET.get("company")
    company = company_for_log(user=user, pk=wanted) if wanted else None
    form = TimelineFilterForm(
        request.GET,
        types=list(ActivityType.objects.order_by("order", "name")),
        authors=timeline_authors(user=user, activities=scope, small=False),
        company=company,
    )
    activities = form.filters().apply(scope)
    return _csv_response(exporters.activities_export(activities=activities), "timeline")


# ---------- the import page (CS admins) ----------

SESSION_KEY = "csv_imports"
MAX_UPLOAD = 50 * 1024 * 1024
ERRORS_SHOWN = 200
KEEP_SECONDS = 24 * 3600
PROGRESS_EVERY = 0.25  # seconds between progress-file writes
# A running import writes its progress at least every few seconds (a batch of 500 rows).
STALE_SECONDS = 300


def _admin(request: HttpRequest) -> User:
    """The staff user or CS admin using the page; anyone else gets 404, as for a missing page."""
    user = request.user
    if not isinstance(user, User) or not user.is_active or is_partner_user(user):
        raise Http404("No such page.")
    if not (user.is_staff or is_cs_admin(user)):
        raise Http404("No such page.")
    return user


def import_folder() -> Path:
    """Where uploads wait between their check and their import (CSV_IMPORT_DIR to move it)."""
    configured = getattr(settings, "CSV_IMPORT_DIR", None)
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "gainsight-imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _paths(token: str) -> tuple[Path, Path]:
    folder = import_folder()
    return folder / f"{token}.csv", folder / f"{token}.json"


def _forget_old_files() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for item in import_folder().iterdir():
        with contextlib.suppress(OSError):
            if item.stat().st_mtime < cutoff:
                item.unlink()


def _state_write(token: str, state: dict[str, Any]) -> None:
    _, state_path = _paths(token)
    partial = state_path.with_suffix(".tmp")
    partial.write_text(json.dumps(state))
    os.replace(partial, state_path)


def _state_read(token: str) -> dict[str, Any]:
    _, state_path = _paths(token)
    try:
        state: dict[str, Any] = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return {}
    return state


def _stale(token: str) -> bool:
    """Whether a running import has not said anything for longer than it ever waits."""
    _, state_path = _paths(token)
    try:
        return time.time() - state_path.stat().st_mtime > STALE_SECONDS
    except OSError:
        return True


def _upload_of(request: HttpRequest, token: str) -> dict[str, Any]:
    """The upload `token` of this session; 404 for any other token."""
    uploads = request.session.get(SESSION_KEY, {})
    upload = uploads.get(token) if isinstance(uploads, dict) else None
    if upload is None:
        raise Http404("No such import.")
    return dict(upload)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[(kind, importer.label) for kind, importer in KINDS.items()],
    )
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (Excel: “CSV UTF-8”), with a header line naming the columns.",
    )
    skip_invalid = forms.BooleanField(
        label="Skip invalid rows",
        required=False,
        help_text="Import the good rows and report the others. Without it, any bad row stops "
        "the whole import and nothing is written.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                f"The file is {upload.size // (1024 * 1024)} MB: import at most "
                f"{MAX_UPLOAD // (1024 * 1024)} MB at a time."
            )
        return upload


def _kinds_help() -> list[dict[str, Any]]:
    return [
        {"kind": kind, "label": importer.label, "help": importer.help, "columns": importer.columns}
        for kind, importer in KINDS.items()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    """Upload a file and check it (a dry run): the preview of its errors and counts."""
    _admin(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _forget_old_files()
        token = secrets.token_urlsafe(18)
        data_path, _ = _paths(token)
        data = form.cleaned_data["file"].read()
        data_path.write_bytes(data)
        kind = form.cleaned_data["kind"]
        skip_invalid = form.cleaned_data["skip_invalid"]
        report = run_import(kind, data, by=None, dry_run=True, skip_invalid=skip_invalid)
        uploads = request.session.get(SESSION_KEY, {})
        uploads = uploads if isinstance(uploads, dict) else {}
        uploads[token] = {
            "kind": kind,
            "skip_invalid": skip_invalid,
            "name": str(form.cleaned_data["file"].name)[:200],
        }
        request.session[SESSION_KEY] = uploads
        _state_write(token, {"state": "checked", "report": report.as_dict()})
        return redirect("csvio:import_status", token=token)
    return render(
        request,
        "csvio/import_start.html",
        {"form": form, "kinds": _kinds_help(), "title": "Import a CSV file"},
    )


def _run_in_background(token: str, kind: str, data: bytes, *, by: User, skip: bool) -> None:
    last = 0.0

    def progress(phase: str, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY or done == total:
            last = now
            _state_write(token, {"state": "running", "phase": phase, "done": done, "total": total})

    try:
        report = run_import(kind, data, by=by, skip_invalid=skip, progress=progress)
        _state_write(token, {"state": "finished", "report": report.as_dict()})
    except Exception as error:  # noqa: BLE001 — the page must say it failed, not spin forever
        _state_write(token, {"state": "failed", "message": f"The import stopped: {error}"})
        raise
    finally:
        if getattr(settings, "CSV_IMPORT_IN_BACKGROUND", True):
            connection.close()


@login_required
@require_POST
def import_run(request: HttpRequest, token: str) -> HttpResponse:
    """Import a checked upload: in a background thread (or at once when so configured)."""
    user = _admin(request)
    upload = _upload_of(request, token)
    state = _state_read(token)
    if state.get("state") != "checked":
        return redirect("csvio:import_status", token=token)
    report = Report.from_dict(state["report"])
    if report.blocked:
        return HttpResponse(
            "This file has errors: correct them (or check it again with “Skip invalid rows”) "
            "before importing.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data_path, _ = _paths(token)
    try:
        data = data_path.read_bytes()
    except OSError:
        raise Http404("The uploaded file is no longer there: upload it again.") from None
    _state_write(token, {"state": "running", "phase": "Starting", "done": 0, "total": 1})
    args = (token, upload["kind"], data)
    kwargs = {"by": user, "skip": bool(upload["skip_invalid"])}
    if getattr(settings, "CSV_IMPORT_IN_BACKGROUND", True):

        def target() -> None:
            close_old_connections()
            _run_in_background(*args, **kwargs)  # type: ignore[arg-type]

        threading.Thread(target=target, name=f"csv-import-{token[:6]}", daemon=True).start()
    else:
        _run_in_background(*args, **kwargs)  # type: ignore[arg-type]
    return redirect("csvio:import_status", token=token)


def _status_context(token: str, upload: dict[str, Any]) -> dict[str, Any]:
    state = _state_read(token)
    if state.get("state") == "running" and _stale(token):
        # The process running it went away (a restart): its transaction was rolled back.
        state = {
            "state": "failed",
            "message": "The import stopped: the server running it was restarted.",
        }
    report = Report.from_dict(state["report"]) if "report" in state else None
    percent = None
    if state.get("state") == "running":
        total = state.get("total") or 1
        percent = min(100, 100 * int(state.get("done") or 0) // int(total))
    return {
        "token": token,
        "upload": upload,
        "kind_label": KINDS[upload["kind"]].label,
        "state": state.get("state", "missing"),
        "phase": state.get("phase", ""),
        "percent": percent,
        "message": state.get("message", ""),
        "report": report,
        "errors_shown": report.errors[:ERRORS_SHOWN] if report else [],
        "more_errors": max(len(report.errors) - ERRORS_SHOWN, 0) if report else 0,
        "title": "Import a CSV file",
    }


@login_required
@require_GET
def import_status(request: HttpRequest, token: str) -> HttpResponse:
    """The preview of a checked file, the progress of a running import, or its report."""
    _admin(request)
    upload = _upload_of(request, token)
    context = _status_context(token, upload)
    if request.headers.get("HX-Request") == "true":
        return render(request, "csvio/import_status.html#status", context)
    return render(request, "csvio/import_status.html", context)


@login_required
@require_GET
def import_errors(request: HttpRequest, token: str) -> StreamingHttpResponse:
    """Every error of the checked or imported file, as CSV (line, column, message)."""
    _admin(request)
    _upload_of(request, token)
    state = _state_read(token)
    errors = [Problem(**problem) for problem in state.get("report", {}).get("errors", [])]
    rows = ([str(p.line), p.column, p.message] for p in errors)
    return _csv_response(exporters.stream(["line", "column", "message"], rows), "import-errors")


app_name = "csvio"

urlpatterns = [
    path("exports/companies.csv", companies_csv, name="companies"),
    path("exports/relationships/", relationship_downloads, name="relationship_downloads"),
    path("exports/relationships.csv", relationships_csv, name="relationships"),
    path("exports/cockpit.csv", cockpit_csv, name="cockpit"),
    path("exports/timeline.csv", timeline_csv, name="timeline"),
    path("admin/import/", import_start, name="import"),
    path("admin/import/<str:token>/", import_status, name="import_status"),
    path("admin/import/<str:token>/run/", import_run, name="import_run"),
    path("admin/import/<str:token>/errors.csv", import_errors, name="import_errors"),
]
