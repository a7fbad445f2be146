"""The relationships section (C360): configuration, cards, filters and the add dialog."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from layouts.models import Layout, Section
from layouts.sections import REGISTRY, section_url
from relationships.models import Relationship, RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Kind = RelationshipTypeField.Kind
Status = Relationship.Status
HTMX = {"HX-Request": "true"}
KIND = REGISTRY["relationships"]


def section_with(**config) -> Section:
    layout = LayoutFactory(target=Layout.Target.COMPANY)
    section = SectionFactory(layout=layout, kind="relationships")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def html_of(response) -> str:
    """The answer's HTML without the whitespace between tags."""
    return re.sub(r">\s+<", "><", response.content.decode())


def card_names(html: str) -> list[str]:
    return re.findall(r'<h4 class="rel-card__name"><a href="[^"]+">([^<]+)</a>', html)


def get_section(client, company, section, **params):
    return client.get(section_url(company, section), params, headers=HTMX)


def add_url(company, section) -> str:
    return section_url(company, section, "add")


def error_of(html: str) -> list[str]:
    return re.findall(r'<p class="field__error"[^>]*>([^<]*)</p>', html)


@pytest.fixture
def book():
    """Acme with two products and a service, of three statuses."""
    company = CompanyFactory(name="Acme")
    product = RelationshipTypeFactory(name="Product", order=1)
    service = RelationshipTypeFactory(name="Service", order=2)
    RelationshipFactory(company=company, relationship_type=product, name="Analytics")
    RelationshipFactory(
        company=company, relationship_type=product, name="Billing", status=Status.AT_RISK
    )
    RelationshipFactory(
        company=company, relationship_type=service, name="Onboarding", status=Status.CHURNED
    )
    RelationshipFactory(relationship_type=product, name="Someone else's")
    return company, product, service


@pytest.fixture
def seats_type():
    """A type with a required number field and a choice field."""
    kind = RelationshipTypeFactory(name="Platform", description="The core platform licence.")
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="seats", label="Seats", kind=Kind.NUMBER, required=True
    )
    RelationshipTypeFieldFactory(
        relationship_type=kind,
        key="tier",
        label="Tier",
        kind=Kind.CHOICE,
        choices=["Gold", "Silver"],
    )
    return kind


# Configuration --------------------------------------------------------------------------------


def test_default_config_shows_every_type_and_churned_ones():
    assert KIND.default_config(None) == {"types": [], "show_churned": True}


def test_config_accepts_existing_types_and_refuses_unknown_ones(book):
    _, product, _ = book

    assert KIND.clean_config({"types": [product.pk], "show_churned": False}, layout=None) == {
        "types": [product.pk],
        "show_churned": False,
    }
    with pytest.raises(ValidationError) as refused:
        KIND.clean_config({"types": [424242], "show_churned": True}, layout=None)
    assert "Relationship types: Choose relationship types that exist." in str(refused.value)


def test_section_kind_is_for_c360_only(seats_type):
    layout = LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=seats_type)
    section = Section(layout=layout, kind="relationships", title="Relationships")
    with pytest.raises(ValidationError):
        section.full_clean()


# Rendering ------------------------------------------------------------------------------------


def test_cards_are_grouped_by_type_with_status_csm_arr_and_list_fields(csm_client):
    company = CompanyFactory()
    kind = RelationshipTypeFactory(name="Product")
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="seats", label="Seats", kind=Kind.NUMBER, shown_in_lists=True
    )
    RelationshipTypeFieldFactory(relationship_type=kind, key="secret", label="Hidden note")
    casey = UserFactory(first_name="Casey", last_name="Morgan")
    RelationshipFactory(
        company=company,
        relationship_type=kind,
        name="Analytics",
        csm=casey,
        arr=Decimal("48000"),
        status=Status.AT_RISK,
        attributes={"seats": 1500, "secret": "x"},
    )

    html = html_of(get_section(csm_client, company, section_with()))

    assert re.search(r'<h3 class="rel-group__title">\s*Product\s*<span', html)
    assert '<span class="badge badge--at_risk">At risk</span>' in html
    assert "<dt>CSM</dt><dd>Casey Morgan</dd>" in html
    assert "<dt>ARR</dt><dd>$48,000</dd>" in html
    assert "<dt>Seats</dt><dd>1,500</dd>" in html
    assert "Hidden note" not in html


