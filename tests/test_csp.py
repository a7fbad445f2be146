"""The Content-Security-Policy, and markup that needs nothing it forbids.

The policy allows scripts from this site or with the request's nonce and styles from this site
only. So no page, section or dialog may carry a `style=` attribute, an inline handler
(`onclick=`, `hx-on:…`) or a `<script>` without the request's nonce. The demo book (every
section kind, grade bands, priorities, plans in progress, hierarchies) is crawled as each
internal and partner persona: every same-site link and htmx GET found is opened, one URL per
route and set of query parameters.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from companies.models import Company
from gainsight_lite import demo
from layouts.models import Section
from partners.roles import roles_sync
from success.defaults import defaults_create
from success.models import CTAStatus

HTMX = {"HX-Request": "true"}
LINK = re.compile(r'\b(?:href|hx-get)="(/[^"]*)"')
NONCE = re.compile(r"'nonce-([^']+)'")
# Pages the crawl must not open: signing out, the admin (its own crawl is below), files.
SKIP = ("/accounts/logout/", "/admin/", "/static/", "/partners/view-as/")
START = ["/", "/companies/", "/success-plans/", "/cockpit/", "/timeline/", "/search/?q=a"]
MAX_PAGES = 600


class MarkupCheck(HTMLParser):
    """Collects what the policy would block: style attributes, inline handlers, scripts."""

    def __init__(self, nonce: str | None, *, site_scripts: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        # The admin's own scripts come from this site ('self'), without a nonce.
        self.site_scripts = site_scripts
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _ in attrs:
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            elif name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=…>")
        # htmx evaluates event filters (`click[ctrlKey]`) and js: values: no eval allowed.
        if "[" in (names.get("hx-trigger") or ""):
            self.problems.append(f"<{tag} hx-trigger> with an event filter")
        for name in ("hx-vals", "hx-headers", "hx-vars"):
            if (names.get(name) or "").lstrip().startswith(("js:", "javascript:")):
                self.problems.append(f"<{tag} {name}=js:…>")
        from_site = self.site_scripts and (names.get("src") or "").startswith("/")
        if (
            tag == "script"
            and not from_site
            and (self.nonce is None or names.get("nonce") != self.nonce)
        ):
            self.problems.append(f"<script> without the request's nonce: {names}")
        if tag == "style" and (self.nonce is None or names.get("nonce") != self.nonce):
            self.problems.append("<style> without the request's nonce")

    handle_startendtag = handle_starttag


def policy_problems(response, *, site_scripts: bool = False) -> list[str]:
    policy = response.get("Content-Security-Policy", "")
    found = NONCE.search(policy)
    check = MarkupCheck(found.group(1) if found else None, site_scripts=site_scripts)
    check.feed(response.content.decode())
    check.close()
    return check.problems


@pytest.fixture(scope="module")
def book(django_db_setup, django_db_blocker):
    """The smallest demo book, committed for this module and deleted afterwards."""
    # Never the real database: the book is deleted afterwards.
    assert (
        "memory" in connection.settings_dict["NAME"] or "test" in connection.settings_dict["NAME"]
    )
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        # A browser test's flush may have removed the data migrations' rows (roles, lookups)
        # that the book is built on; tests/conftest.py puts them back only for each test.
        if not CTAStatus.objects.exists():
            roles_sync(apps)
            defaults_create(apps)
        call_command(
            "seed_demo", "--force", "--companies", str(demo.MIN_COMPANIES), stdout=StringIO()
        )
        try:
            yield
        finally:
            demo.demo_book_delete()


# 360 pages: up to this many records of each (their layouts differ); sections: one per kind.
PAGES_PER_360 = 8


def route_key(url: str, counts: dict[str, int]) -> tuple[str, ...] | None:
    """One key per route and query parameter names; a section's kind and action count too."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    params = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    extra: list[str] = []
    if "section_id" in match.kwargs:
        section = Section.objects.filter(pk=match.kwargs["section_id"]).first()
        extra = [section.kind if section else "?", match.kwargs.get("action", "")]
    elif match.view_name in {"layouts:company", "layouts:relationship"}:
        counts[match.view_name] = counts.get(match.view_name, 0) + 1
        if counts[match.view_name] <= PAGES_PER_360:
            extra = [str(match.kwargs["pk"])]
    return (match.view_name, *params, "|", *extra)


