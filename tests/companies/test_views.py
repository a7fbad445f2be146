"""The companies list and the company page, per persona, with their query budgets."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from companies.models import Company
from companies.services import company_create
from relationships.models import RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    PartnerFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    UserFactory,
)
from tests.pages import open_360, section_urls

pytestmark = pytest.mark.django_db

LIST = reverse("companies:list")
INTERNAL = ["admin_client", "csm_client", "viewer_client"]
PERSONAS = [*INTERNAL, "partner_a_client", "partner_b_client"]


def names(response) -> list[str]:
    """Company names of the list's rows, in order."""
    return [row["name"] for row in response.context["listing"].rows]


# ---------- the list: who sees what ----------


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_can_open_the_list(request, persona):
    response = request.getfixturevalue(persona).get(LIST)

    assert response.status_code == 200
    assert '<h1 class="page-title">Companies</h1>' in response.content.decode()


@pytest.mark.parametrize("persona", INTERNAL)
def test_internal_users_see_every_company(request, persona, partner_a):
    CompanyFactory(name="Own Co")
    CompanyFactory(name="Partnered Co", managed_by=partner_a)

    response = request.getfixturevalue(persona).get(LIST)

    assert sorted(names(response)) == ["Own Co", "Partnered Co"]


def test_partner_user_sees_only_their_partners_companies(partner_a, partner_b, partner_a_client):
    CompanyFactory(name="Alpha One", managed_by=partner_a)
    CompanyFactory(name="Alpha Two", managed_by=partner_a)
    CompanyFactory(name="Bravo One", managed_by=partner_b)
    CompanyFactory(name="In House")

    response = partner_a_client.get(LIST)

    assert names(response) == ["Alpha One", "Alpha Two"]
    html = response.content.decode()
    assert "Bravo One" not in html and "In House" not in html


def test_partner_user_searching_cannot_reach_other_companies(
    partner_a, partner_b, partner_a_client
):
    CompanyFactory(name="Shared Name A", managed_by=partner_a)
    CompanyFactory(name="Shared Name B", managed_by=partner_b)

    response = partner_a_client.get(LIST, {"q": "shared name"})

    assert names(response) == ["Shared Name A"]


def test_csm_filter_offers_only_csms_of_companies_the_user_may_see(partner_a, partner_a_client):
    visible_csm = UserFactory(username="amy", first_name="Amy", last_name="Visible")
    hidden_csm = UserFactory(username="hal", first_name="Hal", last_name="Hidden")
    CompanyFactory(managed_by=partner_a, csm=visible_csm)
    CompanyFactory(csm=hidden_csm)

    html = partner_a_client.get(LIST).content.decode()

    assert "Amy Visible" in html
    assert "Hal Hidden" not in html


def test_relationship_count_counts_only_relationships_the_user_may_see(
    partner_a, partner_a_client, csm_client
):
    company = CompanyFactory(name="Counted", managed_by=partner_a)
    RelationshipFactory.create_batch(2, company=company)
    RelationshipFactory(company=company, managed_by=PartnerFactory(name="Other Partner"))

    partner_row = partner_a_client.get(LIST).context["listing"].rows[0]
    internal_row = csm_client.get(LIST).context["listing"].rows[0]

    assert partner_row["relationship_count"] == 2
    assert internal_row["relationship_count"] == 3


def test_list_shows_the_columns_a_csm_needs(csm_user, csm_client):
    csm_user.first_name, csm_user.last_name = "Casey", "Morgan"
    csm_user.save()
    renewal = dt.date.today() + dt.timedelta(days=20)
    company = CompanyFactory(
        name="Columns Inc",
        external_id="CRM-42",
        segment=Company.Segment.ENTERPRISE,
        status=Company.Status.AT_RISK,
        stage=Company.Stage.RENEWAL,
        arr=Decimal("1234567.40"),
        renewal_date=renewal,
        csm=csm_user,
    )
    RelationshipFactory(company=company)

    html = csm_client.get(LIST).content.decode()

    for text in (
        "Columns Inc",
        "CRM-42",
        '<span class="badge badge--enterprise">Enterprise</span>',
        '<span class="badge badge--at_risk">At risk</span>',
        "Renewal",
        "$1,234,567",
        renewal.strftime("%b"),
        "in 20 days",
        "Casey Morgan",
    ):
        assert text in html, text


