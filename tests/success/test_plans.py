"""Success plans: the list and its filters, one plan with its objectives and tasks, the 360
section, who sees and who may change what, and fixed query counts."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from layouts.models import Layout
from layouts.sections import REGISTRY, section_url
from partners.access import success_plans_visible_to
from success.models import CTA, CTAStatus, CTAType, SuccessPlan, Task
from success.services import cta_create, default_priority, success_plan_create
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    RelationshipFactory,
    SectionFactory,
    SuccessPlanFactory,
    SuccessPlanTypeFactory,
    TaskFactory,
    TemplateObjectiveFactory,
    TemplateTaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PLANS = reverse("success:plans")
NEW = reverse("success:plan_new")


def today() -> dt.date:
    return timezone.localdate()


def objective(plan: SuccessPlan, *, name: str = "Go live", closed: bool = False, **fields) -> CTA:
    status = CTAStatus.objects.filter(is_closed=closed).order_by("order").first()
    return cta_create(
        by=None,
        company=plan.company,
        relationship=plan.relationship,
        success_plan=plan,
        name=name,
        cta_type=CTAType.objects.get(name=CTAType.OBJECTIVE),
        priority=default_priority(),
        status=status,
        **fields,
    )


def triggers(response) -> set[str]:
    raw = response.headers.get("HX-Trigger", "")
    return set(json.loads(raw)) if raw.startswith("{") else {raw} - {""}


def _permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="success", codename=codename)


def detail_url(plan: SuccessPlan) -> str:
    return reverse("success:plan_detail", args=[plan.pk])


@pytest.fixture
def onboarding():
    """A plan type with two template objectives, the first with two template tasks."""
    kind = SuccessPlanTypeFactory(name="Onboarding")
    kickoff = TemplateObjectiveFactory(plan_type=kind, name="Kick-off done", day_offset=14, order=0)
    TemplateTaskFactory(objective=kickoff, title="Book the call", day_offset=3, order=0)
    TemplateTaskFactory(objective=kickoff, title="Send the agenda", day_offset=5, order=1)
    TemplateObjectiveFactory(plan_type=kind, name="Users trained", day_offset=45, order=1)
    return kind


# ---------- creating a plan ----------


def test_a_new_plan_from_the_list_copies_its_types_template(csm_client, csm_user, onboarding):
    company = CompanyFactory(name="Initech")
    relationship = RelationshipFactory(company=company, name="Initech Analytics")

    response = csm_client.post(
        NEW,
        {
            "company": company.pk,
            "relationship": relationship.pk,
            "name": "Initech onboarding",
            "plan_type": onboarding.pk,
            "status": "active",
            "owner": csm_user.pk,
            "due_date": "2030-06-30",
        },
        headers=HTMX,
    )

    plan = SuccessPlan.objects.get(name="Initech onboarding")
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == detail_url(plan)
    assert "planChanged" in triggers(response)
    assert (plan.company, plan.relationship, plan.status, plan.owner) == (
        company,
        relationship,
        "active",
        csm_user,
    )
    assert plan.due_date == dt.date(2030, 6, 30)
    objectives = list(plan.objectives.order_by("due_date"))
    assert [(o.name, o.due_date) for o in objectives] == [
        ("Kick-off done", today() + dt.timedelta(days=14)),
        ("Users trained", today() + dt.timedelta(days=45)),
    ]
    for item in objectives:
        assert item.cta_type.name == "Objective"
        assert (item.company, item.relationship, item.owner) == (company, relationship, csm_user)
        assert not item.is_closed
    tasks = list(objectives[0].tasks.order_by("order"))
    assert [(t.title, t.due_date, t.owner) for t in tasks] == [
        ("Book the call", today() + dt.timedelta(days=3), csm_user),
        ("Send the agenda", today() + dt.timedelta(days=5), csm_user),
    ]
    assert not objectives[1].tasks.exists()


def test_a_plan_of_a_type_without_template_starts_empty(csm_user):
    kind = SuccessPlanTypeFactory(name="Expansion")
    plan = success_plan_create(
        by=csm_user, plan_type=kind, company=CompanyFactory(), name="Grow", owner=csm_user
    )
    assert not plan.objectives.exists()
    assert not Task.objects.exists()


def test_the_new_plan_dialog_shows_errors_by_their_fields_and_saves_nothing(csm_client):
    kind = SuccessPlanTypeFactory(name="Renewal")
    company = CompanyFactory(name="Umbrella")
    other = RelationshipFactory(name="Someone else's")

    response = csm_client.post(
        NEW,
        {
            "company": company.pk,
            "relationship": other.pk,
            "name": "",
            "plan_type": kind.pk,
            "status": "draft",
            "due_date": "31/12/2030",
            "company_q": "Umb",
        },
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "relationship": ["Choose one of the company's relationships."],
        "name": ["Give the plan a name."],
        "due_date": ["Enter a date as YYYY-MM-DD."],
    }
    assert "Give the plan a name." in html
    # The chosen company stays chosen, the search text stays typed.
    assert re.search(rf'value="{company.pk}"\s+checked', html)
    assert 'value="Umb"' in html
    assert not SuccessPlan.objects.exists()


def test_the_new_plan_dialog_needs_a_company(csm_client):
    kind = SuccessPlanTypeFactory()
    response = csm_client.post(
        NEW, {"name": "Plan", "plan_type": kind.pk, "status": "draft"}, headers=HTMX
    )
    assert response.context["form"].errors["company"] == ["Choose the company this plan is for."]
    assert "Choose the company this plan is for." in response.content.decode()


def test_the_company_picker_offers_only_companies_the_user_sees(
    partner_a, partner_a_user, partner_a_client
):
    partner_a_user.user_permissions.add(_permission("add_successplan"))
    CompanyFactory(name="Acme Mining", managed_by=partner_a)
    CompanyFactory(name="Acme Foods")  # not partner A's

    url = reverse("success:plan_new_companies")
    html = partner_a_client.get(url, {"company_q": "acme"}, headers=HTMX).content.decode()

    assert "Acme Mining" in html
    assert "Acme Foods" not in html


def test_choosing_a_company_offers_its_relationships(csm_client):
    company = CompanyFactory()
    RelationshipFactory(company=company, name="Analytics Cloud")
    RelationshipFactory(name="Elsewhere")
    url = reverse("success:plan_new_relationships")

    html = csm_client.get(url, {"company": company.pk}, headers=HTMX).content.decode()

    assert "Analytics Cloud" in html and "Elsewhere" not in html
    assert "The whole company" in html


# ---------- progress ----------


def test_the_list_shows_each_plans_progress_and_objective_counts(csm_client):
    plan = SuccessPlanFactory(name="Rollout")
    for index in range(3):
        objective(plan, name=f"Open {index}")
    objective(plan, name="Done", closed=True)
    SuccessPlanFactory(name="Fresh plan")

    html = csm_client.get(PLANS).content.decode()

    assert 'max="100" value="25"' in html
    assert "1 of 4 objectives done" in html
    assert "No objectives yet" in html


def test_the_plan_page_shows_progress_objectives_and_tasks(csm_client):
    plan = SuccessPlanFactory(name="Rollout")
    first = objective(plan, name="Kick-off", closed=True)
    second = objective(plan, name="Training", due_date=today() - dt.timedelta(days=2))
    TaskFactory(cta=second, title="Book trainer", done=True)
    TaskFactory(cta=second, title="Send invites")

    html = csm_client.get(detail_url(plan)).content.decode()

    assert "1 of 2 objectives done" in html and 'max="100" value="50"' in html
    assert first.name in html and "Training" in html
    assert "1 of 2 tasks done" in html
    assert "Book trainer" in html and "Send invites" in html
    assert "overdue" in html


def test_a_plan_without_objectives_says_so(csm_client):
    html = csm_client.get(detail_url(SuccessPlanFactory())).content.decode()
    assert "No objectives yet" in html


# ---------- the list: filters, sorting, pages ----------


@pytest.fixture
def book(csm_user):
    onboarding = SuccessPlanTypeFactory(name="Onboarding")
    renewal = SuccessPlanTypeFactory(name="Renewal")
    acme = CompanyFactory(name="Acme Corp")
    globex = CompanyFactory(name="Globex")
    SuccessPlanFactory(
        name="Acme onboarding",
        company=acme,
        plan_type=onboarding,
        owner=csm_user,
        status="active",
        due_date=today() + dt.timedelta(days=10),
    )
    SuccessPlanFactory(
        name="Acme renewal",
        company=acme,
        plan_type=renewal,
        status="draft",
        due_date=today() + dt.timedelta(days=90),
    )
    SuccessPlanFactory(
        name="Globex renewal",
        company=globex,
        plan_type=renewal,
        owner=csm_user,
        status="completed",
        due_date=today() - dt.timedelta(days=5),
    )
    return {"onboarding": onboarding, "renewal": renewal, "acme": acme}


def listed(client, **params) -> list[str]:
    response = client.get(PLANS, params)
    assert response.status_code == 200
    return [row.plan.name for row in response.context["listing"].rows]


def test_the_list_filters_by_status_type_owner_company_and_due_date(csm_client, book):
    assert listed(csm_client) == ["Globex renewal", "Acme onboarding", "Acme renewal"]
    assert listed(csm_client, status="draft") == ["Acme renewal"]
    assert listed(csm_client, status="open") == ["Acme onboarding", "Acme renewal"]
    assert listed(csm_client, plan_type=book["renewal"].pk) == ["Globex renewal", "Acme renewal"]
    assert listed(csm_client, owner="me") == ["Globex renewal", "Acme onboarding"]
    assert listed(csm_client, q="acme") == ["Acme onboarding", "Acme renewal"]
    assert listed(csm_client, company=book["acme"].pk) == ["Acme onboarding", "Acme renewal"]
    due = (today() + dt.timedelta(days=30)).isoformat()
    assert listed(csm_client, due_before=due) == ["Globex renewal", "Acme onboarding"]
    assert listed(csm_client, sort="name") == ["Acme onboarding", "Acme renewal", "Globex renewal"]
    assert listed(csm_client, sort="-due") == ["Acme renewal", "Acme onboarding", "Globex renewal"]


def test_wrong_filter_values_are_ignored_not_errors(csm_client, book):
    everything = listed(csm_client)
    assert (
        listed(
            csm_client,
            status="bogus",
            plan_type="abc",
            owner="someone",
            due_before="tomorrow",
            company="999999",
            sort="evil;--",
            page="x",
        )
        == everything
    )
    assert listed(csm_client, page="999") == everything


def test_overdue_plans_are_marked_and_closed_ones_are_not(csm_client, book):
    SuccessPlanFactory(name="Late plan", status="active", due_date=today() - dt.timedelta(days=3))
    html = csm_client.get(PLANS).content.decode()
    late = html[html.index("Late plan") :]
    assert "Overdue · 3 days ago" in late[:2000]
    # Globex renewal is past due but completed: not overdue.
    globex = html[html.index("Globex renewal") :]
    assert "Overdue" not in globex[: globex.index("</tr>")]


def test_the_list_pages(csm_client):
    SuccessPlanFactory.create_batch(27)
    first = csm_client.get(PLANS)
    second = csm_client.get(PLANS, {"page": 2})
    assert len(first.context["listing"].rows) == 25
    assert len(second.context["listing"].rows) == 2
    assert 'rel="next"' in first.content.decode()


def test_htmx_asks_for_the_results_only(csm_client, book):
    response = csm_client.get(PLANS, {"status": "draft"}, headers=HTMX)
    html = response.content.decode()
    assert 'id="plan-results"' in html and "<html" not in html
    assert "Acme renewal" in html


# ---------- who sees what ----------


@pytest.fixture
def partner_book(partner_a, partner_b):
    kind = SuccessPlanTypeFactory()
    ours = CompanyFactory(name="Ours Inc", managed_by=partner_a)
    theirs = CompanyFactory(name="Theirs Inc", managed_by=partner_b)
    ours_rel = RelationshipFactory(company=ours, name="Ours Cloud")
    elsewhere_rel = RelationshipFactory(company=ours, name="Direct deal", managed_by=partner_b)
    return {
        "company_plan": SuccessPlanFactory(name="Ours company plan", company=ours, plan_type=kind),
        "relationship_plan": SuccessPlanFactory(
            name="Ours cloud plan", company=ours, relationship=ours_rel, plan_type=kind
        ),
        "hidden_relationship_plan": SuccessPlanFactory(
            name="Direct deal plan", company=ours, relationship=elsewhere_rel, plan_type=kind
        ),
        "other_plan": SuccessPlanFactory(name="Theirs plan", company=theirs, plan_type=kind),
        "ours": ours,
    }


def test_a_partner_user_sees_only_plans_of_their_records(partner_a_user, partner_book):
    names = set(success_plans_visible_to(partner_a_user).values_list("name", flat=True))
    assert names == {"Ours company plan", "Ours cloud plan"}


def test_a_companies_only_partner_sees_no_relationship_plans(partner_b_user, partner_book):
    names = set(success_plans_visible_to(partner_b_user).values_list("name", flat=True))
    # Partner B manages Theirs Inc and the Direct deal relationship, but sees no relationships.
    assert names == {"Theirs plan"}


def test_the_list_and_plan_pages_follow_the_partner_scope(partner_a_client, partner_book):
    assert set(listed(partner_a_client)) == {"Ours company plan", "Ours cloud plan"}
    assert partner_a_client.get(detail_url(partner_book["company_plan"])).status_code == 200
    for hidden in ("other_plan", "hidden_relationship_plan"):
        assert partner_a_client.get(detail_url(partner_book[hidden])).status_code == 404


def test_writes_on_a_plan_the_user_cannot_see_answer_404(partner_a_client, partner_book):
    plan = partner_book["other_plan"]
    item = objective(plan)
    task = TaskFactory(cta=item)
    urls = [
        reverse("success:plan_edit", args=[plan.pk]),
        reverse("success:plan_objective_add", args=[plan.pk]),
        reverse("success:plan_objective_status", args=[plan.pk, item.pk]),
        reverse("success:plan_task_done", args=[plan.pk, task.pk]),
    ]
    for url in urls:
        assert partner_a_client.post(url, {"status": "closed", "done": "1"}).status_code == 404


# ---------- read-only users ----------


def test_read_only_users_get_no_controls(viewer_client):
    plan = SuccessPlanFactory()
    item = objective(plan)
    TaskFactory(cta=item)

    list_html = viewer_client.get(PLANS).content.decode()
    plan_html = viewer_client.get(detail_url(plan)).content.decode()

    assert "New success plan" not in list_html
    for control in ("Edit plan", "Add objective", "hx-post", 'type="checkbox"'):
        assert control not in plan_html, control
    assert 'aria-label="Not done"' in plan_html


def test_read_only_users_are_refused_every_write(viewer_client):
    plan = SuccessPlanFactory()
    item = objective(plan)
    task = TaskFactory(cta=item)
    kind = plan.plan_type
    posts = {
        NEW: {"company": plan.company.pk, "name": "X", "plan_type": kind.pk, "status": "draft"},
        reverse("success:plan_edit", args=[plan.pk]): {"name": "Renamed"},
        reverse("success:plan_objective_add", args=[plan.pk]): {"name": "New objective"},
        reverse("success:plan_objective_status", args=[plan.pk, item.pk]): {
            "status": "closed",
            "confirm": "1",
        },
        reverse("success:plan_task_done", args=[plan.pk, task.pk]): {"done": "1"},
    }
    for url, data in posts.items():
        assert viewer_client.post(url, data).status_code == 403, url
    assert viewer_client.get(NEW).status_code == 403
    plan.refresh_from_db()
    task.refresh_from_db()
    item.refresh_from_db()
    assert plan.name != "Renamed" and not task.done and not item.is_closed
    assert SuccessPlan.objects.count() == 1 and plan.objectives.count() == 1


# ---------- the plan page's writes ----------


def test_editing_a_plan_saves_and_refreshes(csm_client, csm_user):
    plan = SuccessPlanFactory(status="draft")
    url = reverse("success:plan_edit", args=[plan.pk])
    assert 'value="draft" selected' in csm_client.get(url).content.decode()

    response = csm_client.post(
        url,
        {
            "name": "Renamed plan",
            "plan_type": plan.plan_type.pk,
            "status": "active",
            "owner": csm_user.pk,
            "due_date": "2031-01-15",
        },
    )

    assert response.status_code == 204
    assert {"closeModal", "planChanged"} <= triggers(response)
    plan.refresh_from_db()
    assert (plan.name, plan.status, plan.owner, plan.due_date) == (
        "Renamed plan",
        "active",
        csm_user,
        dt.date(2031, 1, 15),
    )


def test_a_wrong_edit_shows_its_sentence_and_saves_nothing(csm_client):
    plan = SuccessPlanFactory(name="Kept")
    url = reverse("success:plan_edit", args=[plan.pk])
    response = csm_client.post(
        url, {"name": "x" * 121, "plan_type": plan.plan_type.pk, "status": "nope"}
    )
    errors = response.context["form"].errors
    assert errors["name"] == ["A plan's name is at most 120 characters."]
    assert "status" in errors
    plan.refresh_from_db()
    assert plan.name == "Kept"


def test_adding_an_objective_makes_an_objective_cta_on_the_plan(csm_client, csm_user):
    relationship = RelationshipFactory()
    plan = SuccessPlanFactory(company=relationship.company, relationship=relationship)
    url = reverse("success:plan_objective_add", args=[plan.pk])

    response = csm_client.post(
        url, {"name": "Executive review", "owner": csm_user.pk, "due_date": "2030-03-01"}
    )

    assert response.status_code == 204
    assert {"closeModal", "planChanged", "ctaChanged"} <= triggers(response)
    item = plan.objectives.get()
    assert item.name == "Executive review" and item.cta_type.name == "Objective"
    assert (item.company, item.relationship, item.owner) == (
        plan.company,
        relationship,
        csm_user,
    )
    assert item.due_date == dt.date(2030, 3, 1) and item.created_by == csm_user


def test_an_objective_needs_a_name(csm_client):
    plan = SuccessPlanFactory()
    response = csm_client.post(reverse("success:plan_objective_add", args=[plan.pk]), {"name": ""})
    assert response.context["form"].errors["name"] == ["Give the objective a name."]
    assert not plan.objectives.exists()


def test_closing_an_objective_with_open_tasks_asks_first(csm_client, csm_user):
    plan = SuccessPlanFactory()
    item = objective(plan, name="Go live")
    TaskFactory.create_batch(2, cta=item)
    url = reverse("success:plan_objective_status", args=[plan.pk, item.pk])

    asked = csm_client.post(url, {"status": "closed"}, headers=HTMX)

    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Go live still has <strong>2 open tasks</strong>" in html
    assert 'name="confirm" value="1"' in html
    item.refresh_from_db()
    assert not item.is_closed

    confirmed = csm_client.post(url, {"status": "closed", "confirm": "1"}, headers=HTMX)

    assert confirmed.status_code == 204
    assert {"closeModal", "planChanged", "ctaChanged"} <= triggers(confirmed)
    item.refresh_from_db()
    assert item.is_closed and item.closed_by == csm_user and item.status.is_closed


def test_an_objective_without_open_tasks_closes_at_once_and_reopens(csm_client):
    plan = SuccessPlanFactory()
    item = objective(plan)
    TaskFactory(cta=item, done=True)
    url = reverse("success:plan_objective_status", args=[plan.pk, item.pk])

    assert csm_client.post(url, {"status": "closed"}).status_code == 204
    item.refresh_from_db()
    assert item.is_closed

    assert csm_client.post(url, {"status": "open"}).status_code == 204
    item.refresh_from_db()
    assert not item.is_closed and item.closed_at is None


def test_ticking_a_task_marks_it_done_and_unticking_reopens_it(csm_client):
    plan = SuccessPlanFactory()
    task = TaskFactory(cta=objective(plan))
    url = reverse("success:plan_task_done", args=[plan.pk, task.pk])

    response = csm_client.post(url, {"done": "1"}, headers=HTMX)
    assert response.status_code == 204
    assert {"planChanged", "ctaChanged"} <= triggers(response)
    task.refresh_from_db()
    assert task.done and task.done_at is not None

    csm_client.post(url, {}, headers=HTMX)
    task.refresh_from_db()
    assert not task.done and task.done_at is None


def test_a_task_of_another_plan_is_not_found(csm_client):
    plan = SuccessPlanFactory()
    stranger = TaskFactory(cta=objective(SuccessPlanFactory()))
    url = reverse("success:plan_task_done", args=[plan.pk, stranger.pk])
    assert csm_client.post(url, {"done": "1"}).status_code == 404


def test_the_plan_body_reloads_itself_on_plan_changes(csm_client):
    plan = SuccessPlanFactory()
    page = csm_client.get(detail_url(plan)).content.decode()
    assert 'hx-trigger="planChanged from:body"' in page
    body = csm_client.get(detail_url(plan), headers=HTMX).content.decode()
    assert body.lstrip().startswith('<div id="plan-body"') and "<html" not in body


# ---------- the 360 section ----------


def plans_section(subject, **config):
    if hasattr(subject, "relationship_type_id"):
        layout = LayoutFactory(
            target=Layout.Target.RELATIONSHIP, relationship_type=subject.relationship_type
        )
    else:
        layout = LayoutFactory(target=Layout.Target.COMPANY)
    section = SectionFactory(layout=layout, kind="success_plans")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def get_section(client, subject, section) -> str:
    response = client.get(section_url(subject, section), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "section-body--success_plans" in html, "the section failed to render"
    return html


@pytest.fixture
def company_with_plans():
    company = CompanyFactory(name="Wayne Enterprises")
    relationship = RelationshipFactory(company=company, name="Wayne Cloud")
    SuccessPlanFactory(name="Company plan", company=company)
    SuccessPlanFactory(name="Cloud plan", company=company, relationship=relationship)
    SuccessPlanFactory(name="Finished plan", company=company, status="completed")
    SuccessPlanFactory(name="Other company plan")
    return company, relationship


def test_the_kind_is_registered_for_both_pages_and_partners():
    kind = REGISTRY["success_plans"]
    assert kind.partner_visible
    assert set(kind.refresh_on) == {"planChanged", "ctaChanged"}
    assert kind.default_config(None) == {
        "include_relationships": True,
        "include_closed": False,
        "limit": 5,
    }


def test_the_c360_section_lists_open_plans_with_the_relationships_ones(
    csm_client, company_with_plans
):
    company, _ = company_with_plans
    html = get_section(csm_client, company, plans_section(company))
    assert "Company plan" in html and "Cloud plan" in html
    assert "Finished plan" not in html and "Other company plan" not in html
    assert "2 open plans" in html
    assert "No objectives yet" in html


def test_the_c360_section_can_leave_out_relationships_and_show_closed_plans(
    csm_client, company_with_plans
):
    company, _ = company_with_plans
    section = plans_section(company, include_relationships=False, include_closed=True)
    html = get_section(csm_client, company, section)
    assert "Company plan" in html and "Finished plan" in html
    assert "Cloud plan" not in html


def test_the_r360_section_lists_only_the_relationships_plans(csm_client, company_with_plans):
    _, relationship = company_with_plans
    html = get_section(csm_client, relationship, plans_section(relationship))
    assert "Cloud plan" in html and "Company plan" not in html


def test_the_section_shows_a_few_and_links_to_the_rest(csm_client):
    company = CompanyFactory()
    SuccessPlanFactory.create_batch(4, company=company)
    html = get_section(csm_client, company, plans_section(company, limit=2))
    assert html.count("/success-plans/") >= 2
    assert "See all 4 plans" in html
    assert f"company={company.pk}" in html


def test_the_sections_progress_bar(csm_client):
    company = CompanyFactory()
    plan = SuccessPlanFactory(company=company)
    objective(plan, closed=True)
    objective(plan)
    html = get_section(csm_client, company, plans_section(company))
    assert 'max="100" value="50"' in html and "1 of 2 objectives done" in html


def test_a_new_plan_from_an_r360_is_for_its_relationship(csm_client, csm_user, onboarding):
    relationship = RelationshipFactory(name="Wayne Cloud")
    section = plans_section(relationship)
    url = section_url(relationship, section, "new")
    dialog = csm_client.get(url, headers=HTMX).content.decode()
    assert "Wayne Cloud" in dialog and 'name="relationship"' not in dialog

    response = csm_client.post(
        url,
        {"name": "Cloud onboarding", "plan_type": onboarding.pk, "status": "active"},
        headers=HTMX,
    )

    assert response.status_code == 204
    assert {"closeModal", "planChanged", "ctaChanged"} <= triggers(response)
    plan = SuccessPlan.objects.get(name="Cloud onboarding")
    assert (plan.company, plan.relationship) == (relationship.company, relationship)
    assert plan.objectives.count() == 2


def test_a_new_plan_from_a_c360_may_pick_one_of_its_relationships(csm_client, onboarding):
    company = CompanyFactory()
    mine = RelationshipFactory(company=company, name="Mine")
    other = RelationshipFactory(name="Not mine")
    url = section_url(company, plans_section(company), "new")
    dialog = csm_client.get(url, headers=HTMX).content.decode()
    assert "Mine" in dialog and "Not mine" not in dialog

    refused = csm_client.post(
        url, {"name": "P", "plan_type": onboarding.pk, "status": "draft", "relationship": other.pk}
    )
    assert refused.context["form"].errors["relationship"] == [
        "Choose one of the company's relationships."
    ]
    ok = csm_client.post(
        url, {"name": "P", "plan_type": onboarding.pk, "status": "draft", "relationship": mine.pk}
    )
    assert ok.status_code == 204
    assert SuccessPlan.objects.get().relationship == mine


def test_the_section_gives_read_only_users_no_new_plan(viewer_client, company_with_plans):
    company, _ = company_with_plans
    section = plans_section(company)
    html = get_section(viewer_client, company, section)
    assert "New plan" not in html and "Company plan" in html
    url = section_url(company, section, "new")
    kind = SuccessPlanTypeFactory()
    assert viewer_client.get(url).status_code == 403
    assert viewer_client.post(url, {"name": "X", "plan_type": kind.pk}).status_code == 403


def test_partner_users_see_only_their_plans_in_the_section(partner_a_client, partner_book):
    company = partner_book["ours"]
    html = get_section(partner_a_client, company, plans_section(company))
    assert "Ours company plan" in html and "Ours cloud plan" in html
    assert "Direct deal plan" not in html


# ---------- query budgets ----------


def _queries(client, url, django_assert_max_num_queries, headers=None) -> int:
    with django_assert_max_num_queries(20) as captured:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


def _grow(company, count: int) -> None:
    relationship = RelationshipFactory(company=company)
    for index in range(count):
        plan = SuccessPlanFactory(
            company=company,
            relationship=relationship if index % 2 else None,
            owner=UserFactory(),
            plan_type=SuccessPlanTypeFactory(),
        )
        item = objective(plan, owner=UserFactory())
        TaskFactory.create_batch(2, cta=item, owner=UserFactory())
        objective(plan, closed=True)


def test_the_list_reads_a_fixed_number_of_queries(csm_client, django_assert_max_num_queries):
    company = CompanyFactory()
    _grow(company, 2)
    small = _queries(csm_client, PLANS, django_assert_max_num_queries)
    _grow(company, 12)
    large = _queries(csm_client, PLANS, django_assert_max_num_queries)
    assert small == large


def test_the_plan_page_reads_a_fixed_number_of_queries(csm_client, django_assert_max_num_queries):
    plan = SuccessPlanFactory()
    for _ in range(2):
        TaskFactory(cta=objective(plan, owner=UserFactory()), owner=UserFactory())
    small = _queries(csm_client, detail_url(plan), django_assert_max_num_queries)
    for _ in range(10):
        item = objective(plan, owner=UserFactory())
        TaskFactory.create_batch(3, cta=item, owner=UserFactory())
    large = _queries(csm_client, detail_url(plan), django_assert_max_num_queries)
    assert small == large


@pytest.mark.parametrize("on_relationship", [False, True], ids=["c360", "r360"])
def test_the_section_reads_a_fixed_number_of_queries(
    csm_client, django_assert_max_num_queries, on_relationship
):
    company = CompanyFactory()
    _grow(company, 2)
    relationship = company.relationships.first()
    subject = relationship if on_relationship else company
    section = plans_section(subject, include_closed=True)
    url = section_url(subject, section)
    small = _queries(csm_client, url, django_assert_max_num_queries, HTMX)
    _grow(company, 12)
    large = _queries(csm_client, url, django_assert_max_num_queries, HTMX)
    assert small == large


def test_partner_pages_read_a_fixed_number_of_queries(
    partner_a, partner_a_client, django_assert_max_num_queries
):
    company = CompanyFactory(managed_by=partner_a)
    _grow(company, 2)
    small = _queries(partner_a_client, PLANS, django_assert_max_num_queries)
    _grow(company, 10)
    large = _queries(partner_a_client, PLANS, django_assert_max_num_queries)
    assert small == large


def test_the_nav_links_to_success_plans(csm_client):
    html = csm_client.get(PLANS).content.decode()
    assert f'<a href="{PLANS}" aria-current="page">Success Plans</a>' in html
