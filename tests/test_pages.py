"""Sign in and out, the home page, the navigation and healthz, for every persona."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companies.templatetags import gs
from tests.factories import (
    CompanyFactory,
    PartnerFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["admin_client", "csm_client", "viewer_client", "partner_a_client", "partner_b_client"]


def test_healthz_answers_ok_with_a_body(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok: database reachable\n"


@pytest.mark.parametrize(
    "url",
    ["/", "/companies/", "/companies/1/", "/relationships/1/", "/companies/?q=acme&page=2"],
)
def test_anonymous_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    login = reverse("login")
    assert response["Location"].startswith(f"{login}?next=")


def test_sign_in_page_has_the_form_and_the_product_name(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Gainsight Lite" in html
    assert 'name="username"' in html and 'type="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_signing_in_with_the_right_password_opens_home(client):
    UserFactory(username="dana", first_name="Dana", password="long-enough-secret")

    response = client.post(
        reverse("login"), {"username": "dana", "password": "long-enough-secret"}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert "Welcome back, Dana" in response.content.decode()


def test_signing_in_returns_to_the_page_asked_for(client):
    UserFactory(username="dana", password="long-enough-secret")

    response = client.post(
        f"{reverse('login')}?next=/companies/",
        {"username": "dana", "password": "long-enough-secret", "next": "/companies/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/companies/"


def test_a_wrong_password_is_refused_with_a_sentence(client):
    UserFactory(username="dana", password="long-enough-secret")

    response = client.post(reverse("login"), {"username": "dana", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signed_in_user_visiting_sign_in_goes_home(csm_client):
    response = csm_client.get(reverse("login"))

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signing_out_is_a_post_from_the_navigation(csm_client):
    home = csm_client.get("/").content.decode()
    assert f'method="post" action="{reverse("logout")}"' in home

    response = csm_client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert csm_client.get("/").status_code == 302


def test_signing_out_by_get_is_refused(csm_client):
    assert csm_client.get(reverse("logout")).status_code == 405
    assert csm_client.get("/").status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_gets_home_with_the_navigation(request, persona):
    client = request.getfixturevalue(persona)

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Gainsight Lite" in html
    assert f'href="{reverse("companies:list")}"' in html
    assert "Sign out" in html
    # htmx 2 from django-htmx, and the CSRF header every htmx request sends.
    assert "django_htmx/htmx-2.min.js" in html
    assert """hx-headers='{"x-csrftoken": """ in html
    assert "/static/css/app.css" in html


def test_navigation_names_the_user_and_their_role(csm_user, csm_client):
    csm_user.first_name, csm_user.last_name = "Casey", "Morgan"
    csm_user.save()

    html = csm_client.get("/").content.decode()

    assert "Casey Morgan" in html
    assert ">CSM<" in html


def test_navigation_names_the_partner_of_a_partner_user(partner_a_client):
    html = partner_a_client.get("/").content.decode()

    assert "Partner · Partner A" in html


def test_home_lists_my_renewals_of_the_next_90_days_only(csm_user, csm_client):
    today = dt.date.today()
    other_csm = UserFactory(username="other-csm")
    CompanyFactory(name="Soon Renewing", csm=csm_user, renewal_date=today + dt.timedelta(days=12))
    CompanyFactory(name="Far Renewing", csm=csm_user, renewal_date=today + dt.timedelta(days=200))
    CompanyFactory(name="Already Renewed", csm=csm_user, renewal_date=today - dt.timedelta(days=3))
    CompanyFactory(name="Not Mine", csm=other_csm, renewal_date=today + dt.timedelta(days=5))

    html = csm_client.get("/").content.decode()

    assert "Soon Renewing" in html
    assert "in 12 days" in html
    assert "Far Renewing" not in html
    assert "Already Renewed" not in html
    assert "Not Mine" not in html


def test_home_counts_what_the_user_may_see_and_their_own_book(csm_user, csm_client):
    CompanyFactory.create_batch(2, csm=csm_user, arr=Decimal("1500000"))
    RelationshipFactory.create_batch(3)  # three more companies, not the CSM's

    dashboard = csm_client.get("/").context["dashboard"]

    assert dashboard.company_count == 5
    assert dashboard.relationship_count == 3
    assert dashboard.my_company_count == 2
    assert dashboard.my_arr == Decimal("3000000")


def test_home_of_a_partner_user_counts_only_their_partners_records(partner_a, partner_a_client):
    mine = CompanyFactory(managed_by=partner_a)
    RelationshipFactory(company=mine)
    other = CompanyFactory(managed_by=PartnerFactory(name="Elsewhere"))
    RelationshipFactory(company=other)
    CompanyFactory()

    dashboard = partner_a_client.get("/").context["dashboard"]

    assert dashboard.company_count == 1
    assert dashboard.relationship_count == 1