def crawl(client: Client, start: list[str]) -> tuple[dict[str, list[str]], set[str]]:
    """Opens every page reachable from `start`: the policy problems found by URL, and the
    section kinds opened."""
    seen: set[tuple[str, ...]] = set()
    counts: dict[str, int] = {}
    queue = deque(start)
    problems: dict[str, list[str]] = {}
    opened = 0
    while queue and opened < MAX_PAGES:
        url = queue.popleft().replace("&amp;", "&")
        if url.startswith(SKIP):
            continue
        key = route_key(url, counts)
        if key is None or key in seen:
            continue
        seen.add(key)
        for headers in ({}, HTMX):
            response = client.get(url, headers=headers)
            opened += 1
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            found = policy_problems(response)
            if found:
                problems[f"{url} {'(htmx)' if headers else ''}"] = found
            queue.extend(LINK.findall(response.content.decode()))
    assert opened > 40, f"the crawl opened only {opened} pages"
    return problems, {key[key.index("|") + 1] for key in seen if key[0].endswith("_section")}


# django_db: without it the module's book would not be on the test database.
@pytest.mark.django_db
@pytest.mark.usefixtures("book")
@pytest.mark.parametrize("username", ["csm", "partner-a", "viewer"])
def test_no_page_section_or_dialog_needs_inline_script_or_style(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    companies = Company.objects.order_by("level", "pk")
    start = START + [c.get_absolute_url() for c in companies.filter(level__gte=2)[:3]]

    problems, kinds = crawl(client, start)

    assert problems == {}
    if username == "csm":  # every kind the demo layouts use, C360 and R360
        assert kinds == set(Section.objects.values_list("kind", flat=True)), kinds
    else:
        assert {"summary", "timeline", "cockpit", "scorecard"} <= kinds, kinds


@pytest.mark.django_db
@pytest.mark.usefixtures("book")
def test_the_admin_pages_need_no_inline_style_either():
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    urls = [
        "/admin/",
        "/admin/companies/company/",
        "/admin/success/ctapriority/",
        "/admin/success/gradeband/",
        "/admin/relationships/relationshiptype/",
        f"/admin/relationships/relationshiptype/{demo_type_pk()}/change/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy_problems(response, site_scripts=True) == [], url


def demo_type_pk() -> int:
    from relationships.models import RelationshipType

    return RelationshipType.objects.earliest("pk").pk


def test_the_policy_allows_only_this_site_and_the_pages_nonce(client):
    response = client.get("/accounts/login/")

    policy = dict(
        (part.split(" ", 1) + [""])[:2]
        for part in (piece.strip() for piece in response["Content-Security-Policy"].split(";"))
    )
    found = NONCE.search(policy["script-src"])
    assert found is not None
    nonce = found.group(1)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == f"'self' 'nonce-{nonce}'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert f'nonce="{nonce}"' in html and "<script" in html
    assert policy_problems(response) == []


def test_each_page_gets_a_fresh_nonce(client):
    first = client.get("/accounts/login/")["Content-Security-Policy"]
    second = client.get("/accounts/login/")["Content-Security-Policy"]

    assert NONCE.findall(first) and NONCE.findall(first) != NONCE.findall(second)


def test_htmx_runs_without_eval_or_injected_styles(client):
    html = client.get("/accounts/login/").content.decode()

    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert config is not None
    assert '"allowEval": false' in config.group(1)
    assert '"includeIndicatorStyles": false' in config.group(1)


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ('<span style="color: red">x</span>', "<span style=…>"),
        ('<button onclick="go()">x</button>', "<button onclick=…>"),
        ('<form hx-on:submit="go()"></form>', "<form hx-on:submit=…>"),
        ("<script>alert(1)</script>", "<script> without the request's nonce: {}"),
        ("<div hx-trigger=\"keyup[key=='Enter']\"></div>", "<div hx-trigger> with an event filter"),
        ("<div hx-vals='js:{a: 1}'></div>", "<div hx-vals=js:…>"),
    ],
)
def test_the_markup_check_finds_what_the_policy_blocks(markup, problem):
    check = MarkupCheck(nonce="abc")
    check.feed(markup)

    assert check.problems == [problem]
    nonced = MarkupCheck(nonce="abc")
    nonced.feed('<script src="/static/x.js" nonce="abc"></script>')
    assert nonced.problems == []
