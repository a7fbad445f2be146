"""The hierarchy rules: at most five levels (on create and on move) and no cycles."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from companies.models import Company
from companies.services import company_create, company_move
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def chain(depth: int, prefix: str = "L") -> list[Company]:
    """A line of `depth` companies, each the child of the one before."""
    companies: list[Company] = []
    parent = None
    for level in range(depth):
        parent = company_create(name=f"{prefix}{level + 1}", parent=parent)
        companies.append(parent)
    return companies


def test_five_levels_can_be_created():
    companies = chain(5)
    assert [c.level for c in companies] == [0, 1, 2, 3, 4]


def test_a_sixth_level_is_refused_with_the_company_and_level_named():
    deepest = chain(5)[-1]
    with pytest.raises(ValidationError) as error:
        company_create(name="Acme Europe", parent=deepest)
    assert error.value.message_dict["parent"] == [
        "A company hierarchy is at most five levels deep: Acme Europe would be at level 6."
    ]
    assert not Company.objects.filter(name="Acme Europe").exists()


def test_moving_a_subtree_counts_its_own_depth():
    top = chain(3, prefix="A")  # A1 > A2 > A3
    other = chain(3, prefix="B")  # B1 > B2 > B3: B1's subtree is three levels deep
    # Under A2 (level 2 of 5), B1 would be level 3 and B3 level 5: allowed.
    company_move(company=other[0], new_parent=top[1])
    assert Company.objects.get(name="B3").level == 4
    # Under A3 the deepest node would reach level 6.
    b1 = Company.objects.get(name="B1")
    with pytest.raises(ValidationError) as error:
        company_move(company=b1, new_parent=Company.objects.get(name="A3"))
    message = error.value.message_dict["parent"][0]
    assert "at most five levels deep" in message
    assert "level 6" in message and "B1" in message
    b1.refresh_from_db()
    assert b1.parent == top[1]


def test_a_company_cannot_be_its_own_parent():
    company = CompanyFactory(name="Solo")
    with pytest.raises(ValidationError) as error:
        company_move(company=company, new_parent=company)
    assert error.value.message_dict["parent"] == ["Solo cannot be its own parent."]


def test_a_company_cannot_move_under_its_descendant():
    top, middle, leaf = chain(3)
    with pytest.raises(ValidationError) as error:
        company_move(company=top, new_parent=leaf)
    assert "is one of its own descendants" in error.value.message_dict["parent"][0]
    top.refresh_from_db()
    assert top.parent is None and Company.objects.get(pk=leaf.pk).level == 2


def test_moving_to_the_top_level_is_allowed():
    top, middle, leaf = chain(3)
    company_move(company=middle, new_parent=None)
    leaf.refresh_from_db()
    assert leaf.level == 1 and Company.objects.get(pk=middle.pk).is_root_node()


def test_the_database_refuses_a_sixth_level_that_skips_validation():
    deepest = chain(5)[-1]
    with pytest.raises(IntegrityError):
        Company.objects.create(name="Too deep", parent=deepest)


def test_external_id_is_unique_and_blank_is_allowed_many_times():
    company_create(name="One", external_id="")
    company_create(name="Two", external_id="")
    company_create(name="Three", external_id="X-1")
    with pytest.raises(ValidationError) as error:
        company_create(name="Four", external_id="X-1")
    assert "external_id" in error.value.message_dict
