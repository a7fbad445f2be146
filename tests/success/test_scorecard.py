"""The scorecard section (measures, overall badge, trend, sparkline, inline scoring) and the
`snapshot_scores` command."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from companies.services import company_create
from layouts.sections import section_url
from success.models import GradeBand, Measure, MeasureGroup, Score, Scorecard, ScoreSnapshot
from success.services import score_set, subject_overall
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def must_search(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """re.search that fails the test, rather than returning None, when nothing matches."""
    found = re.search(pattern, text, flags)
    assert found is not None, pattern
    return found


RED, YELLOW, GREEN = "#d14343", "#e0a100", "#2f9e55"


@pytest.fixture
def scorecard():
    """Company health: Adoption (3) and Support (1) in groups, Sentiment (2) in none."""
    card = Scorecard.objects.create(name="Company health")
    product = MeasureGroup.objects.create(scorecard=card, name="Product", order=1)
    people = MeasureGroup.objects.create(scorecard=card, name="People", order=2)
    Measure.objects.create(scorecard=card, group=product, name="Adoption", weight=3, order=1)
    Measure.objects.create(scorecard=card, group=people, name="Support", weight=1, order=2)
    Measure.objects.create(scorecard=card, name="Sentiment", weight=2, order=3)
    return card


def measure(name: str) -> Measure:
    return Measure.objects.get(name=name)


@pytest.fixture
def section():
    return SectionFactory(layout=LayoutFactory(), kind="scorecard")


@pytest.fixture
def company():
    return CompanyFactory(name="Initech")


def get(client, subject, section) -> str:
    response = client.get(section_url(subject, section), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def post_score(client, subject, section, **data):
    return client.post(section_url(subject, section, "save"), data, headers=HTMX)


def overall_badge(html: str) -> str:
    return must_search(r"<span ([^>]*)data-overall>(.*?)</span>", html).group(0)


def badge_of(html: str, name: str) -> str:
    block = html.split(f"{name}\n", 1)[1]
    return must_search(r'<span class="score-badge[^"]*"[^>]*>.*?</span>', block).group(0)


# ---------- what the section shows ----------


def test_measures_by_group_with_weight_share_score_band_comment_and_who(
    csm_client, scorecard, section, company
):
    dana = UserFactory(first_name="Dana", last_name="Scully")
    score_set(
        subject=company, measure=measure("Adoption"), value=80, comment="Rollout done", by=dana
    )
    score_set(subject=company, measure=measure("Support"), value=40, by=dana)

    html = get(csm_client, company, section)

    groups = re.findall(r'<h3 class="measure-group">([^<]+)</h3>', html)
    assert groups == ["Product", "People", "Other measures"]
    assert html.index("Adoption") < html.index("Support") < html.index("Sentiment")
    assert "50% of the score" in html  # Adoption: 3 of 6
    assert "17% of the score" in html  # Support: 1 of 6
    assert "33% of the score" in html  # Sentiment: 2 of 6
    assert f'fill="{GREEN}"' in badge_of(html, "Adoption") and ">80<" in badge_of(html, "Adoption")
    assert f'fill="{RED}"' in badge_of(html, "Support")
    assert "score-badge--none" in badge_of(html, "Sentiment")
    assert "Not scored" in badge_of(html, "Sentiment")
    assert "Rollout done" in html and "Dana Scully" in html
    # Overall: (3 × 80 + 1 × 40) / 4 = 70, Yellow; Sentiment is not scored and does not count.
    assert ">70<" in overall_badge(html) and f'fill="{YELLOW}"' in overall_badge(html)
    assert "2 of 3 measures scored" in html


def test_without_groups_the_measures_are_one_plain_list(csm_client, section, company):
    card = Scorecard.objects.create(name="Flat")
    Measure.objects.create(scorecard=card, name="Adoption", weight=1)

    html = get(csm_client, company, section)

    assert "measure-group" not in html and "Adoption" in html


def test_not_scored_is_never_shown_as_zero(csm_client, scorecard, section, company):
    html = get(csm_client, company, section)

    assert "Not scored" in overall_badge(html)
    assert "score-badge--none" in overall_badge(html)
    assert not re.search(r"score-badge[^>]*>0<", html)
    company.refresh_from_db()
    assert company.health_score is None


def test_inactive_measures_are_left_out(csm_client, scorecard, section, company):
    score_set(subject=company, measure=measure("Adoption"), value=90, by=None)
    Measure.objects.filter(name="Adoption").update(active=False)

    html = get(csm_client, company, section)

    assert "Adoption" not in html
    assert "Not scored" in overall_badge(html)  # the only score was on the retired measure


@pytest.mark.parametrize(
    ("value", "colour", "label"),
    [
        (0, RED, "Red"),
        (49, RED, "Red"),
        (50, YELLOW, "Yellow"),
        (74, YELLOW, "Yellow"),
        (75, GREEN, "Green"),
        (100, GREEN, "Green"),
    ],
)
def test_band_colours_at_the_edges(csm_client, scorecard, section, company, value, colour, label):
    score_set(subject=company, measure=measure("Adoption"), value=value, by=None)

    html = get(csm_client, company, section)

    assert f'fill="{colour}"' in badge_of(html, "Adoption")
    assert f'fill="{colour}"' in overall_badge(html)
    assert f'<span class="scorecard-head__band">{label}</span>' in html


def test_a_fractional_overall_below_a_band_edge_keeps_its_band_and_is_not_rounded_up(
    csm_client, section, company
):
    card = Scorecard.objects.create(name="Two")
    a = Measure.objects.create(scorecard=card, name="A", weight=1)
    b = Measure.objects.create(scorecard=card, name="B", weight=1)
    score_set(subject=company, measure=a, value=49, by=None)
    score_set(subject=company, measure=b, value=50, by=None)

    html = get(csm_client, company, section)

    assert ">49.5<" in overall_badge(html) and f'fill="{RED}"' in overall_badge(html)


def test_an_admin_defined_band_colours_the_badges(csm_client, scorecard, section, company):
    GradeBand.objects.filter(label="Green").update(colour="#123456")
    score_set(subject=company, measure=measure("Adoption"), value=90, by=None)

    html = get(csm_client, company, section)

    assert 'fill="#123456"' in overall_badge(html)


# ---------- trend ----------


def snapshot(subject, days_ago: int, overall) -> ScoreSnapshot:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return ScoreSnapshot.objects.create(
        company=subject, day=day, overall=None if overall is None else Decimal(overall)
    )


def trend(html: str) -> str:
    block = must_search(r'<div class="score-trend[^"]*" data-trend>(.*?)</div>', html, re.S).group(
        1
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).strip()


def test_the_trend_compares_with_the_latest_snapshot_before_today(
    csm_client, scorecard, section, company
):
    snapshot(company, 9, 40)
    snapshot(company, 2, 70)  # the latest before today
    score_set(subject=company, measure=measure("Adoption"), value=75, by=None)  # today: 75

    html = get(csm_client, company, section)

    assert trend(html).startswith("▲ +5")
    assert "score-trend--up" in html
    day = timezone.localdate() - dt.timedelta(days=2)
    assert trend(html) == f"▲ +5 Against 70 on {day:%b} {day.day}"


def test_the_trend_reaches_back_before_the_history_window(csm_client, scorecard, section, company):
    """The comparison is read from the sparkline's 90 days when they hold a day before today;
    else the latest snapshot before them is read. Today's own snapshot is never compared."""
    snapshot(company, 120, 50)  # before the 90 days shown
    snapshot(company, 0, 99)  # today's
    score_set(subject=company, measure=measure("Adoption"), value=75, by=None)
    day = timezone.localdate() - dt.timedelta(days=120)

    assert trend(get(csm_client, company, section)) == f"▲ +25 Against 50 on {day:%b} {day.day}"

    snapshot(company, 89, 80)  # the window's first day
    day = timezone.localdate() - dt.timedelta(days=89)
    assert trend(get(csm_client, company, section)) == f"▼ −5 Against 80 on {day:%b} {day.day}"


