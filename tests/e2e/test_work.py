"""The CSM's work in Chromium: a call logged, a CTA with a playbook opened and closed from
the Cockpit, a measure rescored — each seen on the page without a reload."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from playwright.sync_api import expect

from companies.models import Company
from layouts.models import Section
from layouts.sections import REGISTRY
from layouts.services import layout_default_ensure
from partners.roles import CSM, role_permissions
from success.defaults import defaults_create
from success.models import CTA, Activity, CTAStatus, Measure, Score
from success.services import snapshot_take
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    MeasureFactory,
    PlaybookFactory,
    PlaybookTaskFactory,
    ScorecardFactory,
    ScoreFactory,
    ScoreSnapshotFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"
RED, YELLOW = "#d14343", "#e0a100"
PLAYBOOK_TASKS = [
    ("Review usage with the champion", 0),
    ("Agree a recovery plan", 7),
    ("Executive check-in", 14),
]
# No reload may happen between setting this and reading it back.
MARKER = "window.__marker"


def lookups_ensure() -> None:
    """What the data migrations wrote (roles, default lookups), written again if missing.

    A browser test runs on a transactional database that is emptied after each test, data
    migrations' rows included; whichever browser test runs next needs them back.
    """
    defaults_create(django_apps)
    wanted = role_permissions()
    permissions = {
        (perm.content_type.app_label, perm.codename): perm
        for perm in Permission.objects.select_related("content_type")
    }
    for name, codes in wanted.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([permissions[code] for code in codes])


def build() -> tuple[Company, User]:
    """Globex with a C360 of summary, timeline, cockpit and scorecard; a 30-day health history."""
    lookups_ensure()
    today = timezone.localdate()
    casey = UserFactory(
        username="csm", first_name="Casey", last_name="Morgan", password=PASSWORD, groups=[CSM]
    )
    jordan = UserFactory(username="jordan", first_name="Jordan", last_name="Lee")

    c360 = layout_default_ensure()
    c360.sections.all().delete()
    for order, (kind, title) in enumerate(
        [
            ("summary", "At a glance"),
            ("scorecard", "Health scorecard"),
            ("cockpit", "Calls to action"),
            ("timeline", "Timeline"),
        ]
    ):
        Section.objects.create(
            layout=c360,
            kind=kind,
            title=title,
            order=order,
            config=REGISTRY[kind].default_config(c360),
        )

    company = CompanyFactory(name="Globex Corporation", arr=Decimal(120_000), csm=casey)
    ActivityFactory(
        company=company,
        author=jordan,
        subject="Kick-off with the new admin team",
        occurred_at=timezone.now() - dt.timedelta(days=12),
    )

    playbook = PlaybookFactory(name="Renewal rescue", description="Win back a renewal at risk.")
    for order, (title, offset) in enumerate(PLAYBOOK_TASKS):
        PlaybookTaskFactory(playbook=playbook, title=title, day_offset=offset, order=order)
    PlaybookFactory(name="Onboarding basics")  # another choice, without tasks
    # Already overdue before the test starts: the navigation shows 1.
    CTAFactory(
        company=company,
        owner=casey,
        name="Quarterly business review",
        due_date=today - dt.timedelta(days=3),
    )

    scorecard = ScorecardFactory(name="Company health")
    measures = [
        MeasureFactory(scorecard=scorecard, name=name, weight=weight, order=order)
        for order, (name, weight) in enumerate([("Adoption", 3), ("Support", 2), ("Engagement", 1)])
    ]
    for measure, value in zip(measures, [80, 70, 60], strict=True):
        ScoreFactory(company=company, measure=measure, value=value, comment="", updated_by=casey)
    # A month of history rising to 70 yesterday; today's snapshot (73.33) comes from the scores.
    for back in range(30, 0, -1):
        ScoreSnapshotFactory(
            company=company,
            day=today - dt.timedelta(days=back),
            overall=Decimal(70 - back // 3),
        )
    snapshot_take(subject=company)
    return company, casey


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("csm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def open_c360(page, company: Company) -> None:
    """The company page with every section loaded."""
    page.goto(company.get_absolute_url())
    expect(page.get_by_role("heading", name=company.name, level=1)).to_be_visible()
    for kind in ("summary", "scorecard", "cockpit", "timeline"):
        section = page.locator(f".section--{kind}")
        section.scroll_into_view_if_needed()
        expect(section.locator(".section__body")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator(".skeleton")).to_have_count(0)


@pytest.fixture
def shot(page, screenshot):
    """`screenshot` from the top of the page: scrolled, the sticky bar would sit mid-picture."""

    def take(step: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(step)

    return take


def set_marker(page) -> None:
    page.evaluate(f"{MARKER} = 1")


def assert_not_reloaded(page) -> None:
    assert page.evaluate(MARKER) == 1, "the page was reloaded"


def widget(page, key: str):
    return page.locator(f".section--summary [data-widget='{key}']")


def nav_badge(page):
    return page.locator("#nav-cockpit-badge")


def test_a_call_logged_on_the_c360_shows_in_the_timeline_and_the_summary(page, shot):
    company, casey = build()
    sign_in(page)
    open_c360(page, company)

    last_activity = widget(page, "last_activity")
    expect(last_activity.locator(".widget-value")).to_have_text("12 days ago")
    timeline = page.locator(".section--timeline")
    expect(timeline.locator(".timeline")).to_contain_text("Kick-off with the new admin team")
    shot("work-01-c360-before-the-call")
    set_marker(page)

    timeline.get_by_role("button", name="Log activity").click()
    modal = page.locator("#modal")
    expect(modal.get_by_role("heading", name="Log an activity")).to_be_visible()
    modal.get_by_label("Type").select_option(label="Call")
    modal.get_by_label("Subject").fill("Renewal call with the CFO")
    modal.get_by_label("Notes").fill("Budget approved.\nSend the order form by Friday.")
    shot("work-02-log-a-call")
    modal.get_by_role("button", name="Log activity").click()
    expect(modal).to_be_hidden()

    # Newest first: the call is at the top of the timeline, its notes' line break kept.
    newest = timeline.locator(".timeline > li").first
    expect(newest).to_contain_text("Renewal call with the CFO")
    expect(newest).to_contain_text("Call")
    expect(timeline.locator(".timeline > li")).to_have_count(2)
    expect(last_activity.locator(".widget-value")).to_have_text("Today")
    assert_not_reloaded(page)
    shot("work-03-call-in-the-timeline-and-summary")

    call = Activity.objects.get(subject="Renewal call with the CFO")
    assert call.activity_type.name == "Call"
    assert call.author == casey
    assert call.company == company
    assert call.notes == "Budget approved.\nSend the order form by Friday."


def test_a_cta_opened_with_a_playbook_is_closed_from_the_cockpit(page, shot):
    company, casey = build()
    today = timezone.localdate()
    sign_in(page)
    open_c360(page, company)
    badge = nav_badge(page)
    expect(badge).to_have_text(re.compile(r"^\s*1\s*overdue\s*$"))
    set_marker(page)

    # Opened from the C360's cockpit section, already overdue, with a three-task playbook.
    cockpit = page.locator(".section--cockpit")
    cockpit.get_by_role("button", name="New CTA").click()
    modal = page.locator("#modal")
    expect(modal.get_by_role("heading", name="New CTA")).to_be_visible()
    expect(modal.locator(".cta-form__company")).to_have_text("Globex Corporation")
    modal.get_by_label("Name").fill("Renewal at risk: low usage")
    # The type redraws the relationship, reason and playbook fields: let that land first, or
    # it would put back the playbook chosen meanwhile.
    with page.expect_response(lambda response: "/cockpit/ctas/options/" in response.url):
        modal.get_by_label("Type").select_option(label="Risk")
    expect(modal.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    modal.get_by_label("Priority").select_option(label="High")
    modal.get_by_label("Playbook").select_option(label="Renewal rescue")
    yesterday = today - dt.timedelta(days=1)
    modal.get_by_label("Due date").fill(yesterday.isoformat())
    shot("work-04-new-cta-with-a-playbook")
    modal.get_by_role("button", name="Create CTA").click()

    expect(modal.get_by_role("heading", name="Renewal at risk: low usage")).to_be_visible()
    expect(modal.get_by_role("status")).to_have_text("CTA created with 3 tasks.")
    tasks = modal.locator(".cta-task")
    expect(tasks).to_have_count(3)
    for index, (title, offset) in enumerate(PLAYBOOK_TASKS):
        due = today + dt.timedelta(days=offset)
        expect(tasks.nth(index).locator(".cta-task__title")).to_have_text(title)
        expect(tasks.nth(index).locator(".cta-task__meta")).to_contain_text(
            f"Casey Morgan · due {due:%b} {due.day}"
        )
    expect(modal.locator(".cta-tasks__title .count")).to_have_text("0/3 done")
    # Behind the dialog the section and the navigation followed, without a reload.
    expect(cockpit.locator(".cta-list__item")).to_have_count(2)
    expect(badge).to_have_text(re.compile(r"^\s*2\s*overdue\s*$"))
    assert_not_reloaded(page)
    shot("work-05-cta-detail-with-playbook-tasks")
    cta = CTA.objects.get(name="Renewal at risk: low usage")
    assert [(t.title, t.due_date) for t in cta.tasks.order_by("order")] == [
        (title, today + dt.timedelta(days=offset)) for title, offset in PLAYBOOK_TASKS
    ]

    modal.get_by_role("button", name="Close", exact=True).click()
    expect(modal).to_be_hidden()

    # The Cockpit: both overdue; the new one closed by selecting it and closing in bulk.
    page.get_by_role("navigation").get_by_role("link", name=re.compile("^Cockpit")).click()
    expect(page.get_by_role("heading", name="Cockpit", level=1)).to_be_visible()
    overdue = page.locator(".cockpit-group--overdue")
    expect(overdue.locator(".cockpit-row")).to_have_count(2)
    results = page.locator("#cockpit-results")
    results.get_by_label("Select Renewal at risk: low usage").check()
    shot("work-06-cockpit-row-selected")
    set_marker(page)
    results.get_by_role("button", name="Close…").click()
    expect(modal.get_by_role("heading", name="Close 1 CTA?")).to_be_visible()
    expect(modal.get_by_role("alert")).to_contain_text("3 open tasks — close anyway?")
    shot("work-07-close-with-open-tasks")
    modal.get_by_role("button", name="Close anyway").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#cockpit-notice")).to_contain_text("1 CTA closed.")
    expect(results.get_by_role("link", name="Renewal at risk: low usage")).to_have_count(0)
    expect(page.locator(".cockpit-row")).to_have_count(1)
    expect(badge).to_have_text(re.compile(r"^\s*1\s*overdue\s*$"))
    assert_not_reloaded(page)
    shot("work-08-closed-from-the-cockpit")
    cta.refresh_from_db()
    assert cta.is_closed
    assert cta.closed_by == casey
    assert cta.closed_at is not None
    assert cta.tasks.filter(done=False).count() == 3  # left unticked, as the dialog said

    # The other one through its row's Close: the list empties and the badge goes.
    results.get_by_role("button", name="Close Quarterly business review").click()
    expect(modal.get_by_role("heading", name="Close “Quarterly business review”")).to_be_visible()
    modal.get_by_label("Closed lost").check()
    modal.get_by_role("button", name="Close CTA").click()
    expect(modal).to_be_hidden()
    expect(page.locator(".cockpit-row")).to_have_count(0)
    expect(results.get_by_text("Nothing waiting for you")).to_be_visible()
    expect(badge.locator(".nav-badge")).to_have_count(0)
    assert_not_reloaded(page)
    shot("work-09-cockpit-empty")
    review = CTA.objects.get(name="Quarterly business review")
    assert review.is_closed
    assert review.status == CTAStatus.objects.get(name="Closed lost")


def test_a_rescored_measure_moves_the_health_badge_trend_and_summary(page, shot):
    company, casey = build()
    sign_in(page)
    open_c360(page, company)

    scorecard = page.locator(".section--scorecard")
    overall = scorecard.locator("[data-overall]")
    trend = scorecard.locator("[data-trend]")
    health = widget(page, "health")
    expect(overall).to_have_text("73.3")
    expect(overall.locator(".score-badge__dot circle")).to_have_attribute("fill", YELLOW)
    expect(scorecard.locator(".scorecard-head__band")).to_have_text("Yellow")
    expect(trend.locator(".score-trend__value")).to_have_text("▲ +3.3")
    expect(trend).to_have_class(re.compile(r"score-trend--up"))
    expect(health.locator(".score-badge")).to_have_text("73.3")
    expect(health.locator(".widget-note")).to_have_text("Yellow")
    shot("work-10-scorecard-before")
    set_marker(page)

    scorecard.get_by_role("button", name="Score Adoption").click()
    value = scorecard.get_by_label("Adoption", exact=True)
    expect(value).to_be_focused()
    value.fill("10")
    scorecard.get_by_label("Comment on Adoption").fill("Usage collapsed after the reorg.")
    shot("work-11-scoring-adoption")
    scorecard.get_by_role("button", name="Save").click()

    # (30 + 140 + 60) / 6 = 38.33: Red, and down 31.67 on yesterday's 70.
    expect(overall).to_have_text("38.3")
    expect(overall.locator(".score-badge__dot circle")).to_have_attribute("fill", RED)
    expect(scorecard.locator(".scorecard-head__band")).to_have_text("Red")
    expect(trend.locator(".score-trend__value")).to_have_text("▼ −31.6")
    expect(trend).to_have_class(re.compile(r"score-trend--down"))
    adoption_row = scorecard.locator(".measure", has_text="Adoption")
    expect(adoption_row).to_contain_text("Usage collapsed after the reorg.")
    expect(health.locator(".score-badge")).to_have_text("38.3")
    expect(health.locator(".score-badge__dot circle")).to_have_attribute("fill", RED)
    expect(health.locator(".widget-note")).to_have_text("Red")
    assert_not_reloaded(page)
    shot("work-12-scorecard-after")

    score = Score.objects.get(company=company, measure=Measure.objects.get(name="Adoption"))
    assert (score.value, score.comment, score.updated_by) == (
        10,
        "Usage collapsed after the reorg.",
        casey,
    )
    company.refresh_from_db()
    assert company.health_score == Decimal("38.33")
