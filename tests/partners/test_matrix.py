"""The permission matrix: every URL pattern × persona × record × GET and POST.

The URL resolver is walked, so a new pattern the classification below does not know fails
`test_every_url_pattern_is_classified` with "classify <name> in tests/partners/test_matrix.py":
the matrix cannot fall behind the application. Each pattern is asked by four personas
(partner A user, partner B user — whose partner sees companies only —, read-only, CSM) about a
record of partner A, one of partner B and an unmanaged one, with GET and with POST, and the
answer must be the one its classification gives: 404 for a record the persona may not see
(the same as one that does not exist), 404 for a 360 section kind a partner user may not
see, 405 for a method the URL does not take, 403 for a write the persona's role does not
allow, the URL's own answer otherwise.

Every page a partner user is shown is searched for the names of the records they may not
see, and every link, htmx request and form on every page is followed in the classification:
none may lead a persona to a 403 or a 404 (no edit controls for the read-only user, no way
to a hidden record or section for a partner user).

The data is built once for the module, in a transaction rolled back at its end; each request
runs in a savepoint rolled back after it, so a write that succeeds changes nothing for the
next request.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404

from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from partners.models import Partner
from partners.roles import CSM, READ_ONLY
from success.models import CTAType, Scorecard
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CompanyPersonFactory,
    CTAFactory,
    LayoutFactory,
    MeasureFactory,
    PartnerFactory,
    PartnerUserFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    ScorecardFactory,
    SectionFactory,
    SuccessPlanFactory,
    TaskFactory,
    UserFactory,
)

# Marked so that pytest-django sets the test database up (the data itself is the module's).
pytestmark = pytest.mark.django_db

A, B, UNMANAGED = "of partner A", "of partner B", "unmanaged"
OWNERS = (A, B, UNMANAGED)
PARTNER_A, PARTNER_B, VIEWER, CSM_USER = "partner A user", "partner B user", "read-only", "CSM"
PERSONAS = (PARTNER_A, PARTNER_B, VIEWER, CSM_USER)
# Whose partner a persona works for.
PERSONA_OWNER = {PARTNER_A: A, PARTNER_B: B}
HTMX = {"HX-Request": "true"}
# Distinct words in every record's name: searching for it finds them all, and a page naming a
# record it should not is caught by the word.
WORD = {A: "Applewood", B: "Berrybrook", UNMANAGED: "Cedarfield"}
SEARCH = "Matrixco"

# What a default partner bundle holds (see issue 5): see companies and relationships, log and
# edit their own activities, create and work CTAs and tasks, see scorecards and plans.
PARTNER_BUNDLE = [
    ("companies", "view_company"),
    ("relationships", "view_relationship"),
    ("success", "view_activity"),
    ("success", "add_activity"),
    ("success", "change_activity"),
    ("success", "view_cta"),
    ("success", "add_cta"),
    ("success", "change_cta"),
    ("success", "view_task"),
    ("success", "add_task"),
    ("success", "change_task"),
    ("success", "view_scorecard"),
    ("success", "view_score"),
    ("success", "view_successplan"),
]


# ---------- the classification ----------


class Rule:
    """Who may use one method of a URL (once they may see its record)."""


@dataclass(frozen=True)
class Open(Rule):
    """Anyone signed in who may see the record."""


@dataclass(frozen=True)
class Closed(Rule):
    """The URL does not take this method: 405."""


@dataclass(frozen=True)
class Needs(Rule):
    """Users holding one of `perms` (per subject type where the two differ); `author`: and
    only the author of the record."""

    perms: tuple[str, ...] = ()
    company: tuple[str, ...] = ()
    relationship: tuple[str, ...] = ()
    author: bool = False

    def permissions(self, subject: str) -> tuple[str, ...]:
        if subject == "company" and self.company:
            return self.company
        if subject == "relationship" and self.relationship:
            return self.relationship
        return self.perms


OPEN, CLOSED = Open(), Closed()


def needs(*perms: str, author: bool = False) -> Needs:
    return Needs(perms=perms, author=author)


@dataclass(frozen=True)
class Access:
    """How a URL answers.

    kind: what it serves — "public", "sign in", "sign out", "list", "form" (a page or dialog
    about no one record), "company record", "relationship record", "company section",
    "relationship section", "company section action", "relationship section action", "CTA",
    "success plan", "activity", "view as", "view as stop", "view as banner", "admin only".
    get/post: the rule of each method; get_ok/post_ok: the answer when the rule allows it.
    params: sent with the request; htmx: sent as htmx sends it.
    """

    kind: str
    get: Rule = OPEN
    post: Rule = CLOSED
    get_ok: int = 200
    post_ok: int = 200
    # "{member}" in a value: filled from the record (see World.records).
    params: dict[str, str] = field(default_factory=dict)
    htmx: bool = False
    # A section action: the subjects it exists on (404 on the others).
    targets: tuple[str, ...] = ("company", "relationship")


# The record (in `World.records`) whose ids fill a URL of each kind.
RECORD_OF_KIND = {
    "company record": "company",
    "company section": "company",
    "company section action": "company",
    "relationship record": "relationship",
    "relationship section": "relationship",
    "relationship section action": "relationship",
    "CTA": "cta",
    "success plan": "plan",
    "activity": "activity",
    "view as": "partner user",
}

ADD_CTA, CHANGE_CTA = "success.add_cta", "success.change_cta"
ADD_TASK, CHANGE_TASK, DELETE_TASK = (
    "success.add_task",
    "success.change_task",
    "success.delete_task",
)
ADD_PLAN, CHANGE_PLAN = "success.add_successplan", "success.change_successplan"
ADD_ACTIVITY = "success.add_activity"

CLASSIFICATION: dict[str, Access] = {
    "healthz": Access("public"),
    # The benchmark's floor: any signed-in user.
    "healthz_auth": Access("list"),
    "login": Access("sign in", get_ok=302, post=OPEN, post_ok=302),
    "logout": Access("sign out", get=CLOSED, post=OPEN, post_ok=302),
    "home": Access("list"),
    "companies:list": Access("list"),
    "search": Access("list", params={"q": SEARCH}),
    "layouts:company": Access("company record"),
    "layouts:company_section": Access("company section", htmx=True),
    "layouts:company_section_action": Access("company section action", post=OPEN, htmx=True),
    "layouts:relationship": Access("relationship record"),
    "layouts:relationship_section": Access("relationship section", htmx=True),
    "layouts:relationship_section_action": Access(
        "relationship section action", post=OPEN, htmx=True
    ),
    # Timeline
    "success:timeline": Access("list"),
    "success:timeline_log": Access(
        "form", get=needs(ADD_ACTIVITY), post=needs(ADD_ACTIVITY), htmx=True
    ),
    "success:timeline_companies": Access("list", params={"q": SEARCH}, htmx=True),
    "success:activity_edit": Access(
        "activity",
        get=needs("success.change_activity", author=True),
        post=needs("success.change_activity", author=True),
        htmx=True,
    ),
    "success:activity_delete": Access(
        "activity",
        get=needs("success.delete_activity", author=True),
        post=needs("success.delete_activity", author=True),
        post_ok=204,
        htmx=True,
    ),
    # Cockpit and CTAs
    "success:cockpit": Access("list"),
    "success:cockpit_bulk": Access("form", get=CLOSED, post=needs(CHANGE_CTA), htmx=True),
    "success:cockpit_badge": Access("list", htmx=True),
    "success:cta_create": Access("form", get=needs(ADD_CTA), post=needs(ADD_CTA), htmx=True),
    "success:cta_form_options": Access("form", get=needs(ADD_CTA, CHANGE_CTA), htmx=True),
    "success:cta_company_search": Access(
        "list", get=needs(ADD_CTA), params={"q": SEARCH}, htmx=True
    ),
    "success:cta_detail": Access("CTA", htmx=True),
    "success:cta_edit": Access("CTA", get=needs(CHANGE_CTA), post=needs(CHANGE_CTA), htmx=True),
    "success:cta_status": Access("CTA", get=needs(CHANGE_CTA), post=needs(CHANGE_CTA), htmx=True),
    "success:cta_task_add": Access("CTA", get=CLOSED, post=needs(ADD_TASK), htmx=True),
    "success:cta_task_done": Access("CTA", get=CLOSED, post=needs(CHANGE_TASK), htmx=True),
    "success:cta_task_delete": Access("CTA", get=CLOSED, post=needs(DELETE_TASK), htmx=True),
    "success:cta_playbook": Access("CTA", get=CLOSED, post=needs(ADD_TASK), htmx=True),
    # Success plans
    "success:plans": Access("list"),
    "success:plan_new": Access("form", get=needs(ADD_PLAN), post=needs(ADD_PLAN), htmx=True),
    "success:plan_new_companies": Access(
        "list", get=needs(ADD_PLAN), params={"q": SEARCH}, htmx=True
    ),
    "success:plan_new_relationships": Access("list", get=needs(ADD_PLAN), htmx=True),
    "success:plan_detail": Access("success plan"),
    "success:plan_edit": Access(
        "success plan", get=needs(CHANGE_PLAN), post=needs(CHANGE_PLAN), htmx=True
    ),
    "success:plan_objective_add": Access(
        "success plan", get=needs(ADD_CTA), post=needs(ADD_CTA), htmx=True
    ),
    "success:plan_objective_status": Access(
        "success plan", get=CLOSED, post=needs(CHANGE_CTA), post_ok=204, htmx=True
    ),
    "success:plan_task_done": Access(
        "success plan", get=CLOSED, post=needs(CHANGE_TASK), post_ok=204, htmx=True
    ),
    # Viewing as a partner user (admins only; none of the personas is one).
    "partners:view_as_start": Access("view as", get=CLOSED, post=OPEN),
    "partners:view_as_stop": Access("view as stop", get=CLOSED, post=OPEN, post_ok=302),
    "partners:view_as_banner": Access("view as banner"),
    # CSV downloads: what the list shows, to anyone who may see the list.
    "csvio:companies": Access("list"),
    "csvio:relationship_downloads": Access("list"),
    # Without a type: 400 with the reason.
    "csvio:relationships": Access("list", get_ok=400),
    "csvio:cockpit": Access("list"),
    "csvio:timeline": Access("list"),
    # The CSV import pages: staff and CS admins only (none of the personas).
    "csvio:import": Access("admin only", post=OPEN),
    "csvio:import_status": Access("admin only"),
    "csvio:import_run": Access("admin only", get=CLOSED, post=OPEN),
    "csvio:import_errors": Access("admin only"),
}

# The actions of the 360 section kinds, "kind.action" → how the action answers (on top of the
# section action URL's own rules: the record visible, the kind allowed to the persona).
CHANGE_SUBJECT = Needs(
    company=("companies.change_company",), relationship=("relationships.change_relationship",)
)
SCORE = needs("success.change_score", "success.add_score")
SECTION_ACTIONS: dict[str, Access] = {
    "attributes.edit": Access(
        "edit one field", get=CHANGE_SUBJECT, post=CLOSED, params={"field": "name"}
    ),
    "attributes.save": Access("save one field", get=CLOSED, post=CHANGE_SUBJECT, post_ok=400),
    "attributes.row": Access("one field", post=CLOSED, params={"field": "name"}),
    "hierarchy.move": Access(
        "move dialog",
        get=needs("companies.change_company"),
        post=needs("companies.change_company"),
    ),
    "hierarchy.move-search": Access(
        "move targets",
        get=needs("companies.change_company"),
        post=needs("companies.change_company"),
    ),
    "people.add": Access(
        "add a person",
        get=Needs(
            company=("companies.add_companyperson",),
            relationship=("relationships.add_relationshipperson",),
        ),
        post=Needs(
            company=("companies.add_companyperson",),
            relationship=("relationships.add_relationshipperson",),
        ),
    ),
    "people.lookup": Access(
        "find a person by email",
        get=needs("companies.add_companyperson"),
        post=needs("companies.add_companyperson"),
        targets=("company",),
    ),
    "people.edit": Access(
        "edit a person",
        get=needs("companies.change_companyperson"),
        post=needs("companies.change_companyperson"),
        params={"member": "{member}"},
        targets=("company",),
    ),
    "people.remove": Access(
        "take a person off the relationship",
        get=needs("relationships.change_relationshipperson"),
        post=needs("relationships.change_relationshipperson"),
        params={"member": "{member}"},
        targets=("relationship",),
        post_ok=204,
    ),
    "relationships.add": Access(
        "add a relationship",
        get=needs("relationships.add_relationship"),
        post=needs("relationships.add_relationship"),
    ),
    "scorecard.edit": Access(
        "edit a score", get=SCORE, post=CLOSED, params={"measure": "{measure}"}
    ),
    "scorecard.save": Access(
        "save a score", get=CLOSED, post=SCORE, params={"measure": "{measure}"}
    ),
    "scorecard.row": Access("one score", post=CLOSED, params={"measure": "{measure}"}),
    "success_plans.new": Access("new plan", get=needs(ADD_PLAN), post=needs(ADD_PLAN)),
    "timeline.log": Access("log an activity", get=needs(ADD_ACTIVITY), post=needs(ADD_ACTIVITY)),
    "timeline.more": Access("more activities", post=OPEN),
    # The History section: internal users only (not partner-visible), reading only.
    "history.more": Access("more changes", post=OPEN),
}


# ---------- the URL patterns ----------


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str
    kwargs: tuple[str, ...]


def url_patterns(
    resolver: URLResolver | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[Pattern]:
    """Every URL pattern of the project, included ones too, except the admin's own."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # the admin's own views; /admin/ itself is asked below
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, inner, route)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else route
            yield Pattern(name, route, tuple(entry.pattern.converters))