def test_a_falling_score_shows_a_down_arrow(csm_client, scorecard, section, company):
    snapshot(company, 1, 80)
    score_set(subject=company, measure=measure("Adoption"), value=77, by=None)

    html = get(csm_client, company, section)

    assert trend(html).startswith("▼ −3") and "score-trend--down" in html


def test_no_trend_without_an_earlier_snapshot_or_score(csm_client, scorecard, section, company):
    score_set(subject=company, measure=measure("Adoption"), value=60, by=None)  # today only
    first = get(csm_client, company, section)
    snapshot(company, 1, None)  # yesterday: not scored
    second = get(csm_client, company, section)

    assert trend(first) == "— No earlier snapshot to compare with"
    assert trend(second).startswith("— Not scored on")


def test_an_unchanged_score_is_a_dash(csm_client, scorecard, section, company):
    snapshot(company, 1, 60)
    score_set(subject=company, measure=measure("Adoption"), value=60, by=None)

    html = get(csm_client, company, section)

    assert trend(html).startswith("— No change since")
    assert "score-trend--flat" in html


# ---------- sparkline ----------


def sparkline_of(html: str) -> str:
    return must_search(r'<svg class="sparkline".*?</svg>', html, re.S).group(0)


def test_sparkline_is_svg_with_a_title_and_gaps_on_not_scored_days(
    csm_client, scorecard, section, company
):
    for days_ago, overall in [(120, 10), (8, 50), (7, 55), (6, None), (5, 60), (4, 65)]:
        snapshot(company, days_ago, overall)

    svg = sparkline_of(get(csm_client, company, section))

    assert (
        "<title>Overall score over the last 90 days: from 50 to 65, lowest 50, highest 65</title>"
        in svg
    )
    runs = re.findall(r"M[^M\"]*", must_search(r' d="([^"]*)"', svg).group(1))
    assert len(runs) == 2  # 50–55, gap, 60–65; the snapshot of 120 days ago is outside
    assert all(run.count("L") == 1 for run in runs)


