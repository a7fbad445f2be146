"""The Django admin: every page opens, the company list stays cheap, and the admin enforces
the same hierarchy, attribute and membership rules, with the same sentences, as the services."""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from factory.django import DjangoModelFactory

from companies.models import Company, CompanyPerson
from companies.services import company_create
from partners.models import Partner, PartnerUser
from relationships.forms import RelationshipForm, attribute_form_fields
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)
from tests import factories
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    PartnerFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
Kind = RelationshipTypeField.Kind

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def factory_for(model: type[Model]) -> type[DjangoModelFactory[Any]] | None:
    for candidate in vars(factories).values():
        if (
            inspect.isclass(candidate)
            and issubclass(candidate, DjangoModelFactory)
            and candidate._meta.model is model
        ):
            return candidate
    return None


def posted(response: Any, **changes: Any) -> dict[str, Any]:
    """What a browser posts back for the admin form in `response`, with `changes` applied."""
    forms_on_page: list[forms.BaseForm] = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms_on_page.append(inline.formset.management_form)
        forms_on_page.extend(inline.formset.forms)
    data: dict[str, Any] = {}
    for form in forms_on_page:
        for bound in form:
            value = bound.value()
            widget = bound.field.widget
            if isinstance(widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
                continue
            shown = widget.format_value(value)
            if isinstance(shown, list):
                shown = shown[0] if shown else ""
            data[bound.html_name] = "" if shown is None else shown
    data.update(changes)
    return data


def form_errors(response: Any) -> dict[str, list[str]]:
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


# Every page of every registered model ---------------------------------------------------


@pytest.fixture
def one_of_each(admin_user):
    """At least one record of every model the project registers in the admin."""
    group = CompanyFactory(name="Globex Group")
    # Managed by a partner: its group's permission rows have admin pages too.
    company = CompanyFactory(name="Globex Europe", parent=group, managed_by=PartnerFactory())
    product = RelationshipTypeFactory(name="Analytics Cloud")
    RelationshipTypeFieldFactory(relationship_type=product, key="seats", kind=Kind.NUMBER)
    relationship = RelationshipFactory(
        company=company, relationship_type=product, attributes={"seats": 10}
    )
    RelationshipPersonFactory(relationship=relationship)
    PartnerUserFactory()


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_admin_list_add_and_change_page_opens(admin_client, one_of_each, model):
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    # Read-only admins (the partners' permission rows, written by assignments) have no add page.
    adds = admin.site._registry[model].has_add_permission(admin_client.get("/").wsgi_request)
    assert admin_client.get(admin_url(model, "add")).status_code == (200 if adds else 403)
    record = model._default_manager.first()
    if record is None:
        factory = factory_for(model)
        assert factory is not None, f"Add a factory for {model._meta.label} to tests/factories.py"
        record = factory()
    assert admin_client.get(admin_url(model, "change", record.pk)).status_code == 200


def test_every_model_of_the_project_has_an_admin():
    for app_label in ("companies", "relationships", "partners"):
        for model in apps.get_app_config(app_label).get_models():
            # An audit trail's table (django-simple-history) is its record's History page.
            audited = getattr(model, "instance_type", None)
            if audited is not None:
                assert audited in admin.site._registry, f"{audited._meta.label} has no admin"
                continue
            assert model in admin.site._registry, f"{model._meta.label} has no admin"


# Companies: the tree, the budget, search ---------------------------------------------


def test_company_list_shows_the_tree_in_order_with_children_indented(admin_client):
    zeta = CompanyFactory(name="Zeta Holdings")
    CompanyFactory(name="Alpha Subsidiary", parent=zeta)
    CompanyFactory(name="Beta Corp")
    content = admin_client.get(admin_url(Company, "changelist")).content.decode()
    # Tree order, not name order: the child follows its parent.
    positions = [content.index(name) for name in ("Beta Corp", "Zeta Holdings", "Alpha Subsidiary")]
    assert positions == sorted(positions)
    indent = '<svg class="admin-indent" width="{}" height="1" aria-hidden="true"></svg>{}'
    assert indent.format(20, "Alpha Subsidiary") in content
    assert indent.format(0, "Zeta Holdings") in content


def build_book(size: int) -> None:
    """`size` top-level companies, each with a child, its own CSM and its own partner."""
    for number in range(size):
        top = CompanyFactory(
            name=f"Customer {number}", csm=UserFactory(), managed_by=PartnerFactory()
        )
        CompanyFactory(name=f"Customer {number} Europe", parent=top, csm=top.csm)


@pytest.mark.parametrize("size", [3, 30])
def test_company_list_runs_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries, size
):
    build_book(size)
    # Eight: the session, the user, whether they work for a partner (partner users get 404 in
    # the admin), the two filters' choices, the count, the page's keys and its rows.
    with django_assert_max_num_queries(8):
        response = admin_client.get(admin_url(Company, "changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == min(2 * size, 50)


def test_company_search_finds_a_company_by_its_external_id(admin_client):
    wanted = CompanyFactory(name="Initech", external_id="CRM-4711")
    CompanyFactory(name="Umbrella", external_id="CRM-4712")
    response = admin_client.get(admin_url(Company, "changelist"), {"q": "CRM-4711"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_company_parent_is_an_autocomplete_not_a_list_of_every_company(admin_client):
    company = CompanyFactory(name="Initech")
    CompanyFactory(name="Unrelated Umbrella")
    content = admin_client.get(admin_url(Company, "change", company.pk)).content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in content
    assert 'name="parent"' in content
    assert "Unrelated Umbrella" not in content


def test_parent_autocomplete_offers_no_company_at_the_fifth_level(admin_client):
    chain = make_chain(5, prefix="Level")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "companies",
            "model_name": "company",
            "field_name": "parent",
            "term": "Level",
        },
    )
    offered = [result["text"] for result in response.json()["results"]]
    assert sorted(offered) == [c.name for c in chain[:4]]


# Companies: hierarchy rules through the change form -----------------------------------


def make_chain(depth: int, prefix: str = "L") -> list[Company]:
    companies: list[Company] = []
    parent = None
    for level in range(depth):
        parent = company_create(name=f"{prefix}{level + 1}", parent=parent)
        companies.append(parent)
    return companies


def test_moving_a_company_under_its_descendant_shows_the_message_and_saves_nothing(
    admin_client,
):
    top, _middle, leaf = make_chain(3, prefix="Acme ")
    url = admin_url(Company, "change", top.pk)
    response = admin_client.post(
        url, posted(admin_client.get(url), parent=leaf.pk, industry="Changed")
    )
    assert response.status_code == 200
    assert form_errors(response)["parent"] == [
        "Acme 1 cannot be moved under Acme 3: Acme 3 is one of its own descendants."
    ]
    assert "is one of its own descendants" in response.content.decode()
    top.refresh_from_db()
    assert top.parent is None and top.industry != "Changed"
    assert Company.objects.get(pk=leaf.pk).level == 2


def test_moving_a_subtree_below_five_levels_shows_the_message_and_saves_nothing(admin_client):
    chain = make_chain(5)
    europe = company_create(name="Acme Europe")
    company_create(name="Acme Paris", parent=europe)
    url = admin_url(Company, "change", europe.pk)
    response = admin_client.post(url, posted(admin_client.get(url), parent=chain[3].pk))
    assert response.status_code == 200
    assert form_errors(response)["parent"] == [
        "A company hierarchy is at most five levels deep: under L4, the deepest company "
        "below Acme Europe would be at level 6."
    ]
    europe.refresh_from_db()
    assert europe.parent is None and europe.level == 0


def test_adding_a_company_at_a_sixth_level_shows_the_message(admin_client):
    deepest = make_chain(5)[-1]
    url = admin_url(Company, "add")
    response = admin_client.post(
        url, posted(admin_client.get(url), name="Acme Europe", parent=deepest.pk)
    )
    assert form_errors(response)["parent"] == [
        "A company hierarchy is at most five levels deep: Acme Europe would be at level 6."
    ]
    assert not Company.objects.filter(name="Acme Europe").exists()


def test_a_valid_move_through_the_admin_moves_the_subtree(admin_client):
    top, middle, leaf = make_chain(3)
    other = company_create(name="Other")
    url = admin_url(Company, "change", middle.pk)
    response = admin_client.post(url, posted(admin_client.get(url), parent=other.pk))
    assert response.status_code == 302
    leaf.refresh_from_db()
    assert leaf.get_ancestors().first() == other and leaf.level == 2


def test_a_person_manager_from_another_company_is_refused(admin_client):
    person = CompanyPersonFactory()
    outsider = CompanyPersonFactory()
    url = admin_url(CompanyPerson, "change", person.pk)
    response = admin_client.post(url, posted(admin_client.get(url), manager=outsider.pk))
    assert form_errors(response)["manager"] == ["The manager must be a person at the same company."]


# Relationships: typed attribute fields --------------------------------------------------


@pytest.fixture
def product():
    kind = RelationshipTypeFactory(name="Analytics Cloud")
    specs = [
        ("edition", Kind.CHOICE, True, ["Standard", "Enterprise"]),
        ("seats", Kind.NUMBER, False, []),
        ("list_price", Kind.CURRENCY, False, []),
        ("adoption", Kind.PERCENT, False, []),
        ("go_live", Kind.DATE, False, []),
        ("sso", Kind.BOOLEAN, False, []),
        ("portal", Kind.URL, False, []),
        ("billing_contact", Kind.EMAIL, False, []),
        ("notes", Kind.LONG_TEXT, False, []),
        ("region", Kind.TEXT, False, []),
    ]
    for order, (key, field_kind, required, choices) in enumerate(specs):
        RelationshipTypeFieldFactory(
            relationship_type=kind,
            key=key,
            label=key.replace("_", " ").capitalize(),
            kind=field_kind,
            required=required,
            choices=choices,
            order=order,
            help_text=f"About {key}.",
        )
    return kind


def test_each_kind_becomes_its_typed_form_field(product):
    fields: dict[str, Any] = attribute_form_fields(product)
    assert list(fields) == [
        "attr_edition",
        "attr_seats",
        "attr_list_price",
        "attr_adoption",
        "attr_go_live",
        "attr_sso",
        "attr_portal",
        "attr_billing_contact",
        "attr_notes",
        "attr_region",
    ]
    expected = {
        "attr_edition": forms.ChoiceField,
        "attr_seats": forms.DecimalField,
        "attr_list_price": forms.DecimalField,
        "attr_adoption": forms.DecimalField,
        "attr_go_live": forms.DateField,
        "attr_sso": forms.ChoiceField,
        "attr_portal": forms.URLField,
        "attr_billing_contact": forms.EmailField,
        "attr_notes": forms.CharField,
        "attr_region": forms.CharField,
    }
    for name, field_class in expected.items():
        assert type(fields[name]) is field_class, name
    edition = fields["attr_edition"]
    assert edition.required and edition.label == "Edition" and edition.help_text == "About edition."
    assert [value for value, _ in edition.choices] == ["", "Standard", "Enterprise"]
    assert not fields["attr_seats"].required
    assert fields["attr_adoption"].max_value == 100 and fields["attr_adoption"].min_value == 0
    assert fields["attr_list_price"].decimal_places == 2
    assert fields["attr_go_live"].widget.input_type == "date"
    assert isinstance(fields["attr_notes"].widget, forms.Textarea)
    assert fields["attr_region"].max_length == 255
    assert [value for value, _ in fields["attr_sso"].choices] == ["", "yes", "no"]


def test_the_add_page_asks_for_the_type_first(admin_client, product):
    RelationshipTypeFactory(name="Retired product", active=False)
    response = admin_client.get(admin_url(Relationship, "add"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "admin/relationships/relationship/choose_type.html" in [
        t.name for t in response.templates
    ]
    assert "Analytics Cloud" in content and "Retired product" not in content
    assert 'name="attr_' not in content
    # An unknown type in the URL brings the picker back with a sentence.
    response = admin_client.get(admin_url(Relationship, "add"), {"relationship_type": "999"})
    assert "Choose one of the active relationship types." in response.content.decode()


def test_the_second_step_shows_the_types_fields(admin_client, product):
    response = admin_client.get(admin_url(Relationship, "add"), {"relationship_type": product.pk})
    content = response.content.decode()
    assert response.status_code == 200
    for key in ("edition", "seats", "go_live", "sso", "portal", "notes"):
        assert f'name="attr_{key}"' in content
    assert 'type="date" name="attr_go_live"' in content
    assert 'name="relationship_type"' not in content  # fixed by the first step
    assert "Analytics Cloud fields" in content
    assert "Choose another type</a>" in content


def add_relationship(client: Client, relationship_type: RelationshipType, **values: str) -> Any:
    company = CompanyFactory(name="Initech")
    data = {
        "company": company.pk,
        "name": "Main",
        "status": Relationship.Status.ACTIVE,
        "stage": "",
        "arr": "0",
        "mrr": "0",
        **values,
    }
    url = admin_url(Relationship, "add") + f"?relationship_type={relationship_type.pk}"
    return client.post(url, data)


def test_a_wrong_typed_value_shows_its_field_error_and_saves_nothing(admin_client, product):
    response = add_relationship(
        admin_client,
        product,
        attr_edition="",
        attr_adoption="150",
        attr_list_price="10.999",
        attr_go_live="31/01/2025",
        attr_portal="ftp://files.example.com",  # a URL to Django, not to our one validator
        attr_seats="12",
    )
    assert response.status_code == 200
    errors = form_errors(response)
    assert errors == {
        "attr_edition": ["This field is required."],
        "attr_adoption": ["Enter a percentage from 0 to 100."],
        "attr_list_price": ["Enter a number with at most 2 decimal places."],
        "attr_go_live": ["Enter a date as YYYY-MM-DD."],
        "attr_portal": ["Enter a valid web address starting with http:// or https://."],
    }
    content = response.content.decode()
    assert "errors field-attr_adoption" in content
    assert "Enter a percentage from 0 to 100." in content
    assert not Relationship.objects.exists()


def test_valid_values_save_the_cleaned_attributes(admin_client, product):
    response = add_relationship(
        admin_client,
        product,
        attr_edition="Enterprise",
        attr_seats="1200",
        attr_list_price="1999.50",
        attr_adoption="87.5",
        attr_go_live="2025-01-31",
        attr_sso="no",
        attr_portal="https://portal.example.com",
        attr_billing_contact="Billing@Customer.example",
        attr_notes="",
        attr_region="  EMEA ",
    )
    assert response.status_code == 302
    relationship = Relationship.objects.get()
    assert relationship.relationship_type == product
    assert relationship.attributes == {
        "edition": "Enterprise",
        "seats": 1200,
        "list_price": 1999.5,
        "adoption": 87.5,
        "go_live": "2025-01-31",
        "sso": False,
        "portal": "https://portal.example.com",
        "billing_contact": "billing@customer.example",
        "region": "EMEA",
    }


def test_the_change_page_shows_stored_values_and_drops_keys_no_longer_fields(admin_client, product):
    relationship = RelationshipFactory(
        relationship_type=product,
        attributes={"edition": "Standard", "go_live": "2025-01-31", "sso": True, "legacy": "x"},
    )
    assert RelationshipForm(instance=relationship).stale_keys == ["legacy"]
    url = admin_url(Relationship, "change", relationship.pk)
    response = admin_client.get(url)
    content = response.content.decode()
    assert 'value="2025-01-31"' in content
    assert '<option value="yes" selected>' in content
    assert "removed when you save: legacy." in content
    assert 'name="relationship_type"' not in content  # read-only on the change page
    response = admin_client.post(url, posted(response, attr_seats="10"))
    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.attributes == {
        "edition": "Standard",
        "go_live": "2025-01-31",
        "sso": True,
        "seats": 10,
    }


def test_the_relationship_form_takes_its_type_from_its_own_field(product):
    # The UI reuses the form with the type as a field: the posted type decides the fields.
    form = RelationshipForm(
        data={
            "company": CompanyFactory().pk,
            "relationship_type": product.pk,
            "name": "Main",
            "status": "active",
            "arr": "0",
            "mrr": "0",
            "attr_edition": "Gold",
        }
    )
    assert not form.is_valid()
    assert form.errors["attr_edition"] == ["Choose one of: Standard, Enterprise."]
    assert "attr_seats" in form.fields


def test_a_person_of_another_company_cannot_join_a_relationship(admin_client):
    relationship = RelationshipFactory()
    outsider = CompanyPersonFactory()
    url = admin_url(RelationshipPerson, "add")
    response = admin_client.post(
        url, {"relationship": relationship.pk, "company_person": outsider.pk, "role": "user"}
    )
    assert form_errors(response)["company_person"] == [
        "Choose a person of the relationship's own company."
    ]
    assert not relationship.people.exists()


# Relationship types and their fields ------------------------------------------------------


def type_data(*rows: dict[str, str], **type_fields: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Analytics Cloud",
        "description": "Our analytics product.",
        "active": "on",
        "order": "0",
        "fields-TOTAL_FORMS": str(len(rows)),
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
        **type_fields,
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"fields-{index}-{name}"] = value
    return data


def test_a_relationship_type_with_its_fields_saves(admin_client):
    response = admin_client.post(
        admin_url(RelationshipType, "add"),
        type_data(
            {
                "order": "2",
                "key": "region",
                "label": "Region",
                "kind": "text",
                "choices": "",
            },
            {
                "order": "1",
                "key": "edition",
                "label": "Edition",
                "kind": "choice",
                "choices": "Standard\r\n\r\n Enterprise \r\n",
                "required": "on",
            },
        ),
    )
    assert response.status_code == 302
    product = RelationshipType.objects.get(name="Analytics Cloud")
    assert [(f.key, f.kind, f.choices, f.required) for f in product.fields.all()] == [
        ("edition", "choice", ["Standard", "Enterprise"], True),
        ("region", "text", [], False),
    ]
    # The choices come back one per line.
    content = admin_client.get(admin_url(RelationshipType, "change", product.pk)).content
    assert "Standard\nEnterprise</textarea>" in content.decode()


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        ("choice", "", "A choice field needs at least one choice."),
        ("choice", "Gold\nGold", "Each choice must be listed once."),
        ("text", "Gold", "Only choice fields have choices."),
    ],
)
def test_a_field_with_wrong_choices_shows_the_error_and_saves_nothing(
    admin_client, kind, choices, message
):
    response = admin_client.post(
        admin_url(RelationshipType, "add"),
        type_data(
            {"order": "1", "key": "edition", "label": "Edition", "kind": kind, "choices": choices}
        ),
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[0]["choices"] == [message]
    assert message in response.content.decode()
    assert not RelationshipType.objects.exists()


# Partners and their users -----------------------------------------------------------------


def test_the_partner_page_shows_its_users(admin_client, partner_a, partner_a_user):
    content = admin_client.get(admin_url(Partner, "change", partner_a.pk)).content
    assert partner_a_user.username in content.decode()


def test_a_user_of_another_partner_cannot_be_added(admin_client, partner_a_user, partner_b):
    url = admin_url(Partner, "change", partner_b.pk)
    data = posted(admin_client.get(url))
    data["members-0-user"] = str(partner_a_user.pk)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[0]["user"] == [
        "partner-a already belongs to the partner Partner A. A user belongs to at most one "
        "partner: remove them from Partner A first."
    ]
    assert PartnerUser.objects.get(user=partner_a_user).partner.name == "Partner A"


def test_a_new_user_joins_a_partner_through_its_page(admin_client, partner_b):
    newcomer = UserFactory(username="newcomer")
    url = admin_url(Partner, "change", partner_b.pk)
    data = posted(admin_client.get(url))
    data["members-0-user"] = str(newcomer.pk)
    assert admin_client.post(url, data).status_code == 302
    assert PartnerUser.objects.get(user=newcomer).partner == partner_b


def test_arr_is_shown_with_thousands_separators(admin_client):
    CompanyFactory(name="Initech", arr=Decimal("1250000"), renewal_date=dt.date(2030, 1, 1))
    content = admin_client.get(admin_url(Company, "changelist")).content.decode()
    assert "1,250,000" in content


def test_deleting_companies_in_bulk_keeps_the_tree_numbers_right(admin_client):
    top, middle, leaf = make_chain(3)
    sibling = company_create(name="Sibling", parent=top)
    response = admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "delete_selected", "_selected_action": [leaf.pk, sibling.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(Company.objects.order_by("lft").values_list("name", "lft", "rght")) == [
        ("L1", 1, 4),
        ("L2", 2, 3),
    ]
    # A parent is protected: deleting it asks to delete its children first.
    response = admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "delete_selected", "_selected_action": [top.pk], "post": "yes"},
    )
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert Company.objects.count() == 2


# The large tables' changelists: search through the index, deep pages, counts -----------


def test_company_search_finds_a_part_of_a_name_or_of_an_external_id(admin_client):
    initech = CompanyFactory(name="Initech Holdings", external_id="CRM-4711")
    umbrella = CompanyFactory(name="Umbrella", external_id="ERP-0815")
    url = admin_url(Company, "changelist")
    for term, expected in (("tech hold", [initech]), ("4711", [initech]), ("rp-08", [umbrella])):
        response = admin_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == expected, term
    # A NUL byte is cleaned away before the query (PostgreSQL would refuse it).
    response = admin_client.get(url, {"q": "Initech\x00"})
    assert list(response.context["cl"].result_list) == [initech]


def test_relationship_search_finds_its_name_or_its_company(admin_client):
    initech = CompanyFactory(name="Initech", external_id="CRM-4711")
    by_company = RelationshipFactory(company=initech, name="Support plan")
    by_name = RelationshipFactory(name="Initech migration")
    RelationshipFactory(name="Something else")
    url = admin_url(Relationship, "changelist")
    for term, expected in (
        ("Initech", {by_company, by_name}),
        ("CRM-47", {by_company}),
        ("migration", {by_name}),
        ("nothing like it", set()),
    ):
        response = admin_client.get(url, {"q": term})
        assert set(response.context["cl"].result_list) == expected, term


@pytest.mark.parametrize("size", [3, 30])
def test_relationship_list_is_newest_first_in_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries, size
):
    for number in range(size):
        RelationshipFactory(name=f"Plan {number}", csm=UserFactory(), managed_by=PartnerFactory())
    # The session, the user, the partner check, the two filters' choices (types, partners),
    # the count, the page's keys and its rows.
    with django_assert_max_num_queries(8):
        response = admin_client.get(admin_url(Relationship, "changelist"))
    rows = list(response.context["cl"].result_list)
    assert [r.pk for r in rows] == sorted((r.pk for r in rows), reverse=True)
    assert len(rows) == size


def test_a_page_reads_its_keys_then_its_rows(django_assert_num_queries):
    from gainsight_lite.admin_lists import LargeTablePaginator

    companies = [CompanyFactory(name=f"Company {n:02}", csm=UserFactory()) for n in range(7)]
    listed = Company.objects.select_related("csm").order_by("-name", "pk")
    paginator = LargeTablePaginator(listed, 2)
    with django_assert_num_queries(3):  # the count, the keys of the page, its rows
        first = list(paginator.page(1).object_list)
    assert first == companies[:-3:-1]
    # The rows come with their joins, in the list's order.
    with django_assert_num_queries(2):
        page = paginator.page(3)
        rows = list(page.object_list)
        names = [row.csm.username for row in rows]
    assert rows == [companies[2], companies[1]]
    assert names == [companies[2].csm.username, companies[1].csm.username]
    assert (page.number, paginator.count, paginator.num_pages) == (3, 7, 4)
    assert list(paginator.page(4).object_list) == [companies[0]]


def test_the_unfiltered_count_is_the_planners_estimate_only_on_postgresql(
    monkeypatch, django_assert_num_queries
):
    from django.db import connection

    from gainsight_lite import admin_lists

    for number in range(3):
        CompanyFactory(name=f"Company {number}")
    one = Company.objects.filter(name="Company 1")
    filtered = admin_lists.LargeTablePaginator(one, 50)
    assert admin_lists.unfiltered_count(one) is None
    assert filtered.count == 1
    # Under ESTIMATE_FROM rows (as estimated): exact, in one query.
    with django_assert_num_queries(1):
        assert admin_lists.LargeTablePaginator(Company.objects.order_by("pk"), 50).count == 3
    if connection.vendor != "postgresql":
        assert admin_lists.unfiltered_count(Company.objects.all()) is None
        return
    # A large table (as analyzed, before two more rows came): the estimate, no row read.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE companies_company")
    CompanyFactory(name="Company 3")
    CompanyFactory(name="Company 4")
    monkeypatch.setattr(admin_lists, "ESTIMATE_FROM", 2)
    assert admin_lists.LargeTablePaginator(Company.objects.order_by("pk"), 50).count == 3
    assert Company.objects.count() == 5


def test_the_csm_filter_lists_only_users_who_are_some_companys_csm(admin_client):
    jane = UserFactory(username="jane", first_name="Jane")
    omar = UserFactory(username="omar", first_name="Omar")
    UserFactory(username="idle", first_name="Idle")
    CompanyFactory(name="Initech", csm=jane)
    top = CompanyFactory(name="Umbrella")
    CompanyFactory(name="Umbrella Europe", parent=top, csm=omar)
    CompanyFactory(name="Umbrella Asia", parent=top, csm=omar)
    response = admin_client.get(admin_url(Company, "changelist"))
    csm_filter = next(f for f in response.context["cl"].filter_specs if f.title == "CSM")
    assert [label for _, label in csm_filter.lookup_choices] == [str(jane), str(omar)]
