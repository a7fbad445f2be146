"""A CSM signs in, finds a company, opens it and one of its relationships — in Chromium."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import factory.random
import pytest
from playwright.sync_api import expect

from companies.models import Company
from partners.roles import CSM
from relationships.models import RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"
Kind = RelationshipTypeField.Kind


def build_book() -> None:
    """A small but lifelike book of business, the same on every run."""
    factory.random.reseed_random(2024)
    today = dt.date.today()
    casey = UserFactory(
        username="csm", first_name="Casey", last_name="Morgan", password=PASSWORD, groups=[CSM]
    )
    jordan = UserFactory(username="jordan", first_name="Jordan", last_name="Lee")

    analytics = RelationshipTypeFactory(name="Analytics Cloud", order=1)
    for order, (key, label, kind, shown, choices) in enumerate(
        [
            ("seats", "Seats", Kind.NUMBER, True, []),
            ("adoption", "Adoption", Kind.PERCENT, True, []),
            ("tier", "Tier", Kind.CHOICE, False, ["Gold", "Silver", "Bronze"]),
            ("contract_value", "Contract value", Kind.CURRENCY, False, []),
            ("go_live", "Go-live", Kind.DATE, False, []),
            ("auto_renew", "Auto renews", Kind.BOOLEAN, False, []),
            ("admin_portal", "Admin portal", Kind.URL, False, []),
            ("success_contact", "Success contact", Kind.EMAIL, False, []),
            ("notes", "Notes", Kind.LONG_TEXT, False, []),
        ]
    ):
        RelationshipTypeFieldFactory(
            relationship_type=analytics,
            key=key,
            label=label,
            kind=kind,
            shown_in_lists=shown,
            choices=choices,
            order=order,
        )
    support = RelationshipTypeFactory(name="Premium Support", order=2)
    RelationshipTypeFieldFactory(
        relationship_type=support,
        key="plan",
        label="Plan",
        kind=Kind.CHOICE,
        choices=["24/7", "Business hours"],
        shown_in_lists=True,
    )

    northwind = CompanyFactory(
        name="Northwind Traders",
        external_id="NW-1001",
        segment=Company.Segment.ENTERPRISE,
        status=Company.Status.ACTIVE,
        stage=Company.Stage.EXPANSION,
        industry="Logistics",
        arr=Decimal("1850000"),
        mrr=Decimal("154166.67"),
        renewal_date=today + dt.timedelta(days=42),
        csm=casey,
    )
    europe = CompanyFactory(
        name="Northwind Europe",
        external_id="NW-1002",
        parent=northwind,
        segment=Company.Segment.MID_MARKET,
        status=Company.Status.AT_RISK,
        arr=Decimal("420000"),
        csm=casey,
    )
    CompanyFactory(name="Northwind Iberia", external_id="NW-1004", parent=europe, csm=jordan)
    CompanyFactory(name="Northwind Americas", external_id="NW-1003", parent=northwind, csm=casey)
    for name, segment, status in [
        ("Globex Corporation", "enterprise", "at_risk"),
        ("Initech", "smb", "active"),
        ("Umbrella Health", "mid_market", "prospect"),
        ("Stark Logistics", "enterprise", "churned"),
        ("Wayne Retail Group", "mid_market", "active"),
        ("Acme Manufacturing", "smb", "active"),
    ]:
        company = CompanyFactory(name=name, segment=segment, status=status, csm=jordan)
        RelationshipFactory(company=company, relationship_type=support, attributes={"plan": "24/7"})

    emea = RelationshipFactory(
        company=northwind,
        relationship_type=analytics,
        name="Analytics EMEA",
        stage="adoption",
        arr=Decimal("640000"),
        mrr=Decimal("53333.33"),
        renewal_date=today + dt.timedelta(days=42),
        csm=casey,
        attributes={
            "seats": 1200,
            "adoption": 78.5,
            "tier": "Gold",
            "contract_value": 640000,
            "go_live": "2024-02-12",
            "auto_renew": True,
            "admin_portal": "https://analytics.example.com/northwind",
            "success_contact": "success@northwind.example",
            "notes": "Quarterly review with the data team.\nExpansion to APAC under discussion.",
        },
    )
    RelationshipFactory(
        company=northwind,
        relationship_type=analytics,
        name="Analytics Americas",
        arr=Decimal("510000"),
        csm=jordan,
        attributes={"seats": 800, "adoption": 64},
    )
    RelationshipFactory(
        company=northwind,
        relationship_type=support,
        name="Premium Support",
        arr=Decimal("120000"),
        csm=casey,
        attributes={"plan": "24/7"},
    )
    people = [
        ("Maria", "Anders", "Chief Data Officer", "executive_sponsor", True, "positive"),
        ("Thomas", "Hardy", "Head of Analytics", "champion", False, "positive"),
        ("Hanna", "Moos", "Procurement Lead", "decision_maker", False, "neutral"),
        ("Yoshi", "Tannamuri", "Data Analyst", "user", False, "negative"),
    ]
    for first, last, title, role, sponsor, sentiment in people:
        member = CompanyPersonFactory(
            company=northwind,
            person=PersonFactory(first_name=first, last_name=last),
            title=title,
            role=role,
            is_sponsor=sponsor,
            sentiment=sentiment,
        )
        if role in ("executive_sponsor", "champion"):
            RelationshipPersonFactory(relationship=emea, company_person=member, role=role)


def test_csm_finds_a_company_and_opens_one_of_its_relationships(page, screenshot):
    build_book()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot("01-sign-in")

    page.get_by_label("Username").fill("csm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome back, Casey")).to_be_visible()
    expect(page.get_by_text("Casey Morgan")).to_be_visible()
    renewals = page.locator("#renewals-title").locator("xpath=../..")
    expect(renewals.get_by_role("link", name="Northwind Traders")).to_be_visible()
    screenshot("02-home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Companies").click()
    expect(page.get_by_role("heading", name="Companies", exact=True)).to_be_visible()
    rows = page.locator("#company-results tbody tr")
    expect(rows).to_have_count(10)
    screenshot("03-companies")

    page.get_by_role("searchbox", name="Search companies").fill("northwind eu")
    expect(rows).to_have_count(1)  # updated in place by htmx
    expect(page).to_have_url(re.compile(r"[?&]q=northwind(\+|%20)eu"))
    expect(rows.first).to_contain_text("Northwind Europe")
    expect(rows.first).to_contain_text("in Northwind Traders")
    page.get_by_role("searchbox", name="Search companies").fill("no such company")
    expect(page.get_by_text("No companies match your search")).to_be_visible()
    screenshot("04-companies-no-match")
    page.get_by_role("searchbox", name="Search companies").fill("northwind")
    expect(rows).to_have_count(4)
    screenshot("05-companies-search")

    page.get_by_role("link", name="Northwind Traders", exact=True).click()
    expect(page.get_by_role("heading", name="Northwind Traders", level=1)).to_be_visible()
    expect(page.locator(".record-header").get_by_text("$1,850,000")).to_be_visible()
    relationships = page.locator(".section--relationships")
    # Sections below the fold load when scrolled into view: wait for each before the next,
    # since one arriving can push the others back out of view.
    for kind in ("relationships", "people", "hierarchy"):
        section = page.locator(f".section--{kind}")
        section.scroll_into_view_if_needed()
        expect(section.locator(".section__slot")).to_have_count(0)
    expect(relationships.get_by_role("heading", name="Analytics Cloud")).to_be_visible()
    expect(relationships.get_by_role("link", name="Analytics EMEA")).to_be_visible()
    expect(page.locator(".section--people")).to_contain_text("Maria Anders")
    expect(
        page.locator(".section--hierarchy").get_by_role("link", name="Northwind Europe")
    ).to_be_visible()
    screenshot("06-company")

    relationships.get_by_role("link", name="Analytics EMEA").click()
    expect(page.get_by_role("heading", name="Analytics EMEA", level=1)).to_be_visible()
    fields = page.locator(".section--attributes")
    # Below the fold on the R360 too: each loads when scrolled into view.
    for kind in ("attributes", "people"):
        section = page.locator(f".section--{kind}")
        section.scroll_into_view_if_needed()
        expect(section.locator(".section__slot")).to_have_count(0)
    expect(fields).to_contain_text("78.5%")
    expect(fields).to_contain_text("$640,000.00")
    expect(fields).to_contain_text("Feb 12, 2024")
    expect(
        fields.get_by_role("link", name="https://analytics.example.com/northwind")
    ).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator(".section--people")).to_contain_text("Thomas Hardy")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Northwind Traders")
    screenshot("07-relationship")