def test_sparkline_without_history_says_not_scored(csm_client, scorecard, section, company):
    svg = sparkline_of(get(csm_client, company, section))

    assert "not scored</title>" in svg and "<path" not in svg


def build_history(company, measures: int, days: int) -> None:
    card = Scorecard.objects.get()
    for index in range(measures):
        extra = Measure.objects.create(scorecard=card, name=f"Extra {index}", weight=index + 1)
        Score.objects.create(company=company, measure=extra, value=index * 7 % 101)
    today = timezone.localdate()
    ScoreSnapshot.objects.bulk_create(
        ScoreSnapshot(company=company, day=today - dt.timedelta(days=n), overall=Decimal(n % 100))
        for n in range(1, days + 1)
    )


def test_section_reads_a_fixed_number_of_queries_at_any_size(
    csm_client, scorecard, section, django_assert_max_num_queries
):
    small, large = CompanyFactory(), CompanyFactory()
    build_history(small, measures=1, days=3)
    build_history(large, measures=25, days=200)
    counts = []
    for company in (small, large):
        with django_assert_max_num_queries(20) as captured:
            get(csm_client, company, section)
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]


# ---------- scoring in place ----------


def test_a_csm_scores_a_measure_in_place(csm_client, csm_user, scorecard, section, company):
    snapshot(company, 1, 60)
    score_set(subject=company, measure=measure("Adoption"), value=60, by=None)
    adoption = measure("Adoption")

    form = csm_client.get(
        section_url(company, section, "edit"), {"measure": adoption.pk}, headers=HTMX
    )
    assert form.status_code == 200
    assert 'name="value"' in form.content.decode() and 'value="60"' in form.content.decode()

    response = post_score(
        csm_client, company, section, measure=adoption.pk, value="90", comment="Went live"
    )

    assert response.status_code == 200
    html = response.content.decode()
    # The whole section comes back, swapped in place of its frame, and the summary is told.
    assert html.lstrip().startswith(
        f'<div class="section__body section-body--scorecard" id="section-body-{section.pk}"'
    )
    assert response["HX-Retarget"] == f"#section-body-{section.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert "scoreChanged" in json.loads(response["HX-Trigger"])
    assert ">90<" in badge_of(html, "Adoption") and f'fill="{GREEN}"' in badge_of(html, "Adoption")
    assert ">90<" in overall_badge(html)
    assert trend(html).startswith("▲ +30")
    score = Score.objects.get(measure=adoption, company=company)
    assert (score.value, score.comment, score.updated_by) == (90, "Went live", csm_user)
    company.refresh_from_db()
    assert company.health_score == Decimal("90.00")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("101", "A score cannot be above 100."),
        ("-1", "A score cannot be below 0."),
        ("lots", "A score is a whole number from 0 to 100."),
        ("7.5", "A score is a whole number from 0 to 100."),
        ("", "Enter a score from 0 to 100, or clear the score."),
    ],
)
def test_a_wrong_score_is_shown_by_the_field_and_nothing_is_saved(
    csm_client, scorecard, section, company, value, error
):
    adoption = measure("Adoption")
    score_set(subject=company, measure=adoption, value=60, comment="Before", by=None)
    snapshots = list(ScoreSnapshot.objects.values_list("day", "overall"))

    response = post_score(
        csm_client, company, section, measure=adoption.pk, value=value, comment="After"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f'<p class="field__error" id="measure-{section.pk}-{adoption.pk}-value-error">{error}</p>'
        in html
    )
    assert 'aria-invalid="true"' in html
    assert "HX-Trigger" not in response and "HX-Retarget" not in response
    score = Score.objects.get(measure=adoption, company=company)
    assert (score.value, score.comment) == (60, "Before")
    assert list(ScoreSnapshot.objects.values_list("day", "overall")) == snapshots