def test_empty_list_has_an_empty_state(csm_client):
    html = csm_client.get(LIST).content.decode()

    assert "No companies yet" in html


def test_search_without_match_has_its_own_empty_state(csm_client):
    CompanyFactory(name="Acme")

    html = csm_client.get(LIST, {"q": "zzz"}).content.decode()

    assert "No companies match your search" in html
    assert "Clear filters" in html


# ---------- search, filters, sort ----------


def test_search_matches_name_or_external_id_ignoring_case(csm_client):
    CompanyFactory(name="Acme Europe", external_id="X-1")
    CompanyFactory(name="Globex", external_id="ACME-77")
    CompanyFactory(name="Initech", external_id="X-2")

    assert sorted(names(csm_client.get(LIST, {"q": "aCmE"}))) == ["Acme Europe", "Globex"]
    assert names(csm_client.get(LIST, {"q": "  initech  "})) == ["Initech"]


def test_filters_narrow_by_segment_status_and_csm(csm_user, csm_client):
    CompanyFactory(name="Ent Active", segment="enterprise", status="active", csm=csm_user)
    CompanyFactory(name="Ent Risk", segment="enterprise", status="at_risk")
    CompanyFactory(name="Smb Active", segment="smb", status="active", csm=csm_user)

    assert sorted(names(csm_client.get(LIST, {"segment": "enterprise"}))) == [
        "Ent Active",
        "Ent Risk",
    ]
    assert names(csm_client.get(LIST, {"status": "at_risk"})) == ["Ent Risk"]
    assert sorted(names(csm_client.get(LIST, {"csm": csm_user.pk}))) == [
        "Ent Active",
        "Smb Active",
    ]
    assert names(csm_client.get(LIST, {"segment": "smb", "csm": csm_user.pk})) == ["Smb Active"]


def test_sorting_by_name_arr_and_renewal_both_ways(csm_client):
    today = dt.date.today()
    CompanyFactory(name="Beta", arr=Decimal(300), renewal_date=today + dt.timedelta(days=5))
    CompanyFactory(name="Alpha", arr=Decimal(100), renewal_date=None)
    CompanyFactory(name="Gamma", arr=Decimal(200), renewal_date=today + dt.timedelta(days=50))

    assert names(csm_client.get(LIST, {"sort": "name"})) == ["Alpha", "Beta", "Gamma"]
    assert names(csm_client.get(LIST, {"sort": "-name"})) == ["Gamma", "Beta", "Alpha"]
    assert names(csm_client.get(LIST, {"sort": "-arr"})) == ["Beta", "Gamma", "Alpha"]
    assert names(csm_client.get(LIST, {"sort": "arr"})) == ["Alpha", "Gamma", "Beta"]
    # Companies without a renewal date come last both ways.
    assert names(csm_client.get(LIST, {"sort": "renewal"})) == ["Beta", "Gamma", "Alpha"]
    assert names(csm_client.get(LIST, {"sort": "-renewal"})) == ["Gamma", "Beta", "Alpha"]


def test_sort_headers_toggle_direction_and_keep_the_filters(csm_client):
    CompanyFactory(name="Alpha", segment="smb")

    html = csm_client.get(LIST, {"sort": "name", "segment": "smb", "page": "1"}).content.decode()

    header = re.search(r'<th scope="col" aria-sort="ascending"[^>]*><a href="([^"]+)"', html)
    assert header is not None
    assert header.group(1) == "?sort=-name&amp;segment=smb"


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password"},
        {"sort": "-csm__password"},
        {"segment": "galactic"},
        {"status": "<script>"},
        {"csm": "not-a-number"},
        {"csm": "999999"},
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99999"},
        {"page": "1.5"},
        {"q": "x" * 5000},
        {"q": "%_\\'\""},
    ],
)
def test_bad_parameters_never_break_the_list(csm_client, params):
    CompanyFactory(name="Still Here")

    response = csm_client.get(LIST, params)

    assert response.status_code == 200


def test_an_unknown_sort_falls_back_to_the_hierarchy(csm_client):
    parent = company_create(name="Zed Holdings")
    company_create(name="Able Child", parent=parent)

    response = csm_client.get(LIST, {"sort": "password"})

    assert response.context["listing"].sort == "hierarchy"
    assert names(response) == ["Zed Holdings", "Able Child"]


