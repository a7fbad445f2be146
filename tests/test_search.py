"""Search: grouped results with their context, scoped to the viewer, as a dropdown or a page."""

from __future__ import annotations

import re

import pytest

from gainsight_lite.search import MAX_QUERY_LENGTH, Place, clean_query, highlight, search
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _names(results, group):
    return [hit.name for g in results.groups if g.key == group for hit in g.hits]


def _group(results, key):
    return next(g for g in results.groups if g.key == key)


@pytest.fixture
def book(partner_a, partner_b):
    """Partner A's and partner B's companies, with relationships and people of each."""
    licence = RelationshipTypeFactory(name="Licence")
    a_company = CompanyFactory(name="Northwind Traders", external_id="NW-001", managed_by=partner_a)
    b_company = CompanyFactory(name="Northwind Bikes", external_id="NW-002", managed_by=partner_b)
    RelationshipFactory(company=a_company, relationship_type=licence, name="Northwind Analytics")
    RelationshipFactory(company=b_company, relationship_type=licence, name="Northwind Fleet")
    # Run by partner A at a company partner B manages: A sees it, not its company.
    RelationshipFactory(
        company=b_company, relationship_type=licence, name="Northwind Payroll", managed_by=partner_a
    )
    shared = PersonFactory(first_name="Nora", last_name="Northwind", email="nora@shared.example")
    CompanyPersonFactory(company=a_company, person=shared, title="CFO")
    CompanyPersonFactory(company=b_company, person=shared, title="Advisor")
    CompanyPersonFactory(
        company=b_company,
        person=PersonFactory(first_name="Bea", last_name="Northwind", email="bea@bikes.example"),
    )
    return {"a": a_company, "b": b_company}


# The selector ---------------------------------------------------------------------------


def test_finds_companies_relationships_and_people_grouped_with_context(csm_user, book):
    results = search(user=csm_user, query="northwind")

    assert [g.key for g in results.groups] == ["companies", "relationships", "people"]
    assert sorted(_names(results, "companies")) == ["Northwind Bikes", "Northwind Traders"]
    analytics = next(h for h in _group(results, "relationships").hits if "Analytics" in h.name)
    assert analytics.detail == "Licence"
    assert analytics.places == [Place("Northwind Traders", book["a"].get_absolute_url())]
    nora = next(h for h in _group(results, "people").hits if h.name == "Nora Northwind")
    assert nora.detail == "nora@shared.example"
    assert [(place.name, place.note) for place in nora.places] == [
        ("Northwind Bikes", "Advisor"),
        ("Northwind Traders", "CFO"),
    ]
    assert results.count == 2 + 3 + 2


def test_a_person_opens_at_their_first_company_and_is_placed_by_title_or_role(csm_user, book):
    person = PersonFactory(first_name="Quinn", last_name="Quayle", email="quinn@example.com")
    CompanyPersonFactory(company=book["b"], person=person, title="", role="decision_maker")
    CompanyPersonFactory(company=book["a"], person=person, title="", role="champion")

    quinn = _group(search(user=csm_user, query="quayle"), "people").hits[0]

    assert quinn.url == book["b"].get_absolute_url()
    assert quinn.places == [
        Place("Northwind Bikes", book["b"].get_absolute_url(), "Decision maker"),
        Place("Northwind Traders", book["a"].get_absolute_url(), "Champion"),
    ]


@pytest.mark.parametrize(
    ("query", "group", "expected"),
    [
        ("NW-002", "companies", ["Northwind Bikes"]),
        ("nw-00", "companies", ["Northwind Bikes", "Northwind Traders"]),
        ("fleet", "relationships", ["Northwind Fleet"]),
        ("Nora North", "people", ["Nora Northwind"]),
        ("bikes.example", "people", ["Bea Northwind"]),
    ],
)
def test_finds_by_external_id_full_name_and_email(csm_user, book, query, group, expected):
    assert sorted(_names(search(user=csm_user, query=query), group)) == expected


def test_exact_and_prefix_matches_come_first(csm_user):
    CompanyFactory(name="Old Acme Holdings")
    CompanyFactory(name="Acme Europe")
    CompanyFactory(name="Acme")

    assert _names(search(user=csm_user, query="acme"), "companies") == [
        "Acme",
        "Acme Europe",
        "Old Acme Holdings",
    ]