# ---------- the world: personas and records, built once ----------


@dataclass
class World:
    users: dict[str, User]
    clients: dict[str, Client]
    # kind of record → owner → the URL kwargs that point at it
    records: dict[str, dict[str, dict[str, Any]]]
    # owner → the user who wrote its activities
    authors: dict[str, User]
    sections: dict[str, list[Section]]  # "company"/"relationship" → one of every kind
    section_kinds: dict[int, str]
    # names of records a persona may not see (partner personas only)
    hidden_names: dict[str, list[str]]
    own_names: dict[str, list[str]]
    # (record kind, pk) → owner, to follow the links a page shows
    owner_of: dict[tuple[str, int], str] = field(default_factory=dict)


def _build() -> World:
    partner_a = PartnerFactory(name="Matrix partner A")
    partner_b = PartnerFactory(name="Matrix partner B", data_scope=Partner.DataScope.COMPANIES_ONLY)
    bundle = Group.objects.create(name="Matrix partner bundle")
    bundle.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in PARTNER_BUNDLE
        ]
    )
    users = {
        PARTNER_A: PartnerUserFactory(partner=partner_a, user__username="matrix-partner-a").user,
        PARTNER_B: PartnerUserFactory(partner=partner_b, user__username="matrix-partner-b").user,
        VIEWER: UserFactory(username="matrix-viewer", groups=[READ_ONLY]),
        CSM_USER: UserFactory(username="matrix-csm", groups=[CSM]),
    }
    # A colleague at partner A, to give CTAs to.
    PartnerUserFactory(partner=partner_a, user__username="matrix-partner-a2")
    users[PARTNER_A].groups.add(bundle)
    users[PARTNER_B].groups.add(bundle)
    authors = {A: users[PARTNER_A], B: users[PARTNER_B], UNMANAGED: users[CSM_USER]}
    partners = {A: partner_a, B: partner_b, UNMANAGED: None}

    product = RelationshipTypeFactory(name="Matrix product")
    RelationshipTypeFieldFactory(relationship_type=product, key="seats", label="Seats")
    sections: dict[str, list[Section]] = {"company": [], "relationship": []}
    c360 = LayoutFactory(name="Matrix C360", target=Layout.Target.COMPANY, priority=1)
    r360 = LayoutFactory(
        name="Matrix R360",
        target=Layout.Target.RELATIONSHIP,
        relationship_type=product,
        priority=1,
    )
    for order, (key, kind) in enumerate(sorted(REGISTRY.items())):
        for target, layout in (("company", c360), ("relationship", r360)):
            if target in kind.targets:
                sections[target].append(
                    SectionFactory(layout=layout, kind=key, title=f"{key} section", order=order)
                )

    company_scorecard = Scorecard.objects.filter(
        relationship_type__isnull=True
    ).first() or ScorecardFactory(name="Matrix company health")
    company_measure = MeasureFactory(scorecard=company_scorecard, name="Matrix adoption")
    product_measure = MeasureFactory(
        scorecard=ScorecardFactory(name="Matrix product health", relationship_type=product),
        name="Matrix usage",
    )
    objective = CTAType.objects.get(name=CTAType.OBJECTIVE)
    records: dict[str, dict[str, dict[str, Any]]] = {
        kind: {}
        for kind in (
            "company",
            "relationship",
            "cta",
            "plan",
            "activity",
            # the work done on each relationship (companies-only partners see none of it)
            "relationship cta",
            "relationship plan",
            "relationship activity",
        )
    }
    # Partner A's company hangs under a holding nobody manages: its breadcrumb must not name it.
    holding = CompanyFactory(name=f"{SEARCH} Dunmore Holding", csm=users[CSM_USER])
    names: dict[str, list[str]] = {}
    for owner in OWNERS:
        word = f"{SEARCH} {WORD[owner]}"
        author = authors[owner]
        company = CompanyFactory(
            name=f"{word} Company",
            managed_by=partners[owner],
            csm=users[CSM_USER],
            parent=holding if owner == A else None,
        )
        relationship = RelationshipFactory(
            company=company, relationship_type=product, name=f"{word} Licence"
        )
        member = CompanyPersonFactory(
            company=company,
            person=PersonFactory(first_name=SEARCH, last_name=f"{WORD[owner]}person"),
        )
        on_relationship = RelationshipPersonFactory(
            relationship=relationship, company_person=member
        )
        activity = ActivityFactory(company=company, subject=f"{word} call", author=author)
        licence_call = ActivityFactory(
            company=company,
            relationship=relationship,
            subject=f"{word} licence call",
            author=author,
        )
        cta = CTAFactory(company=company, name=f"{word} risk", owner=author)
        task = TaskFactory(cta=cta, title=f"{word} task")
        licence_risk = CTAFactory(
            company=company, relationship=relationship, name=f"{word} licence risk", owner=author
        )
        plan = SuccessPlanFactory(company=company, name=f"{word} plan", owner=author)
        goal = CTAFactory(
            company=company,
            success_plan=plan,
            cta_type=objective,
            name=f"{word} objective",
            owner=author,
        )
        goal_task = TaskFactory(cta=goal, title=f"{word} objective task")
        licence_plan = SuccessPlanFactory(
            company=company, relationship=relationship, name=f"{word} licence plan", owner=author
        )
        records["company"][owner] = {
            "pk": company.pk,
            "member": member.pk,
            "measure": company_measure.pk,
        }
        records["relationship"][owner] = {
            "pk": relationship.pk,
            "member": on_relationship.pk,
            "measure": product_measure.pk,
        }
        records["cta"][owner] = {"pk": cta.pk, "task_pk": task.pk}
        records["plan"][owner] = {"pk": plan.pk, "objective_id": goal.pk, "task_id": goal_task.pk}
        records["activity"][owner] = {"pk": activity.pk}
        records["relationship cta"][owner] = {"pk": licence_risk.pk}
        records["relationship plan"][owner] = {"pk": licence_plan.pk}
        records["relationship activity"][owner] = {"pk": licence_call.pk}
        # Every record's name without the searched word (search results mark it up): the
        # company's, its relationship's, its person's and its work's (on the relationship:
        # "licence").
        names[owner] = [
            f"{WORD[owner]} {suffix}"
            for suffix in (
                "Company",
                "Licence",
                "call",
                "licence call",
                "risk",
                "licence risk",
                "task",
                "plan",
                "licence plan",
                "objective",
            )
        ] + [f"{WORD[owner]}person"]
    records["partner user"] = {
        A: {"user_id": users[PARTNER_A].pk},
        B: {"user_id": users[PARTNER_B].pk},
        UNMANAGED: {"user_id": users[CSM_USER].pk},
    }
    names[UNMANAGED].append("Dunmore Holding")
    hidden_names, own_names = {}, {}
    for persona, own in PERSONA_OWNER.items():
        hidden_names[persona] = [name for owner in OWNERS if owner != own for name in names[owner]]
        own_names[persona] = names[own]
    # A companies-only partner sees none of its relationships, nor the work done on them.
    hidden_names[PARTNER_B] += [name for name in names[B] if "licence" in name.lower()]
    own_names[PARTNER_B] = [name for name in names[B] if "licence" not in name.lower()]

    clients = {}
    for persona, user in users.items():
        clients[persona] = Client()
        clients[persona].force_login(user)
    world = World(
        users=users,
        clients=clients,
        records=records,
        authors=authors,
        sections=sections,
        section_kinds={s.pk: s.kind for target in sections.values() for s in target},
        hidden_names=hidden_names,
        own_names=own_names,
    )
    for record, by_owner in records.items():
        for owner, kwargs in by_owner.items():
            if "pk" in kwargs:
                world.owner_of[(record, kwargs["pk"])] = owner
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The personas and records, in a transaction rolled back after the module's tests."""
    quiet = logging.getLogger("django.request")
    level = quiet.level
    # Thousands of expected 403s and 404s: their warnings would only fill the captured log.
    quiet.setLevel(logging.ERROR)
    with django_db_blocker.unblock(), transaction.atomic():
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        yield _build()
        transaction.set_rollback(True)
    quiet.setLevel(level)


