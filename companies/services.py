"""Writes to companies and people; every form, the admin and imports go through these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from companies.models import Company, CompanyPerson, Person
from partners.services import partner_grants_sync


@transaction.atomic
def company_create(*, by: AbstractBaseUser | None = None, **fields: Any) -> Company:
    """Create a company after checking every rule (five levels, unique external id...)."""
    company = Company(**fields)
    if company.external_id == "":
        company.external_id = None
    company.full_clean()
    company.save()
    if company.managed_by_id is not None:
        # The partner's group gets its permissions in the same transaction.
        partner_grants_sync(records=[company])
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
    if "managed_by" in fields:
        partner_grants_sync(records=[company])
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


@transaction.atomic
def company_person_add_by_email(
    *,
    company: Company,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    by: AbstractBaseUser | None = None,
    **fields: Any,
) -> CompanyPerson:
    """Put the person with this email at a company, creating them when they are new.

    An existing person (found ignoring case) is reused as they are: their name and phone
    are not overwritten from the form. Nothing is saved when any rule fails.
    """
    person, _ = person_get_or_create(
        email=email, first_name=first_name, last_name=last_name, phone=phone
    )
    return company_person_add(company=company, person=person, **fields)


@transaction.atomic
def company_person_update(
    *,
    company_person: CompanyPerson,
    by: AbstractBaseUser | None = None,
    person_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> CompanyPerson:
    """Change a person at a company (title, role, sponsor, sentiment, manager) and their name.

    `person_fields` (first and last name, phone) change the person everywhere they work;
    the email is their identity and is not changed here. Nothing is saved when any rule fails.
    """
    person = company_person.person
    for name, value in (person_fields or {}).items():
        setattr(person, name, value)
    for name, value in fields.items():
        setattr(company_person, name, value)
    person.full_clean()
    company_person.full_clean()
    person.save()
    company_person.save()
    return company_person
