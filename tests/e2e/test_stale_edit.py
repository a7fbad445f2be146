"""Two people edit the same company in Chromium: the later save of an older view is refused.

Casey and Dana both have the C360 open. Dana saves the industry; Casey then saves the ARR
from the page they loaded before: the ARR form says "Changed by Dana Reyes at … — reload to
see it." under the input and the ARR stays. Casey's own two saves in a row both stick (the
section's version follows their saves). After a reload, Casey's save goes through.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from companies.models import Company
from layouts.models import Section
from layouts.sections import REGISTRY
from layouts.services import layout_default_ensure
from partners.roles import CSM
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"


def build() -> Company:
    for username, first, last in (("casey", "Casey", "Morgan"), ("dana", "Dana", "Reyes")):
        UserFactory(
            username=username, first_name=first, last_name=last, password=PASSWORD, groups=[CSM]
        )
    c360 = layout_default_ensure()
    c360.sections.all().delete()
    Section.objects.create(
        layout=c360,
        kind="attributes",
        title="Account details",
        order=0,
        config={**REGISTRY["attributes"].default_config(c360), "fields": ["industry", "arr"]},
    )
    return CompanyFactory(name="Globex Corporation", industry="Retail", arr=Decimal(120_000))


def signed_in(browser, live_server, username: str):
    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.goto("/accounts/login/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", level=1)).to_be_visible()
    return context, tab


def edit(tab, label: str, value: str) -> None:
    attributes = tab.locator(".section--attributes")
    attributes.get_by_role("button", name=f"Edit {label}").click()
    attributes.get_by_label(label, exact=True).fill(value)
    attributes.get_by_role("button", name="Save").click()


def test_a_save_over_someone_elses_change_is_refused(browser, live_server):
    company = build()
    casey_context, casey = signed_in(browser, live_server, "casey")
    dana_context, dana = signed_in(browser, live_server, "dana")
    try:
        for tab in (casey, dana):
            tab.goto(company.get_absolute_url())
            expect(tab.locator(".section--attributes").get_by_text("Retail")).to_be_visible()

        edit(dana, "Industry", "Banking")
        expect(dana.locator(".section--attributes").get_by_text("Banking")).to_be_visible()

        edit(casey, "ARR", "250000")
        refusal = casey.locator(".section--attributes .field__error")
        expect(refusal).to_contain_text("Changed by Dana Reyes at")
        expect(refusal).to_contain_text("reload to see it.")
        company.refresh_from_db()
        assert (company.industry, company.arr) == ("Banking", Decimal(120_000))

        # Reloaded, Casey sees Dana's change and saves twice in a row.
        casey.reload()
        expect(casey.locator(".section--attributes").get_by_text("Banking")).to_be_visible()
        edit(casey, "ARR", "250000")
        expect(casey.locator(".section--attributes").get_by_text("$250,000")).to_be_visible()
        edit(casey, "Industry", "Energy")
        expect(casey.locator(".section--attributes").get_by_text("Energy")).to_be_visible()
        company.refresh_from_db()
        assert (company.industry, company.arr) == ("Energy", Decimal(250_000))
    finally:
        casey_context.close()
        dana_context.close()
