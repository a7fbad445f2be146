"""Writes to relationships; forms, the admin and imports go through these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from companies.models import CompanyPerson
from relationships.models import Relationship, RelationshipPerson


@transaction.atomic
def relationship_create(*, by: AbstractBaseUser | None = None, **fields: Any) -> Relationship:
    """Create a relationship; its attributes are checked against its type's fields."""
    relationship = Relationship(**fields)
    relationship.full_clean()
    relationship.save()
    return relationship


@transaction.atomic
def relationship_update(
    *, relationship: Relationship, by: AbstractBaseUser | None = None, **fields: Any
) -> Relationship:
    """Change a relationship's fields; nothing is saved when any value is wrong."""
    for name, value in fields.items():
        setattr(relationship, name, value)
    relationship.full_clean()
    relationship.save()
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
