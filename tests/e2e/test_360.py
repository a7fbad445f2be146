"""The 360 pages in Chromium: sections load, inline edit, adding a relationship, its R360."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from companies.models import Company
from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from layouts.services import layout_default_ensure
from partners.roles import CSM
from relationships.models import Relationship, RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"
Kind = RelationshipTypeField.Kind


def build() -> Company:
    UserFactory(
        username="csm", first_name="Casey", last_name="Morgan", password=PASSWORD, groups=[CSM]
    )
    platform = RelationshipTypeFactory(name="Data Platform")
    RelationshipTypeFieldFactory(
        relationship_type=platform,
        key="seats",
        label="Seats",
        kind=Kind.NUMBER,
        required=True,
        shown_in_lists=True,
    )
    RelationshipTypeFieldFactory(
        relationship_type=platform,
        key="edition",
        label="Edition",
        kind=Kind.CHOICE,
        choices=["Standard", "Enterprise"],
    )
    # The type's own R360 layout, recognisable by its section title.
    r360 = layout_default_ensure(relationship_type=platform)
    r360.sections.all().delete()
    for order, (key, title) in enumerate(
        [("summary", "Platform at a glance"), ("attributes", "Platform details")]
    ):
        Section.objects.create(
            layout=r360,
            kind=key,
            title=title,
            order=order,
            config=REGISTRY[key].default_config(r360),
        )
    # A C360 with every kind made for companies, one of them collapsed.
    c360 = layout_default_ensure()
    c360.sections.all().delete()
    kinds = [k for k in REGISTRY.values() if Layout.Target.COMPANY in k.targets]
    for order, kind in enumerate(kinds):
        Section.objects.create(
            layout=c360,
            kind=kind.key,
            title=kind.label,
            order=order,
            collapsed=kind.key == "embed",
            config=kind.default_config(c360),
        )
    company = CompanyFactory(name="Globex Corporation", arr=Decimal(120_000))
    CompanyPersonFactory(company=company)
    RelationshipFactory(
        company=company,
        relationship_type=RelationshipTypeFactory(name="Support"),
        name="Premium Support",
    )
    return company


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("csm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_a_csm_works_a_company_and_its_new_relationship(page, screenshot):
    company = build()
    sign_in(page)

    page.goto(company.get_absolute_url())
    expect(page.get_by_role("heading", name="Globex Corporation", level=1)).to_be_visible()
    sections = page.locator(".sections > .section")
    count = sections.count()
    assert count == len([k for k in REGISTRY.values() if "company" in k.targets])
    for index in range(count):
        section = sections.nth(index)
        details = section.locator("details")
        if details.get_attribute("open") is None:
            section.locator("summary").click()  # a collapsed section loads when opened
        section.scroll_into_view_if_needed()
        expect(section.locator(".section__body")).to_be_visible()
        expect(section.locator(".skeleton")).to_have_count(0)
        expect(section.locator(".section__body--error")).to_have_count(0)
    screenshot("360-01-c360-all-sections")

    # Inline edit: a refused value shows its error and saves nothing; a good one is kept.
    attributes = page.locator(".section--attributes")
    attributes.scroll_into_view_if_needed()
    attributes.get_by_role("button", name="Edit ARR").click()
    field = attributes.get_by_label("ARR", exact=True)
    field.fill("-5")
    attributes.get_by_role("button", name="Save").click()
    expect(attributes.locator(".field__error")).to_be_visible()
    screenshot("360-02-inline-edit-error")
    company.refresh_from_db()
    assert company.arr == Decimal(120_000)
    field.fill("250000")
    attributes.get_by_role("button", name="Save").click()
    expect(attributes.get_by_text("$250,000")).to_be_visible()
    page.reload()
    attributes = page.locator(".section--attributes")
    attributes.scroll_into_view_if_needed()
    expect(attributes.get_by_text("$250,000")).to_be_visible()
    screenshot("360-03-inline-edit-saved")

    # Add a relationship of a type with its own fields: an error first, then success.
    relationships = page.locator(".section--relationships")
    relationships.scroll_into_view_if_needed()
    relationships.get_by_role("button", name="Add relationship").click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    modal.get_by_label("Data Platform").check()
    modal.get_by_role("button", name="Next").click()
    expect(modal.get_by_role("heading", name="New Data Platform relationship")).to_be_visible()
    modal.get_by_label("Name").fill("Globex Lakehouse")
    # Seats is required: leaving it empty is refused next to the field.
    modal.get_by_label("Seats").fill("")
    modal.get_by_role("button", name="Add relationship").click()
    expect(modal.locator(".field__error").first).to_be_visible()
    screenshot("360-04-add-relationship-error")
    assert not Relationship.objects.filter(name="Globex Lakehouse").exists()
    modal.get_by_label("Seats").fill("1200")
    modal.get_by_role("button", name="Add relationship").click()
    expect(modal).to_be_hidden()
    card_link = relationships.get_by_role("link", name="Globex Lakehouse")
    expect(card_link).to_be_visible()
    screenshot("360-05-relationship-added")

    # Its R360 uses the Data Platform layout.
    card_link.click()
    expect(page.get_by_role("heading", name="Globex Lakehouse", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Platform at a glance")).to_be_visible()
    details = page.locator(".section--attributes")
    expect(details.get_by_role("heading", name="Platform details")).to_be_visible()
    expect(details).to_contain_text("1,200")
    screenshot("360-06-r360")
