"""Timeline: the activities logged on a company (and its relationships) or a relationship.

Newest first, filtered by type, author and dates inside the section (the filters are the
section URL's query string, so a refresh keeps them), the next page fetched when the last
row scrolls into view. "Log activity" opens a dialog; edits and deletes are the author's.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render

from layouts.sections.base import ACTIVITY_LOGGED, SectionContext, SectionKind, register
from relationships.models import Relationship
from success.forms.timeline import TimelineFilterForm, log_dialog
from success.models import ActivityType
from success.selectors.timeline import (
    ADD,
    ROWS,
    activities_page,
    row_context,
    timeline_authors,
    timeline_of,
    with_query,
)

PAGE_SIZE_MIN, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT = 10, 50, 20


def _type_choices() -> list[tuple[int, str]]:
    return [(kind.pk, kind.name) for kind in ActivityType.objects.order_by("order", "name")]


@register
class Timeline(SectionKind):
    key = "timeline"
    label = "Timeline"
    template = "layouts/sections/timeline.html"
    skeleton_height = 420
    partner_visible = True
    refresh_on = (ACTIVITY_LOGGED,)
    actions = {"log": "log", "more": "more"}

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        on_company = layout is None or layout.target == "company"

        class TimelineConfig(forms.Form):
            if on_company:
                include_relationships = forms.BooleanField(
                    label="Include the relationships' activities",
                    required=False,
                    initial=True,
                    help_text="Also show what was logged on this company's relationships.",
                )
            page_size = forms.IntegerField(
                label="Activities per page",
                min_value=PAGE_SIZE_MIN,
                max_value=PAGE_SIZE_MAX,
                initial=PAGE_SIZE_DEFAULT,
                help_text=f"From {PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}; the next page loads when "
                "the reader reaches the end.",
            )
            types = forms.TypedMultipleChoiceField(
                label="Types shown",
                required=False,
                coerce=int,
                choices=_type_choices,
                initial=[],
                widget=forms.CheckboxSelectMultiple,
                help_text="Leave all unticked to show every type.",
            )

        return TimelineConfig

    # ---------- reading ----------

    def _settings(self, ctx: SectionContext) -> tuple[bool, int, list[int]]:
        config = ctx.config
        include = bool(config.get("include_relationships", True))
        try:
            size = int(config.get("page_size", PAGE_SIZE_DEFAULT))
        except (TypeError, ValueError):
            size = PAGE_SIZE_DEFAULT
        size = min(max(size, PAGE_SIZE_MIN), PAGE_SIZE_MAX)
        types = [pk for pk in config.get("types") or [] if isinstance(pk, int)]
        return include, size, types

    def _listing(self, ctx: SectionContext, *, rows_only: bool = False) -> dict[str, Any]:
        """The rows and filters; `rows_only` (the next page) checks its author filter alone
        instead of listing every author for a filter it does not draw."""
        include, size, type_ids = self._settings(ctx)
        on_relationship = isinstance(ctx.subject, Relationship)
        scope = timeline_of(user=ctx.user, subject=ctx.subject, include_relationships=include)
        types = ActivityType.objects.order_by("order", "name")
        if type_ids:
            scope = scope.filter(activity_type_id__in=type_ids)
            types = types.filter(pk__in=type_ids)
        form = TimelineFilterForm(
            ctx.params,
            types=list(types),
            authors=timeline_authors(
                user=ctx.user,
                activities=scope,
                wanted=(ctx.params.get("author") or "") if rows_only else None,
            ),
            auto_id=f"timeline-{ctx.section.pk}-%s",
        )
        filters = form.filters()
        page = activities_page(
            activities=filters.apply(scope), after=ctx.params.get("after"), size=size
        )
        query = filters.query()
        more = plain = None
        if page.next_cursor:
            more = with_query(ctx.url("more"), {**query, "after": page.next_cursor})
            plain = with_query(ctx.url(), {**query, "after": page.next_cursor})
        return {
            "form": form,
            "filters": filters,
            "query": query,
            **row_context(
                ctx.user,
                page=page,
                more_url=more,
                plain_url=plain,
                id_prefix=f"s{ctx.section.pk}",
                show_company=False,
                show_relationship=not on_relationship and include,
            ),
        }

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        listing = self._listing(ctx)
        return {
            **listing,
            # The frame reloads from `url` when an activity is logged: keep the filters.
            "url": with_query(ctx.url(), listing["query"]),
            "section_url": ctx.url(),
            "continued": bool(ctx.params.get("after")) and bool(listing["page"].rows),
            "can_log": ctx.user.has_perm(ADD),
            "log_url": ctx.url("log"),
            "on_relationship": isinstance(ctx.subject, Relationship),
        }

    # ---------- actions ----------

    def more(self, ctx: SectionContext) -> HttpResponse:
        """The next page of rows and, unless it is the last, a new "load more" row."""
        return render(ctx.request, ROWS, self._listing(ctx, rows_only=True))

    def log(self, ctx: SectionContext) -> HttpResponse:
        subject = ctx.subject
        on_relationship = isinstance(subject, Relationship)
        return log_dialog(
            ctx.request,
            company=ctx.company,
            relationship=subject if on_relationship else None,
            fixed_relationship=on_relationship,
            action_url=ctx.url("log"),
        )