@pytest.fixture
def matrix(world, django_db_blocker) -> Iterator[World]:
    with django_db_blocker.unblock():
        yield world


# ---------- what each persona should get ----------


def _visible(persona: str, record: str, owner: str) -> bool:
    own = PERSONA_OWNER.get(persona)
    if own is None:
        return True  # internal users see every record
    if record == "relationship" and persona == PARTNER_B:
        return False  # partner B sees companies only
    return owner == own


def _allowed(world: World, rule: Rule, persona: str, subject: str, owner: str | None) -> bool:
    if isinstance(rule, Open):
        return True
    assert isinstance(rule, Needs)
    user = world.users[persona]
    if not any(user.has_perm(perm) for perm in rule.permissions(subject)):
        return False
    if rule.author:
        return owner is not None and world.authors[owner].pk == user.pk
    return True


def expected(
    world: World,
    access: Access,
    persona: str,
    method: str,
    owner: str | None,
    *,
    section_kind: str | None = None,
    action: Access | None = None,
) -> int:
    """The answer `persona` must get for `method` on a URL classified `access`."""
    rule = access.get if method == "GET" else access.post
    ok = access.get_ok if method == "GET" else access.post_ok
    partner = persona in PERSONA_OWNER
    if access.kind == "public":
        return 405 if isinstance(rule, Closed) else ok
    if access.kind in ("sign in", "sign out", "view as stop"):
        return 405 if isinstance(rule, Closed) else ok
    if access.kind == "view as":
        # Partner users are not told it exists; others are not admins.
        return 404 if partner else 405 if isinstance(rule, Closed) else 403
    if access.kind == "view as banner":
        return 405 if isinstance(rule, Closed) else 404  # no persona is viewing as anyone
    if access.kind == "admin only":
        # Under /admin/: partner users are not told it exists, whatever the method; no other
        # persona is staff or a CS admin, so the page answers them as if it did not exist.
        return 404 if partner or not isinstance(rule, Closed) else 405
    # Views check the method first, then the record, then the role.
    if isinstance(rule, Closed):
        return 405
    record = RECORD_OF_KIND.get(access.kind)
    subject = record if record in ("company", "relationship") else "company"
    if record is not None and owner is not None and not _visible(persona, record, owner):
        return 404
    if section_kind is not None and partner and not REGISTRY[section_kind].partner_visible:
        return 404
    if action is not None:
        if subject not in action.targets:
            return 404  # the kind has no such action on this page
        # The section kind answers its own action: the method first, then the role.
        rule = action.get if method == "GET" else action.post
        ok = action.get_ok if method == "GET" else action.post_ok
        if isinstance(rule, Closed):
            return 405
    if not _allowed(world, rule, persona, subject, owner):
        return 403
    return ok