def test_config_limits_the_types_and_can_hide_churned_ones(csm_client, book):
    company, product, service = book

    every = card_names(html_of(get_section(csm_client, company, section_with())))
    products = card_names(
        html_of(get_section(csm_client, company, section_with(types=[product.pk])))
    )
    running = html_of(get_section(csm_client, company, section_with(show_churned=False)))

    assert every == ["Analytics", "Billing", "Onboarding"]
    assert products == ["Analytics", "Billing"]
    assert card_names(running) == ["Analytics", "Billing"]
    assert '<option value="churned"' not in running


def test_no_relationships_says_so(csm_client):
    html = html_of(get_section(csm_client, CompanyFactory(), section_with()))
    assert "No relationships to show" in html


# Filters --------------------------------------------------------------------------------------


def test_filters_offer_the_companys_types_and_the_statuses(csm_client, book):
    company, product, service = book
    RelationshipTypeFactory(name="Unused type")

    html = html_of(get_section(csm_client, company, section_with()))

    assert f'<option value="{product.pk}">Product</option>' in html
    assert f'<option value="{service.pk}">Service</option>' in html
    assert "Unused type" not in html
    assert '<option value="at_risk">At risk</option>' in html
    assert 'hx-trigger="change"' in html
    assert "3 relationships" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "product"}, ["Analytics", "Billing"]),
        ({"status": "at_risk"}, ["Billing"]),
        ({"type": "service", "status": "churned"}, ["Onboarding"]),
        ({"type": "product", "status": "active"}, ["Analytics"]),
    ],
)
def test_filters_narrow_the_cards(csm_client, book, params, expected):
    company, product, service = book
    ids = {"product": str(product.pk), "service": str(service.pk)}
    if "type" in params:
        params = {**params, "type": ids[params["type"]]}
    section = section_with()

    response = get_section(csm_client, company, section, **params)

    html = html_of(response)
    assert card_names(html) == expected
    assert f"{len(expected)} of 3" in html
    # The section reloads with its filters when the page's data changes.
    assert re.search(r'hx-get="/companies/\d+/sections/\d+/\?[^"]*status=|type=', html)


@pytest.mark.parametrize(
    "params",
    [
        {"type": "abc"},
        {"type": "424242"},
        {"status": "lost"},
        {"type": "", "status": ""},
        {"type": "1 OR 1=1", "status": "<script>"},
    ],
)
def test_unknown_filter_values_are_ignored(csm_client, book, params):
    company, _, _ = book

    response = get_section(csm_client, company, section_with(), **params)

    assert response.status_code == 200
    html = html_of(response)
    assert card_names(html) == ["Analytics", "Billing", "Onboarding"]
    assert "<script>" not in html


def test_a_type_the_section_does_not_show_is_ignored_as_a_filter(csm_client, book):
    company, product, service = book
    section = section_with(types=[product.pk])

    html = html_of(get_section(csm_client, company, section, type=str(service.pk)))

    assert card_names(html) == ["Analytics", "Billing"]


def test_a_filter_without_matches_has_its_own_empty_state(csm_client, book):
    company, _, service = book

    html = html_of(
        get_section(csm_client, company, section_with(), type=str(service.pk), status="at_risk")
    )

    assert card_names(html) == []
    assert "No at risk Service relationships" in html
    assert "Show all relationships" in html


# Permissions ----------------------------------------------------------------------------------


def test_add_button_only_for_users_who_may_add(csm_client, viewer_client, book):
    company, _, _ = book
    section = section_with()

    csm_html = html_of(get_section(csm_client, company, section))
    viewer_html = html_of(get_section(viewer_client, company, section))

    assert f'hx-get="{add_url(company, section)}"' in csm_html
    assert "Add relationship" in csm_html
    assert "Add relationship" not in viewer_html
    assert add_url(company, section) not in viewer_html