def test_people_found_by_name_come_before_people_found_by_email(csm_user):
    company = CompanyFactory()
    for first, last, email in [
        ("Ann", "Zeller", "ann@burns.example"),
        ("Carrie", "Burnett", "carrie@acme.example"),
        ("Burt", "Young", "by@acme.example"),
        ("Kelly", "Burns", "kelly@acme.example"),
    ]:
        CompanyPersonFactory(
            company=company, person=PersonFactory(first_name=first, last_name=last, email=email)
        )

    assert _names(search(user=csm_user, query="bur"), "people") == [
        "Carrie Burnett",
        "Kelly Burns",
        "Burt Young",
        "Ann Zeller",
    ]


def test_each_group_is_limited_and_counts_every_match(csm_user):
    for number in range(12):
        CompanyFactory(name=f"Globex {number:02d}")

    results = search(user=csm_user, query="globex", limit=10)

    companies = _group(results, "companies")
    assert len(companies.hits) == 10 and companies.count == 12 and companies.more == 2


def test_partner_a_never_sees_partner_bs_records(partner_a_user, book):
    results = search(user=partner_a_user, query="northwind")

    assert _names(results, "companies") == ["Northwind Traders"]
    assert sorted(_names(results, "relationships")) == ["Northwind Analytics", "Northwind Payroll"]
    # Nora is at one of A's companies: she is found, with that company only. Bea is not.
    people = _group(results, "people")
    assert [hit.name for hit in people.hits] == ["Nora Northwind"]
    assert [place.name for place in people.hits[0].places] == ["Northwind Traders"]
    # A runs Payroll at B's company: the company is named but not linked.
    payroll = next(h for h in _group(results, "relationships").hits if "Payroll" in h.name)
    assert payroll.places == [Place("Northwind Bikes", "")]
    assert results.count == 1 + 2 + 1


def test_partner_b_sees_its_companies_but_no_relationships_with_a_companies_only_scope(
    partner_b_user, book
):
    results = search(user=partner_b_user, query="northwind")

    assert _names(results, "companies") == ["Northwind Bikes"]
    assert _names(results, "relationships") == []
    assert sorted(_names(results, "people")) == ["Bea Northwind", "Nora Northwind"]
    nora = next(h for h in _group(results, "people").hits if h.name == "Nora Northwind")
    assert [place.name for place in nora.places] == ["Northwind Bikes"]


def test_a_query_shorter_than_two_characters_is_a_hint_not_a_search(
    csm_user, book, django_assert_num_queries
):
    with django_assert_num_queries(0):
        results = search(user=csm_user, query=" n ")

    assert results.hint == "Type at least 2 characters to search."
    assert results.groups == []


def test_the_query_is_trimmed_cleaned_and_capped():
    assert clean_query("  acme \t  europe \n") == "acme europe"
    assert clean_query("ac\x00me\x1b") == "acme"
    assert len(clean_query("x" * 5000)) == MAX_QUERY_LENGTH
    assert clean_query(None) == ""


def test_highlight_escapes_and_marks_every_match():
    assert str(highlight("<b>Acme</b> & acme", "acme")) == (
        "&lt;b&gt;<mark>Acme</mark>&lt;/b&gt; &amp; <mark>acme</mark>"
    )
    assert str(highlight("a.b (c)", "(c")) == "a.b <mark>(c</mark>)"


# The view ---------------------------------------------------------------------------