# ---------- asking ----------


def ask(client: Client, method: str, url: str, access: Access, params: dict[str, str]) -> Any:
    """One request in a savepoint rolled back after it: a write changes nothing."""
    headers = HTMX if access.htmx else {}
    with transaction.atomic():
        if method == "GET":
            response = client.get(url, params, headers=headers)
        else:
            # In the query string too: some actions name their record there (?member=…).
            query = f"?{urlencode(params)}" if params else ""
            response = client.post(f"{url}{query}", params, headers=headers)
        transaction.set_rollback(True)
    return response


@dataclass
class Case:
    """One URL to ask, with what fills it."""

    name: str
    url: str
    access: Access
    owner: str | None
    section_kind: str | None = None
    action: Access | None = None
    params: dict[str, str] = field(default_factory=dict)


def cases(world: World, pattern: Pattern) -> Iterator[Case]:
    """The URLs of `pattern` to ask: one per record owner (and section, and action)."""
    access = CLASSIFICATION[pattern.name]
    record = RECORD_OF_KIND.get(access.kind)
    if record is None:
        # An admin page's token: any value, the persona may not use the page at all.
        kwargs = dict.fromkeys(pattern.kwargs, "matrix-token")
        assert access.kind == "admin only" or not kwargs, f"fill {kwargs} for {pattern.name}"
        url = reverse(pattern.name, kwargs=kwargs)
        yield Case(pattern.name, url, access, None, params=access.params)
        return
    target = "relationship" if access.kind.startswith("relationship") else "company"
    for owner in OWNERS:
        values = world.records[record][owner]
        if access.kind.endswith("section") or access.kind.endswith("section action"):
            for section in world.sections[target]:
                kind = REGISTRY[section.kind]
                kwargs = {"pk": values["pk"], "section_id": str(section.pk)}
                if access.kind.endswith("section"):
                    url = reverse(pattern.name, kwargs=kwargs)
                    yield Case(pattern.name, url, access, owner, section.kind)
                    continue
                for action_name in kind.actions:
                    action = SECTION_ACTIONS.get(f"{section.kind}.{action_name}")
                    assert action is not None, (
                        f"classify {section.kind}.{action_name} in tests/partners/test_matrix.py "
                        "(SECTION_ACTIONS)"
                    )
                    url = reverse(pattern.name, kwargs={**kwargs, "action": action_name})
                    params = {key: value.format(**values) for key, value in action.params.items()}
                    yield Case(pattern.name, url, access, owner, section.kind, action, params)
            continue
        missing = [name for name in pattern.kwargs if name not in values]
        assert not missing, f"fill {missing} for {pattern.name} from the {record} record"
        url = reverse(pattern.name, kwargs={name: values[name] for name in pattern.kwargs})
        yield Case(pattern.name, url, access, owner, params=access.params)