def test_clearing_a_score_makes_the_measure_not_scored(csm_client, scorecard, section, company):
    adoption = measure("Adoption")
    score_set(subject=company, measure=adoption, value=60, by=None)

    response = post_score(csm_client, company, section, measure=adoption.pk, value="", clear="1")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not scored" in overall_badge(html) and "Not scored" in badge_of(html, "Adoption")
    assert not Score.objects.filter(measure=adoption).exists()
    assert ScoreSnapshot.objects.get(company=company).overall is None


def test_cancel_puts_the_row_back(csm_client, scorecard, section, company):
    adoption = measure("Adoption")

    response = csm_client.get(
        section_url(company, section, "row"), {"measure": adoption.pk}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="measure-{section.pk}-{adoption.pk}"' in html and "<form" not in html


def test_a_measure_of_another_scorecard_is_refused(csm_client, scorecard, section, company):
    other = Measure.objects.create(
        scorecard=Scorecard.objects.create(
            name="Product", relationship_type=RelationshipTypeFactory()
        ),
        name="Elsewhere",
    )

    response = post_score(csm_client, company, section, measure=other.pk, value="50")

    assert response.status_code == 400
    assert not Score.objects.exists()


def test_a_read_only_user_gets_no_controls_and_cannot_post(
    viewer_client, scorecard, section, company
):
    html = get(viewer_client, company, section)
    adoption = measure("Adoption")

    response = post_score(viewer_client, company, section, measure=adoption.pk, value="50")
    edit = viewer_client.get(
        section_url(company, section, "edit"), {"measure": adoption.pk}, headers=HTMX
    )

    assert "measure__actions" not in html and "Score Adoption" not in html
    assert response.status_code == 403 and edit.status_code == 403
    assert not Score.objects.exists()


def test_a_csm_sees_the_edit_controls(csm_client, scorecard, section, company):
    html = get(csm_client, company, section)

    assert html.count('class="measure__actions"') == 3
    assert 'aria-label="Score Adoption"' in html


def test_partner_users_see_their_companies_scorecard_only(
    partner_a_client, partner_b_client, partner_a, scorecard, section
):
    theirs = CompanyFactory(managed_by=partner_a)
    score_set(subject=theirs, measure=measure("Adoption"), value=80, by=None)

    html = get(partner_a_client, theirs, section)
    other = partner_b_client.get(section_url(theirs, section), headers=HTMX)
    post = post_score(partner_a_client, theirs, section, measure=measure("Adoption").pk, value="10")

    assert ">80<" in overall_badge(html) and "measure__actions" not in html
    assert other.status_code == 404
    assert post.status_code == 403


# ---------- relationships and empty states ----------


def test_a_relationship_is_scored_on_its_types_scorecard(csm_client, scorecard):
    kind = RelationshipTypeFactory(name="Analytics Cloud")
    own = Scorecard.objects.create(name="Product health", relationship_type=kind)
    Measure.objects.create(scorecard=own, name="Seats used", weight=1)
    relationship = RelationshipFactory(relationship_type=kind)
    section = SectionFactory(
        layout=LayoutFactory(target="relationship", relationship_type=kind), kind="scorecard"
    )

    response = post_score(
        csm_client, relationship, section, measure=measure("Seats used").pk, value="30"
    )

    html = response.content.decode()
    assert "Seats used" in html and "Adoption" not in html
    assert ">30<" in overall_badge(html)
    relationship.refresh_from_db()
    assert relationship.health_score == Decimal("30.00")


def test_no_scorecard_tells_where_an_admin_sets_one_up(csm_client, admin_client, section, company):
    csm_html = get(csm_client, company, section)
    admin_html = get(admin_client, company, section)

    assert "No scorecard for companies yet" in csm_html
    assert "An admin sets one up for companies" in csm_html and "/admin/" not in csm_html
    setup = reverse("admin:success_scorecard_changelist")
    assert f'Set one up for companies in <a href="{setup}">Scorecards</a>' in admin_html


def test_no_scorecard_for_a_relationship_type_names_the_type(csm_client):
    kind = RelationshipTypeFactory(name="Data Platform")
    relationship = RelationshipFactory(relationship_type=kind)
    section = SectionFactory(
        layout=LayoutFactory(target="relationship", relationship_type=kind), kind="scorecard"
    )

    html = get(csm_client, relationship, section)

    assert "No scorecard for Data Platform relationships yet" in html


def test_a_scorecard_without_measures_says_so(csm_client, section, company):
    Scorecard.objects.create(name="Company health")

    html = get(csm_client, company, section)

    assert "Company health has no measures yet" in html


# ---------- snapshot_scores ----------


def run_snapshots(*args: str) -> str:
    out = StringIO()
    call_command("snapshot_scores", *args, stdout=out)
    return out.getvalue()


def test_snapshot_scores_writes_todays_snapshot_for_every_scored_subject(scorecard):
    kind = RelationshipTypeFactory()
    product = Scorecard.objects.create(name="Product", relationship_type=kind)
    seats = Measure.objects.create(scorecard=product, name="Seats", weight=2)
    scored = CompanyFactory()
    unscored = CompanyFactory()
    relationship = RelationshipFactory(relationship_type=kind, company=unscored)
    Score.objects.create(company=scored, measure=measure("Adoption"), value=80)
    Score.objects.create(company=scored, measure=measure("Support"), value=41)
    Score.objects.create(company=unscored, relationship=relationship, measure=seats, value=55)

    output = run_snapshots()

    today = timezone.localdate()
    assert output.splitlines()[0] == f"Wrote 2 score snapshots for {today:%Y-%m-%d}."
    company_snapshot = ScoreSnapshot.objects.get(company=scored, relationship__isnull=True)
    assert (company_snapshot.day, company_snapshot.overall) == (today, subject_overall(scored))
    assert company_snapshot.overall == Decimal("70.25")  # (3 × 80 + 41) / 4
    assert ScoreSnapshot.objects.get(relationship=relationship).overall == Decimal("55.00")
    assert not ScoreSnapshot.objects.filter(company=unscored, relationship__isnull=True).exists()


def test_snapshot_scores_is_idempotent_and_skips_days_that_have_one(scorecard):
    first, second = CompanyFactory(), CompanyFactory()
    Score.objects.create(company=first, measure=measure("Adoption"), value=80)
    score_set(subject=second, measure=measure("Adoption"), value=20, by=None)  # snapshots today
    Score.objects.filter(company=second).update(value=90)  # a change the snapshot did not see

    assert run_snapshots().startswith("Wrote 1 score snapshot for")
    assert run_snapshots().startswith("Wrote 0 score snapshots for")
    assert ScoreSnapshot.objects.count() == 2
    assert ScoreSnapshot.objects.get(company=second).overall == Decimal("20.00")  # left alone


def test_snapshot_scores_for_a_given_day(scorecard):
    company = CompanyFactory()
    Score.objects.create(company=company, measure=measure("Adoption"), value=64)

    output = run_snapshots("--day", "2026-01-15")

    assert output.splitlines()[0] == "Wrote 1 score snapshot for 2026-01-15."
    assert ScoreSnapshot.objects.get().day == dt.date(2026, 1, 15)


def test_snapshot_scores_refuses_a_bad_or_future_day(scorecard):
    with pytest.raises(CommandError, match="write it as YYYY-MM-DD"):
        run_snapshots("--day", "15/01/2026")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(CommandError, match="in the future"):
        run_snapshots("--day", tomorrow.isoformat())


def test_snapshot_scores_only_weighs_active_measures_and_marks_zero_weight_not_scored(scorecard):
    company = CompanyFactory()
    Measure.objects.filter(name="Adoption").update(weight=0)
    Score.objects.create(company=company, measure=measure("Adoption"), value=80)

    run_snapshots()

    assert ScoreSnapshot.objects.get(company=company).overall is None  # never 0


def test_snapshot_scores_queries_do_not_grow_with_the_book(
    scorecard, django_assert_max_num_queries
):
    def book(size: int) -> None:
        companies = CompanyFactory.create_batch(size)
        Score.objects.bulk_create(
            Score(company=c, measure=m, value=50) for c in companies for m in Measure.objects.all()
        )

    counts = []
    for size in (2, 20):
        ScoreSnapshot.objects.all().delete()
        book(size)
        with django_assert_max_num_queries(12) as captured:
            run_snapshots()
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
    assert ScoreSnapshot.objects.count() == 22


# ---------- the hierarchy's health badges ----------


def test_the_hierarchy_shows_each_companys_health_in_its_band_colour(csm_client):
    parent = company_create(name="Umbrella Group", health_score=Decimal("80"))
    company_create(name="Umbrella Europe", parent=parent, health_score=Decimal("42.50"))
    company_create(name="Umbrella Asia", parent=parent)
    section = SectionFactory(layout=LayoutFactory(), kind="hierarchy")

    html = get(csm_client, parent, section)

    def badge(name: str) -> str:
        row = html.split(name, 1)[1].split("</li>", 1)[0]
        return must_search(r'<span class="score-badge[^>]*>.*?</span>', row).group(0)

    assert f'fill="{GREEN}"' in badge("Umbrella Group") and ">80<" in badge("Umbrella Group")
    assert f'fill="{RED}"' in badge("Umbrella Europe") and ">42.5<" in badge("Umbrella Europe")
    assert "score-badge--none" in badge("Umbrella Asia") and "Not scored" in badge("Umbrella Asia")
