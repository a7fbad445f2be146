"""Relationship attributes under hostile input: a stored value or a ValidationError, nothing else.

`clean_attributes` is the one validator (model, forms, admin, imports): for every kind of type
field and any value, it either returns the stored form or reports a sentence, never raises;
a stored value is JSON that PostgreSQL's jsonb accepts too (no NUL characters, no NaN) and
cleans to itself again. Through the service and the form the same holds with the database:
a refused value leaves the stored attributes as they were.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import example, given
from hypothesis import strategies as st

from relationships.attributes import clean_attributes, clean_value
from relationships.forms import RelationshipForm, attribute_field_name, attribute_form_field
from relationships.models import Relationship, RelationshipTypeField
from relationships.services import relationship_attribute_set
from tests.factories import (
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
)
from tests.hostile.strategies import hostile_json, hostile_text

KINDS = [kind.value for kind in RelationshipTypeField.Kind]
CHOICES = ["Gold", "Silver", "<b>Bronze</b>"]


def _field(kind: str, *, required: bool = False) -> RelationshipTypeField:
    return RelationshipTypeField(
        key=f"f_{kind}",
        label=kind.replace("_", " ").capitalize(),
        kind=kind,
        choices=CHOICES if kind == "choice" else [],
        required=required,
    )


def _assert_storable(value: Any) -> None:
    """JSON without NaN/Infinity or NUL characters: what SQLite and PostgreSQL both store."""
    text = json.dumps(value, allow_nan=False)
    assert "\\u0000" not in text


@pytest.mark.parametrize("kind", KINDS)
@given(value=hostile_json)
@example(value="https://example.com/a\x00b")
@example(value="x\x00@example.com")
@example(value=float("nan"))
@example(value="1e309")
def test_clean_value_stores_or_refuses_with_a_sentence(kind: str, value: Any) -> None:
    field = _field(kind)
    try:
        stored = clean_value(field, value)
    except ValidationError as error:
        assert error.messages and all(m.strip() for m in error.messages)
        return
    _assert_storable(stored)
    # The stored form is a fixed point: reading it back and saving again changes nothing.
    assert clean_value(field, stored) == stored


@given(
    data=st.one_of(
        hostile_json,
        st.dictionaries(
            st.one_of(st.sampled_from([f"f_{kind}" for kind in KINDS]), st.text(max_size=8)),
            hostile_json,
            max_size=12,
        ),
    ),
    required=st.booleans(),
)
def test_clean_attributes_never_raises(data: Any, required: bool) -> None:
    fields = [_field(kind, required=required) for kind in KINDS]
    cleaned, errors = clean_attributes(fields, data)
    assert isinstance(cleaned, dict) and isinstance(errors, dict)
    assert all(isinstance(message, str) and message for message in errors.values())
    # A key is either stored or reported, never both.
    assert not set(cleaned) & set(errors)
    _assert_storable(cleaned)


@pytest.mark.parametrize("kind", KINDS)
@given(value=hostile_text)
def test_form_field_cleans_or_refuses(kind: str, value: str) -> None:
    """The typed form field behind the R360 inline edit and the relationship forms."""
    field = attribute_form_field(_field(kind))
    try:
        field.clean(value)
    except ValidationError as error:
        assert error.messages
        return


@pytest.fixture
def typed_relationship(db) -> Relationship:
    relationship_type = RelationshipTypeFactory(name="Hostile product")
    for order, kind in enumerate(KINDS):
        RelationshipTypeFieldFactory(
            relationship_type=relationship_type,
            key=f"f_{kind}",
            label=kind,
            kind=kind,
            choices=CHOICES if kind == "choice" else [],
            order=order,
        )
    return RelationshipFactory(
        relationship_type=relationship_type, attributes={"f_text": "kept", "f_number": 7}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@given(value=hostile_json)
def test_attribute_set_saves_or_changes_nothing(
    typed_relationship: Relationship, kind: str, value: Any
) -> None:
    before = Relationship.objects.get(pk=typed_relationship.pk).attributes
    with transaction.atomic():
        relationship = Relationship.objects.get(pk=typed_relationship.pk)
        try:
            relationship_attribute_set(relationship=relationship, key=f"f_{kind}", value=value)
        except ValidationError as error:
            assert error.messages
            assert Relationship.objects.get(pk=typed_relationship.pk).attributes == before
        else:
            stored = Relationship.objects.get(pk=typed_relationship.pk).attributes
            _assert_storable(stored)
        transaction.set_rollback(True)


@pytest.mark.django_db
@given(values=st.dictionaries(st.sampled_from(KINDS), hostile_text, max_size=len(KINDS)))
def test_relationship_form_valid_or_field_errors(
    typed_relationship: Relationship, values: dict[str, str]
) -> None:
    """The relationship edit form with every attribute typed by someone hostile."""
    data = {
        "company": typed_relationship.company_id,
        "relationship_type": typed_relationship.relationship_type_id,
        "name": typed_relationship.name,
        "status": typed_relationship.status,
        "arr": "100",
        "mrr": "10",
        **{attribute_field_name(f"f_{kind}"): value for kind, value in values.items()},
    }
    with transaction.atomic():
        relationship = Relationship.objects.get(pk=typed_relationship.pk)
        form = RelationshipForm(data=data, instance=relationship)
        if form.is_valid():
            saved = form.save()
            _assert_storable(saved.attributes)
        else:
            assert form.errors
            assert all(isinstance(field, str) for field in form.errors)
            stored = Relationship.objects.get(pk=typed_relationship.pk).attributes
            assert stored == {"f_text": "kept", "f_number": 7}
        transaction.set_rollback(True)


def test_a_nul_character_is_refused_in_text() -> None:
    """PostgreSQL cannot store U+0000 in jsonb or text: refused as a field error everywhere."""
    for kind in ("text", "long_text"):
        with pytest.raises(ValidationError):
            clean_value(_field(kind), "a\x00b")
        field: forms.Field = attribute_form_field(_field(kind))
        with pytest.raises(ValidationError):
            field.clean("a\x00b")
