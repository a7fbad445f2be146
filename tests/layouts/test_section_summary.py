"""The summary's widgets of the CSM's work: health, worst relationship, open CTAs, NPS, last
activity and active users — with data, without, scoped for partner users, in fixed queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from layouts.sections import REGISTRY, section_url
from layouts.sections.base import EVERY_CHANGE
from layouts.sections.summary import DEFAULT_WIDGETS, WIDGETS
from success.models import CTAStatus, SurveyResponse, UsageMetric, UsageValue
from success.selectors.usage import week_of
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    PartnerFactory,
    RelationshipFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
WORK_WIDGETS = ["health", "open_ctas", "nps", "last_activity", "active_users", "worst_relationship"]
RED, YELLOW, GREEN = "#d14343", "#e0a100", "#2f9e55"


def summary(target: str = "company", relationship_type=None, widgets=WORK_WIDGETS):
    layout = LayoutFactory(target=target, relationship_type=relationship_type)
    return SectionFactory(layout=layout, kind="summary", config={"widgets": widgets})


def widgets(client, subject, section) -> dict[str, dict[str, str]]:
    """Each widget by key: its label, value (text) and note (text), plus raw HTML."""
    response = client.get(section_url(subject, section), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    found = {}
    starts = list(re.finditer(r'<div class="widget ?([^"]*)" data-widget="(\w+)">', html))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(html)
        body = html[match.start() : end]

        def text(part: str, body: str = body) -> str:
            found = re.search(rf'<div class="widget-{part}">(.*?)</div>', body, re.S)
            return (
                re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""
            )

        found[match.group(2)] = {
            "label": text("label"),
            "value": text("value"),
            "note": text("note"),
            "tone": match.group(1),
            "html": body,
        }
    return found


def test_the_defaults_include_the_work_widgets_and_the_summary_hears_every_event():
    assert {"health", "open_ctas", "nps", "last_activity", "active_users"} <= set(DEFAULT_WIDGETS)
    assert REGISTRY["summary"].refresh_on == EVERY_CHANGE


# ---------- health ----------


def test_health_shows_the_overall_score_in_its_band_colour(csm_client):
    company = CompanyFactory(health_score=Decimal("74.60"))

    health = widgets(csm_client, company, summary())["health"]

    assert health["value"] == "74.6" and health["note"] == "Yellow"
    assert f'fill="{YELLOW}"' in health["html"]


def test_health_without_scores_is_not_scored_never_zero(csm_client):
    health = widgets(csm_client, CompanyFactory(health_score=None), summary())["health"]

    assert health["value"] == "Not scored" and "score-badge--none" in health["html"]


def test_a_relationships_health_is_its_own(csm_client):
    relationship = RelationshipFactory(health_score=Decimal("90"))
    relationship.company.health_score = Decimal("10")
    relationship.company.save()
    section = summary("relationship", relationship.relationship_type)

    shown = widgets(csm_client, relationship, section)

    assert shown["health"]["value"] == "90"
    assert "worst_relationship" not in shown  # a C360 widget


# ---------- worst relationship ----------


def test_worst_relationship_is_the_lowest_scored_one_linked(csm_client):
    company = CompanyFactory()
    RelationshipFactory(company=company, name="Analytics", health_score=Decimal("80"))
    worst = RelationshipFactory(company=company, name="Data Platform", health_score=Decimal("45"))
    RelationshipFactory(company=company, name="Unscored", health_score=None)
    RelationshipFactory(health_score=Decimal("5"))  # another company's

    widget = widgets(csm_client, company, summary())["worst_relationship"]

    assert widget["value"] == "45" and widget["note"] == "Data Platform"
    assert f'<a href="{worst.get_absolute_url()}">Data Platform</a>' in widget["html"]
    assert f'fill="{RED}"' in widget["html"]


def test_worst_relationship_is_a_dash_when_none_is_scored(csm_client):
    company = CompanyFactory()
    RelationshipFactory(company=company, health_score=None)

    widget = widgets(csm_client, company, summary())["worst_relationship"]

    assert widget["value"] == "—" and widget["note"] == "No relationship scored"


def test_worst_relationship_for_a_partner_user_skips_relationships_they_cannot_see(
    partner_a, partner_a_client
):
    company = CompanyFactory(managed_by=partner_a)
    RelationshipFactory(company=company, name="Theirs", health_score=Decimal("60"))
    RelationshipFactory(
        company=company,
        name="Someone else's",
        health_score=Decimal("10"),
        managed_by=PartnerFactory(name="Other partner"),
    )

    widget = widgets(partner_a_client, company, summary())["worst_relationship"]

    assert widget["note"] == "Theirs" and "Someone else" not in widget["html"]


# ---------- open CTAs ----------


def test_open_ctas_count_the_company_and_its_relationships_with_the_overdue(csm_client):
    company = CompanyFactory()
    relationship = RelationshipFactory(company=company)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    CTAFactory(company=company, due_date=yesterday)
    CTAFactory(company=company, relationship=relationship, due_date=yesterday)
    CTAFactory(company=company, relationship=relationship)  # due next week
    CTAFactory(company=company, status=CTAStatus.objects.get(name="Closed success"))
    CTAFactory()  # another company's
    section = summary()

    on_company = widgets(csm_client, company, section)["open_ctas"]
    r360 = summary("relationship", relationship.relationship_type)
    on_relationship = widgets(csm_client, relationship, r360)["open_ctas"]

    assert (on_company["value"], on_company["note"]) == ("3", "2 overdue")
    assert on_company["tone"] == "tone-bad"
    assert (on_relationship["value"], on_relationship["note"]) == ("2", "1 overdue")


def test_no_open_ctas(csm_client):
    widget = widgets(csm_client, CompanyFactory(), summary())["open_ctas"]

    assert (widget["value"], widget["note"]) == ("0", "None overdue")
    assert widget["tone"] == ""


def test_open_ctas_for_a_partner_user_leave_out_relationships_they_cannot_see(
    partner_a, partner_a_client, partner_b, partner_b_client
):
    company = CompanyFactory(managed_by=partner_a)
    hidden = RelationshipFactory(company=company, managed_by=PartnerFactory(name="Other"))
    CTAFactory(company=company)
    CTAFactory(company=company, relationship=RelationshipFactory(company=company))
    CTAFactory(company=company, relationship=hidden)
    section = summary()

    assert widgets(partner_a_client, company, section)["open_ctas"]["value"] == "2"
    # Partner B manages nothing here: the page, and so the section, is not theirs.
    assert partner_b_client.get(section_url(company, section), headers=HTMX).status_code == 404


def test_a_companies_only_partner_counts_only_company_ctas(partner_b, partner_b_client):
    company = CompanyFactory(managed_by=partner_b)
    CTAFactory(company=company)
    CTAFactory(company=company, relationship=RelationshipFactory(company=company))

    assert widgets(partner_b_client, company, summary())["open_ctas"]["value"] == "1"


# ---------- NPS ----------


def test_nps_of_the_last_365_days(csm_client):
    company = CompanyFactory()
    today = timezone.localdate()
    for score in (10, 9, 8, 3):
        SurveyResponse.objects.create(company=company, score=score, responded_on=today)
    SurveyResponse.objects.create(
        company=company, score=0, responded_on=today - dt.timedelta(days=400)
    )

    widget = widgets(csm_client, company, summary())["nps"]

    assert widget["value"] == "+25"  # 2 promoters − 1 detractor of 4
    assert widget["note"] == "4 responses, last 365 days"


def test_nps_without_responses(csm_client):
    widget = widgets(csm_client, CompanyFactory(), summary())["nps"]

    assert (widget["value"], widget["note"]) == ("—", "No responses in 365 days")


# ---------- last activity ----------


def test_last_activity_in_days(csm_client):
    company = CompanyFactory()
    now = timezone.now()
    ActivityFactory(company=company, occurred_at=now - dt.timedelta(days=12))
    ActivityFactory(company=company, occurred_at=now - dt.timedelta(days=40))
    ActivityFactory(company=company, occurred_at=now + dt.timedelta(days=3))  # planned

    widget = widgets(csm_client, company, summary())["last_activity"]

    assert widget["value"] == "12 days ago"


def test_last_activity_today_and_on_a_relationship(csm_client):
    relationship = RelationshipFactory()
    ActivityFactory(company=relationship.company, relationship=relationship)
    ActivityFactory(
        company=relationship.company, occurred_at=timezone.now() - dt.timedelta(days=90)
    )
    r360 = summary("relationship", relationship.relationship_type)

    assert widgets(csm_client, relationship.company, summary())["last_activity"]["value"] == "Today"
    assert widgets(csm_client, relationship, r360)["last_activity"]["value"] == "Today"


def test_no_activity_yet(csm_client):
    widget = widgets(csm_client, CompanyFactory(), summary())["last_activity"]

    assert widget["value"] == "No activity yet"


def test_last_activity_for_a_partner_user_skips_hidden_relationships(partner_a, partner_a_client):
    company = CompanyFactory(managed_by=partner_a)
    hidden = RelationshipFactory(company=company, managed_by=PartnerFactory(name="Other"))
    ActivityFactory(company=company, relationship=hidden)
    ActivityFactory(company=company, occurred_at=timezone.now() - dt.timedelta(days=5))

    assert widgets(partner_a_client, company, summary())["last_activity"]["value"] == "5 days ago"


# ---------- active users ----------


def usage(company, metric, weeks_ago, value):
    UsageValue.objects.create(
        company=company,
        metric=metric,
        week=week_of(timezone.localdate()) - dt.timedelta(weeks=weeks_ago),
        value=Decimal(value),
    )


def test_active_users_is_the_latest_value_of_that_metric(csm_client):
    company = CompanyFactory()
    logins = UsageMetric.objects.create(name="Logins", unit="logins", order=0)
    users = UsageMetric.objects.create(name="Active users", unit="users", order=5)
    usage(company, users, 1, 120)
    usage(company, users, 0, 134)
    usage(company, logins, 0, 9000)

    widget = widgets(csm_client, company, summary())["active_users"]

    week = week_of(timezone.localdate())
    assert (widget["label"], widget["value"]) == ("Active users", "134")
    assert widget["note"] == f"week of {week:%b} {week.day}"


def test_without_an_active_users_metric_the_first_metric_says_which_it_is(csm_client):
    company = CompanyFactory()
    logins = UsageMetric.objects.create(name="Logins", unit="logins", order=0)
    usage(company, logins, 2, 8000)
    usage(company, logins, 1, 12_500)

    widget = widgets(csm_client, company, summary())["active_users"]

    assert widget["label"] == "Logins" and widget["value"] == "12.5k logins"
    assert widget["note"].startswith("Latest Logins, week of")


def test_no_usage_recorded(csm_client):
    widget = widgets(csm_client, CompanyFactory(), summary())["active_users"]

    assert (widget["value"], widget["note"]) == ("—", "No usage recorded")


# ---------- budgets ----------


def test_the_summary_reads_a_fixed_number_of_queries(csm_client, django_assert_max_num_queries):
    every = [key for key, _ in WIDGETS]
    section = summary(widgets=every)
    users = UsageMetric.objects.create(name="Active users", unit="users")
    small, large = CompanyFactory(), CompanyFactory()
    for company, size in ((small, 1), (large, 25)):
        relationships = RelationshipFactory.create_batch(
            size, company=company, health_score=Decimal("50")
        )
        for index in range(size):
            CTAFactory(company=company, relationship=relationships[index])
            ActivityFactory(company=company)
            SurveyResponse.objects.create(company=company, score=index % 11)
            usage(company, users, index, index)
    counts = []
    for company in (small, large):
        with django_assert_max_num_queries(20) as captured:
            shown = widgets(csm_client, company, section)
        counts.append(len(captured.captured_queries))
        assert len(shown) == 6

    assert counts[0] == counts[1]
