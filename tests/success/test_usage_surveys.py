"""The usage section (charts per metric, period picker) and the surveys section (NPS)."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from layouts.sections import REGISTRY, section_url
from success.models import SurveyResponse, UsageMetric, UsageValue
from success.selectors.surveys import nps_from_counts, responses_of
from success.selectors.usage import period_weeks, week_of, weeks_or_default
from success.services import nps
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    PartnerFactory,
    PersonFactory,
    RelationshipFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def must_search(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """re.search that fails the test, rather than returning None, when nothing matches."""
    found = re.search(pattern, text, flags)
    assert found is not None, pattern
    return found


TODAY = timezone.localdate


def get(client, subject, section, **params) -> str:
    response = client.get(section_url(subject, section), params, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


# ---------- usage ----------


@pytest.fixture
def metrics():
    users = UsageMetric.objects.create(name="Active users", unit="users", order=1)
    logins = UsageMetric.objects.create(name="Logins", unit="logins", order=2)
    UsageMetric.objects.create(name="Retired", unit="", order=3, active=False)
    return users, logins


def usage_section(**config):
    section = SectionFactory(layout=LayoutFactory(), kind="usage")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def record(subject, metric, weeks_ago: int, value, relationship=None) -> UsageValue:
    week = week_of(TODAY()) - dt.timedelta(weeks=weeks_ago)
    return UsageValue.objects.create(
        company=subject, relationship=relationship, metric=metric, week=week, value=Decimal(value)
    )


def chart_blocks(html: str) -> dict[str, str]:
    """Each metric's figure, by the metric's name."""
    blocks = re.findall(r'<figure class="usage-chart">(.*?)</figure>', html, re.S)
    return {must_search(r'usage-chart__name">([^<]+)<', b).group(1): b for b in blocks}


def x_labels(block: str) -> list[str]:
    return re.findall(r'chart__tick--x"[^>]*>([^<]+)<', block)


def test_each_active_metric_is_a_chart_with_its_latest_value_and_change(csm_client, metrics):
    users, logins = metrics
    company = CompanyFactory()
    for weeks_ago, value in [(11, 100), (6, 120), (0, 150)]:
        record(company, users, weeks_ago, value)
    record(company, logins, 2, 900)
    section = usage_section()

    blocks = chart_blocks(get(csm_client, company, section))

    assert list(blocks) == ["Active users", "Logins"]  # the retired metric is not charted
    active = blocks["Active users"]
    assert (
        '<span class="usage-chart__latest">150 <span class="usage-chart__unit">users</span>'
        in active
    )
    first = week_of(TODAY()) - dt.timedelta(weeks=11)
    assert f"▲ +50 (+50%) since {first:%b} {first.day}" in active
    assert "usage-chart__change--up" in active
    assert (
        '<svg class="chart"' in active
        and "<title>Active users per week over the last 12 weeks</title>" in active
    )
    assert ">users</text>" in active  # the unit on the axis
    # One value only: no change to report, and the chart still shows its point.
    assert "usage-chart__change" not in blocks["Logins"]
    assert "900" in blocks["Logins"]


def test_only_the_chosen_metrics_are_charted(csm_client, metrics):
    users, logins = metrics
    company = CompanyFactory()
    record(company, users, 0, 10)
    record(company, logins, 0, 20)
    section = usage_section(metrics=[logins.pk])

    blocks = chart_blocks(get(csm_client, company, section))

    assert list(blocks) == ["Logins"]


def test_the_period_picker_reloads_with_12_26_or_52_weeks(csm_client, metrics):
    users, _ = metrics
    company = CompanyFactory()
    record(company, users, 40, 10)
    record(company, users, 0, 30)
    section = usage_section(metrics=[users.pk])
    base = section_url(company, section)

    default = get(csm_client, company, section)
    wide = get(csm_client, company, section, weeks="52")

    buttons = re.findall(r'aria-pressed="(true|false)"\s+hx-get="([^"]+)"', default)
    assert buttons == [
        ("true", f"{base}?weeks=12"),
        ("false", f"{base}?weeks=26"),
        ("false", f"{base}?weeks=52"),
    ]
    assert 'aria-pressed="true"\n                hx-get="' + base + '?weeks=52"' in wide
    start_12, start_52 = (
        period_weeks(today=TODAY(), weeks=12)[0],
        period_weeks(today=TODAY(), weeks=52)[0],
    )
    assert f"since the week of {start_12:%b} {start_12.day}, {start_12:%Y}" in default
    assert f"since the week of {start_52:%b} {start_52.day}, {start_52:%Y}" in wide
    # 40 weeks ago is outside 12 weeks and inside 52: the change appears only in the wide view.
    assert "▲ +20" in chart_blocks(wide)["Active users"]
    assert "usage-chart__change" not in chart_blocks(default)["Active users"]
    # The section reloads itself (on events) with the period the user picked.
    assert (
        f'hx-get="{base}?weeks=52"\n     hx-trigger=' in wide
        or f'hx-get="{base}?weeks=52" hx-trigger=' in wide
    )


@pytest.mark.parametrize("asked", ["13", "abc", "-12", "", "52.0", "1e2"])
def test_any_other_period_is_the_sections_default(csm_client, metrics, asked):
    users, _ = metrics
    company = CompanyFactory()
    record(company, users, 0, 30)
    section = usage_section(weeks=26)

    html = get(csm_client, company, section, weeks=asked)

    start = period_weeks(today=TODAY(), weeks=26)[0]
    assert f"since the week of {start:%b} {start.day}, {start:%Y}" in html
    assert must_search(r'aria-pressed="true"\s+hx-get="[^"]+\?weeks=26"', html)


def test_weeks_or_default():
    assert weeks_or_default("26") == 26
    assert weeks_or_default("27") == 12
    assert weeks_or_default(None, 52) == 52
    assert weeks_or_default("x", "bad default") == 12


def test_the_config_accepts_only_the_three_periods(metrics):
    kind = REGISTRY["usage"]

    assert kind.clean_config({"metrics": [metrics[0].pk], "weeks": 26}, layout=None) == {
        "metrics": [metrics[0].pk],
        "weeks": 26,
    }
    with pytest.raises(ValidationError):
        kind.clean_config({"metrics": [], "weeks": 13}, layout=None)
    with pytest.raises(ValidationError):
        kind.clean_config({"metrics": [999_999], "weeks": 12}, layout=None)


def test_no_values_in_the_period_is_an_empty_state(csm_client, metrics):
    users, _ = metrics
    company = CompanyFactory()
    record(company, users, 30, 10)  # only before the last 12 weeks
    section = usage_section()

    html = get(csm_client, company, section)

    assert "No usage in the last 12 weeks" in html and "try a longer one" in html
    assert "<svg" not in html
    assert "period-picker" in html  # a longer period is one click away


def test_no_metrics_is_an_empty_state(csm_client):
    html = get(csm_client, CompanyFactory(), usage_section())

    assert "No usage metrics yet" in html and "period-picker" not in html


def test_a_company_charts_its_own_usage_and_a_relationship_its_own(csm_client, metrics):
    users, _ = metrics
    relationship = RelationshipFactory()
    company = relationship.company
    record(company, users, 0, 500)
    record(company, users, 0, 42, relationship=relationship)
    c360 = usage_section()
    r360 = SectionFactory(
        layout=LayoutFactory(
            target="relationship", relationship_type=relationship.relationship_type
        ),
        kind="usage",
    )

    on_company = chart_blocks(get(csm_client, company, c360))["Active users"]
    on_relationship = chart_blocks(get(csm_client, relationship, r360))["Active users"]

    assert 'usage-chart__latest">500' in on_company
    assert 'usage-chart__latest">42' in on_relationship


def test_usage_reads_a_fixed_number_of_queries(csm_client, metrics, django_assert_max_num_queries):
    users, logins = metrics
    small, large = CompanyFactory(), CompanyFactory()
    record(small, users, 0, 1)
    for weeks_ago in range(60):
        record(large, users, weeks_ago, weeks_ago)
        record(large, logins, weeks_ago, weeks_ago * 3)
    section = usage_section()
    counts = []
    for company in (small, large):
        with django_assert_max_num_queries(15) as captured:
            get(csm_client, company, section, weeks="52")
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]


# ---------- surveys ----------


def respond(
    company, score: int, days_ago: int = 0, comment: str = "", person=None, relationship=None
):
    return SurveyResponse.objects.create(
        company=company,
        relationship=relationship,
        person=person,
        score=score,
        comment=comment,
        responded_on=TODAY() - dt.timedelta(days=days_ago),
    )


def surveys_section(**config):
    section = SectionFactory(layout=LayoutFactory(), kind="surveys")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def bars(html: str) -> dict[int, tuple[str, str]]:
    """score → (category, count shown above the bar)."""
    found = re.findall(r'nps-bars__bar--(\w+)" title="Score (\d+): (\d+) responses?"', html)
    return {int(score): (category, count) for category, score, count in found}


def test_nps_counts_and_distribution(csm_client):
    company = CompanyFactory()
    scores = [10, 10, 9, 8, 7, 6, 2, 9, 10, 0]  # 5 promoters, 2 passives, 3 detractors
    for score in scores:
        respond(company, score)
    respond(company, 0, days_ago=400)  # outside the last 365 days

    html = get(csm_client, company, surveys_section())

    assert nps(scores) == 20
    assert '<span class="nps__value" data-nps>+20</span>' in html
    assert "10 responses" in html
    assert "<dd>5 · 50%</dd>" in html and "<dd>2 · 20%</dd>" in html and "<dd>3 · 30%</dd>" in html
    distribution = bars(html)
    assert distribution[10] == ("promoter", "3")
    assert distribution[9] == ("promoter", "2")
    assert distribution[8] == ("passive", "1") and distribution[7] == ("passive", "1")
    assert distribution[6] == ("detractor", "1") and distribution[0] == ("detractor", "1")
    assert distribution[5] == ("detractor", "0")
    assert len(distribution) == 11
    # The tallest bar is full height; the others in proportion.
    bar = '<rect class="nps-bars__fill" width="10" height="{}"'
    assert bar.format(100) in html and bar.format(33) in html


def test_a_negative_nps_is_shown_with_a_minus(csm_client):
    company = CompanyFactory()
    for score in [0, 3, 9]:
        respond(company, score)

    html = get(csm_client, company, surveys_section())

    assert '<span class="nps__value" data-nps>−33</span>' in html
    assert "nps__score--bad" in html


def test_nps_from_counts_agrees_with_the_service():
    rng = random.Random(7)
    for _ in range(200):
        scores = [rng.randint(0, 10) for _ in range(rng.randint(1, 40))]
        promoters = sum(s >= 9 for s in scores)
        detractors = sum(s <= 6 for s in scores)
        assert nps_from_counts(
            promoters=promoters, detractors=detractors, total=len(scores)
        ) == nps(scores)
    assert nps_from_counts(promoters=0, detractors=0, total=0) is None


def test_the_period_and_number_of_comments_follow_the_config(csm_client):
    company = CompanyFactory()
    dana = PersonFactory(first_name="Dana", last_name="Scully")
    respond(company, 10, days_ago=5, comment="Love the new reports", person=dana)
    respond(company, 3, days_ago=10, comment="Support was slow")
    respond(company, 9, days_ago=12, comment="")  # no comment: counted, not listed
    respond(company, 8, days_ago=20, comment="Fine")
    respond(company, 0, days_ago=45, comment="Outside the period")

    html = get(csm_client, company, surveys_section(days=30, comments=2))

    comments = re.findall(r'nps-comment__text">([^<]+)<', html)
    assert comments == ["Love the new reports", "Support was slow"]
    assert "Dana Scully" in html and "Anonymous" in html
    day = TODAY() - dt.timedelta(days=5)
    assert f"{day:%b} {day.day}, {day:%Y}" in html
    assert "4 responses" in html and "last 30 days" in html
    assert "Outside the period" not in html


def test_comments_are_text_not_html(csm_client):
    company = CompanyFactory()
    respond(company, 9, comment="<script>alert(1)</script>\nSecond line")

    html = get(csm_client, company, surveys_section())

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line" in html


def test_no_responses_is_an_empty_state(csm_client):
    company = CompanyFactory(name="Initech")
    respond(company, 10, days_ago=500)

    html = get(csm_client, company, surveys_section())

    assert "No survey responses in the last 365 days" in html and "nps-bars" not in html


def test_a_relationship_shows_its_own_responses(csm_client):
    relationship = RelationshipFactory()
    respond(relationship.company, 0)
    respond(relationship.company, 10, relationship=relationship)
    r360 = SectionFactory(
        layout=LayoutFactory(
            target="relationship", relationship_type=relationship.relationship_type
        ),
        kind="surveys",
    )

    html = get(csm_client, relationship, r360)

    assert '<span class="nps__value" data-nps>+100</span>' in html and "1 response<" in html


def test_a_partner_user_counts_only_responses_of_relationships_they_see(
    partner_a, partner_a_user, csm_user
):
    company = CompanyFactory(managed_by=partner_a)
    theirs = RelationshipFactory(company=company)
    other = RelationshipFactory(company=company, managed_by=PartnerFactory(name="Someone else"))
    own = respond(company, 9)
    on_theirs = respond(company, 10, relationship=theirs)
    respond(company, 0, relationship=other)

    assert set(responses_of(user=partner_a_user, subject=company)) == {own, on_theirs}
    assert responses_of(user=csm_user, subject=company).count() == 3


def test_surveys_read_a_fixed_number_of_queries(csm_client, django_assert_max_num_queries):
    small, large = CompanyFactory(), CompanyFactory()
    respond(small, 9, comment="ok")
    for index in range(80):
        respond(
            large, index % 11, days_ago=index, comment=f"Comment {index}", person=PersonFactory()
        )
    section = surveys_section()
    counts = []
    for company in (small, large):
        with django_assert_max_num_queries(15) as captured:
            get(csm_client, company, section)
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