def test_viewer_may_not_open_or_post_the_add_dialog(viewer_client, book, seats_type):
    company, _, _ = book
    section = section_with()

    opened = viewer_client.get(add_url(company, section), headers=HTMX)
    posted = viewer_client.post(
        add_url(company, section),
        {"relationship_type": seats_type.pk, "name": "Sneaky", "status": "active", "arr": "0"},
        headers=HTMX,
    )

    assert opened.status_code == 403
    assert posted.status_code == 403
    assert not Relationship.objects.filter(name="Sneaky").exists()


def test_the_relationships_section_is_not_for_partner_users(partner_a, partner_b, partner_a_client):
    """Not a partner section kind: a 404 even on their own company, the same as no section."""
    company = CompanyFactory(managed_by=partner_a)
    RelationshipFactory(company=company, name="Theirs")  # no partner of its own: inherited
    RelationshipFactory(company=company, name="Another partner's", managed_by=partner_b)
    section = section_with()

    assert get_section(partner_a_client, company, section).status_code == 404
    assert partner_a_client.get(section_url(company, section, "add")).status_code == 404


def test_partner_user_gets_404_for_a_company_they_may_not_see(partner_a_client, partner_b):
    company = CompanyFactory(managed_by=partner_b)
    section = section_with()

    assert get_section(partner_a_client, company, section).status_code == 404
    assert partner_a_client.get(add_url(company, section), headers=HTMX).status_code == 404


# The add dialog -------------------------------------------------------------------------------


def test_step_one_lists_the_active_types_the_section_shows(csm_client, book, seats_type):
    company, product, service = book
    RelationshipTypeFactory(name="Retired", active=False)
    section = section_with(types=[product.pk, seats_type.pk])

    html = html_of(csm_client.get(add_url(company, section), headers=HTMX))

    assert "Add a relationship to Acme" in html
    assert f'value="{product.pk}"' in html and f'value="{seats_type.pk}"' in html
    assert "The core platform licence." in html
    assert "Service" not in html and "Retired" not in html
    assert 'method="dialog"' in html


def test_step_one_refuses_a_type_it_does_not_offer(csm_client, book):
    company, _, _ = book
    retired = RelationshipTypeFactory(name="Retired", active=False)

    html = html_of(
        csm_client.get(
            add_url(company, section_with()), {"relationship_type": retired.pk}, headers=HTMX
        )
    )

    assert "What kind of relationship is it?" in html
    assert error_of(html) == ["Choose one of the active relationship types."]


def test_step_two_renders_the_types_fields_as_typed_inputs(csm_client, book, seats_type):
    company, _, _ = book
    company.csm = UserFactory(first_name="Casey", last_name="Morgan")
    company.save()
    section = section_with()

    html = html_of(
        csm_client.get(
            add_url(company, section), {"relationship_type": seats_type.pk}, headers=HTMX
        )
    )

    assert "New Platform relationship" in html
    assert f'name="relationship_type" value="{seats_type.pk}"' in html
    assert 'type="number" name="attr_seats"' in html
    assert '<select name="attr_tier"' in html and '<option value="Gold">Gold</option>' in html
    assert 'type="date" name="renewal_date"' in html
    assert f'<option value="{company.csm.pk}" selected>Casey Morgan</option>' in html
    assert f'hx-post="{add_url(company, section)}"' in html


def test_change_type_goes_back_to_step_one_with_the_type_chosen(csm_client, book, seats_type):
    company, product, _ = book

    html = html_of(
        csm_client.get(
            add_url(company, section_with()),
            {"relationship_type": seats_type.pk, "step": "type"},
            headers=HTMX,
        )
    )

    assert "What kind of relationship is it?" in html
    assert re.search(rf'value="{seats_type.pk}" required\s*checked', html)
    assert not re.search(rf'value="{product.pk}" required\s*checked', html)


