"""A relationship's attributes are checked against its type's fields, kind by kind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from relationships.models import Relationship, RelationshipTypeField
from relationships.services import relationship_create, relationship_update
from tests.factories import (
    CompanyFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
)

pytestmark = pytest.mark.django_db
Kind = RelationshipTypeField.Kind


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
            kind=field_kind,
            required=required,
            choices=choices,
            order=order,
        )
    return kind


def create(product, **attributes):
    return relationship_create(
        company=CompanyFactory(), relationship_type=product, name="Main", attributes=attributes
    )


def test_valid_values_of_every_kind_are_stored_in_their_clean_form(product):
    relationship = create(
        product,
        edition="Enterprise",
        seats="1,200",
        list_price="1999.50",
        adoption=87.5,
        go_live="2026-03-01",
        sso="yes",
        portal=" https://portal.example.com/acme ",
        billing_contact="Billing@Acme.COM",
        notes="Line one\nLine two",
        region="  EMEA ",
    )
    relationship.refresh_from_db()
    assert relationship.attributes == {
        "edition": "Enterprise",
        "seats": 1200,
        "list_price": 1999.5,
        "adoption": 87.5,
        "go_live": "2026-03-01",
        "sso": True,
        "portal": "https://portal.example.com/acme",
        "billing_contact": "billing@acme.com",
        "notes": "Line one\nLine two",
        "region": "EMEA",
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("edition", "Gold", "Edition: Choose one of: Standard, Enterprise."),
        ("seats", "many", "Seats: Enter a number."),
        ("seats", True, "Seats: Enter a number."),
        ("seats", "1e400", "Seats: Enter a number of at most 15 digits."),
        ("list_price", "10.999", "List price: Enter a number with at most 2 decimal places."),
        ("adoption", 120, "Adoption: Enter a percentage from 0 to 100."),
        ("go_live", "01/03/2026", "Go live: Enter a date as YYYY-MM-DD."),
        ("go_live", "2026-02-30", "Go live: Enter a date as YYYY-MM-DD."),
        ("sso", "maybe", "Sso: Enter yes or no."),
        (
            "portal",
            "javascript:alert(1)",
            "Portal: Enter a valid web address starting with http:// or https://.",
        ),
        ("billing_contact", "not-an-email", "Billing contact: Enter a valid email address."),
        ("region", "x" * 256, "Region: Enter at most 255 characters (it has 256)."),
        ("colour", "blue", "colour: “colour” is not a field of this relationship type."),
    ],
)
def test_a_wrong_value_is_an_error_and_nothing_is_saved(product, key, value, message):
    attributes = {"edition": "Standard", key: value}
    with pytest.raises(ValidationError) as error:
        create(product, **attributes)
    assert error.value.message_dict["attributes"] == [message]
    assert not Relationship.objects.exists()


def test_a_required_field_must_have_a_value(product):
    with pytest.raises(ValidationError) as error:
        create(product, seats=3)
    assert error.value.message_dict["attributes"] == ["Edition: This field is required."]


def test_an_update_with_a_bad_value_leaves_the_stored_values_alone(product):
    relationship = create(product, edition="Standard", seats=10)
    with pytest.raises(ValidationError):
        relationship_update(
            relationship=relationship, attributes={"edition": "Standard", "seats": "ten"}
        )
    relationship.refresh_from_db()
    assert relationship.attributes == {"edition": "Standard", "seats": 10}


def test_a_choice_field_needs_choices():
    field = RelationshipTypeField(
        relationship_type=RelationshipTypeFactory(), key="tier", label="Tier", kind=Kind.CHOICE
    )
    with pytest.raises(ValidationError) as error:
        field.full_clean()
    assert error.value.message_dict["choices"] == ["A choice field needs at least one choice."]


def test_name_is_unique_per_company_and_type(product):
    existing = create(product, edition="Standard")
    with pytest.raises(ValidationError) as error:
        relationship_create(
            company=existing.company,
            relationship_type=product,
            name="Main",
            attributes={"edition": "Standard"},
        )
    assert error.value.messages == [
        "This company already has a relationship of this type with this name."
    ]


def test_a_relationship_person_must_be_of_the_relationships_company():
    from companies.models import CompanyPerson
    from relationships.services import relationship_person_add
    from tests.factories import CompanyPersonFactory

    relationship = RelationshipFactory()
    stranger = CompanyPersonFactory()  # of another company
    with pytest.raises(ValidationError) as error:
        relationship_person_add(relationship=relationship, company_person=stranger, role="user")
    assert error.value.message_dict["company_person"] == [
        "Choose a person of the relationship's own company."
    ]
    insider = CompanyPersonFactory(company=relationship.company)
    link = relationship_person_add(relationship=relationship, company_person=insider, role="user")
    assert link.pk and CompanyPerson.objects.count() == 2