@pytest.mark.parametrize("walked", [False, True], ids=["joined", "walked"])
def test_a_partner_users_renewals_are_their_partners_next_ones_in_date_order(
    partner_a, partner_a_client, monkeypatch, walked
):
    """Joined (a small partner) or walked in renewal date order with a grant probe per
    company (a partner holding a large share of the book): the same ten renewals."""
    import companies.selectors

    monkeypatch.setattr(companies.selectors, "_walk_is_cheaper", lambda **kwargs: walked)
    today = dt.date.today()
    for days in range(1, 13):
        CompanyFactory(
            name=f"Ours {days:02}", managed_by=partner_a, renewal_date=today + dt.timedelta(days)
        )
        CompanyFactory(name=f"Theirs {days:02}", renewal_date=today + dt.timedelta(days))
    CompanyFactory(name="Ours late", managed_by=partner_a, renewal_date=today + dt.timedelta(120))
    CompanyFactory(name="Ours past", managed_by=partner_a, renewal_date=today - dt.timedelta(1))

    with CaptureQueriesContext(connection) as captured:
        renewals = partner_a_client.get("/").context["dashboard"].my_renewals

    assert [company.name for company in renewals] == [f"Ours {days:02}" for days in range(1, 11)]
    sql = next(q["sql"] for q in captured.captured_queries if '"renewal_date" >=' in q["sql"])
    assert ("INNER JOIN" in sql) is not walked


def test_a_partner_users_home_counts_from_the_grants_in_fixed_queries(
    partner_a, partner_a_client, django_assert_max_num_queries
):
    """What a partner user may see, and their book, are read from the running counts of
    their grants and companies (gainsight_lite.row_counts: nothing counted, no record read)
    and the page's query count does not grow with their book."""

    def visit() -> list[str]:
        with django_assert_max_num_queries(9) as captured:
            assert partner_a_client.get("/").status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    RelationshipFactory(company=CompanyFactory(managed_by=partner_a))
    small = visit()
    for company in CompanyFactory.create_batch(4, managed_by=partner_a):
        RelationshipFactory.create_batch(2, company=company)
    RelationshipFactory.create_batch(2)
    large = visit()

    assert len(large) == len(small)
    # Nothing counted but the nav badge's own overdue CTAs.
    counted = [sql for sql in large if "COUNT(" in sql and 'FROM "success_cta"' not in sql]
    assert not counted
    assert sum('FROM "gainsight_lite_rowcount"' in sql for sql in large) == 3
    dashboard = partner_a_client.get("/").context["dashboard"]
    assert (dashboard.company_count, dashboard.relationship_count) == (5, 9)


def test_home_without_a_book_says_so(viewer_client):
    html = viewer_client.get("/").content.decode()

    assert "You are not the CSM of any company yet" in html


def _home_queries(client, django_assert_max_num_queries) -> int:
    # 9: the navigation's count of my overdue CTAs (the Cockpit badge) is one of them.
    with django_assert_max_num_queries(9) as captured:
        assert client.get("/").status_code == 200
    return len(captured.captured_queries)


def test_home_runs_a_fixed_number_of_queries(csm_user, csm_client, django_assert_max_num_queries):
    soon = dt.date.today() + dt.timedelta(days=30)
    CompanyFactory.create_batch(2, csm=csm_user, renewal_date=soon)
    small = _home_queries(csm_client, django_assert_max_num_queries)

    CompanyFactory.create_batch(25, csm=csm_user, renewal_date=soon)
    RelationshipFactory.create_batch(10)
    large = _home_queries(csm_client, django_assert_max_num_queries)

    assert small == large


def test_home_tiles_link_to_my_companies_only_when_i_have_some(csm_user, csm_client):
    mine = f'href="{reverse("companies:list")}?csm={csm_user.pk}"'
    assert mine not in csm_client.get("/").content.decode()

    CompanyFactory(csm=csm_user, status="at_risk")
    html = csm_client.get("/").content.decode()

    assert mine in html
    assert f"?csm={csm_user.pk}&amp;status=at_risk" in html


# ---------- formatting helpers shown on every page ----------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.49"), "$1,234,567"),
        (Decimal("0.5"), "$1"),
        (0, "$0"),
        (Decimal("-2500"), "−$2,500"),
        (None, "—"),
    ],
)
def test_money_is_whole_dollars_with_separators(value, shown):
    assert gs.money(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1234.5, "$1,234.50"), (3, "$3.00"), ("12.345", "$12.35"), (None, "—")],
)
def test_money_cents_keeps_two_decimals(value, shown):
    assert gs.money_cents(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(2_400_000, "$2.4M"), (48_000, "$48K"), (1_000_000_000, "$1B"), (950, "$950")],
)
def test_money_compact_for_summary_tiles(value, shown):
    assert gs.money_compact(value) == shown


@pytest.mark.parametrize(
    ("offset", "words", "urgency"),
    [
        (0, "today", "soon"),
        (1, "tomorrow", "soon"),
        (45, "in 45 days", "near"),
        (1200, "in 1,200 days", "later"),
        (-1, "yesterday", "past"),
        (-30, "30 days ago", "past"),
    ],
)
def test_days_left_in_words_and_urgency(offset, words, urgency):
    day = timezone.localdate() + dt.timedelta(days=offset)

    assert gs.days_left(day) == words
    assert gs.renewal_urgency(day) == urgency


def test_no_date_has_no_days_left():
    assert gs.days_left(None) == ""
    assert gs.renewal_urgency(None) == "none"


@pytest.mark.parametrize(
    ("name", "letters"), [("Dana Scully", "DS"), ("acme", "A"), ("", "?"), ("  ", "?")]
)
def test_initials_for_avatars(name, letters):
    assert gs.initials(name) == letters
