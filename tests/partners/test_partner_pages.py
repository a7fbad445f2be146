"""What a partner user's pages say: their partner's book on the home page, and one 404 page
for a record that does not exist and one they may not see."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from companies.models import Company
from layouts.models import Layout
from layouts.sections import section_url
from layouts.services import layout_default_ensure
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    PartnerFactory,
    RelationshipFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


def test_a_partner_users_book_is_what_their_partner_manages(partner_a, partner_a_client, csm_user):
    soon = dt.date.today() + dt.timedelta(days=20)
    CompanyFactory(
        name="Ours Renewing",
        managed_by=partner_a,
        csm=csm_user,
        renewal_date=soon,
        arr=Decimal("1000"),
    )
    CompanyFactory(
        name="Ours At Risk",
        managed_by=partner_a,
        status=Company.Status.AT_RISK,
        renewal_date=soon + dt.timedelta(days=200),
        arr=Decimal("2000"),
    )
    CompanyFactory(name="Theirs Renewing", managed_by=PartnerFactory(), renewal_date=soon)

    response = partner_a_client.get("/")
    dashboard = response.context["dashboard"]
    html = response.content.decode()

    assert dashboard.partner_name == "Partner A"
    assert (dashboard.my_company_count, dashboard.my_at_risk_count) == (2, 1)
    assert dashboard.my_arr == Decimal("3000")
    assert [c.name for c in dashboard.my_renewals] == ["Ours Renewing"]
    assert "Managed by Partner A" in html
    assert "Renewals in the next 90 days" in html
    assert "Theirs Renewing" not in html
    assert "You are not the CSM" not in html
    # The links lead to the partner's list, not to a CSM filter that would show nothing.
    assert "?csm=" not in html


def test_a_partner_without_companies_is_told_so(partner_a_client):
    html = partner_a_client.get("/").content.decode()

    assert "Partner A manages no company yet" in html


def test_an_internal_users_book_is_still_what_they_are_the_csm_of(csm_user, csm_client):
    CompanyFactory(csm=csm_user, managed_by=PartnerFactory())
    CompanyFactory()

    response = csm_client.get("/")

    assert response.context["dashboard"].partner_name is None
    assert response.context["dashboard"].my_company_count == 1
    assert "Your companies" in response.content.decode()


def _page_text(response) -> str:
    body = response.content.decode()
    main = re.search(r'<main id="main".*?</main>', body, re.S)
    assert main is not None, body
    return main.group(0)


def test_another_partners_company_and_a_missing_one_answer_the_same_404_page(
    partner_a_client, partner_b
):
    foreign = CompanyFactory(name="Bravo Secret Co", managed_by=partner_b)

    hidden = partner_a_client.get(f"/companies/{foreign.pk}/")
    missing = partner_a_client.get("/companies/999999/")

    assert hidden.status_code == missing.status_code == 404
    assert "Page not found" in hidden.content.decode()
    assert "Bravo Secret Co" not in hidden.content.decode()
    assert _page_text(hidden) == _page_text(missing)


def test_the_404_page_of_a_visitor_offers_to_sign_in(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'href="/accounts/login/"' in html
    assert "Sign out" not in html


def test_a_refused_write_shows_the_403_page_with_its_reason(viewer_client):
    company = CompanyFactory()
    section = layout_default_ensure().sections.get(kind="attributes")

    response = viewer_client.post(section_url(company, section, "save"), {"field": "name"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not do this" in html
    assert "You may not change this company." in html


def _widget_labels(client, company) -> list[str]:
    layout = LayoutFactory(target=Layout.Target.COMPANY)
    section = SectionFactory(
        layout=layout,
        kind="summary",
        config={"widgets": ["arr", "worst_relationship", "relationships"]},
    )
    response = client.get(section_url(company, section), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return re.findall(r'<div class="widget-label">([^<]*)</div>', response.content.decode())


def test_a_companies_only_partner_gets_no_relationship_widgets(partner_b, partner_b_client):
    company = CompanyFactory(managed_by=partner_b)
    RelationshipFactory(company=company)

    assert _widget_labels(partner_b_client, company) == ["ARR"]


def test_partners_that_run_relationships_and_internal_users_keep_them(
    partner_a, partner_a_client, csm_client
):
    company = CompanyFactory(managed_by=partner_a)
    RelationshipFactory(company=company)

    expected = ["ARR", "Worst relationship", "Relationships"]
    assert _widget_labels(partner_a_client, company) == expected
    assert _widget_labels(csm_client, company) == expected


def test_a_companies_only_partner_is_shown_no_relationship_figures(
    partner_b, partner_b_client, partner_a, partner_a_client
):
    for partner in (partner_a, partner_b):
        RelationshipFactory(company=CompanyFactory(managed_by=partner))

    for client, shown in ((partner_a_client, True), (partner_b_client, False)):
        home = client.get("/").content.decode()
        listing = client.get("/companies/").content.decode()
        assert ("Relationships you can see" in home) is shown
        assert ('<th scope="col" class="num">Relationships</th>' in listing) is shown
        assert ("Download relationships" in listing) is shown
