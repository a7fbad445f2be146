"""CTAs: the create and edit dialog, tasks and playbooks, closing and reopening, the cockpit
section of the 360 pages, and who may see and do what."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from layouts.models import Layout, Section
from layouts.sections import section_url
from partners.access import ctas_visible_to
from success.models import (
    CTA,
    CTAPriority,
    CTAReason,
    CTAStatus,
    CTAType,
    Playbook,
    PlaybookTask,
    Task,
)
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    RelationshipFactory,
    SectionFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def triggers(response) -> set[str]:
    header = response.get("HX-Trigger")
    return set(json.loads(header)) if header else set()


def status(name: str) -> CTAStatus:
    return CTAStatus.objects.get(name=name)


def cta_type(name: str) -> CTAType:
    return CTAType.objects.get(name=name)


def form_data(company, **fields) -> dict[str, str]:
    data = {
        "company": str(company.pk),
        "relationship": "",
        "name": "Renewal at risk",
        "cta_type": str(cta_type("Risk").pk),
        "reason": "",
        "priority": str(CTAPriority.objects.get(name="High").pk),
        "status": str(status("New").pk),
        "owner": "",
        "due_date": "",
        "snoozed_until": "",
        "playbook": "",
    }
    data.update({key: str(value) for key, value in fields.items()})
    return data


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="success", codename__in=codenames)
    )


def post(client, url, data=None):
    return client.post(url, data or {}, headers=HTMX)


CREATE = "success:cta_create"


# ---------- create ----------


def test_create_with_errors_shows_them_by_the_fields_and_saves_nothing(csm_client):
    company = CompanyFactory()
    response = post(
        csm_client,
        reverse(CREATE),
        form_data(company, name="", due_date="not a date", priority="999999"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Give the CTA a name" in html
    assert "Enter the due date as a date" in html
    assert "Choose a priority from the list." in html
    assert html.count('class="field__error"') >= 3
    assert "ctaChanged" not in triggers(response)
    assert CTA.objects.count() == 0


def test_a_name_is_at_most_80_characters(csm_client):
    company = CompanyFactory()
    response = post(csm_client, reverse(CREATE), form_data(company, name="x" * 81))
    assert "A CTA name is at most 80 characters (this one has 81)." in response.content.decode()
    assert CTA.objects.count() == 0

    response = post(csm_client, reverse(CREATE), form_data(company, name="x" * 80))
    assert response.status_code == 200
    assert CTA.objects.get().name == "x" * 80


def test_a_reason_of_another_type_is_refused(csm_client):
    company = CompanyFactory()
    expansion_reason = CTAReason.objects.create(cta_type=cta_type("Expansion"), name="New team")
    risk_reason = CTAReason.objects.create(cta_type=cta_type("Risk"), name="Low usage")

    response = post(csm_client, reverse(CREATE), form_data(company, reason=expansion_reason.pk))
    assert "Choose a reason of the CTA&#x27;s type." in response.content.decode()
    assert CTA.objects.count() == 0

    post(csm_client, reverse(CREATE), form_data(company, reason=risk_reason.pk))
    assert CTA.objects.get().reason == risk_reason


def test_create_saves_the_cta_and_shows_it(csm_client, csm_user):
    company = CompanyFactory()
    relationship = RelationshipFactory(company=company)
    response = post(
        csm_client,
        reverse(CREATE),
        form_data(
            company,
            relationship=relationship.pk,
            owner=csm_user.pk,
            due_date=days(5).isoformat(),
            snoozed_until=days(2).isoformat(),
        ),
    )
    assert response.status_code == 200
    cta = CTA.objects.get()
    assert (cta.company, cta.relationship, cta.owner) == (company, relationship, csm_user)
    assert (cta.due_date, cta.snoozed_until, cta.created_by) == (days(5), days(2), csm_user)
    assert not cta.is_closed
    assert "ctaChanged" in triggers(response)
    html = response.content.decode()
    assert 'class="cta-dialog cta-detail"' in html
    assert "CTA created" in html


def test_a_relationship_of_another_company_is_refused(csm_client):
    company = CompanyFactory()
    elsewhere = RelationshipFactory()
    response = post(csm_client, reverse(CREATE), form_data(company, relationship=elsewhere.pk))
    assert "Choose a relationship of this company." in response.content.decode()
    assert CTA.objects.count() == 0


def test_a_playbook_applied_on_create_adds_its_tasks_with_due_dates(csm_client, csm_user):
    company = CompanyFactory()
    playbook = Playbook.objects.create(name="Risk recovery", cta_type=cta_type("Risk"))
    for order, (title, offset) in enumerate([("Call the champion", 0), ("Send a plan", 7)]):
        PlaybookTask.objects.create(playbook=playbook, title=title, day_offset=offset, order=order)

    response = post(
        csm_client, reverse(CREATE), form_data(company, owner=csm_user.pk, playbook=playbook.pk)
    )

    cta = CTA.objects.get()
    tasks = list(cta.tasks.order_by("order"))
    assert [(t.title, t.due_date, t.owner, t.done) for t in tasks] == [
        ("Call the champion", today(), csm_user, False),
        ("Send a plan", days(7), csm_user, False),
    ]
    html = response.content.decode()
    assert "Call the champion" in html and "Send a plan" in html
    assert "CTA created with 2 tasks" in html


def test_an_inactive_playbook_is_refused(csm_client):
    company = CompanyFactory()
    playbook = Playbook.objects.create(name="Old", active=False)
    response = post(csm_client, reverse(CREATE), form_data(company, playbook=playbook.pk))
    assert "This playbook is no longer in use" in response.content.decode()
    assert CTA.objects.count() == 0


def test_a_new_cta_cannot_start_closed(csm_client):
    company = CompanyFactory()
    response = post(
        csm_client, reverse(CREATE), form_data(company, status=status("Closed success").pk)
    )
    assert "Choose a status from the list." in response.content.decode()
    assert CTA.objects.count() == 0


def test_opened_from_a_360_page_the_company_is_fixed(csm_client):
    company = CompanyFactory(name="Acme Fixed")
    relationship = RelationshipFactory(company=company, name="Acme Analytics")

    html = csm_client.get(f"{reverse(CREATE)}?company={company.pk}", headers=HTMX).content.decode()
    assert f'<input type="hidden" name="company" value="{company.pk}">' in html
    assert "Acme Fixed" in html
    assert 'id="cta-company-q"' not in html

    html = csm_client.get(
        f"{reverse(CREATE)}?relationship={relationship.pk}", headers=HTMX
    ).content.decode()
    assert f'<input type="hidden" name="company" value="{company.pk}">' in html
    assert f'<option value="{relationship.pk}" selected>' in html


def test_opened_from_the_cockpit_the_company_is_searched(csm_client):
    html = csm_client.get(reverse(CREATE), headers=HTMX).content.decode()
    assert 'id="cta-company-q"' in html
    assert 'name="fixed_company"' not in html


def test_a_follow_up_of_a_timeline_activity_is_prefilled_and_linked(csm_client, csm_user):
    company = CompanyFactory()
    relationship = RelationshipFactory(company=company)
    activity = ActivityFactory(
        company=company, relationship=relationship, subject="Quarterly review", author=csm_user
    )
    html = csm_client.get(
        f"{reverse(CREATE)}?source_activity={activity.pk}", headers=HTMX
    ).content.decode()
    assert "Follow up: Quarterly review" in html
    assert f'name="source_activity" value="{activity.pk}"' in html
    assert f'<option value="{relationship.pk}" selected>' in html

    post(
        csm_client,
        reverse(CREATE),
        form_data(
            company,
            relationship=relationship.pk,
            source_activity=activity.pk,
            cta_type=cta_type("Activity").pk,
        ),
    )
    assert CTA.objects.get().source_activity == activity


def test_a_follow_up_of_another_companys_activity_is_refused(csm_client):
    company = CompanyFactory()
    activity = ActivityFactory()
    response = post(csm_client, reverse(CREATE), form_data(company, source_activity=activity.pk))
    assert "The activity this follows up is at another company." in response.content.decode()
    assert CTA.objects.count() == 0


def test_the_dependent_fields_follow_the_company_and_type(csm_client):
    company = CompanyFactory()
    mine = RelationshipFactory(company=company, name="Mine")
    RelationshipFactory(name="Not this company's")
    reason = CTAReason.objects.create(cta_type=cta_type("Expansion"), name="New team")
    url = reverse("success:cta_form_options")
    html = csm_client.get(
        url, {"company": company.pk, "cta_type": cta_type("Expansion").pk}, headers=HTMX
    ).content.decode()
    assert 'id="cta-dependent"' in html
    assert "Mine" in html and "Not this company" not in html
    assert "New team" in html

    html = csm_client.get(
        url, {"company": company.pk, "cta_type": cta_type("Risk").pk, "reason": reason.pk}
    ).content.decode()
    assert "New team" not in html
    assert mine.name in html


def test_the_company_search_finds_only_companies_the_user_may_see(
    partner_a_client, partner_a_user, partner_a, partner_b
):
    grant(partner_a_user, "add_cta")
    CompanyFactory(name="Umbrella North", managed_by=partner_a)
    CompanyFactory(name="Umbrella South", managed_by=partner_b)
    html = partner_a_client.get(
        reverse("success:cta_company_search"), {"q": "umbrella"}, headers=HTMX
    ).content.decode()
    assert "Umbrella North" in html
    assert "Umbrella South" not in html


def test_a_company_the_user_may_not_see_is_neither_prefilled_nor_saved(
    partner_a_client, partner_a_user, partner_b
):
    grant(partner_a_user, "add_cta")
    foreign = CompanyFactory(managed_by=partner_b)
    html = partner_a_client.get(
        f"{reverse(CREATE)}?company={foreign.pk}", headers=HTMX
    ).content.decode()
    assert f'name="company" value="{foreign.pk}"' not in html
    assert 'id="cta-company-q"' in html

    response = post(partner_a_client, reverse(CREATE), form_data(foreign))
    assert "Choose the company from the search results." in response.content.decode()
    assert CTA.objects.count() == 0


def test_the_owner_is_one_of_the_internal_users(csm_client, partner_a_user):
    company = CompanyFactory()
    response = post(csm_client, reverse(CREATE), form_data(company, owner=partner_a_user.pk))
    assert "Choose the owner from the list of colleagues." in response.content.decode()
    assert CTA.objects.count() == 0


# ---------- edit ----------


def test_edit_changes_the_fields_and_keeps_the_company(csm_client, csm_user):
    cta = CTAFactory(owner=csm_user)
    data = form_data(cta.company, name="Renamed", status=status("Work in progress").pk)
    data["company"] = str(CompanyFactory().pk)  # ignored: a CTA stays with its company
    response = post(csm_client, reverse("success:cta_edit", args=[cta.pk]), data)
    assert response.status_code == 200
    cta.refresh_from_db()
    assert cta.name == "Renamed"
    assert cta.status.name == "Work in progress"
    assert cta.owner is None
    assert "ctaChanged" in triggers(response)
    assert CTA.objects.filter(company=cta.company).count() == 1


def test_edit_to_a_closed_status_with_open_tasks_asks_first(csm_client, csm_user):
    cta = CTAFactory(owner=csm_user)
    TaskFactory.create_batch(2, cta=cta)
    url = reverse("success:cta_edit", args=[cta.pk])
    data = form_data(cta.company, status=status("Closed lost").pk)

    response = post(csm_client, url, data)
    html = response.content.decode()
    assert "2 open tasks — close anyway?" in html
    assert 'name="confirm_open_tasks"' in html
    cta.refresh_from_db()
    assert not cta.is_closed

    post(csm_client, url, {**data, "confirm_open_tasks": "on"})
    cta.refresh_from_db()
    assert cta.is_closed and cta.closed_by.username == "csm"


# ---------- tasks and playbooks ----------


def test_a_task_is_added_ticked_unticked_and_deleted(csm_client, csm_user):
    cta = CTAFactory(owner=csm_user)
    response = post(
        csm_client,
        reverse("success:cta_task_add", args=[cta.pk]),
        {"title": "Send the adoption report", "owner": csm_user.pk, "due_date": days(3)},
    )
    assert "ctaChanged" in triggers(response)
    assert "Send the adoption report" in response.content.decode()
    task = Task.objects.get(cta=cta)
    assert (task.owner, task.due_date, task.done) == (csm_user, days(3), False)

    done_url = reverse("success:cta_task_done", args=[cta.pk, task.pk])
    response = post(csm_client, done_url, {"done": "1"})
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    assert "1/1 done" in response.content.decode()

    post(csm_client, done_url, {"done": "0"})
    task.refresh_from_db()
    assert not task.done and task.done_at is None

    response = post(csm_client, reverse("success:cta_task_delete", args=[cta.pk, task.pk]))
    assert not Task.objects.filter(pk=task.pk).exists()
    assert "ctaChanged" in triggers(response)


def test_a_task_without_a_title_is_refused(csm_client):
    cta = CTAFactory()
    response = post(csm_client, reverse("success:cta_task_add", args=[cta.pk]), {"title": ""})
    assert "Say what needs doing" in response.content.decode()
    assert "ctaChanged" not in triggers(response)
    assert not Task.objects.exists()


def test_a_task_of_another_cta_is_not_found(csm_client):
    cta = CTAFactory()
    other = TaskFactory()
    url = reverse("success:cta_task_done", args=[cta.pk, other.pk])
    assert post(csm_client, url, {"done": "1"}).status_code == 404
    other.refresh_from_db()
    assert not other.done


def test_a_playbook_is_applied_to_an_existing_cta(csm_client, csm_user):
    cta = CTAFactory(owner=csm_user)
    TaskFactory(cta=cta, title="Already there")
    playbook = Playbook.objects.create(name="QBR prep")
    PlaybookTask.objects.create(playbook=playbook, title="Book the room", day_offset=2)
    response = post(
        csm_client, reverse("success:cta_playbook", args=[cta.pk]), {"playbook": playbook.pk}
    )
    assert "ctaChanged" in triggers(response)
    added = Task.objects.get(cta=cta, title="Book the room")
    assert added.due_date == days(2)
    assert added.order == 1


# ---------- close and reopen ----------


def test_closing_with_open_tasks_asks_then_records_who_and_when(csm_client, csm_user):
    cta = CTAFactory(owner=UserFactory())
    TaskFactory.create_batch(2, cta=cta)
    TaskFactory(cta=cta, done=True)
    url = reverse("success:cta_status", args=[cta.pk])
    closed = status("Closed success")

    dialog = csm_client.get(url, headers=HTMX).content.decode()
    assert "2 open tasks</strong> — close anyway?" in dialog
    assert "Close anyway" in dialog

    response = post(csm_client, url, {"status": closed.pk, "after": "detail"})
    assert response.status_code == 200
    assert "2 open tasks</strong> — close anyway?" in response.content.decode()
    assert "ctaChanged" not in triggers(response)
    cta.refresh_from_db()
    assert not cta.is_closed

    before = timezone.now()
    response = post(csm_client, url, {"status": closed.pk, "confirm": "on", "after": "detail"})
    cta.refresh_from_db()
    assert cta.is_closed and cta.status == closed
    assert cta.closed_by == csm_user
    assert cta.closed_at is not None and cta.closed_at >= before
    assert "ctaChanged" in triggers(response)
    html = response.content.decode()
    assert "Closed success" in html
    assert f"by {csm_user.get_full_name()}" in html
    # The open tasks stay as they were.
    assert cta.tasks.filter(done=False).count() == 2


def test_closing_from_a_list_closes_the_dialog(csm_client):
    cta = CTAFactory()
    response = post(
        csm_client,
        reverse("success:cta_status", args=[cta.pk]),
        {"status": status("Closed lost").pk, "after": "close"},
    )
    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "ctaChanged"}
    cta.refresh_from_db()
    assert cta.is_closed


def test_reopening_clears_who_closed_it(csm_client, csm_user):
    cta = CTAFactory(status=status("Closed success"), closed_by=csm_user, closed_at=timezone.now())
    html = csm_client.get(reverse("success:cta_detail", args=[cta.pk]), headers=HTMX)
    assert "Reopen" in html.content.decode()
    post(
        csm_client,
        reverse("success:cta_status", args=[cta.pk]),
        {"status": status("Work in progress").pk},
    )
    cta.refresh_from_db()
    assert not cta.is_closed
    assert (cta.closed_at, cta.closed_by) == (None, None)


# ---------- the detail ----------


def test_the_detail_opens_as_a_dialog_or_as_a_page(csm_client):
    cta = CTAFactory(name="Champion left")
    url = reverse("success:cta_detail", args=[cta.pk])
    fragment = csm_client.get(url, headers=HTMX).content.decode()
    assert "<html" not in fragment
    assert 'id="modal-dismiss"' in fragment
    page = csm_client.get(url).content.decode()
    assert "<html" in page and "Champion left" in page
    assert 'id="modal-dismiss"' not in page


# ---------- who may see and do what ----------


def test_ctas_visible_to_partner_users(partner_a_user, partner_b_user, partner_a, partner_b):
    ours = CompanyFactory(managed_by=partner_a)
    theirs = CompanyFactory(managed_by=partner_b)
    our_relationship = RelationshipFactory(company=ours)
    foreign_relationship = RelationshipFactory(company=ours, managed_by=partner_b)
    on_company = CTAFactory(company=ours)
    on_our_relationship = CTAFactory(company=ours, relationship=our_relationship)
    on_foreign_relationship = CTAFactory(company=ours, relationship=foreign_relationship)
    on_their_company = CTAFactory(company=theirs)
    b_relationship = RelationshipFactory(company=theirs)
    on_b_relationship = CTAFactory(company=theirs, relationship=b_relationship)

    assert set(ctas_visible_to(partner_a_user)) == {on_company, on_our_relationship}
    # Partner B sees companies only: no CTA of a relationship.
    assert set(ctas_visible_to(partner_b_user)) == {on_their_company}
    assert on_foreign_relationship not in ctas_visible_to(partner_b_user)
    assert on_b_relationship not in ctas_visible_to(partner_b_user)
    internal = UserFactory()
    assert ctas_visible_to(internal).count() == 5


def test_a_cta_the_user_may_not_see_answers_404_everywhere(
    partner_a_client, partner_a_user, partner_b
):
    grant(partner_a_user, "add_cta", "change_cta", "add_task", "change_task", "delete_task")
    cta = CTAFactory(company=CompanyFactory(managed_by=partner_b))
    task = TaskFactory(cta=cta)
    for url in [
        reverse("success:cta_detail", args=[cta.pk]),
        reverse("success:cta_edit", args=[cta.pk]),
        reverse("success:cta_status", args=[cta.pk]),
    ]:
        assert partner_a_client.get(url, headers=HTMX).status_code == 404, url
    for url in [
        reverse("success:cta_status", args=[cta.pk]),
        reverse("success:cta_task_done", args=[cta.pk, task.pk]),
        reverse("success:cta_task_delete", args=[cta.pk, task.pk]),
        reverse("success:cta_task_add", args=[cta.pk]),
    ]:
        assert post(partner_a_client, url, {"status": status("Closed lost").pk}).status_code == 404
    cta.refresh_from_db()
    assert not cta.is_closed and Task.objects.filter(pk=task.pk).exists()


def test_read_only_users_get_403_on_every_write_and_see_no_controls(viewer_client):
    company = CompanyFactory()
    cta = CTAFactory(company=company)
    task = TaskFactory(cta=cta)
    playbook = Playbook.objects.create(name="Any")
    writes = {
        reverse(CREATE): form_data(company),
        reverse("success:cta_edit", args=[cta.pk]): form_data(company, name="Changed"),
        reverse("success:cta_status", args=[cta.pk]): {"status": status("Closed lost").pk},
        reverse("success:cta_task_add", args=[cta.pk]): {"title": "More"},
        reverse("success:cta_task_done", args=[cta.pk, task.pk]): {"done": "1"},
        reverse("success:cta_task_delete", args=[cta.pk, task.pk]): {},
        reverse("success:cta_playbook", args=[cta.pk]): {"playbook": playbook.pk},
        reverse("success:cockpit_bulk"): {"action": "close", "cta": cta.pk, "confirm": "1"},
    }
    for url, data in writes.items():
        assert post(viewer_client, url, data).status_code == 403, url
    for url in [reverse(CREATE), reverse("success:cta_edit", args=[cta.pk])]:
        assert viewer_client.get(url, headers=HTMX).status_code == 403, url
    name = cta.name
    cta.refresh_from_db()
    task.refresh_from_db()
    assert cta.name == name and not cta.is_closed and not task.done
    assert CTA.objects.count() == 1 and Task.objects.count() == 1

    html = viewer_client.get(reverse("success:cta_detail", args=[cta.pk]), headers=HTMX)
    html = html.content.decode()
    assert cta.name in html
    for control in ("hx-post", "Close CTA", "Edit</button>", "Add task", "Apply a playbook"):
        assert control not in html, control


# ---------- the cockpit section ----------


def cockpit_section(subject, **config) -> Section:
    if hasattr(subject, "relationship_type"):
        layout = LayoutFactory(
            target=Layout.Target.RELATIONSHIP, relationship_type=subject.relationship_type
        )
    else:
        layout = LayoutFactory()
    section = SectionFactory(layout=layout, kind="cockpit")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def section_html(client, subject, section) -> str:
    response = client.get(section_url(subject, section), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_the_section_lists_the_companys_open_ctas_with_its_relationships(csm_client):
    company = CompanyFactory()
    relationship = RelationshipFactory(company=company, name="Analytics")
    overdue = CTAFactory(company=company, name="Overdue one", due_date=days(-2))
    on_relationship = CTAFactory(company=company, relationship=relationship, name="On analytics")
    closed = CTAFactory(company=company, name="Done already", status=status("Closed success"))
    CTAFactory(name="Another company's")
    TaskFactory.create_batch(2, cta=overdue)
    TaskFactory(cta=overdue, done=True)
    section = cockpit_section(company)

    html = section_html(csm_client, company, section)
    assert overdue.name in html and on_relationship.name in html
    assert closed.name not in html and "Another company" not in html
    assert "2 open CTAs" in html and "1 overdue" in html
    assert "is-overdue" in html
    assert "1/3 tasks" in html
    assert f"{reverse(CREATE)}?company={company.pk}" in html
    assert "ctaChanged from:body" in html

    section.config = {**section.config, "include_relationships": False, "include_closed": True}
    section.save()
    html = section_html(csm_client, company, section)
    assert on_relationship.name not in html
    assert closed.name in html


def test_the_r360_section_lists_the_relationships_ctas(csm_client):
    relationship = RelationshipFactory()
    mine = CTAFactory(company=relationship.company, relationship=relationship, name="On it")
    CTAFactory(company=relationship.company, name="On the company")
    section = cockpit_section(relationship)
    html = section_html(csm_client, relationship, section)
    assert mine.name in html and "On the company" not in html
    assert f"{reverse(CREATE)}?relationship={relationship.pk}" in html


def test_the_section_shows_at_most_its_limit(csm_client):
    company = CompanyFactory()
    CTAFactory.create_batch(4, company=company)
    section = cockpit_section(company, limit=3)
    html = section_html(csm_client, company, section)
    assert html.count('class="cta-list__item') == 3
    assert "1 more not shown" in html


def test_the_section_has_no_controls_for_read_only_users(viewer_client, csm_client):
    company = CompanyFactory()
    CTAFactory(company=company)
    section = cockpit_section(company)
    html = section_html(viewer_client, company, section)
    assert "New CTA" not in html and "?after=close" not in html
    html = section_html(csm_client, company, section)
    assert "New CTA" in html and "?after=close" in html


def test_partner_users_see_the_section_with_their_ctas_only(partner_a_client, partner_a, partner_b):
    company = CompanyFactory(managed_by=partner_a)
    ours = RelationshipFactory(company=company)
    theirs = RelationshipFactory(company=company, managed_by=partner_b)
    CTAFactory(company=company, relationship=ours, name="Visible one")
    CTAFactory(company=company, relationship=theirs, name="Hidden one")
    section = cockpit_section(company)
    html = section_html(partner_a_client, company, section)
    assert "Visible one" in html and "Hidden one" not in html


def test_the_section_queries_do_not_grow_with_the_ctas(csm_client, django_assert_max_num_queries):
    company = CompanyFactory()
    section = cockpit_section(company)

    def queries() -> int:
        with django_assert_max_num_queries(10) as captured:
            section_html(csm_client, company, section)
        return len(captured.captured_queries)

    relationship = RelationshipFactory(company=company)
    cta = CTAFactory(company=company, relationship=relationship)
    TaskFactory(cta=cta)
    small = queries()
    for _ in range(15):
        cta = CTAFactory(company=company, relationship=RelationshipFactory(company=company))
        TaskFactory.create_batch(3, cta=cta)
    large = queries()
    assert small == large
