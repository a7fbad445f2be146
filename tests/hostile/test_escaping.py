"""Script and attribute-breaking payloads stored in every user-editable text field are shown
escaped on every page, section, dialog and admin page that shows them.

One book is built with a payload in each text field a user or an admin can type: company name
and industry, people's names and titles, the relationship's name and every text attribute (and
the type's labels, help and choices), activity subjects and notes, CTA, task, reason and
playbook names, plan and objective names, scorecard, measure, band and score comment, usage
metric names, survey comments, layout and section titles, partner and user names. Then every
GET the URL resolver knows (the classification in tests/partners/test_matrix.py), every
section and section dialog of both 360 pages, and the admin's pages of those records are asked
as an admin and as the partner's user. No page may hold a payload unescaped, link to a
`javascript:` URL, or render the template text `{{7*7}}` as 49.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import NoReverseMatch, reverse

from layouts.models import Layout
from layouts.sections import REGISTRY
from relationships.models import RelationshipTypeField
from success.models import CTAType, GradeBand
from tests.factories import (
    ActivityFactory,
    ActivityTypeFactory,
    CompanyFactory,
    CompanyPersonFactory,
    CTAFactory,
    CTAReasonFactory,
    LayoutFactory,
    MeasureFactory,
    MeasureGroupFactory,
    PartnerFactory,
    PartnerUserFactory,
    PersonFactory,
    PlaybookFactory,
    PlaybookTaskFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    ScorecardFactory,
    ScoreFactory,
    SectionFactory,
    SuccessPlanFactory,
    SuccessPlanTypeFactory,
    SurveyResponseFactory,
    TaskFactory,
    UsageMetricFactory,
    UsageValueFactory,
    UserFactory,
)
from tests.hostile.test_embed import frame_problems
from tests.partners.test_matrix import (
    CLASSIFICATION,
    PARTNER_BUNDLE,
    RECORD_OF_KIND,
    SECTION_ACTIONS,
    Closed,
    url_patterns,
)

pytestmark = pytest.mark.django_db

# A script element followed by template text (which must be shown as typed, never as 49); and
# a value that closes a double- or single-quoted attribute and its tag to start a new one.
SCRIPT = "<script>alert(1)</script>{{7*7}}"
ATTRIBUTE = "\"'><img src=x onerror=alert(1)>"
JS_URL = "javascript:alert(1)"
PAYLOADS = {"script": SCRIPT, "attribute": ATTRIBUTE}

SECTION_ERROR = "could not be loaded"
JSON_SCRIPT = re.compile(r'<script[^>]*type="application/json"[^>]*>.*?</script>', re.DOTALL)
URL_ATTRIBUTE = re.compile(
    r"""\b(?:href|src|action|formaction|hx-get|hx-post|data-url)\s*=\s*("[^"]*"|'[^']*')""",
    re.IGNORECASE,
)


def _text(tag: str, payload: str, limit: int) -> str:
    """`payload` behind a short tag that keeps unique names apart, cut to the field's size."""
    return f"{tag} {payload}"[:limit]