# ---------- following what a page shows ----------

URL_ATTRIBUTE = re.compile(r'\b(href|hx-get|hx-post|action)="(/[^"]*)"')
FORM = re.compile(r"<form\b[^>]*>", re.IGNORECASE)


def shown_requests(page: str) -> set[tuple[str, str]]:
    """(method, path) of every link, htmx request and form action on the page."""
    found = set()
    for attribute, url in URL_ATTRIBUTE.findall(page):
        path = html.unescape(url).split("?")[0].split("#")[0]
        if attribute == "action":
            continue  # forms below, with their method
        found.add(("POST" if attribute == "hx-post" else "GET", path))
    for tag in FORM.findall(page):
        action = re.search(r'action="(/[^"]*)"', tag)
        if action is None:
            continue
        method = "POST" if re.search(r'method="post"', tag, re.IGNORECASE) else "GET"
        found.add((method, html.unescape(action.group(1)).split("?")[0]))
    return found


def follow(world: World, persona: str, method: str, path: str) -> int | None:
    """The answer `persona` would get for what the page offers; None when not a known record."""
    if path.startswith(("/static/", "/admin/")):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return 404
    access = CLASSIFICATION.get(match.view_name)
    if access is None:
        return None  # test_every_url_pattern_is_classified says so
    record = RECORD_OF_KIND.get(access.kind)
    owner = None
    if record is not None:
        key = "pk" if record != "partner user" else "user_id"
        owner = world.owner_of.get((record, int(match.kwargs.get(key, 0))))
        if owner is None:
            return None
    section_kind = world.section_kinds.get(match.kwargs.get("section_id", -1))
    action = None
    if "action" in match.kwargs and section_kind is not None:
        action = SECTION_ACTIONS.get(f"{section_kind}.{match.kwargs['action']}")
    return expected(world, access, persona, method, owner, section_kind=section_kind, action=action)


