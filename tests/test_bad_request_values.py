"""Bad request values never reach the database as they are and never answer 500.

Every URL of the application (and every 360 section action) is asked, with GET and POST, with
each parameter a view reads set to an out-of-range id, a negative one, a float, an empty one
and a text with a NUL byte: SQLite cannot bind an integer above 2**63-1 (OverflowError) and
PostgreSQL refuses a NUL in a text parameter, so the answer must be a 4xx, a form error or the
page itself — and no SQL statement may carry the NUL byte.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gainsight_lite.http import MAX_ID, parse_id
from layouts.models import Layout
from layouts.sections import REGISTRY
from success.models import CTAType
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CompanyPersonFactory,
    CTAFactory,
    LayoutFactory,
    MeasureFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    ScorecardFactory,
    SectionFactory,
    SuccessPlanFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
HTMX = {"HX-Request": "true"}
# Every request value a view or section reads (see `request.GET`/`POST` in the code).
PARAMS = [
    "q",
    "company_q",
    "company",
    "relationship",
    "cta_type",
    "reason",
    "playbook",
    "source_activity",
    "owner",
    "status",
    "type",
    "priority",
    "page",
    "after",
    "cta",
    "member",
    "measure",
    "field",
    "parent",
    "email",
    "layout",
    "weeks",
    "for",
    "author",
    "activity_type",
    "date_from",
    "date_to",
    "from",
    "to",
    "plan_type",
    "success_plan",
    "objective",
    "task",
    "attendees",
    "due_date",
    "name",
    "subject",
    "notes",
    "occurred_at",
    "relationship_type",
    "value",
    "score",
    "comment",
    "role",
    "manager",
    "person",
    "company_person",
    "done",
    "confirm",
    "action",
    "group",
    "snoozed",
    "title",
    "first_name",
    "last_name",
    "phone",
]
SKIP = {
    "login",
    "logout",
    "healthz",
    "partners:view_as_start",
    "partners:view_as_stop",
    "partners:view_as_banner",
}


def _patterns(resolver: URLResolver | None = None, namespace: str = ""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", tuple(entry.pattern.converters)


@pytest.fixture
def world(admin_user) -> dict[str, Any]:
    product = RelationshipTypeFactory(name="Hostile product")
    c360 = LayoutFactory(name="Hostile C360", target=Layout.Target.COMPANY, priority=1)
    r360 = LayoutFactory(
        name="Hostile R360",
        target=Layout.Target.RELATIONSHIP,
        relationship_type=product,
        priority=1,
    )
    sections: dict[str, list[Any]] = {"company": [], "relationship": []}
    for order, (key, kind) in enumerate(sorted(REGISTRY.items())):
        for target, layout in (("company", c360), ("relationship", r360)):
            if target in kind.targets:
                sections[target].append(
                    (kind, SectionFactory(layout=layout, kind=key, title=key, order=order))
                )
    company = CompanyFactory(name="Hostile Company")
    relationship = RelationshipFactory(company=company, relationship_type=product)
    member = CompanyPersonFactory(company=company)
    RelationshipPersonFactory(relationship=relationship, company_person=member)
    MeasureFactory(scorecard=ScorecardFactory(name="Hostile health"))
    activity = ActivityFactory(company=company, author=admin_user)
    cta = CTAFactory(company=company, owner=admin_user)
    task = TaskFactory(cta=cta)
    plan = SuccessPlanFactory(company=company, owner=admin_user)
    goal = CTAFactory(
        company=company, success_plan=plan, cta_type=CTAType.objects.get(name=CTAType.OBJECTIVE)
    )
    goal_task = TaskFactory(cta=goal)
    client = Client()
    client.force_login(admin_user)
    return {
        "client": client,
        "company": company,
        "relationship": relationship,
        "sections": sections,
        "kwargs": {
            "success:activity": {"pk": activity.pk},
            "success:cta": {"pk": cta.pk, "task_pk": task.pk},
            "success:plan": {"pk": plan.pk, "objective_id": goal.pk, "task_id": goal_task.pk},
        },
    }


def _watch(leaked: list[str]):
    """An execute wrapper noting each statement whose parameters carry a NUL byte."""

    def wrapper(execute, sql, params, many, context):
        rows = params if many else [params]
        for row in rows or []:
            values = row.values() if isinstance(row, dict) else row or []
            if any(isinstance(v, str) and "\x00" in v for v in values):
                leaked.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def _urls(world: dict[str, Any]) -> list[str]:
    urls = []
    for name, converters in _patterns():
        if name in SKIP:
            continue
        if not converters:
            urls.append(reverse(name))
            continue
        if name.startswith("layouts:"):
            subject = "company" if "company" in name else "relationship"
            pk = world[subject].pk
            if name.endswith("_action"):
                for kind, section in world["sections"][subject]:
                    for action in kind.actions:
                        urls.append(reverse(name, args=[pk, section.pk, action]))
            elif name.endswith("_section"):
                urls.extend(reverse(name, args=[pk, s.pk]) for _, s in world["sections"][subject])
            else:
                urls.append(reverse(name, args=[pk]))
            continue
        if not name.startswith("success:"):
            continue  # a URL about no record here (e.g. an admin import's token)
        record = (
            "success:cta"
            if "cta" in name or "task" in name and "plan" not in name
            else "success:plan"
            if "plan" in name
            else "success:activity"
        )
        wanted = {k: v for k, v in world["kwargs"][record].items() if k in converters}
        urls.append(reverse(name, kwargs=wanted))
    return urls


# The two values that crashed a database (the others are checked endpoint by endpoint below).
@pytest.mark.parametrize("value", [HUGE, "a\x00b"], ids=["huge", "nul"])
def test_no_bad_value_answers_500_or_reaches_sql(world, value):
    """Every URL and section action, GET and POST, every parameter set to `value`."""
    client: Client = world["client"]
    failures = []
    for url in _urls(world):
        for method in ("get", "post"):
            data = dict.fromkeys(PARAMS, value)
            leaked: list[str] = []
            with connection.execute_wrapper(_watch(leaked)):
                try:
                    response = getattr(client, method)(url, data, headers=HTMX)
                except Exception as error:  # noqa: BLE001 - any exception is the failure
                    failures.append(f"{method} {url}: {error!r}")
                    continue
            if response.status_code >= 500:
                failures.append(f"{method} {url}: {response.status_code}")
            if leaked:
                failures.append(f"{method} {url}: NUL in the parameters of {leaked[0][:200]!r}")
    assert not failures, "\n".join(failures)


# ---------- parse_id ----------


@pytest.mark.parametrize(
    "value",
    [
        HUGE,
        str(MAX_ID + 1),
        "-1",
        "1e3",
        "",
        " ",
        None,
        "0",
        "1.0",
        "½",
        "²",
        "٣",
        "0x1F",
        "a\x00b",
        "12 34",
        True,
        -5,
        MAX_ID + 1,
    ],
)
def test_parse_id_refuses_what_is_no_id(value):
    assert parse_id(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), (" 42 ", 42), (str(MAX_ID), MAX_ID), (7, 7), ("007", 7)],
)
def test_parse_id_reads_an_id(value, expected):
    assert parse_id(value) == expected


# ---------- out-of-range ids, endpoint by endpoint ----------


def test_a_huge_id_in_a_url_is_a_404(world):
    client: Client = world["client"]
    for url in (
        f"/companies/{HUGE}/",
        f"/relationships/{HUGE}/",
        f"/cockpit/ctas/{HUGE}/",
        f"/success-plans/{HUGE}/",
        f"/timeline/activities/{HUGE}/edit/",
    ):
        assert client.get(url, headers=HTMX).status_code == 404, url


def test_cockpit_bulk_counts_a_huge_id_as_not_found(world):
    client: Client = world["client"]
    response = client.post(
        reverse("success:cockpit_bulk"),
        {"cta": [HUGE, "1e3", "-1", ""], "action": "close"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Select at least one CTA first." in response.content.decode()


@pytest.mark.parametrize("value", [HUGE, "-1", "1e3", ""])
def test_new_cta_with_a_bad_company_is_a_form_error(world, value):
    client: Client = world["client"]
    response = client.post(
        reverse("success:cta_create"),
        {"company": value, "relationship": value, "cta_type": value, "name": "Renewal"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose the company" in html


@pytest.mark.parametrize("value", [HUGE, "-1", "1e3"])
def test_logging_an_activity_with_a_bad_attendee_is_a_form_error(world, value):
    client: Client = world["client"]
    section = next(s for kind, s in world["sections"]["company"] if kind.key == "timeline")
    url = reverse("layouts:company_section_action", args=[world["company"].pk, section.pk, "log"])
    response = client.post(url, {"subject": "Call", "attendees": [value]}, headers=HTMX)
    assert response.status_code == 200
    assert "Attendees must be people of this company." in response.content.decode()


@pytest.mark.parametrize("value", [HUGE, "-1", "1e3", ""])
def test_cockpit_filters_with_bad_ids_are_ignored(world, value):
    client: Client = world["client"]
    response = client.get(
        reverse("success:cockpit"),
        {"owner": value, "status": value, "relationship_type": value, "page": value},
    )
    assert response.status_code == 200


# ---------- NUL bytes in as-you-type pickers ----------


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("success:cta_company_search", "q"),
        ("success:timeline_companies", "company_q"),
        ("success:plan_new_companies", "company_q"),
        ("search", "q"),
    ],
)
def test_a_nul_byte_in_a_company_picker_is_dropped_not_searched(world, name, param):
    client: Client = world["client"]
    leaked: list[str] = []
    with connection.execute_wrapper(_watch(leaked)):
        response = client.get(reverse(name), {param: "Hosti\x00le"}, headers=HTMX)
    assert response.status_code == 200
    assert not leaked
    # The byte is dropped, the rest searched: "Hostile" finds the company.
    assert "Hostile Company" in re.sub(r"<[^>]+>", "", response.content.decode())


def test_a_nul_byte_in_the_hierarchy_move_search_is_dropped(world):
    client: Client = world["client"]
    CompanyFactory(name="Hostile Holding")
    section = next(s for kind, s in world["sections"]["company"] if kind.key == "hierarchy")
    url = reverse(
        "layouts:company_section_action", args=[world["company"].pk, section.pk, "move-search"]
    )
    leaked: list[str] = []
    with connection.execute_wrapper(_watch(leaked)):
        response = client.get(url, {"q": "Hostile\x00 Hold"}, headers=HTMX)
    assert response.status_code == 200
    assert not leaked
    assert "Hostile Holding" in response.content.decode()


def test_a_nul_byte_in_the_people_email_lookup_never_reaches_sql(world):
    client: Client = world["client"]
    section = next(s for kind, s in world["sections"]["company"] if kind.key == "people")
    url = reverse(
        "layouts:company_section_action", args=[world["company"].pk, section.pk, "lookup"]
    )
    leaked: list[str] = []
    with connection.execute_wrapper(_watch(leaked)):
        response = client.get(url, {"email": "a\x00b@example.com"}, headers=HTMX)
    assert response.status_code == 200
    assert not leaked


# ---------- the admin's query strings ----------


def test_a_nul_byte_in_the_admins_search_and_autocomplete_never_reaches_sql(world):
    client: Client = world["client"]  # a superuser
    leaked: list[str] = []
    with connection.execute_wrapper(_watch(leaked)):
        search = client.get("/admin/companies/company/", {"q": "Hosti\x00le"})
        autocomplete = client.get(
            "/admin/autocomplete/",
            {
                "term": "Hosti\x00le",
                "app_label": "companies",
                "model_name": "company",
                "field_name": "parent",
            },
        )
        preview = client.get(
            reverse(
                "admin:layouts_layout_preview",
                args=[Layout.objects.values_list("pk", flat=True)[0]],
            ),
            {"q": "Hosti\x00le"},
        )

    assert not leaked
    assert search.status_code == 200 and "Hostile Company" in search.content.decode()
    assert autocomplete.status_code == 200 and "Hostile Company" in autocomplete.content.decode()
    assert preview.status_code == 200
