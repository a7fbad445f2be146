"""Search queries and list filters under hostile input: 200 or 400 with a reason, never a 500.

Each list (companies, Cockpit, Timeline, Success plans, search) and each 360 section that reads
its query string (relationships, timeline, usage) is asked with every parameter it reads set to
hostile text, huge numbers, NUL bytes and markup, as a page and as htmx asks for it. A refused
value is ignored (the list as unfiltered) or answered 400 with a sentence; a section never falls
back to its "could not be loaded" box, which would hide a crash.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from layouts.models import Layout
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    RelationshipFactory,
    SectionFactory,
    SuccessPlanFactory,
    UsageValueFactory,
)
from tests.hostile.strategies import param_value

SECTION_ERROR = "could not be loaded"
PAGING = ["page", "after", "q", "company", "company_q", "for"]
LISTS = {
    "companies:list": ["segment", "status", "csm", "sort"],
    "success:cockpit": [
        "group",
        "owner",
        "type",
        "priority",
        "status",
        "relationship_type",
        "snoozed",
    ],
    "success:timeline": ["type", "author", "date_from", "date_to"],
    "success:plans": ["status", "plan_type", "owner", "due_before", "sort"],
    "search": [],
    "success:timeline_companies": [],
}
SECTIONS = {
    "relationships": ["type", "status"],
    "timeline": ["type", "author", "date_from", "date_to"],
    "usage": ["weeks"],
}


def params_for(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(names + PAGING), param_value, max_size=len(names) + 3)


@pytest.fixture
def book(csm_user) -> dict[str, Any]:
    company = CompanyFactory(name="Param Co", csm=csm_user)
    relationship = RelationshipFactory(company=company)
    ActivityFactory(company=company, author=csm_user)
    CTAFactory(company=company, owner=csm_user)
    SuccessPlanFactory(company=company, owner=csm_user)
    UsageValueFactory(company=company)
    layout = LayoutFactory(target=Layout.Target.COMPANY, priority=1)
    sections = {
        kind: SectionFactory(layout=layout, kind=kind, title=kind, order=order)
        for order, kind in enumerate(SECTIONS)
    }
    client = Client()
    client.force_login(csm_user)
    return {
        "company": company,
        "relationship": relationship,
        "sections": sections,
        "client": client,
    }


def _check(response: Any, label: str, queries: CaptureQueriesContext) -> None:
    assert response.status_code in (200, 400), f"{label}: {response.status_code}"
    body = response.content.decode()
    if response.status_code == 400:
        assert body.strip(), f"{label}: a 400 without a reason"
    assert SECTION_ERROR not in body, f"{label}: the section crashed"
    leaked = [q["sql"] for q in queries.captured_queries if "\x00" in q["sql"]]
    assert not leaked, f"{label}: a NUL byte reached SQL: {leaked[0][:200]!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LISTS))
@given(params=st.data())
def test_lists_answer_200_or_400(book: dict[str, Any], name: str, params: st.DataObject) -> None:
    values = params.draw(params_for(LISTS[name]))
    htmx = params.draw(st.booleans())
    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as queries:
        response = book["client"].get(reverse(name), values, headers=headers)
    _check(response, f"{name} {values!r} htmx={htmx}", queries)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(SECTIONS))
@given(params=st.data())
@example(params=None)  # the section with no parameters at all
def test_sections_answer_200_or_400(
    book: dict[str, Any], kind: str, params: st.DataObject | None
) -> None:
    values = params.draw(params_for(SECTIONS[kind])) if params is not None else {}
    url = reverse("layouts:company_section", args=[book["company"].pk, book["sections"][kind].pk])
    with CaptureQueriesContext(connection) as queries:
        response = book["client"].get(url, values, headers={"HX-Request": "true"})
    _check(response, f"{kind} section {values!r}", queries)
