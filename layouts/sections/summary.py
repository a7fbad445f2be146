"""Summary: the subject's key facts as a row of widgets chosen per layout.

Every widget reads at most one query (aggregates in SQL), whatever the number of CTAs,
activities, responses or usage values behind it, and everything is scoped to what the
viewer may see through `partners.access`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from companies.models import Company
from gainsight_lite.forms import user_label
from layouts.sections.base import EVERY_CHANGE, SectionContext, SectionKind, register
from partners.access import (
    AnyUser,
    activities_visible_to,
    ctas_visible_to,
    relationships_visible_to,
    sees_relationships,
)
from relationships.models import Relationship
from success.selectors.scores import grade_bands, grade_for, score_text
from success.selectors.surveys import nps_figures
from success.selectors.usage import ACTIVE_USERS, latest_active_users

NPS_DAYS = 365
WIDGETS = [
    ("health", "Health score"),
    ("arr", "ARR"),
    ("mrr", "MRR"),
    ("renewal", "Renewal (days left)"),
    ("stage", "Stage"),
    ("status", "Status"),
    ("csm", "CSM"),
    ("open_ctas", "Open CTAs (and overdue)"),
    ("nps", f"NPS (last {NPS_DAYS} days)"),
    ("last_activity", "Last activity"),
    ("active_users", "Active users (latest usage)"),
    ("worst_relationship", "Worst relationship health (C360 only)"),
    ("relationships", "Relationships (C360 only)"),
]
RELATIONSHIP_WIDGETS = frozenset({"worst_relationship", "relationships"})
DEFAULT_WIDGETS = [
    "health",
    "arr",
    "renewal",
    "csm",
    "open_ctas",
    "nps",
    "last_activity",
    "active_users",
    "worst_relationship",
]


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
        if not sees_relationships(ctx.user):
            # A "companies only" partner's users: a relationship widget would always be empty.
            chosen = [key for key in chosen if key not in RELATIONSHIP_WIDGETS]
        is_company = isinstance(subject, Company)
        needs_bands = "health" in chosen or ("worst_relationship" in chosen and is_company)
        bands = grade_bands() if needs_bands else []
        today = timezone.localdate()
        widgets: list[dict[str, Any]] = []
        for key in chosen:
            if key == "health":
                widgets.append(_health(subject.health_score, bands))
            elif key == "arr":
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
                name = user_label(csm) if csm else "Unassigned"
                widgets.append({"label": "CSM", "value": name})
            elif key == "open_ctas":
                widgets.append(_open_ctas(ctx.user, subject, today))
            elif key == "nps":
                widgets.append(_nps(ctx.user, subject, today))
            elif key == "last_activity":
                widgets.append(_last_activity(ctx.user, subject, today))
            elif key == "active_users":
                widgets.append(_active_users(subject))
            elif key == "worst_relationship" and isinstance(subject, Company):
                widgets.append(_worst_relationship(ctx.user, subject, bands))
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


def _health(score: Any, bands: list[Any]) -> dict[str, Any]:
    band = grade_for(score, bands)
    return {
        "key": "health",
        "label": "Health",
        "format": "score",
        "value": score_text(score),
        "band": band,
        "note": band.label if band else "No measure scored",
    }


def _on_subject(queryset: QuerySet[Any], subject: Company | Relationship) -> QuerySet[Any]:
    """A relationship's own records; a company's own and its relationships' (of those the
    queryset, already scoped to the viewer, holds)."""
    if isinstance(subject, Relationship):
        return queryset.filter(relationship=subject)
    return queryset.filter(company=subject)


def _open_ctas(user: AnyUser, subject: Company | Relationship, today: dt.date) -> dict[str, Any]:
    """Open CTAs on the subject (a company's include its relationships') and the overdue ones."""
    counts = (
        _on_subject(ctas_visible_to(user), subject)
        .filter(is_closed=False)
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    )
    overdue = counts["overdue"]
    return {
        "key": "open_ctas",
        "label": "Open CTAs",
        "value": counts["open"],
        "note": f"{overdue} overdue" if overdue else "None overdue",
        "tone": "bad" if overdue else "",
    }


def _nps(user: AnyUser, subject: Company | Relationship, today: dt.date) -> dict[str, Any]:
    figures = nps_figures(user=user, subject=subject, days=NPS_DAYS, today=today)
    note = (
        f"{figures.total} response{'s' if figures.total != 1 else ''}, last {NPS_DAYS} days"
        if figures.total
        else f"No responses in {NPS_DAYS} days"
    )
    tone = {"bad": "bad", "warn": "warn"}.get(figures.tone, "")
    return {"key": "nps", "label": "NPS", "value": figures.nps_text, "note": note, "tone": tone}


def _last_activity(
    user: AnyUser, subject: Company | Relationship, today: dt.date
) -> dict[str, Any]:
    """Days since the latest activity logged on the subject (planned future ones left out)."""
    last = (
        _on_subject(activities_visible_to(user), subject)
        .filter(occurred_at__lte=timezone.now())
        .aggregate(last=Max("occurred_at"))["last"]
    )
    if last is None:
        return {"key": "last_activity", "label": "Last activity", "value": "No activity yet"}
    local = timezone.localtime(last)
    days = (today - local.date()).days
    value = "Today" if days == 0 else "Yesterday" if days == 1 else f"{days} days ago"
    return {
        "key": "last_activity",
        "label": "Last activity",
        "value": value,
        "note": f"{local:%b} {local.day}, {local:%Y}",
        "tone": "warn" if days > 30 else "",
    }


def _active_users(subject: Company | Relationship) -> dict[str, Any]:
    latest = latest_active_users(subject=subject)
    if latest is None:
        return {
            "key": "active_users",
            "label": ACTIVE_USERS,
            "value": "—",
            "note": "No usage recorded",
        }
    name = latest.metric_name
    is_active_users = name.lower() == ACTIVE_USERS.lower()
    unit = f" {latest.metric_unit}" if latest.metric_unit and not is_active_users else ""
    when = f"week of {latest.week:%b} {latest.week.day}"
    return {
        "key": "active_users",
        "label": ACTIVE_USERS if is_active_users else name,
        "value": f"{latest.text}{unit}",
        "note": when if is_active_users else f"Latest {name}, {when}",
    }


def _worst_relationship(user: AnyUser, company: Company, bands: list[Any]) -> dict[str, Any]:
    """The visible relationship of the company with the lowest health score (one query)."""
    worst = (
        relationships_visible_to(user)
        .filter(company=company, health_score__isnull=False)
        .order_by("health_score", "name", "pk")
        .values_list("pk", "name", "health_score")
        .first()
    )
    if worst is None:
        return {
            "key": "worst_relationship",
            "label": "Worst relationship",
            "value": "—",
            "note": "No relationship scored",
        }
    pk, name, health_score = worst
    band = grade_for(health_score, bands)
    return {
        "key": "worst_relationship",
        "label": "Worst relationship",
        "format": "score",
        "value": score_text(health_score),
        "band": band,
        "note": name,
        "href": reverse("layouts:relationship", args=[pk]),
    }