def build(payload: str) -> dict[str, Any]:
    """A book with `payload` in every text field; returns the records the URLs point at."""
    csm = UserFactory(username="xss-csm", first_name=_text("Csm", payload, 150), last_name="Lee")
    csm.groups.set(Group.objects.filter(name="CSM"))
    partner = PartnerFactory(
        name=_text("Partner", payload, 120),
        region=_text("R", payload, 80),
        contact_name=_text("C", payload, 120),
    )
    partner_user = PartnerUserFactory(
        partner=partner,
        user__username="xss-partner",
        user__first_name=_text("Pu", payload, 150),
    ).user
    bundle = Group.objects.create(name="XSS partner bundle")
    bundle.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in PARTNER_BUNDLE
        ]
    )
    partner_user.groups.add(bundle)

    product = RelationshipTypeFactory(
        name=_text("T", payload, 40), description=_text("D", payload, 1000)
    )
    kinds = RelationshipTypeField.Kind
    attributes: dict[str, Any] = {}
    for order, kind in enumerate(kinds):
        choices = [_text("A", payload, 60), "B"] if kind == kinds.CHOICE else []
        field = RelationshipTypeFieldFactory(
            relationship_type=product,
            key=f"f_{kind.value}",
            label=_text(kind.label, payload, 80),
            help_text=_text("Help", payload, 200),
            kind=kind.value,
            choices=choices,
            order=order,
            shown_in_lists=True,
        )
        # Stored as they are (an import before validation, say): a text kind holds the
        # payload, a URL one a script URL, the others values of their kind.
        attributes[field.key] = {
            kinds.TEXT: _text("Text", payload, 255),
            kinds.LONG_TEXT: f"Long\n{payload}\n{JS_URL}",
            kinds.URL: JS_URL,
            kinds.EMAIL: "x@example.com",
            kinds.CHOICE: choices[0] if choices else "",
            kinds.NUMBER: 3,
            kinds.CURRENCY: 10,
            kinds.PERCENT: 5,
            kinds.DATE: "2026-01-01",
            kinds.BOOLEAN: True,
        }[kind]

    holding = CompanyFactory(name=_text("Holding", payload, 200), managed_by=partner, csm=csm)
    company = CompanyFactory(
        name=_text("Company", payload, 200),
        industry=_text("I", payload, 80),
        parent=holding,
        managed_by=partner,
        csm=csm,
    )
    CompanyFactory(name=_text("Child", payload, 200), parent=company, managed_by=partner)
    relationship = RelationshipFactory(
        company=company,
        relationship_type=product,
        name=_text("Licence", payload, 200),
        csm=csm,
        attributes=attributes,
    )
    person = PersonFactory(
        first_name=_text("F", payload, 80), last_name=_text("L", payload, 80), phone="+1"
    )
    member = CompanyPersonFactory(company=company, person=person, title=_text("T", payload, 120))
    on_relationship = RelationshipPersonFactory(relationship=relationship, company_person=member)

    call = ActivityTypeFactory(name=_text("At", payload, 40))
    activity = ActivityFactory(
        company=company,
        activity_type=call,
        subject=_text("Call", payload, 200),
        notes=f"Notes {payload} {JS_URL} https://example.com/?q={payload}",
        author=csm,
    )
    ActivityFactory(
        company=company,
        relationship=relationship,
        subject=_text("Licence call", payload, 200),
        notes=payload,
        author=partner_user,
    )
    reason = CTAReasonFactory(name=_text("Reason", payload, 80))
    playbook = PlaybookFactory(name=_text("Pb", payload, 80), description=payload)
    PlaybookTaskFactory(playbook=playbook, title=_text("Pt", payload, 200))
    cta = CTAFactory(
        company=company, name=_text("Risk", payload, 80), reason=reason, owner=partner_user
    )
    task = TaskFactory(cta=cta, title=_text("Task", payload, 200))
    CTAFactory(
        company=company,
        relationship=relationship,
        name=_text("Lrisk", payload, 80),
        owner=csm,
    )
    plan = SuccessPlanFactory(
        company=company,
        name=_text("Plan", payload, 120),
        plan_type=SuccessPlanTypeFactory(name=_text("Pt", payload, 80)),
        owner=partner_user,
    )
    objective = CTAFactory(
        company=company,
        success_plan=plan,
        cta_type=CTAType.objects.get(name=CTAType.OBJECTIVE),
        name=_text("Goal", payload, 80),
        owner=partner_user,
    )
    objective_task = TaskFactory(cta=objective, title=_text("Gt", payload, 200))

    scorecard = ScorecardFactory(name=_text("Card", payload, 80))
    group = MeasureGroupFactory(scorecard=scorecard, name=_text("Mg", payload, 80))
    measure = MeasureFactory(scorecard=scorecard, group=group, name=_text("M", payload, 80))
    ScoreFactory(company=company, measure=measure, value=40, comment=_text("Sc", payload, 500))
    product_measure = MeasureFactory(
        scorecard=ScorecardFactory(name=_text("Pc", payload, 80), relationship_type=product),
        name=_text("Pm", payload, 80),
    )
    ScoreFactory(
        company=company,
        relationship=relationship,
        measure=product_measure,
        value=70,
        comment=_text("Rc", payload, 500),
    )
    GradeBand.objects.create(label=_text("G", payload, 40), low=0, high=100, colour="#123456")
    metric = UsageMetricFactory(name=_text("U", payload, 80), unit=_text("u", payload, 20))
    UsageValueFactory(company=company, metric=metric)
    SurveyResponseFactory(company=company, person=person, comment=payload, score=9)

    sections: dict[str, list[Any]] = {"company": [], "relationship": []}
    layouts = {
        "company": LayoutFactory(
            name=_text("C360", payload, 80),
            description=_text("D", payload, 200),
            target=Layout.Target.COMPANY,
            priority=1,
        ),
        "relationship": LayoutFactory(
            name=_text("R360", payload, 80),
            target=Layout.Target.RELATIONSHIP,
            relationship_type=product,
            priority=1,
        ),
    }
    for order, (key, section_kind) in enumerate(sorted(REGISTRY.items())):
        for target, layout in layouts.items():
            if target in section_kind.targets:
                extra = {}
                if key == "embed":
                    # Filled from the record's payload-bearing fields, framed in a sandbox.
                    extra["config"] = {
                        "url_template": "https://bi.example.com/a?n={name}&i={external_id}",
                        "height": 400,
                        "title": _text("Frame", payload, 80),
                    }
                sections[target].append(
                    SectionFactory(
                        layout=layout,
                        kind=key,
                        title=_text(key, payload, 80),
                        order=order,
                        **extra,
                    )
                )
    return {
        "users": {"admin": None, "partner": partner_user},
        "records": {
            "company": {"pk": company.pk, "member": member.pk, "measure": measure.pk},
            "relationship": {
                "pk": relationship.pk,
                "member": on_relationship.pk,
                "measure": product_measure.pk,
            },
            "cta": {"pk": cta.pk, "task_pk": task.pk},
            "plan": {"pk": plan.pk, "objective_id": objective.pk, "task_id": objective_task.pk},
            "activity": {"pk": activity.pk},
            "partner user": {"user_id": partner_user.pk},
        },
        "sections": sections,
        "objects": [
            holding,
            company,
            relationship,
            product,
            person,
            partner,
            cta,
            plan,
            scorecard,
            layouts["company"],
            layouts["relationship"],
            playbook,
            metric,
        ],
    }


