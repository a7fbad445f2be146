"""Errors the way a user meets them: a signed-out htmx request reloads the browser on the
sign-in page (never the sign-in form swapped into a section), and the 403, 404 and 500 pages
look like the product — the 500 page without a database or a request."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests.factories import CompanyFactory, LayoutFactory, SectionFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def _next_of(url: str) -> str:
    parts = urlsplit(url)
    assert parts.path == LOGIN
    return parse_qs(parts.query)["next"][0]


@pytest.fixture
def section_url() -> tuple[str, str]:
    company = CompanyFactory()
    section = SectionFactory(layout=LayoutFactory(), kind="summary")
    page = reverse("layouts:company", args=[company.pk])
    return page, reverse("layouts:company_section", args=[company.pk, section.pk])


def test_a_signed_out_htmx_request_gets_hx_redirect_back_to_the_page(section_url):
    page, section = section_url
    response = Client().get(
        section,
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}?tab=1"},
    )

    assert response.status_code == 200
    assert response.content == b""  # nothing to swap into the section
    assert _next_of(response["HX-Redirect"]) == f"{page}?tab=1"


def test_a_signed_out_htmx_post_gets_hx_redirect_too():
    response = Client().post(
        reverse("success:cta_create"), {"name": "x"}, headers={"HX-Request": "true"}
    )

    assert _next_of(response["HX-Redirect"]) == reverse("success:cta_create")


def test_hx_redirect_never_sends_back_to_another_site(section_url):
    _, section = section_url
    response = Client().get(
        section, headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )

    assert _next_of(response["HX-Redirect"]) == section


def test_a_signed_out_page_request_is_still_an_ordinary_redirect(section_url):
    page, _ = section_url
    response = Client().get(page)

    assert response.status_code == 302
    assert "HX-Redirect" not in response
    assert _next_of(response["Location"]) == page


def test_a_signed_in_htmx_redirect_elsewhere_is_left_alone(csm_client):
    # Only the sign-in redirect is turned into HX-Redirect.
    response = csm_client.get(reverse("login"), headers={"HX-Request": "true"})

    assert response.status_code == 302
    assert "HX-Redirect" not in response


def test_the_404_page_looks_like_the_product(csm_client):
    response = csm_client.get("/companies/987654321/")

    html = response.content.decode()
    assert response.status_code == 404
    assert '<h1 class="error-page__title">Page not found</h1>' in html
    assert 'class="topbar"' in html and reverse("companies:list") in html


def test_the_403_page_says_why(viewer_client):
    company = CompanyFactory()
    section = SectionFactory(layout=LayoutFactory(), kind="hierarchy")
    url = reverse("layouts:company_section_action", args=[company.pk, section.pk, "move"])

    response = viewer_client.get(url)

    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not do this" in html and "Ask your admin" in html


def test_the_500_page_needs_no_database_and_no_request_context(django_assert_num_queries):
    request = RequestFactory().get("/anything/")

    with django_assert_num_queries(0):
        response = server_error(request)

    html = response.content.decode()
    assert response.status_code == 500
    assert "<title>Something went wrong · Gainsight Lite</title>" in html
    assert "css/app.css" in html and 'class="card auth__card"' in html
    assert reverse("companies:list") in html