# ---------- the tests ----------


def test_every_url_pattern_is_classified() -> None:
    unknown = [p.name for p in url_patterns() if p.name not in CLASSIFICATION]
    assert not unknown, "; ".join(
        f"classify {name} in tests/partners/test_matrix.py" for name in unknown
    )
    stale = set(CLASSIFICATION) - {p.name for p in url_patterns()}
    assert not stale, f"no such URL any more: {sorted(stale)} (tests/partners/test_matrix.py)"


def test_every_section_action_is_classified() -> None:
    actions = {f"{key}.{action}" for key, kind in REGISTRY.items() for action in kind.actions}
    unknown = sorted(actions - set(SECTION_ACTIONS))
    assert not unknown, "; ".join(
        f"classify {name} in tests/partners/test_matrix.py (SECTION_ACTIONS)" for name in unknown
    )
    assert not set(SECTION_ACTIONS) - actions, "a classified section action no longer exists"


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_url_answers_each_persona_as_classified(matrix: World, persona: str) -> None:
    """Every pattern × record × GET/POST: the classified answer, no hidden record's name on
    any page, and nothing offered on a page that would answer 403 or 404."""
    world = matrix
    client = world.clients[persona]
    wrong, leaks, dead_ends = [], [], []
    hidden = world.hidden_names.get(persona, [])
    asked = 0
    for pattern in url_patterns():
        for case in cases(world, pattern):
            for method in ("GET", "POST"):
                want = expected(
                    world,
                    case.access,
                    persona,
                    method,
                    case.owner,
                    section_kind=case.section_kind,
                    action=case.action,
                )
                if case.access.kind == "sign out":
                    # Signing out ends the session: a client of its own.
                    client_used = Client()
                    client_used.force_login(world.users[persona])
                else:
                    client_used = client
                response = ask(client_used, method, case.url, case.access, case.params)
                asked += 1
                label = f"{method} {case.url} ({case.name}, record {case.owner})"
                if response.status_code != want:
                    wrong.append(f"{label}: {response.status_code}, expected {want}")
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                page = response.content.decode()
                leaks += [f"{label} names {name!r}" for name in hidden if name in page]
                for shown_method, path in shown_requests(page):
                    answer = follow(world, persona, shown_method, path)
                    if answer in (403, 404):
                        dead_ends.append(f"{label} offers {shown_method} {path} → {answer}")
    assert asked > 400
    problems = [
        *wrong,
        *leaks,
        *sorted(set(dead_ends)),
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_admin_is_a_404_for_partner_users(matrix: World, persona: str, method: str) -> None:
    """/admin/ itself: partner users get 404 like any missing page; internal users who are not
    staff are sent to the admin's sign-in."""
    response = ask(matrix.clients[persona], method, reverse("admin:index"), Access("admin"), {})

    if persona in PERSONA_OWNER:
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


# ---------- each list shows a partner user their own records ----------

LISTS = ["companies:list", "search", "success:timeline", "success:cockpit", "success:plans"]


def _page(world: World, persona: str, name: str, **params: str) -> str:
    access = CLASSIFICATION[name]
    response = ask(world.clients[persona], "GET", reverse(name), access, params or access.params)
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.mark.parametrize("persona", [PARTNER_A, PARTNER_B])
def test_each_list_shows_a_partner_user_their_own_records(matrix: World, persona: str) -> None:
    """The other half of the no-leak check: the lists are scoped, not empty."""
    pages = {name: _page(matrix, persona, name) for name in LISTS}
    own = WORD[PERSONA_OWNER[persona]]

    assert f"{own} Company" in pages["companies:list"]
    assert f"{own} Company" in pages["search"]
    assert f"{WORD[PERSONA_OWNER[persona]]}person" in pages["search"]
    assert f"{own} call" in pages["success:timeline"]
    assert f"{own} risk" in pages["success:cockpit"]
    assert f"{own} plan" in pages["success:plans"]


def test_a_partner_with_relationships_sees_them_and_the_work_on_them(matrix: World) -> None:
    pages = {name: _page(matrix, PARTNER_A, name) for name in LISTS}
    own = WORD[A]

    assert f"{own} Licence" in pages["search"]
    assert f"{own} licence call" in pages["success:timeline"]
    assert f"{own} licence risk" in pages["success:cockpit"]
    assert f"{own} licence plan" in pages["success:plans"]


def test_a_companies_only_partner_sees_no_relationship_anywhere(matrix: World) -> None:
    """Not in any list nor search (the matrix checks every page), and its own relationship,
    and the work done on it, answer 404 like records that do not exist."""
    client = matrix.clients[PARTNER_B]
    records = matrix.records
    urls = [
        reverse("layouts:relationship", args=[records["relationship"][B]["pk"]]),
        reverse("success:cta_detail", args=[records["relationship cta"][B]["pk"]]),
        reverse("success:plan_detail", args=[records["relationship plan"][B]["pk"]]),
        reverse("success:activity_edit", args=[records["relationship activity"][B]["pk"]]),
    ]
    dropdown = ask(client, "GET", reverse("search"), Access("list", htmx=True), {"q": SEARCH})

    assert [ask(client, "GET", url, Access("record"), {}).status_code for url in urls] == [404] * 4
    assert f"{WORD[B]} Company" in dropdown.content.decode()
    assert "Licence" not in dropdown.content.decode()
    for name in LISTS:
        assert "licence" not in _page(matrix, PARTNER_B, name).lower(), name


def test_home_counts_only_what_each_persona_may_see(matrix: World) -> None:
    counts = {}
    for persona in PERSONAS:
        response = ask(matrix.clients[persona], "GET", reverse("home"), Access("list"), {})
        dashboard = response.context["dashboard"]
        counts[persona] = (dashboard.company_count, dashboard.relationship_count)

    assert counts[PARTNER_A] == (1, 1)
    assert counts[PARTNER_B] == (1, 0)
    # Internal users, read-only ones too, see every record (the holding and three companies).
    assert counts[VIEWER] == counts[CSM_USER]
    assert counts[VIEWER][0] >= 4 and counts[VIEWER][1] >= 3


def test_the_read_only_user_sees_every_record(matrix: World) -> None:
    search = _page(matrix, VIEWER, "search")
    companies = _page(matrix, VIEWER, "companies:list")

    for owner in OWNERS:
        assert f"{WORD[owner]} Company" in search
        assert f"{WORD[owner]} Licence" in search
        assert f"{WORD[owner]} Company" in companies


def test_a_partner_breadcrumb_leaves_out_the_holding_they_may_not_see(matrix: World) -> None:
    url = reverse("layouts:company", args=[matrix.records["company"][A]["pk"]])

    partner = ask(matrix.clients[PARTNER_A], "GET", url, Access("record"), {}).content.decode()
    internal = ask(matrix.clients[CSM_USER], "GET", url, Access("record"), {}).content.decode()

    assert "Dunmore Holding" in internal
    assert "Dunmore Holding" not in partner


def _owner_names(response: Any, form: str = "form") -> set[str]:
    field = response.context[form].fields["owner"]
    return {user.get_username() for user in field.queryset}


def test_cta_owners_for_a_partner_user_are_their_colleagues_and_the_records_csm(
    matrix: World,
) -> None:
    company = matrix.records["company"][A]["pk"]
    cta = matrix.records["cta"][A]["pk"]
    client = matrix.clients[PARTNER_A]
    htmx = Access("form", htmx=True)

    create = ask(client, "GET", reverse("success:cta_create"), htmx, {"company": str(company)})
    detail = ask(client, "GET", reverse("success:cta_detail", args=[cta]), htmx, {})
    internal = ask(
        matrix.clients[CSM_USER],
        "GET",
        reverse("success:cta_create"),
        htmx,
        {"company": str(company)},
    )

    partner_a = {"matrix-partner-a", "matrix-partner-a2"}
    assert _owner_names(create) == partner_a | {"matrix-csm"}
    assert _owner_names(detail, "task_form") == partner_a | {"matrix-csm"}
    internal_owners = _owner_names(internal)
    assert "matrix-csm" in internal_owners
    # Internal users give CTAs to colleagues who may work them: never to a read-only user.
    assert not internal_owners & {"matrix-partner-a", "matrix-partner-b", "matrix-viewer"}


def test_a_partner_user_cannot_give_ctas_to_internal_staff_in_bulk(matrix: World) -> None:
    cta = str(matrix.records["cta"][A]["pk"])
    client = matrix.clients[PARTNER_A]
    bulk = Access("form", htmx=True)
    url = reverse("success:cockpit_bulk")
    viewer = str(matrix.users[VIEWER].pk)
    colleague = str(User.objects.get(username="matrix-partner-a2").pk)

    refused = ask(client, "POST", url, bulk, {"action": "reassign", "owner": viewer, "cta": cta})
    given = ask(client, "POST", url, bulk, {"action": "reassign", "owner": colleague, "cta": cta})
    cockpit = _page(matrix, PARTNER_A, "success:cockpit")

    assert "Choose the new owner from the list of colleagues." in refused.content.decode()
    assert "1 CTA given to" in given.content.decode()
    # The bulk bar offers the partner's own users only.
    assert "matrix-viewer" not in cockpit and matrix.users[VIEWER].get_full_name() not in cockpit
