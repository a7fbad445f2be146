"""Failed htmx requests in Chromium: a banner in the section says what happened and can be
dismissed; an expired session takes the whole page to the sign-in form, then back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from layouts.models import Layout
from partners.roles import CSM
from tests.factories import CompanyFactory, LayoutFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"


def build():
    UserFactory(username="csm", password=PASSWORD, groups=[CSM])
    layout = LayoutFactory(name="Errors C360", target=Layout.Target.COMPANY, priority=1)
    SectionFactory(layout=layout, kind="summary", title="At a glance", order=0)
    return CompanyFactory(name="Initech")


def sign_in(page) -> None:
    page.get_by_label("Username").fill("csm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_failed_section_request_shows_a_dismissible_banner(page, screenshot):
    company = build()
    page.goto("/accounts/login/")
    sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # The server answers the section with an error.
    page.route(re.compile(r".*/sections/\d+/$"), lambda route: route.fulfill(status=500))
    page.goto(company.get_absolute_url())
    section = page.locator(".section--summary")
    banner = section.get_by_role("alert")
    expect(banner).to_have_text(re.compile("Something went wrong — reload the page"))
    screenshot("errors-01-section-error-banner")
    banner.get_by_role("button", name="Dismiss").click()
    expect(section.get_by_role("alert")).to_have_count(0)

    # The server cannot be reached at all.
    page.unroute(re.compile(r".*/sections/\d+/$"))
    page.route(re.compile(r".*/sections/\d+/$"), lambda route: route.abort())
    page.reload()
    expect(page.locator(".section--summary").get_by_role("alert")).to_have_text(
        re.compile("Could not reach the server")
    )


def test_an_expired_session_goes_to_the_sign_in_page_and_back(page):
    company = build()
    page.goto(company.get_absolute_url())  # signed out: the sign-in page, next= the C360
    sign_in(page)
    expect(page.get_by_role("heading", name="Initech", level=1)).to_be_visible()
    expect(page.locator(".section--summary .section__body")).to_be_visible()

    page.context.clear_cookies()  # the session expires
    # Typing in the top search sends an htmx request (any htmx request would do).
    page.get_by_label("Search companies, relationships and people").fill("Init")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator(".topsearch")).to_have_count(0)  # a whole sign-in page, no swap
    sign_in(page)
    expect(page).to_have_url(re.compile(rf"/companies/{company.pk}/$"))