def urls(book: dict[str, Any], payload: str) -> Iterator[tuple[str, bool]]:
    """Every GET a user can make about the book's records, and whether htmx asks for it.

    Sections and their dialogs are asked as htmx does (asked without it they render inside
    their page, which is asked too); lists both ways (htmx gets the results only).
    """
    records = book["records"]
    for pattern in url_patterns():
        # A pattern not classified yet fails test_matrix's own test, which names it.
        access = CLASSIFICATION.get(pattern.name)
        if access is None or isinstance(access.get, Closed):
            continue
        if access.kind in ("sign in", "sign out"):
            continue
        record = RECORD_OF_KIND.get(access.kind)
        if record is None and pattern.kwargs:
            continue  # about no record of the book (an import's progress, say)
        if record is None:
            url = f"{reverse(pattern.name)}?{_query(access.params, payload)}"
            yield url, False
            yield url, True
            continue
        values = records[record]
        if access.kind.endswith("section") or access.kind.endswith("section action"):
            target = "relationship" if access.kind.startswith("relationship") else "company"
            for section in book["sections"][target]:
                kwargs = {"pk": values["pk"], "section_id": section.pk}
                if access.kind.endswith("section"):
                    yield reverse(pattern.name, kwargs=kwargs), True
                    continue
                for action_name in REGISTRY[section.kind].actions:
                    action = SECTION_ACTIONS.get(f"{section.kind}.{action_name}")
                    # (An action not classified yet: test_matrix says so; asked plainly here.)
                    if action is not None and (
                        isinstance(action.get, Closed) or target not in action.targets
                    ):
                        continue
                    url = reverse(pattern.name, kwargs={**kwargs, "action": action_name})
                    templates = action.params if action is not None else {}
                    params = {k: v.format(**values) for k, v in templates.items()}
                    # Every field the attributes section shows, as its edit form and its row.
                    names = (section.config or {}).get("fields", []) if "field" in params else []
                    names = names or [None]
                    for name in names:
                        if name is not None:
                            params["field"] = name
                        yield f"{url}?{_query(params, payload)}", True
            continue
        url = reverse(pattern.name, kwargs={name: values[name] for name in pattern.kwargs})
        yield url, access.htmx