def test_an_unknown_filter_value_is_ignored(csm_client):
    CompanyFactory(name="One", segment="smb")
    CompanyFactory(name="Two", segment="enterprise")

    response = csm_client.get(LIST, {"segment": "galactic", "sort": "name"})

    assert names(response) == ["One", "Two"]


# ---------- pagination ----------


def test_list_pages_by_fifty_and_clamps_bad_page_numbers(csm_client):
    for number in range(120):
        CompanyFactory(name=f"Company {number:03d}")

    first = csm_client.get(LIST, {"sort": "name"})
    third = csm_client.get(LIST, {"sort": "name", "page": "3"})
    beyond = csm_client.get(LIST, {"sort": "name", "page": "999"})
    not_a_number = csm_client.get(LIST, {"sort": "name", "page": "abc"})

    assert len(names(first)) == 50 and names(first)[0] == "Company 000"
    assert names(third) == [f"Company {n:03d}" for n in range(100, 120)]
    assert names(beyond) == names(third)
    assert names(not_a_number) == names(first)
    html = first.content.decode()
    assert "Showing <strong>1–50</strong> of\n            <strong>120</strong> companies" in html
    assert 'href="?sort=name&amp;page=2"' in html


# ---------- hierarchy in the list ----------


def test_default_list_is_in_tree_order_indented_by_level(csm_client):
    top = company_create(name="Umbrella Group")
    europe = company_create(name="Umbrella Europe", parent=top)
    company_create(name="Umbrella Berlin", parent=europe)
    company_create(name="Aardvark Ltd")

    response = csm_client.get(LIST)

    rows = response.context["listing"].rows
    assert response.context["listing"].tree is True
    # Families come in name order (MPTT's insertion order), each followed by its subtree.
    assert [(r["name"], r["indent"]) for r in rows] == [
        ("Aardvark Ltd", 0),
        ("Umbrella Group", 0),
        ("Umbrella Europe", 1),
        ("Umbrella Berlin", 2),
    ]
    assert 'class="tree-name indent-2 tree-name--child"' in response.content.decode()


def test_a_searched_list_names_each_rows_parent(csm_client):
    top = company_create(name="Umbrella Group")
    company_create(name="Umbrella Europe", parent=top)

    response = csm_client.get(LIST, {"q": "europe"})

    assert response.context["listing"].tree is False
    assert [r["indent"] for r in response.context["listing"].rows] == [0]
    assert "in Umbrella Group" in response.content.decode()


def test_partner_user_is_never_shown_the_name_of_a_parent_they_may_not_see(
    partner_a, partner_a_client
):
    hidden_parent = company_create(name="Secret Holding")
    company_create(name="Alpha Subsidiary", parent=hidden_parent, managed_by=partner_a)

    response = partner_a_client.get(LIST)

    assert names(response) == ["Alpha Subsidiary"]
    assert "Secret Holding" not in response.content.decode()


# ---------- htmx ----------


