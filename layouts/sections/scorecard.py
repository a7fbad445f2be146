"""Scorecard: each measure's score, the overall health badge, its trend and 90-day history.

Users whose role may set scores edit a measure in place: "edit" swaps its row into a small
form, "save" writes the score (or clears it) through `success.services.score_set` and answers
with the whole section (the overall, trend and sparkline move too) plus SCORE_CHANGED so the
summary's health widget follows; a refused value comes back as the row's form with the error
by the field, nothing saved. "row" puts the row back as it was (Cancel).
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django_htmx.http import reswap, retarget, trigger_client_event

from companies.templatetags.gs import display_name, short_date
from layouts.sections.base import SCORE_CHANGED, SectionContext, SectionKind, register
from relationships.models import Relationship
from success.forms.scores import ScoreForm
from success.selectors.scores import MeasureRow, scorecard_measure_row, scorecard_section
from success.services import score_set
from success.templatetags.scores import band_marks

ROW = "layouts/sections/scorecard_row.html"
ROW_FORM = "layouts/sections/scorecard_form.html"


def can_score(user: Any) -> bool:
    """Whether the user's role sets measures' scores."""
    return bool(user.has_perm("success.change_score") or user.has_perm("success.add_score"))


@register
class ScorecardKind(SectionKind):
    key = "scorecard"
    label = "Scorecard"
    template = "layouts/sections/scorecard.html"
    skeleton_height = 280
    partner_visible = True
    # A save here answers with the section itself; reloading it again on its own event
    # would only repeat the work. Scores set elsewhere on the page still reload it.
    refresh_on = (SCORE_CHANGED,)
    refresh_on_own = False
    actions = {"edit": "edit", "save": "save", "row": "row"}

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        section = scorecard_section(subject=ctx.subject)
        urls = _urls(ctx)
        for group in section.get("groups", []):
            for row in group.rows:
                _draw(ctx, row, urls)
        return {**section, **urls, "scorecard_owner": _scorecard_owner(ctx)}

    # Actions -------------------------------------------------------------------------------

    def edit(self, ctx: SectionContext) -> HttpResponse:
        """GET ?measure=ID: the measure's row as a score form."""
        if ctx.request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        _require_score(ctx)
        row = _requested_row(ctx, ctx.request.GET.get("measure"))
        if isinstance(row, HttpResponse):
            return row
        score = row.score
        form = ScoreForm(
            prefix_id=_row_id(ctx, row),
            initial={
                "value": score.value if score else None,
                "comment": score.comment if score else "",
            },
        )
        return _render_form(ctx, row, form)

    def save(self, ctx: SectionContext) -> HttpResponse:
        """POST measure=ID&value=…&comment=… (or clear=1): the whole section, or the form."""
        if ctx.request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        _require_score(ctx)
        row = _requested_row(ctx, ctx.request.POST.get("measure"))
        if isinstance(row, HttpResponse):
            return row
        form = ScoreForm(data=ctx.request.POST, prefix_id=_row_id(ctx, row))
        if form.is_valid():
            try:
                # A copy: a refused score must leave the subject shown on the page untouched.
                score_set(
                    subject=copy.copy(ctx.subject),
                    measure=row.measure,
                    value=form.cleaned_data["value"],
                    comment=form.cleaned_data["comment"],
                    by=ctx.user,
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                return self._render_saved(ctx)
        return _render_form(ctx, row, form)

    def _render_saved(self, ctx: SectionContext) -> HttpResponse:
        """The whole section after a save, swapped in place of the frame (not the row)."""
        frame = {"section": ctx.section, "kind": self, "url": ctx.url(), "subject": ctx.subject}
        response = render(ctx.request, self.template, {**frame, **self.context(ctx), "ctx": ctx})
        retarget(response, f"#section-body-{ctx.section.pk}")
        reswap(response, "outerHTML")
        trigger_client_event(response, SCORE_CHANGED)
        return response

    def row(self, ctx: SectionContext) -> HttpResponse:
        """GET ?measure=ID: the row as shown (Cancel puts it back with this)."""
        if ctx.request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        row = _requested_row(ctx, ctx.request.GET.get("measure"))
        if isinstance(row, HttpResponse):
            return row
        urls = _urls(ctx)
        _draw(ctx, row, urls)
        return render(ctx.request, ROW, {"row": row, "section": ctx.section, **urls})


def _urls(ctx: SectionContext) -> dict[str, Any]:
    return {
        "can_score": can_score(ctx.user),
        "edit_url": ctx.url("edit"),
        "save_url": ctx.url("save"),
        "row_url": ctx.url("row"),
        "setup_url": _setup_url(ctx.user),
    }


def _draw(ctx: SectionContext, row: MeasureRow, urls: dict[str, Any]) -> None:
    """What the row template draws, computed once: its id, the pencil's URL, the weight, the
    score badge and who scored it when."""
    measure_pk = row.measure.pk
    band = row.band
    score = row.score
    if band is not None:
        badge = format_html(
            '<span class="score-badge" title="{}">{}{}</span>',
            band.label,
            band_marks(band.colour),
            row.value_text,
        )
    else:
        badge = format_html('<span class="score-badge score-badge--none">{}</span>', row.value_text)
    meta = SafeString("")
    if score is not None:
        when = localtime(score.updated_at)
        meta = format_html(
            '{}<br><time datetime="{}">{}</time>',
            display_name(score.updated_by),
            when.isoformat(),  # the date filter's "c"
            short_date(when),
        )
    row.drawn = {
        "id": f"measure-{ctx.section.pk}-{measure_pk}",
        "edit_href": f"{urls['edit_url']}?measure={measure_pk}",
        "weight": (
            f"{row.weight_percent}% of the score" if row.weight_percent is not None else "weight 0"
        ),
        "badge": badge,
        "meta": meta,
    }


def _scorecard_owner(ctx: SectionContext) -> str:
    """Whose scorecard this is, in words: "companies" or "Analytics Cloud relationships"."""
    subject = ctx.subject
    if isinstance(subject, Relationship):
        return f"{subject.relationship_type.name} relationships"
    return "companies"


def _setup_url(user: Any) -> str | None:
    """Where an admin defines scorecards, for the empty state (staff only)."""
    if not user.is_staff:
        return None
    try:
        return reverse("admin:success_scorecard_changelist")
    except NoReverseMatch:
        return None


def _require_score(ctx: SectionContext) -> None:
    if not can_score(ctx.user):
        raise PermissionDenied("Your role does not allow setting scores.")


def _requested_row(ctx: SectionContext, measure_id: str | None) -> MeasureRow | HttpResponse:
    if not measure_id:
        return HttpResponseBadRequest("Say which measure to score.")
    row = scorecard_measure_row(subject=ctx.subject, measure_id=measure_id)
    if row is None:
        return HttpResponseBadRequest("This measure is not on this record's scorecard any more.")
    return row


def _row_id(ctx: SectionContext, row: MeasureRow) -> str:
    return f"measure-{ctx.section.pk}-{row.measure.pk}"


def _render_form(ctx: SectionContext, row: MeasureRow, form: ScoreForm) -> HttpResponse:
    form.mark_invalid()
    # The pencil that was clicked is swapped away with the row: focus goes to the score
    # (htmx focuses [autofocus] in swapped content) so the CSM types at once.
    form.fields["value"].widget.attrs["autofocus"] = True
    context = {"row": row, "form": form, "section": ctx.section, **_urls(ctx)}
    return render(ctx.request, ROW_FORM, context)


def _add_service_errors(form: ScoreForm, error: ValidationError) -> None:
    """The service's refusal: about the value by the score input, anything else above it."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        for message in messages:
            form.add_error("value" if key == "value" else None, message)
