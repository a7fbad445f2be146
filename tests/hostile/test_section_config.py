"""Section configurations under hostile input: every registered kind's config form.

Any configuration an admin (or a script posting to the admin) can send is either checked
into a configuration or refused with sentences (a ValidationError on `config`), never an
exception; and a configuration that passed renders its section without the "could not be
loaded" box that stands in for a crash.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from relationships.models import RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
)
from tests.hostile.strategies import hostile_json, hostile_text
from tests.hostile.test_embed import frame_problems

SECTION_ERROR = "could not be loaded"
CASES = [(key, target) for key, kind in sorted(REGISTRY.items()) for target in sorted(kind.targets)]


@pytest.fixture
def pages(admin_user) -> dict[str, Any]:
    product = RelationshipTypeFactory(name="Config product")
    for order, kind in enumerate(RelationshipTypeField.Kind):
        RelationshipTypeFieldFactory(
            relationship_type=product,
            key=f"f_{kind.value}",
            kind=kind.value,
            choices=["A", "B"] if kind == "choice" else [],
            order=order,
        )
    company = CompanyFactory(name="Config Co")
    relationship = RelationshipFactory(company=company, relationship_type=product)
    client = Client()
    client.force_login(admin_user)
    return {
        "company": (
            company,
            LayoutFactory(target=Layout.Target.COMPANY, priority=1),
        ),
        "relationship": (
            relationship,
            LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=product, priority=1),
        ),
        "client": client,
    }


def config_strategy(names: list[str], default: dict[str, Any]) -> st.SearchStrategy[Any]:
    value = st.one_of(hostile_json, st.lists(hostile_text, max_size=4))
    keys = st.one_of(st.sampled_from(names), st.text(max_size=6)) if names else st.text(max_size=6)
    hostile = st.dictionaries(keys, value, max_size=len(names) + 2)
    return st.one_of(
        # The defaults with one or two options replaced: mostly valid, so rendering is tried.
        st.dictionaries(keys, value, max_size=2).map(lambda changed: {**default, **changed}),
        # The kind's valid values in lists, numbers as text (as a form posts them).
        hostile.map(lambda changed: {**default, **changed}),
        hostile,
        hostile_json,  # not even a mapping
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "target"), CASES)
@given(data=st.data())
# Half the profile's examples: each valid one renders a section (26 kinds and pages).
@settings(max_examples=max(10, settings().max_examples // 2))
def test_config_is_cleaned_or_refused_and_renders(
    pages: dict[str, Any], key: str, target: str, data: st.DataObject
) -> None:
    kind = REGISTRY[key]
    subject, layout = pages[target]
    names = list(kind.config_form_class(layout)().fields)
    config = data.draw(config_strategy(names, kind.default_config(layout)))
    try:
        cleaned = kind.clean_config(config, layout=layout)
    except ValidationError as error:
        assert "config" in error.message_dict
        assert all(message.strip() for message in error.message_dict["config"])
        return
    assert isinstance(cleaned, dict)
    with transaction.atomic():
        section = Section.objects.create(layout=layout, kind=key, title=key, config=cleaned)
        name = "company" if target == "company" else "relationship"
        url = reverse(f"layouts:{name}_section", args=[subject.pk, section.pk])
        response = pages["client"].get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, f"{key} with {cleaned!r}: {response.status_code}"
        page = response.content.decode()
        assert SECTION_ERROR not in page, f"{key} crashed with {cleaned!r}"
        assert not frame_problems(page), f"{key} with {cleaned!r}: {frame_problems(page)}"
        transaction.set_rollback(True)