def test_htmx_request_gets_only_the_results_partial(csm_client):
    CompanyFactory(name="Partial Co")

    response = csm_client.get(LIST, {"q": "partial"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="company-results"')
    assert "Partial Co" in html
    assert "<html" not in html and 'name="q"' not in html
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(csm_client):
    response = csm_client.get(
        LIST, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


def test_filter_form_works_without_javascript_and_with_htmx(csm_client):
    html = csm_client.get(LIST).content.decode()

    assert f'method="get" action="{LIST}"' in html
    assert 'hx-get="/companies/"' in html and 'hx-push-url="true"' in html
    assert 'hx-target="#company-results"' in html
    assert '<button type="submit" class="button">Apply</button>' in html


# ---------- the company page ----------


def detail(company: Company) -> str:
    return reverse("layouts:company", args=[company.pk])


@pytest.mark.parametrize("persona", INTERNAL)
def test_internal_users_open_any_company(request, persona, partner_b):
    company = CompanyFactory(name="Anyone's Co", managed_by=partner_b)

    response = request.getfixturevalue(persona).get(detail(company))

    assert response.status_code == 200
    assert "Anyone&#x27;s Co" in response.content.decode()


def test_partner_user_opens_own_company_and_gets_404_for_others(
    partner_a, partner_b, partner_a_client, partner_b_client
):
    own = CompanyFactory(managed_by=partner_a)
    other_partners = CompanyFactory(managed_by=partner_b)
    in_house = CompanyFactory()

    assert partner_a_client.get(detail(own)).status_code == 200
    assert partner_a_client.get(detail(other_partners)).status_code == 404
    assert partner_a_client.get(detail(in_house)).status_code == 404
    assert partner_b_client.get(detail(own)).status_code == 404
    assert partner_b_client.get(detail(other_partners)).status_code == 200


def test_a_company_that_does_not_exist_is_404(csm_client):
    assert csm_client.get("/companies/987654/").status_code == 404


def test_company_header_shows_the_account_facts(csm_user, csm_client, partner_a):
    csm_user.first_name, csm_user.last_name = "Casey", "Morgan"
    csm_user.save()
    company = CompanyFactory(
        name="Header Co",
        external_id="CRM-9",
        status=Company.Status.AT_RISK,
        segment=Company.Segment.MID_MARKET,
        arr=Decimal("2400000"),
        mrr=Decimal("200000"),
        renewal_date=dt.date.today() + dt.timedelta(days=45),
        csm=csm_user,
        managed_by=partner_a,
    )

    html = open_360(csm_client, detail(company))

    for text in (
        '<h1 class="record-header__name">Header Co</h1>',
        '<span class="badge badge--at_risk">At risk</span>',
        '<span class="badge badge--mid_market">Mid-Market</span>',
        "$2,400,000",
        "$200,000",
        "in 45 days",
        "Casey Morgan",
        "CRM-9",
        "Partner A",
    ):
        assert text in html, text


def test_company_page_shows_breadcrumb_children_and_family_totals(csm_client):
    top = company_create(name="Umbrella Group", arr=Decimal(1000))
    europe = company_create(name="Umbrella Europe", parent=top, arr=Decimal(500))
    berlin = company_create(name="Umbrella Berlin", parent=europe, arr=Decimal(200))
    company_create(name="Umbrella Paris", parent=europe, arr=Decimal(300))

    html = open_360(csm_client, detail(europe))

    crumbs = html.split('<nav class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    assert f'<a href="{detail(top)}">Umbrella Group</a>' in crumbs
    assert '<span aria-current="page">Umbrella Europe</span>' in crumbs
    assert f'<a href="{detail(berlin)}">Umbrella Berlin</a>' in html
    tree = html.split('<ol class="tree">', 1)[1].split("</ol>", 1)[0]
    assert tree.index("Umbrella Berlin") < tree.index("Umbrella Paris")
    assert "<dt>Companies below</dt><dd>2</dd>" in html
    assert "<dt>Family ARR</dt><dd>$1,000</dd>" in html


def test_partner_breadcrumb_hides_ancestors_they_may_not_see(partner_a, partner_a_client):
    top = company_create(name="Secret Holding")
    own = company_create(name="Alpha Subsidiary", parent=top, managed_by=partner_a)

    html = open_360(partner_a_client, detail(own))

    assert "Secret Holding" not in html
    assert "breadcrumbs__gap" in html


def test_company_page_groups_relationships_by_type_with_list_fields(csm_client):
    company = CompanyFactory(name="Cards Co")
    analytics = RelationshipTypeFactory(name="Analytics", order=1)
    support = RelationshipTypeFactory(name="Support", order=2)
    RelationshipTypeFieldFactory(
        relationship_type=analytics,
        key="seats",
        label="Seats",
        kind=RelationshipTypeField.Kind.NUMBER,
        shown_in_lists=True,
    )
    RelationshipTypeFieldFactory(
        relationship_type=analytics, key="notes", label="Private notes", shown_in_lists=False
    )
    RelationshipFactory(
        company=company,
        relationship_type=analytics,
        name="Analytics EU",
        attributes={"seats": 1500, "notes": "not on the card"},
    )
    RelationshipFactory(company=company, relationship_type=support, name="Premium Support")

    html = open_360(csm_client, detail(company))

    assert html.index("Analytics EU") < html.index("Premium Support")
    assert "Analytics EU" in html and "Premium Support" in html
    assert "<dt>Seats</dt><dd>1,500</dd>" in html
    assert "Private notes" not in html and "not on the card" not in html


def test_company_page_shows_only_relationships_the_partner_may_see(
    partner_a, partner_a_client, partner_b, partner_b_client
):
    company = CompanyFactory(managed_by=partner_a)
    ours = RelationshipFactory(company=company, name="Ours")
    theirs = RelationshipFactory(
        company=company, name="Someone Else's", managed_by=PartnerFactory()
    )
    b_company = CompanyFactory(managed_by=partner_b)
    RelationshipFactory(company=b_company, name="Hidden From Companies-Only")

    a_html = open_360(partner_a_client, detail(company))
    b_html = open_360(partner_b_client, detail(b_company))

    # The relationships section is not for partner users; their R360s are reached by URL.
    assert "Someone Else" not in a_html
    assert "Hidden From Companies-Only" not in b_html
    assert partner_a_client.get(ours.get_absolute_url()).status_code == 200
    assert partner_a_client.get(theirs.get_absolute_url()).status_code == 404


def test_company_page_lists_its_people(csm_client):
    company = CompanyFactory()
    CompanyPersonFactory(
        company=company,
        person=PersonFactory(first_name="Rita", last_name="Sponsor"),
        title="VP Operations",
        role="executive_sponsor",
        is_sponsor=True,
        sentiment="positive",
    )

    html = open_360(csm_client, detail(company))

    for text in ("Rita Sponsor", "VP Operations", "Executive sponsor", ">Sponsor<", "Positive"):
        assert text in html, text


def test_company_page_empty_sections_say_so(csm_client):
    html = open_360(csm_client, detail(CompanyFactory(name="Lonely")))

    assert "No relationships to show" in html
    assert "No people yet" in html
    assert "stands on its own" in html


def test_user_typed_values_are_escaped(csm_client):
    company = CompanyFactory(name="<script>alert('x')</script>", industry="<b>bold</b>")

    list_html = csm_client.get(LIST).content.decode()
    page_html = open_360(csm_client, detail(company))

    for html in (list_html, page_html):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in page_html


# ---------- query budgets ----------


def _build_book(size: int, csm, partner) -> Company:
    """`size` companies in a family with relationships and people; returns the family's top."""
    kind = RelationshipTypeFactory(name=f"Platform {size}")
    RelationshipTypeFieldFactory(relationship_type=kind, key="seats", shown_in_lists=True)
    top = company_create(name=f"Family {size}", csm=csm, managed_by=partner)
    for number in range(size):
        child = company_create(
            name=f"Child {size}-{number}", parent=top, csm=csm, managed_by=partner
        )
        RelationshipFactory(company=child, relationship_type=kind, attributes={"seats": "9"})
        RelationshipFactory(company=top, relationship_type=kind, attributes={"seats": "3"})
        CompanyPersonFactory(company=top)
    return top


def _queries(client, url, budget, django_assert_max_num_queries, **params) -> int:
    with django_assert_max_num_queries(budget) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("persona", ["csm_client", "partner_a_client"])
@pytest.mark.parametrize(
    "params", [{}, {"q": "child", "sort": "-arr"}, {"segment": "smb", "page": "2"}]
)
def test_list_queries_do_not_grow_with_the_book(
    request, persona, params, csm_user, partner_a, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    _build_book(3, csm_user, partner_a)
    small = _queries(client, LIST, 10, django_assert_max_num_queries, **params)

    _build_book(60, csm_user, partner_a)
    large = _queries(client, LIST, 10, django_assert_max_num_queries, **params)

    assert small == large


@pytest.mark.parametrize("persona", ["csm_client", "partner_a_client"])
def test_company_page_queries_do_not_grow_with_the_book(
    request, persona, csm_user, partner_a, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    small_top = _build_book(2, csm_user, partner_a)
    open_360(client, detail(small_top))  # the first visit creates the default layout
    # The second reads the layouts into this process's copy (layouts.selection): the two
    # measured visits both find them there.
    open_360(client, detail(small_top))
    small = _queries(client, detail(small_top), 12, django_assert_max_num_queries)
    small_sections = _section_queries(client, detail(small_top), django_assert_max_num_queries)

    large_top = _build_book(40, csm_user, partner_a)
    large = _queries(client, detail(large_top), 12, django_assert_max_num_queries)
    large_sections = _section_queries(client, detail(large_top), django_assert_max_num_queries)

    assert small == large
    assert small_sections == large_sections


def _section_queries(client, url, django_assert_max_num_queries) -> list[int]:
    """The queries of each section of the page, in order."""
    counts = []
    for section_url in section_urls(client.get(url).content.decode()):
        with django_assert_max_num_queries(12) as captured:
            response = client.get(section_url, headers={"HX-Request": "true"})
            assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    return counts
