"""Summary: the subject's key facts as a row of widgets chosen per layout."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from companies.models import Company
from layouts.sections.base import EVERY_CHANGE, SectionContext, SectionKind, register
from partners.access import relationships_visible_to

WIDGETS = [
    ("arr", "ARR"),
    ("mrr", "MRR"),
    ("renewal", "Renewal (days left)"),
    ("stage", "Stage"),
    ("status", "Status"),
    ("csm", "CSM"),
    ("relationships", "Relationships (C360 only)"),
]
DEFAULT_WIDGETS = ["arr", "mrr", "renewal", "stage", "csm", "relationships"]


class SummaryConfig(forms.Form):
    widgets = forms.MultipleChoiceField(
        choices=WIDGETS,
        initial=DEFAULT_WIDGETS,
        widget=forms.CheckboxSelectMultiple,
        help_text="The facts shown, in this order.",
    )


@register
class Summary(SectionKind):
    key = "summary"
    label = "Summary"
    template = "layouts/sections/summary.html"
    skeleton_height = 110
    partner_visible = True
    refresh_on = EVERY_CHANGE

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        return SummaryConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        subject = ctx.subject
        chosen = [key for key, _ in WIDGETS if key in ctx.config.get("widgets", DEFAULT_WIDGETS)]
        widgets: list[dict[str, Any]] = []
        for key in chosen:
            if key == "arr":
                widgets.append({"label": "ARR", "format": "money", "value": subject.arr})
            elif key == "mrr":
                widgets.append({"label": "MRR", "format": "money", "value": subject.mrr})
            elif key == "renewal":
                widgets.append(_renewal(subject.renewal_date))
            elif key == "stage":
                widgets.append({"label": "Stage", "value": subject.get_stage_display() or "—"})
            elif key == "status":
                widgets.append({"label": "Status", "value": subject.get_status_display()})
            elif key == "csm":
                csm = subject.csm
                name = (csm.get_full_name() or csm.get_username()) if csm else "Unassigned"
                widgets.append({"label": "CSM", "value": name})
            elif key == "relationships" and isinstance(subject, Company):
                count = relationships_visible_to(ctx.user).filter(company=subject).count()
                widgets.append({"label": "Relationships", "value": count})
        return {"widgets": widgets}


def _renewal(date: dt.date | None) -> dict[str, Any]:
    if date is None:
        return {"label": "Renewal", "value": "—", "note": "No renewal date"}
    days = (date - timezone.localdate()).days
    if days < 0:
        note, tone = f"{-days} days overdue", "bad"
    elif days <= 90:
        note, tone = f"in {days} days", "warn"
    else:
        note, tone = f"in {days} days", ""
    return {"label": "Renewal", "format": "date", "value": date, "note": note, "tone": tone}