def _query(params: dict[str, str], payload: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": payload, **params})


def admin_urls(book: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    for obj in book["objects"]:
        opts = obj._meta
        if type(obj) not in admin.site._registry:
            continue
        try:
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), False
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]), False
        except NoReverseMatch:
            continue


def problems(page: str, payload: str) -> list[str]:
    """What makes `page` unsafe: the payload unescaped, a script URL, evaluated template."""
    found = []
    outside_json = JSON_SCRIPT.sub("", page)
    if payload in outside_json:
        at = outside_json.index(payload)
        found.append(f"unescaped payload: …{outside_json[max(0, at - 120) : at + 40]!r}")
    for value in URL_ATTRIBUTE.findall(page):
        url = re.sub(r"[\s\x00-\x1f]", "", html.unescape(value[1:-1])).lower()
        if url.startswith(("javascript:", "data:", "vbscript:")):
            found.append(f"script URL in an attribute: {value[:80]!r}")
    found += frame_problems(page)
    if "{{7*7}}" in payload and re.search(r"script(>|&gt;)49", page):
        found.append("template text was evaluated")
    return found


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payloads_are_escaped_on_every_page(admin_user, name: str) -> None:
    payload = PAYLOADS[name]
    book = build(payload)
    clients = {}
    for persona, user in (("admin", admin_user), ("partner user", book["users"]["partner"])):
        clients[persona] = Client()
        clients[persona].force_login(user)
    failures: list[str] = []
    shown = 0
    asked = 0
    framed = False
    for persona, client in clients.items():
        targets = list(urls(book, payload))
        if persona == "admin":
            targets += list(admin_urls(book))
        for url, htmx in targets:
            response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
            asked += 1
            label = f"{persona} GET {url}{' (htmx)' if htmx else ''}"
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code}")
                continue
            if "html" not in response.get("Content-Type", ""):
                continue
            page = response.content.decode()
            if SECTION_ERROR in page:
                failures.append(f"{label}: a section crashed")
            failures += [f"{label}: {problem}" for problem in problems(page, payload)]
            shown += html.escape(payload) in page or payload in page
            framed = framed or "<iframe" in page
    assert not failures, f"{len(failures)} of {asked} answers:\n" + "\n".join(failures[:40])
    # The payloads were on the pages (escaped), so the test looked at real output.
    assert shown > 50, f"the payload was shown escaped on only {shown} of {asked} answers"
    assert framed, "no page showed the embed section's frame"


def test_the_payload_check_catches_an_unescaped_value() -> None:
    """The check itself: a raw payload, a script link and evaluated template text are caught."""
    assert problems(f"<p>{SCRIPT}</p>", SCRIPT)
    assert problems(f'<input value="{ATTRIBUTE}">', ATTRIBUTE)
    assert problems("<p>&lt;script&gt;alert(1)&lt;/script&gt;49</p>", SCRIPT)
    assert problems('<a href=" JaVaScRiPt:alert(1)">x</a>', SCRIPT)
    assert problems('<a href="&#106;avascript:alert(1)">x</a>', SCRIPT)
    assert not problems(f"<p>{html.escape(SCRIPT)}</p>", SCRIPT)
    assert problems('<iframe src="https://x.example/">', SCRIPT)
    assert not problems(f"<p>{html.escape(SCRIPT)}</p>", SCRIPT)
    assert not problems('<script type="application/json">"\\u003Cimg \'"</script>', ATTRIBUTE)


def test_user_names_are_users(db) -> None:
    """Sanity: the CSM persona's payload name is what pages show for the record's CSM."""
    book = build(SCRIPT)
    assert User.objects.filter(first_name__startswith="Csm <script>").exists()
    assert book["records"]["company"]["pk"]