def _post(client, company, section, relationship_type, **fields):
    data = {
        "relationship_type": relationship_type.pk,
        "name": "Platform EU",
        "status": "active",
        "stage": "",
        "csm": "",
        "arr": "120,000",
        "mrr": "10000",
        "start_date": "2025-01-01",
        "renewal_date": "",
        "attr_seats": "250",
        "attr_tier": "Gold",
        **fields,
    }
    return client.post(add_url(company, section), data, headers=HTMX)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"attr_seats": "lots"}, "attr_seats", "Enter a number."),
        ({"attr_seats": ""}, "attr_seats", "This field is required."),
        (
            {"attr_tier": "Bronze"},
            "attr_tier",
            "Choose one of: Gold, Silver.",
        ),
        ({"arr": "-10"}, "arr", "Enter an amount of zero or more."),
        ({"name": ""}, "name", "This field is required."),
        ({"start_date": "01/02/2025"}, "start_date", "Enter a date as YYYY-MM-DD."),
    ],
)
def test_a_wrong_value_is_shown_next_to_its_field_and_nothing_saved(
    csm_client, book, seats_type, fields, field, message
):
    company, _, _ = book
    section = section_with()

    response = _post(csm_client, company, section, seats_type, **fields)

    assert response.status_code == 200
    html = html_of(response)
    assert re.search(
        rf'name="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="{field}"'
        rf'|<select name="{field}"[^>]*aria-invalid="true"',
        html,
    ), html
    assert f'<p class="field__error" id="id_{field}-error">{message}</p>' in html
    assert "HX-Trigger" not in response.headers
    assert not Relationship.objects.filter(name="Platform EU").exists()


def test_a_duplicate_name_for_the_company_and_type_is_shown_next_to_the_name(
    csm_client, book, seats_type
):
    company, _, _ = book
    RelationshipFactory(
        company=company, relationship_type=seats_type, name="Platform EU", attributes={"seats": 1}
    )
    section = section_with()

    response = _post(csm_client, company, section, seats_type)

    html = html_of(response)
    assert (
        '<p class="field__error" id="id_name-error">'
        "Acme already has a Platform relationship named “Platform EU”.</p>"
    ) in html
    assert Relationship.objects.filter(name="Platform EU").count() == 1


def test_the_same_name_under_another_type_or_company_is_fine(csm_client, book, seats_type):
    company, product, _ = book
    RelationshipFactory(company=company, relationship_type=product, name="Platform EU")
    RelationshipFactory(relationship_type=seats_type, name="Platform EU", attributes={"seats": 1})

    response = _post(csm_client, company, section_with(), seats_type)

    assert response.status_code == 204
    assert Relationship.objects.filter(name="Platform EU").count() == 3


def test_a_valid_relationship_is_saved_the_dialog_closes_and_the_section_refreshes(
    csm_client, csm_user, book, seats_type
):
    company, _, _ = book
    section = section_with()

    response = _post(csm_client, company, section, seats_type, csm=str(csm_user.pk))

    assert response.status_code == 204
    assert set(json.loads(response.headers["HX-Trigger"])) == {"closeModal", "subjectChanged"}
    created = Relationship.objects.get(name="Platform EU")
    assert created.company == company
    assert created.relationship_type == seats_type
    assert created.arr == Decimal("120000")
    assert created.csm == csm_user
    assert created.attributes == {"seats": 250, "tier": "Gold"}
    html = html_of(get_section(csm_client, company, section))
    assert "Platform EU" in card_names(html)


def test_the_section_refreshes_on_subject_changed(csm_client, book):
    company, _, _ = book
    html = html_of(get_section(csm_client, company, section_with()))
    assert 'hx-trigger="subjectChanged from:body"' in html


# Query budget ---------------------------------------------------------------------------------


def _company_with(count: int):
    company = CompanyFactory()
    types = [RelationshipTypeFactory() for _ in range(3)]
    for kind in types:
        RelationshipTypeFieldFactory(relationship_type=kind, shown_in_lists=True, kind=Kind.TEXT)
    for number in range(count):
        RelationshipFactory(
            company=company,
            relationship_type=types[number % 3],
            csm=UserFactory(),
            status=Status.AT_RISK if number % 2 else Status.ACTIVE,
        )
    return company


@pytest.mark.parametrize("params", [{}, {"status": "at_risk"}, {"type": "nope"}])
def test_section_queries_do_not_grow_with_the_number_of_relationships(
    csm_client, django_assert_max_num_queries, params
):
    counts = []
    section = section_with()
    for size in (2, 30):
        company = _company_with(size)
        with django_assert_max_num_queries(10) as captured:
            response = get_section(csm_client, company, section, **params)
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
