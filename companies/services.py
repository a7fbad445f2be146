"""Writes to companies and people; every form, the admin and imports go through these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from companies.models import Company, CompanyPerson, Person


@transaction.atomic
def company_create(*, by: AbstractBaseUser | None = None, **fields: Any) -> Company:
    """Create a company after checking every rule (five levels, unique external id...)."""
    company = Company(**fields)
    if company.external_id == "":
        company.external_id = None
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def company_update(
    *, company: Company, by: AbstractBaseUser | None = None, **fields: Any
) -> Company:
    """Change a company's fields (a new `parent` is checked as a move)."""
    for name, value in fields.items():
        setattr(company, name, value)
    if company.external_id == "":
        company.external_id = None
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def company_move(
    *, company: Company, new_parent: Company | None, by: AbstractBaseUser | None = None
) -> Company:
    """Move a company (with its subtree) under `new_parent`, or to the top when None."""
    # Lock the rows first so two moves cannot interleave their checks (PostgreSQL).
    company = Company.objects.select_for_update().get(pk=company.pk)
    company.parent = new_parent
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def person_get_or_create(*, email: str, **fields: Any) -> tuple[Person, bool]:
    """Find a person by email (case-insensitive) or create them."""
    email = email.strip().lower()
    existing = Person.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing, False
    person = Person(email=email, **fields)
    person.full_clean()
    person.save()
    return person, True


@transaction.atomic
def company_person_add(*, company: Company, person: Person, **fields: Any) -> CompanyPerson:
    """Put a person at a company with a title and role."""
    company_person = CompanyPerson(company=company, person=person, **fields)
    company_person.full_clean()
    company_person.save()
    return company_person
