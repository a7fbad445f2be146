"""History: the audit trail of the record on the page — who changed what and when.

Newest first: the record's own changes (a partner assignment shows as its "Managed by"), its
CTAs' and its scores' (each kind can be left out in the configuration), every change as the
fields it touched, old → new. The next page loads when the last entry scrolls into view.
Internal users with the view permission of what is shown see it; partner users never (not
`partner_visible`, and `allowed_for` refuses them too).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from gainsight_lite.history import HistoryStream, history_model, history_page
from layouts.sections.base import EVERY_CHANGE, SectionContext, SectionKind, register
from partners.access import is_partner_user
from relationships.models import Relationship, RelationshipTypeField
from success.models import CTA, Score
from success.selectors.timeline import with_query

ROWS = "layouts/sections/history_rows.html"
PAGE_SIZE_MIN, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT = 10, 50, 20
RECORD, CTAS, SCORES = "record", "ctas", "scores"
SHOWN_CHOICES = [
    (RECORD, "The record itself (fields, CSM, partner)"),
    (CTAS, "Its CTAs"),
    (SCORES, "Its scorecard scores"),
]
# The view permission each kind of change needs.
RECORD_PERMISSIONS = {
    "company": "companies.view_company",
    "relationship": "relationships.view_relationship",
}
CTA_PERMISSION = "success.view_cta"
SCORE_PERMISSION = "success.view_score"
# Kept by the services, shown elsewhere: the health score moves with scores.
HIDDEN = frozenset({"health_score"})


class HistoryConfig(forms.Form):
    shown = forms.MultipleChoiceField(
        label="Changes shown",
        choices=SHOWN_CHOICES,
        initial=[RECORD, CTAS, SCORES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick at least one.",
    )
    page_size = forms.IntegerField(
        label="Changes per page",
        min_value=PAGE_SIZE_MIN,
        max_value=PAGE_SIZE_MAX,
        initial=PAGE_SIZE_DEFAULT,
        help_text=f"From {PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}; the next page loads when the "
        "reader reaches the end.",
    )


@register
class HistoryKind(SectionKind):
    key = "history"
    label = "History"
    template = "layouts/sections/history.html"
    skeleton_height = 320
    partner_visible = False
    # Any write on the page is a change to show.
    refresh_on = EVERY_CHANGE
    actions = {"more": "more"}

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        return HistoryConfig

    def allowed_for(self, user: Any) -> bool:
        """Internal users who may view companies or relationships (see section_kind_allowed)."""
        if not user.is_authenticated or is_partner_user(user):
            return False
        return any(user.has_perm(codename) for codename in RECORD_PERMISSIONS.values())

    # ---------- reading ----------

    def _settings(self, ctx: SectionContext) -> tuple[set[str], int]:
        config = ctx.config
        shown = {value for value in config.get("shown") or [] if value in dict(SHOWN_CHOICES)}
        try:
            size = int(config.get("page_size", PAGE_SIZE_DEFAULT))
        except (TypeError, ValueError):
            size = PAGE_SIZE_DEFAULT
        return shown or {RECORD, CTAS, SCORES}, min(max(size, PAGE_SIZE_MIN), PAGE_SIZE_MAX)

    def streams(self, ctx: SectionContext) -> list[HistoryStream]:
        """What this page's history is made of, as far as the user may see it."""
        shown, _ = self._settings(ctx)
        user, subject = ctx.user, ctx.subject
        on_relationship = isinstance(subject, Relationship)
        streams: list[HistoryStream] = []
        if RECORD in shown and user.has_perm(RECORD_PERMISSIONS[ctx.target]):
            if on_relationship:
                type_id = subject.relationship_type_id
                # Read only when a change of the attributes is on the page (most pages: none).
                labels = SimpleLazyObject(
                    lambda: {
                        "attributes": dict(
                            RelationshipTypeField.objects.filter(
                                relationship_type_id=type_id
                            ).values_list("key", "label")
                        )
                    }
                )
                streams.append(
                    HistoryStream(
                        rows=history_model(Relationship)._default_manager.filter(id=subject.pk),
                        record="Relationship",
                        hidden_fields=HIDDEN,
                        key_labels=cast(dict[str, dict[str, str]], labels),
                    )
                )
            else:
                streams.append(
                    HistoryStream(
                        rows=history_model(type(subject))._default_manager.filter(id=subject.pk),
                        record="Company",
                        hidden_fields=HIDDEN,
                    )
                )
        mine = {"relationship_id": subject.pk} if on_relationship else {"company_id": subject.pk}
        if CTAS in shown and user.has_perm(CTA_PERMISSION):
            streams.append(
                HistoryStream(
                    rows=history_model(CTA)._default_manager.filter(**mine),
                    record="CTA",
                    created_fields=("cta_type", "status", "owner", "due_date"),
                    hidden_fields=frozenset({"created_by"}),
                )
            )
        if SCORES in shown and user.has_perm(SCORE_PERMISSION):
            if not on_relationship:
                mine = {**mine, "relationship_id": None}
            streams.append(
                HistoryStream(
                    rows=history_model(Score)._default_manager.filter(**mine),
                    record="Score",
                    name_field="measure",
                    created_fields=("value", "comment"),
                    deleted_verb="cleared",
                    # The subject and the measure name the score and never change; who
                    # scored it is the entry's own "who".
                    hidden_fields=frozenset({"company", "relationship", "measure", "updated_by"}),
                )
            )
        return streams

    def _listing(self, ctx: SectionContext) -> dict[str, Any]:
        _, size = self._settings(ctx)
        page = history_page(streams=self.streams(ctx), after=ctx.params.get("after"), size=size)
        more = plain = None
        if page.next_cursor:
            more = with_query(ctx.url("more"), {"after": page.next_cursor})
            plain = with_query(ctx.url(), {"after": page.next_cursor})
        return {"page": page, "more_url": more, "plain_url": plain}

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        listing = self._listing(ctx)
        return {
            **listing,
            "continued": bool(ctx.params.get("after")) and bool(listing["page"].entries),
            "on_relationship": isinstance(ctx.subject, Relationship),
        }

    # ---------- actions ----------

    def more(self, ctx: SectionContext) -> HttpResponse:
        """The next page of entries and, unless it is the last, a new "load more" row."""
        return render(ctx.request, ROWS, {**self._listing(ctx), "section": ctx.section})
