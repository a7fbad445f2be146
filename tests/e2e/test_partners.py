"""Through-partner customer success in Chromium: a partner user works their own records end to
end and reaches nothing else; the admin hands a company to another partner, whose user then
sees it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import factory.random
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from companies.models import Company
from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from layouts.services import layout_default_ensure
from partners.models import Partner
from partners.roles import CSM
from success.models import CTA, Activity
from success.services import snapshot_take
from tests.e2e.conftest import SCREENSHOTS, VIEWPORT
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    MeasureFactory,
    PartnerFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    ScorecardFactory,
    ScoreFactory,
    SuccessPlanFactory,
    SuccessPlanTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"
# The C360 holds every kind of section; a partner user gets the first six only.
PARTNER_SECTIONS = {
    "summary": "At a glance",
    "attributes": "Account details",
    "timeline": "Timeline",
    "cockpit": "Calls to action",
    "success_plans": "Success plans",
    "scorecard": "Health scorecard",
}
INTERNAL_SECTIONS = {
    "relationships": "Relationships",
    "people": "People",
    "hierarchy": "Hierarchy",
    "usage": "Usage",
    "surveys": "NPS",
    "related_list": "Child companies",
    "embed": "Usage dashboard",
    "history": "History",
}


class Book:
    """What the test opens and checks, by name."""

    def __init__(self) -> None:
        factory.random.reseed_random(2026)
        today = timezone.localdate()
        self.casey = UserFactory(
            username="csm", first_name="Casey", last_name="Morgan", password=PASSWORD, groups=[CSM]
        )
        UserFactory(username="jordan", first_name="Jordan", last_name="Lee", groups=[CSM])
        self.admin = UserFactory(
            username="admin",
            first_name="Avery",
            last_name="Admin",
            password=PASSWORD,
            is_staff=True,
            is_superuser=True,
        )
        self.partner_a = PartnerFactory(
            name="Brightpath Consulting",
            region="EMEA",
            data_scope=Partner.DataScope.COMPANIES_AND_RELATIONSHIPS,
        )
        self.partner_b = PartnerFactory(
            name="Summit Resellers", region="NA", data_scope=Partner.DataScope.COMPANIES_ONLY
        )
        self.pat = PartnerUserFactory(
            partner=self.partner_a,
            user__username="partner-a",
            user__first_name="Pat",
            user__last_name="Quinn",
            user__password=PASSWORD,
        ).user
        self.robin = PartnerUserFactory(
            partner=self.partner_a,
            user__username="robin",
            user__first_name="Robin",
            user__last_name="Hale",
        ).user
        self.sam = PartnerUserFactory(
            partner=self.partner_b,
            user__username="partner-b",
            user__first_name="Sam",
            user__last_name="Rivera",
            user__password=PASSWORD,
        ).user

        self.northwind = CompanyFactory(
            name="Northwind Traders",
            segment=Company.Segment.ENTERPRISE,
            arr=Decimal("1850000"),
            renewal_date=today + dt.timedelta(days=42),
            csm=self.casey,
            managed_by=self.partner_a,
        )
        self.europe = CompanyFactory(
            name="Northwind Europe",
            parent=self.northwind,
            arr=Decimal("420000"),
            status=Company.Status.AT_RISK,
            renewal_date=today + dt.timedelta(days=75),
            csm=self.casey,
            managed_by=self.partner_a,
        )
        self.globex = CompanyFactory(
            name="Globex Corporation", arr=Decimal("960000"), managed_by=self.partner_b
        )
        self.initech = CompanyFactory(name="Initech", arr=Decimal("240000"), csm=self.casey)
        self.umbrella = CompanyFactory(name="Umbrella Health", arr=Decimal("310000"))
        analytics = RelationshipTypeFactory(name="Analytics Cloud")
        RelationshipFactory(
            company=self.northwind, relationship_type=analytics, name="NW Analytics"
        )
        RelationshipFactory(company=self.umbrella, relationship_type=analytics, name="UH Analytics")
        self.initech_analytics = RelationshipFactory(
            company=self.initech, relationship_type=analytics, name="Initech Analytics"
        )

        ActivityFactory(
            company=self.northwind,
            author=self.casey,
            subject="Hand-over to Brightpath",
            occurred_at=timezone.now() - dt.timedelta(days=9),
        )
        CTAFactory(
            company=self.northwind,
            owner=self.pat,
            name="Onboard the EMEA admins",
            due_date=today + dt.timedelta(days=5),
        )
        SuccessPlanFactory(
            company=self.northwind,
            name="EMEA adoption plan",
            owner=self.pat,
            plan_type=SuccessPlanTypeFactory(name="Adoption"),
        )
        # Work on other partners' and in-house companies, which partner-a never sees.
        for company in (self.globex, self.umbrella):
            ActivityFactory(
                company=company,
                author=self.casey,
                subject=f"Quarterly review with {company.name}",
                occurred_at=timezone.now() - dt.timedelta(days=2),
            )
            CTAFactory(company=company, owner=self.casey, name=f"Renewal prep for {company.name}")
            SuccessPlanFactory(
                company=company, name=f"{company.name} expansion plan", owner=self.casey
            )
        scorecard = ScorecardFactory(name="Company health")
        for order, (name, weight, value) in enumerate(
            [("Adoption", 3, 82), ("Support", 2, 64), ("Engagement", 1, 71)]
        ):
            measure = MeasureFactory(scorecard=scorecard, name=name, weight=weight, order=order)
            ScoreFactory(
                company=self.northwind, measure=measure, value=value, updated_by=self.casey
            )
        snapshot_take(subject=self.northwind)

        c360 = layout_default_ensure()
        c360.sections.all().delete()
        titles = {**PARTNER_SECTIONS, **INTERNAL_SECTIONS}
        kinds = [key for key in titles if key in REGISTRY]
        for order, kind in enumerate(kinds):
            Section.objects.create(
                layout=c360,
                kind=kind,
                title=titles[kind],
                order=order,
                config=REGISTRY[kind].default_config(c360),
            )
        assert Layout.objects.count() == 1


@pytest.fixture
def book(live_server: Any) -> Book:
    return Book()


@pytest.fixture
def open_page(browser: Any, live_server: Any) -> Iterator[Callable[[], Page]]:
    """A fresh browser session (its own cookies) per persona."""
    contexts: list[Any] = []

    def new() -> Page:
        context = browser.new_context(
            viewport=VIEWPORT, base_url=live_server.url, reduced_motion="reduce"
        )
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        return tab

    yield new
    for context in contexts:
        context.close()


def shot(page: Page, step: str) -> None:
    """The whole page once htmx has settled, into the git-ignored screenshots/ folder."""
    SCREENSHOTS.mkdir(exist_ok=True)
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"partners-{step}.png"), full_page=True, caret="initial")


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def company_rows(page: Page):
    return page.locator("#company-results tbody tr")


def open_c360(page: Page, company: Company) -> None:
    """The company page with every section it shows loaded."""
    page.goto(company.get_absolute_url())
    expect(page.get_by_role("heading", name=company.name, level=1)).to_be_visible()
    sections = page.locator("section.section")
    for index in range(sections.count()):
        section = sections.nth(index)
        section.scroll_into_view_if_needed()
        expect(section.locator(".section__body")).to_be_visible()
    expect(page.locator(".skeleton")).to_have_count(0)


def test_a_partner_user_works_their_own_records_and_reaches_nothing_else(book, open_page):
    page = open_page()
    sign_in(page, "partner-a")

    # Home: their partner's book, with counts, and nobody else's.
    expect(page.get_by_role("heading", name="Welcome back, Pat")).to_be_visible()
    stats = page.get_by_role("region", name="Summary").locator(".stat")
    expect(stats.nth(0)).to_contain_text("Companies you can see 2")
    expect(stats.nth(1)).to_contain_text("Relationships you can see 1")
    expect(stats.nth(2)).to_contain_text("Managed by Brightpath Consulting 2")
    expect(stats.nth(3)).to_contain_text("At risk 1")
    renewals = page.locator("#renewals-title").locator("xpath=../..")
    expect(renewals.get_by_role("link")).to_have_text(["Northwind Traders", "Northwind Europe"])
    expect(page.locator(".usermenu__role")).to_have_text("Partner · Brightpath Consulting")
    for foreign in ("Globex Corporation", "Initech", "Umbrella Health"):
        expect(page.get_by_text(foreign)).to_have_count(0)
    shot(page, "01-home")

    # Companies list: A's two companies only.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Companies").click()
    expect(page.get_by_role("heading", name="Companies", exact=True)).to_be_visible()
    expect(company_rows(page)).to_have_count(2)
    results = page.locator("#company-results")
    for name in ("Northwind Traders", "Northwind Europe"):
        expect(results.get_by_role("link", name=name, exact=True)).to_have_count(1)
    expect(results).not_to_contain_text("Globex")
    expect(results).not_to_contain_text("Initech")
    shot(page, "02-companies")

    # The C360: only the partner sections, whatever the layout holds.
    page.get_by_role("link", name="Northwind Traders", exact=True).click()
    open_c360(page, book.northwind)
    titles = page.locator("section.section .section__title")
    expect(titles).to_have_text(list(PARTNER_SECTIONS.values()))
    for kind, title in INTERNAL_SECTIONS.items():
        expect(page.locator(f".section--{kind}")).to_have_count(0)
        expect(page.get_by_role("heading", name=title, exact=True)).to_have_count(0)
    # Read-only details: the default bundle changes no company.
    expect(page.locator(".section--attributes").get_by_role("button")).to_have_count(0)
    shot(page, "03-c360")

    # Log an activity from the timeline section.
    timeline = page.locator(".section--timeline")
    timeline.get_by_role("button", name="Log activity").click()
    modal = page.locator("#modal")
    expect(modal.get_by_role("heading", name="Log an activity")).to_be_visible()
    modal.get_by_label("Type").select_option(label="Meeting")
    modal.get_by_label("Subject").fill("Admin training, week 1")
    modal.get_by_label("Notes").fill("Twelve admins trained.\nNext: reporting.")
    shot(page, "04-log-activity")
    modal.get_by_role("button", name="Log activity").click()
    expect(modal).to_be_hidden()
    newest = timeline.locator(".timeline > li").first
    expect(newest).to_contain_text("Admin training, week 1")
    expect(timeline.locator(".timeline > li")).to_have_count(2)
    shot(page, "05-activity-logged")
    logged = Activity.objects.get(subject="Admin training, week 1")
    assert (logged.company, logged.author) == (book.northwind, book.pat)

    # Create a CTA from the cockpit section: owners are A's users and the company's CSM.
    cockpit = page.locator(".section--cockpit")
    cockpit.get_by_role("button", name="New CTA").click()
    expect(modal.get_by_role("heading", name="New CTA")).to_be_visible()
    modal.get_by_label("Name").fill("Plan the reporting workshop")
    with page.expect_response(lambda response: "/cockpit/ctas/options/" in response.url):
        modal.get_by_label("Type").select_option(label="Lifecycle")
    expect(modal.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    owner = modal.get_by_label("Owner")
    options = [text.strip() for text in owner.locator("option").all_inner_texts()]
    assert set(options) - {"", "Nobody yet"} == {"Casey Morgan", "Pat Quinn", "Robin Hale"}
    owner.select_option(label="Robin Hale")
    modal.get_by_label("Due date").fill((timezone.localdate() + dt.timedelta(days=14)).isoformat())
    shot(page, "06-new-cta")
    modal.get_by_role("button", name="Create CTA").click()
    expect(modal.get_by_role("heading", name="Plan the reporting workshop")).to_be_visible()
    expect(cockpit.locator(".cta-list__item")).to_have_count(2)
    shot(page, "07-cta-created")
    cta = CTA.objects.get(name="Plan the reporting workshop")
    assert (cta.company, cta.owner, cta.created_by) == (book.northwind, book.robin, book.pat)
    modal.get_by_role("button", name="Close", exact=True).click()
    expect(modal).to_be_hidden()

    # The Cockpit, the Timeline and Success Plans hold A's work only.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name=re.compile("^Cockpit")).click()
    expect(page.get_by_role("heading", name="Cockpit", level=1)).to_be_visible()
    rows = page.locator(".cockpit-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Onboard the EMEA admins")).to_have_count(1)
    expect(rows.filter(has_text="Plan the reporting workshop")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("Renewal prep")
    shot(page, "08-cockpit")
    nav.get_by_role("link", name="Timeline").click()
    expect(page.get_by_role("heading", name="Timeline", level=1)).to_be_visible()
    expect(page.locator(".timeline > li")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("Quarterly review")
    shot(page, "09-timeline")
    nav.get_by_role("link", name="Success Plans").click()
    expect(page.get_by_role("heading", name="Success plans", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("EMEA adoption plan")
    expect(page.locator("main")).not_to_contain_text("expansion plan")
    shot(page, "10-success-plans")

    # Typing the URL of partner B's company: the 404 page, the same as no such company.
    response = page.goto(book.globex.get_absolute_url())
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text("Globex")).to_have_count(0)
    shot(page, "11-other-partners-company-404")
    missing = page.goto("/companies/999999/")
    assert missing is not None and missing.status == 404
    # Nor the admin.
    admin = page.goto("/admin/")
    assert admin is not None and admin.status == 404


def test_the_admin_assigns_a_company_to_partner_b_who_then_sees_it(book, open_page):
    partner_b = open_page()
    sign_in(partner_b, "partner-b")
    partner_b.goto("/companies/")
    expect(company_rows(partner_b)).to_have_count(1)
    expect(company_rows(partner_b).first).to_contain_text("Globex Corporation")

    admin = open_page()
    sign_in(admin, "admin")
    admin.goto("/admin/companies/company/")
    expect(
        admin.get_by_role("heading", name=re.compile("Select company to change"))
    ).to_be_visible()
    row = admin.locator("#result_list tbody tr", has_text="Initech")
    row.locator("input.action-select").check()
    admin.locator("select[name=action]").select_option(label="Assign to partner…")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_role("heading", name="Assign 1 company to a partner")).to_be_visible()
    expect(admin.locator("#content-main")).to_contain_text("Initech")
    admin.get_by_label("Partner").select_option(label=str(book.partner_b))
    shot(admin, "12-admin-assign-to-partner")
    admin.get_by_role("button", name="Assign 1 company").click()
    expect(admin.locator(".messagelist")).to_contain_text(
        f"1 company assigned to {book.partner_b}."
    )
    shot(admin, "13-admin-assigned")
    book.initech.refresh_from_db()
    assert book.initech.managed_by == book.partner_b

    # partner-b's list now holds Initech too (a fresh load, as the user would).
    partner_b.goto("/companies/")
    expect(company_rows(partner_b)).to_have_count(2)
    initech_row = company_rows(partner_b).filter(has_text="Initech")
    expect(initech_row).to_have_count(1)
    # A companies-only partner is shown no relationship figures: no Relationships column.
    expect(partner_b.get_by_role("columnheader", name="Relationships")).to_have_count(0)
    shot(partner_b, "14-partner-b-sees-it")
    partner_b.get_by_role("link", name="Initech", exact=True).click()
    open_c360(partner_b, book.initech)
    expect(partner_b.locator("section.section .section__title")).to_have_text(
        list(PARTNER_SECTIONS.values())
    )
    # A companies-only partner sees none of its relationships, not even by their URL.
    expect(partner_b.get_by_text("Initech Analytics")).to_have_count(0)
    shot(partner_b, "15-partner-b-c360")
    response = partner_b.goto(book.initech_analytics.get_absolute_url())
    assert response is not None and response.status == 404
