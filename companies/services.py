"""Writes to companies and people; every form, the admin and imports go through these.

Writes that change the company tree (a company created, moved, deleted) run one at a time:
each takes the hierarchy lock first, then reads the tree fields it checks and moves from the
database, so two moves at once can neither form a cycle nor pass five levels between them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from companies.models import Company, CompanyPerson, Person
from gainsight_lite.versions import version_check
from partners.services import partner_grants_sync

# The PostgreSQL advisory lock key of the company tree (any constant no other lock uses).
HIERARCHY_LOCK_KEY = 7_204_500_001
TREE_FIELDS = ("tree_id", "lft", "rght", "level")


def hierarchy_lock() -> None:
    """Hold the company tree's lock until the current transaction ends.

    PostgreSQL: a transaction-level advisory lock, waited for by every other tree write.
    SQLite: transactions begin IMMEDIATE (settings.DATABASES), so a writer already holds the
    database's one write lock from its first statement; nothing more is needed.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("hierarchy_lock() must be called inside transaction.atomic().")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HIERARCHY_LOCK_KEY])


def company_tree_refresh(company: Company) -> None:
    """Under the lock: give `company` its parent and tree fields as stored now.

    An instance loaded before another move (a form, an admin page) holds old left/right
    numbers: saved as it is, it would write them back over the tree, and mptt would move it
    from where it no longer is.
    """
    if company.pk is None:
        return
    stored = Company.objects.filter(pk=company.pk).values("parent_id", *TREE_FIELDS).first()
    if stored is None:
        raise ValidationError("This company was deleted meanwhile: reload to see the list.")
    company.parent_id = stored["parent_id"]
    for name in TREE_FIELDS:
        setattr(company, name, stored[name])
    # mptt compares the parent at save time with the one it cached when the instance loaded.
    company._mptt_meta.update_mptt_cached_fields(company)


def _fresh(company: Company | None) -> Company | None:
    """The parent with its tree fields as stored now (read before the lock, it may have moved
    since); refreshed in place, so mptt's update of its right edge reaches the caller's copy."""
    if company is None or company.pk is None:
        return company
    stored = Company.objects.filter(pk=company.pk).values(*TREE_FIELDS).first()
    if stored is None:
        raise ValidationError({"parent": "The chosen parent company no longer exists."})
    for name in TREE_FIELDS:
        setattr(company, name, stored[name])
    return company


@transaction.atomic
def company_create(*, by: AbstractBaseUser | None = None, **fields: Any) -> Company:
    """Create a company after checking every rule (five levels, unique external id...)."""
    # Even a new top-level company takes the next tree id: one tree write at a time.
    hierarchy_lock()
    if fields.get("parent") is not None:
        fields["parent"] = _fresh(fields["parent"])
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
    *,
    company: Company,
    by: AbstractBaseUser | None = None,
    version: str | None = None,
    **fields: Any,
) -> Company:
    """Change a company's fields (a new `parent` is checked as a move).

    `version`: the one the editing form was drawn from; a company saved since is refused
    ("Changed by NAME at TIME — reload to see it.") and nothing is written.
    """
    # Every save writes the tree fields back: they must be the stored ones, under the lock.
    hierarchy_lock()
    version_check(company, version)
    company_tree_refresh(company)
    if fields.get("parent") is not None:
        fields["parent"] = _fresh(fields["parent"])
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
    """Move a company (with its subtree) under `new_parent`, or to the top when None.

    The cycle and five-level checks read the tree under the hierarchy lock, so a move made at
    the same moment elsewhere is either already counted or waits for this one.
    """
    hierarchy_lock()
    fresh = Company.objects.filter(pk=company.pk).first()
    if fresh is None:
        raise ValidationError("This company was deleted meanwhile: reload to see the list.")
    fresh.parent = _fresh(new_parent)
    fresh.full_clean()
    fresh.save()
    return fresh


@transaction.atomic
def company_delete(*, company: Company, by: AbstractBaseUser | None = None) -> None:
    """Delete a company without children (mptt closes the gap it leaves in its tree)."""
    hierarchy_lock()
    fresh = Company.objects.filter(pk=company.pk).first()
    if fresh is None:
        return  # already gone: deleting twice is not an error
    if fresh.get_descendant_count():
        raise ValidationError(f"{fresh.name} has companies below it: move or delete them first.")
    fresh.delete()


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
