"""Cockpit: the subject's open CTAs (on a company, with its relationships' unless set off).

Overdue ones stand out; each shows its tasks done out of all. "New CTA" and "Close" open the
shared CTA dialogs (success.views.cockpit) in the page's modal; their writes send
`ctaChanged`, on which this section reloads.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from layouts.sections.base import (
    CTA_CHANGED,
    PLAN_CHANGED,
    SectionContext,
    SectionKind,
    register,
)
from relationships.models import Relationship
from success.selectors.cockpit import cockpit_section

LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 50, 10


@register
class Cockpit(SectionKind):
    key = "cockpit"
    label = "Cockpit (CTAs)"
    template = "layouts/sections/cockpit.html"
    skeleton_height = 260
    partner_visible = True
    # Success plan objectives are CTAs too.
    refresh_on = (CTA_CHANGED, PLAN_CHANGED)

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        on_company = layout is None or layout.target == "company"

        class CockpitConfig(forms.Form):
            if on_company:
                include_relationships = forms.BooleanField(
                    label="Include the relationships' CTAs",
                    required=False,
                    initial=True,
                    help_text="Also list the CTAs opened on this company's relationships.",
                )
            include_closed = forms.BooleanField(
                label="Include closed CTAs",
                required=False,
                initial=False,
                help_text="Closed ones are listed after the open ones.",
            )
            limit = forms.IntegerField(
                label="CTAs shown",
                min_value=LIMIT_MIN,
                max_value=LIMIT_MAX,
                initial=LIMIT_DEFAULT,
                help_text=f"From {LIMIT_MIN} to {LIMIT_MAX}; the rest are counted.",
            )

        return CockpitConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        config = ctx.config
        subject = ctx.subject
        try:
            limit = min(max(int(config.get("limit", LIMIT_DEFAULT)), LIMIT_MIN), LIMIT_MAX)
        except (TypeError, ValueError):
            limit = LIMIT_DEFAULT
        on_relationship = isinstance(subject, Relationship)
        include_relationships = not on_relationship and bool(
            config.get("include_relationships", True)
        )
        include_closed = bool(config.get("include_closed", False))
        data = cockpit_section(
            user=ctx.user,
            subject=subject,
            include_relationships=include_relationships,
            include_closed=include_closed,
            limit=limit,
            today=timezone.localdate(),
        )
        prefill = {"relationship": subject.pk} if on_relationship else {"company": subject.pk}
        return {
            "rows": data.rows,
            "total": data.total,
            "overdue": data.overdue,
            "more": max(data.total - len(data.rows), 0),
            "include_closed": include_closed,
            "show_relationship": include_relationships,
            "can_add": ctx.user.has_perm("success.add_cta"),
            "can_change": ctx.user.has_perm("success.change_cta"),
            "new_url": f"{reverse('success:cta_create')}?{urlencode(prefill)}",
        }
