"""Forged or missing CSRF tokens are refused on every write, htmx ones included.

Every URL pattern the resolver knows that takes POST (the classification in
tests/partners/test_matrix.py), every 360 section action that takes POST on both pages, sign
in and out, and the admin's change pages are posted by a signed-in admin whose client enforces
CSRF checks: without a token, with a forged one in the form, and as htmx sends it with the
X-CSRFToken header missing or wrong. Each answer is the CSRF refusal (403) and nothing in the
database changes. The same requests with the right token get past the check, so the test
would see a view that skipped it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.test import Client
from django.urls import reverse

from layouts.sections import REGISTRY
from tests.hostile.test_escaping import build
from tests.partners.test_matrix import (
    CLASSIFICATION,
    RECORD_OF_KIND,
    SECTION_ACTIONS,
    Closed,
    url_patterns,
)

pytestmark = pytest.mark.django_db

FORGED = "x" * 64
CSRF_REFUSAL = "Refused by the CSRF check"


def csrf_refused(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Stands in for the CSRF failure page, so a refusal is told apart from any other 403."""
    return HttpResponseForbidden(f"{CSRF_REFUSAL}: {reason}")


@pytest.fixture(autouse=True)
def _marked_csrf_refusals(settings) -> None:
    settings.CSRF_FAILURE_VIEW = "tests.hostile.test_csrf.csrf_refused"


def post_urls(book: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    """Every URL that takes POST, filled from the book, with the parameters it names."""
    records = book["records"]
    for pattern in url_patterns():
        access = CLASSIFICATION.get(pattern.name)
        if access is None:
            continue  # test_matrix names any pattern not classified yet
        record = RECORD_OF_KIND.get(access.kind)
        if record is None:
            if pattern.kwargs:
                continue  # about no record of the book (an import's progress, say)
            if not isinstance(access.post, Closed):
                yield reverse(pattern.name), dict(access.params)
            continue
        values = records[record]
        if access.kind.endswith("section action"):
            target = "relationship" if access.kind.startswith("relationship") else "company"
            for section in book["sections"][target]:
                for action_name in REGISTRY[section.kind].actions:
                    action = SECTION_ACTIONS.get(f"{section.kind}.{action_name}")
                    if action is not None and (
                        isinstance(action.post, Closed) or target not in action.targets
                    ):
                        continue
                    kwargs = {"pk": values["pk"], "section_id": section.pk, "action": action_name}
                    templates = action.params if action is not None else {}
                    params = {k: v.format(**values) for k, v in templates.items()}
                    yield reverse(pattern.name, kwargs=kwargs), params
            continue
        if isinstance(access.post, Closed) or access.kind.endswith("section"):
            continue
        kwargs = {name: values[name] for name in pattern.kwargs}
        yield reverse(pattern.name, kwargs=kwargs), dict(access.params)
    for obj in book["objects"]:
        opts = obj._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]), {}


def fingerprint() -> dict[str, Any]:
    """Row counts of every table and the latest change where a model keeps one."""
    state: dict[str, Any] = {}
    for model in apps.get_models():
        if model._meta.label in ("sessions.Session",):
            continue  # signing in and out is the session's own business
        manager = model._base_manager
        state[model._meta.label] = manager.count()
        if any(field.name == "updated_at" for field in model._meta.get_fields()):
            state[f"{model._meta.label}.updated_at"] = manager.aggregate(latest=Max("updated_at"))[
                "latest"
            ]
    return state


def attempts(client: Client, url: str, params: dict[str, str]) -> Iterator[tuple[str, Any]]:
    data = {**params, "name": "Forged", "value": "Forged", "subject": "Forged"}
    yield "no token", client.post(url, data)
    yield "forged form token", client.post(url, {**data, "csrfmiddlewaretoken": FORGED})
    htmx = {"HX-Request": "true"}
    yield "htmx without X-CSRFToken", client.post(url, data, headers=htmx)
    yield (
        "htmx with a forged X-CSRFToken",
        client.post(url, data, headers={**htmx, "X-CSRFToken": FORGED}),
    )


def test_every_write_refuses_a_missing_or_forged_csrf_token(admin_user) -> None:
    book = build("CSRF")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    # The cookie is set, as in a browser that loaded a page: only the token is wrong.
    client.get(reverse("home"))
    assert client.cookies.get("csrftoken") is not None
    targets = list(post_urls(book))
    assert len(targets) > 40, targets
    before = fingerprint()
    wrong = []
    for url, params in targets:
        for how, response in attempts(client, url, params):
            if response.status_code != 403 or CSRF_REFUSAL not in response.content.decode():
                wrong.append(f"POST {url} ({how}): {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint() == before, "a refused request wrote to the database"


def test_sign_in_and_out_refuse_a_missing_token(admin_user) -> None:
    client = Client(enforce_csrf_checks=True)
    refused = client.post(reverse("login"), {"username": "admin", "password": "password"})
    assert refused.status_code == 403 and CSRF_REFUSAL in refused.content.decode()
    client.force_login(admin_user)
    refused = client.post(reverse("logout"))
    assert refused.status_code == 403 and CSRF_REFUSAL in refused.content.decode()
    # Still signed in: the forged sign-out did nothing.
    assert client.get(reverse("home")).status_code == 200


def test_the_right_token_gets_past_the_check(admin_user) -> None:
    """The same requests with the cookie's token are not refused for CSRF: the check is real."""
    book = build("CSRF")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    client.get(reverse("home"))
    token = client.cookies["csrftoken"].value
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    logout = reverse("logout")
    for url, params in [target for target in post_urls(book) if target[0] != logout][:25]:
        response = client.post(url, {**params, "csrfmiddlewaretoken": token}, headers=headers)
        assert CSRF_REFUSAL not in response.content.decode(), url
