"""Surveys: NPS over a configured period, the 0–10 distribution and the latest comments."""

from __future__ import annotations

from typing import Any

from django import forms

from layouts.sections.base import SectionContext, SectionKind, register
from success.selectors.surveys import DEFAULT_COMMENTS, DEFAULT_DAYS, surveys_section


class SurveysConfig(forms.Form):
    days = forms.IntegerField(
        label="Period (days)",
        min_value=7,
        max_value=3650,
        initial=DEFAULT_DAYS,
        help_text="NPS and the distribution count the responses of this many past days.",
    )
    comments = forms.IntegerField(
        label="Comments shown",
        min_value=0,
        max_value=50,
        initial=DEFAULT_COMMENTS,
        help_text="The latest comments listed under the score; 0 lists none.",
    )


@register
class Surveys(SectionKind):
    key = "surveys"
    label = "Surveys (NPS)"
    template = "layouts/sections/surveys.html"
    skeleton_height = 260

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        return SurveysConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        config = ctx.config
        return surveys_section(
            user=ctx.user,
            subject=ctx.subject,
            days=config.get("days") or DEFAULT_DAYS,
            comments=config.get("comments", DEFAULT_COMMENTS),
        )
