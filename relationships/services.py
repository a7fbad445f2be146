"""Writes to relationships; forms, the admin and imports go through these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from companies.models import CompanyPerson
from gainsight_lite.versions import version_check
from partners.services import partner_grants_sync
from relationships.attributes import clean_attributes, is_empty
from relationships.models import Relationship, RelationshipPerson


@transaction.atomic
def relationship_create(*, by: AbstractBaseUser | None = None, **fields: Any) -> Relationship:
    """Create a relationship; its attributes are checked against its type's fields."""
    relationship = Relationship(**fields)
    relationship.full_clean()
    relationship.save()
    # Its own partner's group, or its company's, gets its permissions in this transaction.
    partner_grants_sync(records=[relationship])
    return relationship


@transaction.atomic
def relationship_update(
    *,
    relationship: Relationship,
    by: AbstractBaseUser | None = None,
    version: str | None = None,
    **fields: Any,
) -> Relationship:
    """Change a relationship's fields; nothing is saved when any value is wrong.

    `version`: the one the editing form was drawn from; a relationship saved since is
    refused ("Changed by NAME at TIME — reload to see it.") and nothing is written.
    """
    version_check(relationship, version)
    for name, value in fields.items():
        setattr(relationship, name, value)
    relationship.full_clean()
    relationship.save()
    if "managed_by" in fields or "company" in fields:
        partner_grants_sync(records=[relationship])
    return relationship


@transaction.atomic
def relationship_person_add(
    *, relationship: Relationship, company_person: CompanyPerson, role: str
) -> RelationshipPerson:
    """Add one of the company's people to a relationship with a role."""
    link = RelationshipPerson(relationship=relationship, company_person=company_person, role=role)
    link.full_clean()
    link.save()
    return link


@transaction.atomic
def relationship_person_remove(
    *, relationship_person: RelationshipPerson, by: AbstractBaseUser | None = None
) -> None:
    """Take a person off a relationship; they stay at the company."""
    relationship_person.delete()


@transaction.atomic
def relationship_attribute_set(
    *,
    relationship: Relationship,
    key: str,
    value: Any,
    by: AbstractBaseUser | None = None,
    version: str | None = None,
) -> Relationship:
    """Set one of the type's own fields (an empty value clears it); nothing saved on error.

    The value is checked by the one validator, `clean_attributes`, with the other stored
    values; values under keys the type no longer has are dropped, as the edit form does.
    A ValidationError is keyed by field key (another field's key when that one is wrong).
    `version` as for `relationship_update`.
    """
    version_check(relationship, version)
    fields = list(relationship.relationship_type.fields.all())
    keys = {field.key for field in fields}
    if key not in keys:
        raise ValidationError({key: "This is not a field of the relationship's type."})
    stored = relationship.attributes if isinstance(relationship.attributes, dict) else {}
    attributes = {name: stored_value for name, stored_value in stored.items() if name in keys}
    if is_empty(value):
        attributes.pop(key, None)
    else:
        attributes[key] = value
    cleaned, errors = clean_attributes(fields, attributes)
    if errors:
        raise ValidationError(errors)
    relationship.attributes = cleaned
    relationship.full_clean()
    relationship.save()
    return relationship
