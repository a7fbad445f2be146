"""Usage: the chosen metrics' weekly values as line charts drawn on the server.

A period picker reloads the section with ?weeks=12, 26 or 52 (anything else is the section's
default period); the section's own reloads keep the chosen period.
"""

from __future__ import annotations

from typing import Any

from django import forms

from layouts.sections.base import SectionContext, SectionKind, register
from success.models import UsageMetric
from success.selectors.usage import (
    DEFAULT_WEEKS,
    WEEK_CHOICES,
    usage_section,
    weeks_or_default,
)


def _metric_choices() -> list[tuple[int, str]]:
    return [(m.pk, str(m)) for m in UsageMetric.objects.filter(active=True).order_by("order")]


class UsageConfig(forms.Form):
    metrics = forms.TypedMultipleChoiceField(
        choices=_metric_choices,
        coerce=int,
        required=False,
        initial=[],
        # A list box rather than checkboxes: it is there (and says so) even before an admin
        # has defined any metric.
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The metrics charted, one chart each. Choose none to chart every active metric.",
    )
    weeks = forms.TypedChoiceField(
        label="Default period",
        choices=[(w, f"{w} weeks") for w in WEEK_CHOICES],
        coerce=int,
        initial=DEFAULT_WEEKS,
        help_text="What the section shows until the user picks another period.",
    )


@register
class Usage(SectionKind):
    key = "usage"
    label = "Usage"
    template = "layouts/sections/usage.html"
    skeleton_height = 300

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        return UsageConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        default = weeks_or_default(ctx.config.get("weeks"))
        weeks = weeks_or_default(ctx.params.get("weeks"), default)
        data = usage_section(
            subject=ctx.subject, metric_ids=ctx.config.get("metrics") or None, weeks=weeks
        )
        base_url = ctx.url()
        periods = [
            {"weeks": w, "url": f"{base_url}?weeks={w}", "current": w == weeks}
            for w in WEEK_CHOICES
        ]
        return {
            **data,
            "weeks": weeks,
            "periods": periods,
            # The frame reloads itself from `url`: keep the period the user picked.
            "url": base_url if weeks == default else f"{base_url}?weeks={weeks}",
        }