def test_htmx_gets_the_dropdown_fragment(csm_client, book):
    response = csm_client.get("/search/", {"q": "northwind"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'role="listbox"' in html and html.count('role="option"') == 2 + 3 + 2 + 1
    assert "<mark>Northwind</mark> Traders" in html
    assert 'href="/search/?q=northwind"' in html
    assert "HX-Request" in response["Vary"]


def test_without_htmx_the_full_page_with_every_group(csm_client, book):
    response = csm_client.get("/search/", {"q": "northwind"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="topsearch-q"' in html
    assert "7</strong> results for “northwind”" in html
    for heading in ("Companies", "Relationships", "People"):
        assert f'id="search-group-{heading.lower()}"' in html
    # On the page a person's companies are links.
    assert f'<a href="{book["a"].get_absolute_url()}">Northwind Traders</a>' in html
    assert '<span class="search-list__note">(CFO)</span>' in html


def test_the_dropdown_shows_ten_per_group_and_the_page_twenty_five(csm_client):
    for number in range(30):
        CompanyFactory(name=f"Initech {number:02d}")

    dropdown = csm_client.get("/search/", {"q": "initech"}, headers=HTMX).content.decode()
    page = csm_client.get("/search/", {"q": "initech"}).content.decode()

    assert dropdown.count('id="topsearch-companies-') == 10
    assert "10 of 30" in dropdown
    assert len(re.findall(r'class="strong-link" href="/companies/\d+/"', page)) == 25
    assert "Showing the best 25 of 30." in page


def test_a_short_query_shows_the_hint_in_both_answers(csm_client):
    dropdown = csm_client.get("/search/", {"q": "a"}, headers=HTMX).content.decode()
    page = csm_client.get("/search/", {"q": "a"}).content.decode()

    assert "Type at least 2 characters to search." in dropdown
    assert "Type at least 2 characters to search." in page


def test_an_empty_query_gives_an_empty_dropdown(csm_client):
    response = csm_client.get("/search/", {"q": "   "}, headers=HTMX)

    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_nothing_found_says_so(csm_client):
    html = csm_client.get("/search/", {"q": "zzqx"}, headers=HTMX).content.decode()

    assert "No companies, relationships or people match “zzqx”." in html


def test_the_partner_dropdown_leaves_out_the_other_partners_records(partner_a_client, book):
    html = partner_a_client.get("/search/", {"q": "north"}, headers=HTMX).content.decode()

    assert "Traders" in html and "Analytics" in html and "Nora" in html
    assert "Fleet" not in html and "Bea" not in html
    assert f'href="{book["b"].get_absolute_url()}"' not in html


def test_the_top_bar_has_the_as_you_type_search_box(csm_client):
    html = csm_client.get("/").content.decode()

    match = re.search(r'<input[^>]*id="topsearch-q"[^>]*>', html, re.S)
    assert match, "no search box"
    box = match.group(0)
    assert 'hx-get="/search/"' in box
    assert 'hx-trigger="input changed delay:250ms"' in box
    assert 'hx-target="#topsearch-panel"' in box and 'hx-push-url="false"' in box
    assert 'role="combobox"' in box and 'maxlength="100"' in box
    assert '<form class="topsearch" method="get" action="/search/"' in html


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/search/", {"q": "acme"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "%%",
        "_",
        "__",
        "\\",
        "a%b_c\\",
        "' OR 1=1 --",
        '"; DROP TABLE companies_company; --',
        "<script>alert(1)</script>",
        "{{ request }}",
        "{% debug %}",
        "nul\x00byte",
        "\u202eevil",
        "ÄÖÜ ß 漢字 🙂",
        "x" * 10_000,
        "northwind " * 50,
    ],
)
def test_hostile_queries_never_fail_and_are_escaped(csm_client, book, query):
    for headers in (HTMX, {}):
        response = csm_client.get("/search/", {"q": query}, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<script>alert(1)" not in html
    # Wildcards are searched as text: they match nothing here, not everything.
    if query in {"%", "%%", "_", "__"}:
        assert "Northwind" not in html


def test_a_percent_sign_is_searched_literally(csm_user):
    CompanyFactory(name="100% Juice")
    CompanyFactory(name="1000 Juicers")

    assert _names(search(user=csm_user, query="0% j"), "companies") == ["100% Juice"]


def test_search_runs_a_fixed_number_of_queries(csm_client, django_assert_max_num_queries):
    licence = RelationshipTypeFactory(name="Licence")

    def grow(size):
        for number in range(size):
            company = CompanyFactory(name=f"Umbrella {number}")
            RelationshipFactory(
                company=company, relationship_type=licence, name=f"Umbrella {number}"
            )
            CompanyPersonFactory(company=company, person__last_name="Umbrella")

    counts = []
    for size in (2, 30):
        grow(size)
        for headers in (HTMX, {}):
            with django_assert_max_num_queries(12) as captured:
                response = csm_client.get("/search/", {"q": "umbrella"}, headers=headers)
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))

    assert counts[0] == counts[2] and counts[1] == counts[3]


def test_partner_search_runs_a_fixed_number_of_queries(
    partner_a_client, partner_a, django_assert_max_num_queries
):
    counts = []
    for size in (2, 20):
        for number in range(size):
            company = CompanyFactory(name=f"Hooli {number}", managed_by=partner_a)
            CompanyPersonFactory(company=company, person__first_name="Hooli")
        with django_assert_max_num_queries(12) as captured:
            assert partner_a_client.get("/search/", {"q": "hooli"}, headers=HTMX).status_code == 200
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
