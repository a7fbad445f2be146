"""The one implementation of what the apps used to write each for themselves: the company
picker's search, the dialog's saved reply, wants_fragment, service errors on a form, user and
relationship labels, the page numbers of a list."""

from __future__ import annotations

import json

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from companies.selectors import companies_for_picker
from gainsight_lite.forms import add_service_errors, user_label
from gainsight_lite.http import dialog_saved, wants_fragment
from gainsight_lite.pagination import page_range
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_picker_ranks_the_exact_external_id_then_names_that_start_with_it(csm_user):
    CompanyFactory(name="Northwind Umbra", external_id="N-1")
    CompanyFactory(name="Umbrella", external_id="U-1")
    CompanyFactory(name="Acme", external_id="UMB")

    names = [c.name for c in companies_for_picker(user=csm_user, q="umb")]

    assert names == ["Acme", "Umbrella", "Northwind Umbra"]


def test_the_picker_needs_two_letters_drops_a_nul_and_shows_eight(csm_user):
    CompanyFactory.create_batch(10, name="Initech branch")

    assert companies_for_picker(user=csm_user, q="I") == []
    assert len(companies_for_picker(user=csm_user, q="Ini\x00tech")) == 8


def test_the_picker_lists_only_companies_the_user_may_see(partner_a, partner_a_user):
    CompanyFactory(name="Alpha Co", managed_by=partner_a)
    CompanyFactory(name="Beta Co")

    assert [c.name for c in companies_for_picker(user=partner_a_user, q="a co")] == ["Alpha Co"]


def test_dialog_saved_closes_the_dialog_and_sends_the_events():
    response = dialog_saved("ctaChanged", "planChanged")

    assert response.status_code == 204
    assert set(json.loads(response["HX-Trigger"])) == {"closeModal", "ctaChanged", "planChanged"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ],
)
def test_wants_fragment(headers, expected):
    request = RequestFactory().get("/", headers=headers)
    HtmxMiddleware(lambda r: HttpResponse())(request)  # sets request.htmx

    assert wants_fragment(request) is expected


def test_service_errors_go_next_to_their_field_or_the_fallback():
    class NameForm(forms.Form):
        name = forms.CharField()

    form = NameForm({"name": "x"})
    form.is_valid()
    add_service_errors(
        form, ValidationError({"name": "Taken.", "other": "Elsewhere."}), fallback="name"
    )
    add_service_errors(form, ValidationError("Above the form."))

    assert form.errors["name"] == ["Taken.", "Elsewhere."]
    assert form.non_field_errors() == ["Above the form."]


def test_user_label_prefers_the_full_name():
    assert user_label(UserFactory(username="jd", first_name="Jo", last_name="Doe")) == "Jo Doe"
    assert user_label(UserFactory(username="nobody", first_name="", last_name="")) == "nobody"


def test_page_range_elides_the_middle():
    page = Paginator(list(range(200)), 10).page(10)

    assert page_range(page) == [1, "…", 8, 9, 10, 11, 12, "…", 20]


def test_the_picker_matches_the_start_of_names_under_three_letters(csm_user):
    CompanyFactory(name="Copper Mills", external_id="X-1")
    CompanyFactory(name="Alpha Co", external_id="X-2")

    assert [c.name for c in companies_for_picker(user=csm_user, q="co")] == ["Copper Mills"]


@pytest.mark.parametrize("value", [None, "", "2", "99"])
def test_quick_select_draws_what_djangos_select_templates_draw(value):
    from django.test.html import parse_html

    from gainsight_lite.forms import QuickSelect

    choices = [
        ("", "All CSMs"),
        ("1", 'Ann "A" <Lee>'),
        ("2", "Bo & Co"),
        ("Region", [("3", "Cy"), ("4", "Di")]),
    ]
    attrs = {"id": "id_csm", "class": "select", "required": True, "data-x": "a'b"}
    quick = QuickSelect(choices=choices).render("csm", value, attrs)
    django = forms.Select(choices=choices).render("csm", value, attrs)
    assert parse_html(quick) == parse_html(django)
    assert "<script" not in quick and "&lt;Lee&gt;" in quick
    if value == "2":
        assert '<option value="2" selected>' in quick
