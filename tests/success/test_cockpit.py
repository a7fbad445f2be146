"""The Cockpit: my open CTAs grouped by due date or priority, its filters, snoozing, bulk close
and reassign, the overdue badge in the navigation, who sees what, and its query budget."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from partners.roles import CSM
from success.models import CTA, CTAPriority, CTAStatus, CTAType
from success.selectors.cockpit import (
    GROUP_BY_PRIORITY,
    LATER,
    NO_DUE_DATE,
    OVERDUE,
    OWNER_ANYONE,
    THIS_WEEK,
    TODAY,
    CockpitFilters,
    cockpit_page,
    due_group,
)
from tests.factories import (
    CompanyFactory,
    CTAFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
COCKPIT = reverse("success:cockpit")
BULK = reverse("success:cockpit_bulk")
# A Wednesday: "this week" runs to Sunday the 14th.
WEDNESDAY = dt.date(2026, 1, 7)


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def priority(name: str) -> CTAPriority:
    return CTAPriority.objects.get(name=name)


def status(name: str) -> CTAStatus:
    return CTAStatus.objects.get(name=name)


def triggers(response) -> set[str]:
    header = response.get("HX-Trigger")
    return set(json.loads(header)) if header else set()


def group_order(html: str) -> list[str]:
    """The group headers of the Cockpit's table, top to bottom."""
    return re.findall(r'<tbody class="cockpit-group cockpit-group--([\w-]+)">', html)


def names_in(html: str, group: str) -> str:
    """The HTML of one group of the table."""
    start = html.index(f"cockpit-group--{group}")
    end = html.find("</tbody>", start)
    return html[start:end]


def page(client: Client, **params) -> str:
    response = client.get(COCKPIT, params)
    assert response.status_code == 200
    return response.content.decode()


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="success", codename__in=codenames)
    )


# ---------- grouping ----------


@pytest.mark.parametrize(
    ("due", "group"),
    [
        (None, NO_DUE_DATE),
        (WEDNESDAY - dt.timedelta(days=1), OVERDUE),
        (WEDNESDAY, TODAY),
        (WEDNESDAY + dt.timedelta(days=1), THIS_WEEK),
        (dt.date(2026, 1, 11), THIS_WEEK),  # Sunday
        (dt.date(2026, 1, 12), LATER),  # next Monday
    ],
)
def test_due_groups_on_a_fixed_day(due, group):
    assert due_group(due, today=WEDNESDAY) == group


def test_on_a_sunday_this_week_is_over(csm_user):
    sunday = dt.date(2026, 1, 11)
    assert due_group(sunday + dt.timedelta(days=1), today=sunday) == LATER


def test_the_page_groups_by_due_date_on_a_fixed_day(csm_user):
    company = CompanyFactory()
    for name, due in [
        ("Someday", None),
        ("Next month", dt.date(2026, 2, 10)),
        ("Friday", dt.date(2026, 1, 9)),
        ("Today", WEDNESDAY),
        ("Last week", dt.date(2025, 12, 31)),
    ]:
        CTAFactory(company=company, owner=csm_user, name=name, due_date=due)
    listing = cockpit_page(
        user=csm_user, filters=CockpitFilters(), page_number=None, today=WEDNESDAY
    )
    assert [(g.key, [r["name"] for r in g.rows]) for g in listing.groups] == [
        (OVERDUE, ["Last week"]),
        (TODAY, ["Today"]),
        (THIS_WEEK, ["Friday"]),
        (LATER, ["Next month"]),
        (NO_DUE_DATE, ["Someday"]),
    ]
    assert [r["overdue"] for g in listing.groups for r in g.rows] == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_the_page_groups_by_priority(csm_user):
    company = CompanyFactory()
    CTAFactory(company=company, owner=csm_user, name="Low later", priority=priority("Low"))
    CTAFactory(
        company=company,
        owner=csm_user,
        name="High soon",
        priority=priority("High"),
        due_date=WEDNESDAY,
    )
    CTAFactory(
        company=company,
        owner=csm_user,
        name="High first",
        priority=priority("High"),
        due_date=WEDNESDAY - dt.timedelta(days=3),
    )
    CTAFactory(company=company, owner=csm_user, name="Medium", priority=priority("Medium"))
    listing = cockpit_page(
        user=csm_user,
        filters=CockpitFilters(group=GROUP_BY_PRIORITY),
        page_number=None,
        today=WEDNESDAY,
    )
    assert [(g.label, [r["name"] for r in g.rows]) for g in listing.groups] == [
        ("High", ["High first", "High soon"]),
        ("Medium", ["Medium"]),
        ("Low", ["Low later"]),
    ]
    assert listing.groups[0].colour == "#b4231b"


def test_the_cockpit_shows_my_open_ctas_by_due_date(csm_client, csm_user):
    company = CompanyFactory(name="Acme")
    CTAFactory(company=company, owner=csm_user, name="Overdue call", due_date=days(-3))
    CTAFactory(company=company, owner=csm_user, name="Due today", due_date=today())
    CTAFactory(company=company, owner=csm_user, name="Far away", due_date=days(40))
    CTAFactory(company=company, owner=csm_user, name="Whenever", due_date=None)
    CTAFactory(company=company, owner=UserFactory(), name="Someone else's")
    CTAFactory(company=company, owner=csm_user, name="All done", status=status("Closed lost"))

    html = page(csm_client)
    assert group_order(html) == ["overdue", "today", "later", "no_due_date"]
    assert "Overdue call" in names_in(html, "overdue")
    assert "Due today" in names_in(html, "today")
    assert "Far away" in names_in(html, "later")
    assert "Whenever" in names_in(html, "no_due_date")
    assert "Someone else" not in html and "All done" not in html
    assert "is-overdue" in names_in(html, "overdue")
    assert "is-overdue" not in names_in(html, "later")
    assert "Showing <strong>1–4</strong> of\n          <strong>4</strong> CTAs" in html


def test_the_switch_groups_by_priority(csm_client, csm_user):
    CTAFactory(owner=csm_user, name="Urgent", priority=priority("High"))
    CTAFactory(owner=csm_user, name="Someday", priority=priority("Low"))
    html = page(csm_client, group="priority")
    assert group_order(html) == [
        f"priority-{priority('High').pk}",
        f"priority-{priority('Low').pk}",
    ]
    assert 'value="priority" checked' in html


def test_the_columns_show_company_relationship_type_owner_and_tasks(csm_client, csm_user):
    company = CompanyFactory(name="Globex")
    relationship = RelationshipFactory(
        company=company, name="Globex Cloud", relationship_type=RelationshipTypeFactory(name="SaaS")
    )
    cta = CTAFactory(
        company=company,
        relationship=relationship,
        owner=csm_user,
        cta_type=CTAType.objects.get(name="Expansion"),
    )
    TaskFactory.create_batch(2, cta=cta)
    TaskFactory(cta=cta, done=True)
    html = page(csm_client)
    for text in ("Globex", "Globex Cloud", "SaaS", "Expansion", "Medium", "1/3"):
        assert text in html, text
    assert csm_user.get_full_name() in html


# ---------- snoozing and filters ----------


def test_snoozed_ctas_wait_until_their_day(csm_client, csm_user):
    CTAFactory(owner=csm_user, name="Snoozed till later", snoozed_until=days(3))
    CTAFactory(owner=csm_user, name="Snooze over today", snoozed_until=today())
    CTAFactory(owner=csm_user, name="Snooze long over", snoozed_until=days(-4))
    html = page(csm_client)
    assert "Snoozed till later" not in html
    assert "Snooze over today" in html and "Snooze long over" in html

    html = page(csm_client, snoozed="on")
    assert "Snoozed till later" in html
    assert "snoozed until" in html


def test_the_filters_narrow_the_list(csm_client, csm_user):
    # A colleague who may work CTAs (read-only users are never offered as owners).
    colleague = UserFactory(first_name="Fox", last_name="Mulder", groups=[CSM])
    acme = CompanyFactory(name="Acme Corp")
    saas = RelationshipTypeFactory(name="SaaS")
    relationship = RelationshipFactory(company=acme, relationship_type=saas)
    CTAFactory(
        company=acme,
        owner=csm_user,
        name="Risky one",
        cta_type=CTAType.objects.get(name="Risk"),
        priority=priority("High"),
    )
    CTAFactory(
        owner=csm_user,
        name="Growth one",
        cta_type=CTAType.objects.get(name="Expansion"),
        priority=priority("Low"),
        status=status("Work in progress"),
    )
    CTAFactory(company=acme, relationship=relationship, owner=colleague, name="Foxs one")
    CTAFactory(owner=None, name="Nobody's one")
    CTAFactory(owner=csm_user, name="Closed one", status=status("Closed success"))

    def shown(**params) -> set[str]:
        html = page(csm_client, **params)
        return {
            name
            for name in ("Risky one", "Growth one", "Foxs one", "Nobody's", "Closed one")
            if name.replace("'", "&#x27;") in html
        }

    assert shown() == {"Risky one", "Growth one"}
    assert shown(type=CTAType.objects.get(name="Expansion").pk) == {"Growth one"}
    assert shown(priority=priority("High").pk) == {"Risky one"}
    assert shown(status=status("Work in progress").pk) == {"Growth one"}
    assert shown(status="closed") == {"Closed one"}
    assert shown(company="acme") == {"Risky one"}
    assert shown(owner="anyone") == {"Risky one", "Growth one", "Foxs one", "Nobody's"}
    assert shown(owner=colleague.pk) == {"Foxs one"}
    assert shown(owner="nobody") == {"Nobody's"}
    assert shown(owner="anyone", relationship_type=saas.pk) == {"Foxs one"}
    assert shown(owner="anyone", relationship_type="none") == {
        "Risky one",
        "Growth one",
        "Nobody's",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"owner": "zzz"},
        {"owner": "999999"},
        {"type": "abc"},
        {"priority": "-1"},
        {"status": "999999"},
        {"status": "<script>"},
        {"relationship_type": "x"},
        {"group": "weekday"},
        {"page": "999"},
        {"page": "abc"},
        {"company": "a" * 500},
        {"snoozed": "maybe"},
    ],
)
def test_bad_parameters_never_fail(csm_client, csm_user, params):
    CTAFactory(owner=csm_user, name="Still here")
    for headers in ({}, HTMX):
        response = csm_client.get(COCKPIT, params, headers=headers)
        assert response.status_code == 200
    # A refused owner falls back to "me": the CTA is still listed.
    if set(params) & {"owner", "type", "priority", "relationship_type", "group", "page"}:
        assert "Still here" in response.content.decode()


def test_the_list_is_paginated_by_50(csm_client, csm_user):
    company = CompanyFactory()
    for n in range(52):
        CTAFactory(company=company, owner=csm_user, name=f"Task {n:02d}", due_date=days(n))
    first = page(csm_client)
    assert first.count('name="cta" value=') == 50
    assert "Task 00" in first and "Task 51" not in first
    second = page(csm_client, page=2)
    assert second.count('name="cta" value=') == 2
    assert "Task 51" in second


def test_a_filter_change_answers_the_results_alone(csm_client, csm_user):
    CTAFactory(owner=csm_user, name="Here")
    response = csm_client.get(COCKPIT, {"group": "priority"}, headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="cockpit-results"' in html and "Here" in html
    assert "ctaChanged from:body" in html


# ---------- bulk close and reassign ----------


def test_bulk_close_asks_with_the_open_tasks_then_closes(csm_client, csm_user):
    first = CTAFactory(owner=csm_user)
    second = CTAFactory(owner=csm_user)
    TaskFactory.create_batch(2, cta=first)
    TaskFactory(cta=second, done=True)
    untouched = CTAFactory(owner=csm_user)

    response = csm_client.post(
        BULK, {"action": "close", "cta": [first.pk, second.pk]}, headers=HTMX
    )
    html = response.content.decode()
    assert "Close 2 CTAs?" in html
    assert "2 open tasks</strong> — close anyway?" in html
    assert not CTA.objects.filter(is_closed=True).exists()

    lost = status("Closed lost")
    response = csm_client.post(
        BULK,
        {"action": "close", "cta": [first.pk, second.pk], "confirm": "1", "status": lost.pk},
        headers=HTMX,
    )
    assert triggers(response) == {"closeModal", "ctaChanged"}
    assert response["HX-Retarget"] == "#cockpit-notice"
    assert "2 CTAs closed." in response.content.decode()
    for cta in (first, second):
        cta.refresh_from_db()
        assert cta.is_closed and cta.status == lost and cta.closed_by == csm_user
    untouched.refresh_from_db()
    assert not untouched.is_closed


def test_bulk_reassign_gives_the_ctas_to_someone(csm_client, csm_user):
    # A colleague who may work CTAs (read-only users are never offered as owners).
    colleague = UserFactory(first_name="Fox", last_name="Mulder", groups=[CSM])
    ctas = CTAFactory.create_batch(2, owner=csm_user)
    other = CTAFactory(owner=csm_user)
    response = csm_client.post(
        BULK,
        {"action": "reassign", "owner": colleague.pk, "cta": [c.pk for c in ctas]},
        headers=HTMX,
    )
    assert "2 CTAs given to Fox Mulder." in response.content.decode()
    assert "ctaChanged" in triggers(response)
    assert set(CTA.objects.filter(owner=colleague)) == set(ctas)
    other.refresh_from_db()
    assert other.owner == csm_user


def test_bulk_reassign_without_an_owner_or_selection_says_why(csm_client, csm_user):
    cta = CTAFactory(owner=csm_user)
    response = csm_client.post(BULK, {"action": "reassign", "cta": [cta.pk]}, headers=HTMX)
    assert "Choose who the selected CTAs go to." in response.content.decode()
    assert "ctaChanged" not in triggers(response)
    response = csm_client.post(BULK, {"action": "close", "confirm": "1"}, headers=HTMX)
    assert "Select at least one CTA first." in response.content.decode()
    cta.refresh_from_db()
    assert cta.owner == csm_user and not cta.is_closed


def test_bulk_actions_ignore_and_report_ctas_the_user_may_not_see(
    partner_a_client, partner_a_user, partner_a, partner_b
):
    grant(partner_a_user, "change_cta")
    # A partner user gives CTAs to their partner's users only.
    colleague = PartnerUserFactory(partner=partner_a).user
    ours = CTAFactory(company=CompanyFactory(managed_by=partner_a))
    foreign = CTAFactory(company=CompanyFactory(managed_by=partner_b))
    foreign_owner = foreign.owner

    response = partner_a_client.post(
        BULK,
        {"action": "reassign", "owner": colleague.pk, "cta": [ours.pk, foreign.pk, "junk"]},
        headers=HTMX,
    )
    html = response.content.decode()
    assert "1 CTA given to" in html
    assert "2 selected CTAs were not found among the CTAs you may see and left alone." in html
    ours.refresh_from_db()
    foreign.refresh_from_db()
    assert ours.owner == colleague and foreign.owner == foreign_owner

    response = partner_a_client.post(
        BULK, {"action": "close", "cta": [ours.pk, foreign.pk]}, headers=HTMX
    )
    assert "Close 1 CTA?" in response.content.decode()
    response = partner_a_client.post(
        BULK, {"action": "close", "cta": [ours.pk, foreign.pk], "confirm": "1"}, headers=HTMX
    )
    html = response.content.decode()
    assert "1 CTA closed." in html and "1 selected CTA was not found" in html
    ours.refresh_from_db()
    foreign.refresh_from_db()
    assert ours.is_closed and not foreign.is_closed


def test_read_only_users_see_no_bulk_controls_and_get_403(viewer_client, viewer_user):
    cta = CTAFactory(owner=viewer_user, name="Look only")
    html = page(viewer_client)
    assert "Look only" in html
    for control in ('name="cta"', "cockpit-bulk", "Reassign", "New CTA", "?after=close"):
        assert control not in html, control
    response = viewer_client.post(
        BULK, {"action": "reassign", "owner": viewer_user.pk, "cta": [cta.pk]}, headers=HTMX
    )
    assert response.status_code == 403


def test_csms_see_the_bulk_controls(csm_client, csm_user):
    CTAFactory(owner=csm_user)
    html = page(csm_client)
    for control in ('name="cta"', 'id="cockpit-bulk"', "Reassign", "New CTA", "?after=close"):
        assert control in html, control


# ---------- partner users ----------


def test_partner_users_see_the_ctas_of_their_records_only(partner_a_client, partner_a, partner_b):
    company = CompanyFactory(managed_by=partner_a)
    CTAFactory(company=company, name="Ours")
    CTAFactory(
        company=company,
        relationship=RelationshipFactory(company=company, managed_by=partner_b),
        name="On a relationship of partner B",
    )
    CTAFactory(company=CompanyFactory(managed_by=partner_b), name="Partner B's")
    CTAFactory(name="Internal only")
    html = page(partner_a_client)
    assert "Ours" in html
    for hidden in ("partner B", "Partner B&#x27;s", "Internal only"):
        assert hidden not in html, hidden
    # They own no CTAs: their Cockpit starts with everyone's, and never lists internal staff.
    assert f'<option value="{OWNER_ANYONE}" selected>' in html
    assert 'name="owner"' in html and "csm" not in html


# ---------- the overdue badge ----------


def test_the_navigation_counts_my_overdue_open_ctas(csm_client, csm_user):
    CTAFactory.create_batch(2, owner=csm_user, due_date=days(-1))
    CTAFactory(owner=csm_user, due_date=days(-10), snoozed_until=days(2))
    CTAFactory(owner=csm_user, due_date=days(-5), status=status("Closed success"))
    CTAFactory(owner=csm_user, due_date=today())
    CTAFactory(owner=UserFactory(), due_date=days(-3))
    html = csm_client.get(reverse("home")).content.decode()
    assert re.search(r'class="nav-badge"[^>]*>2<', html)


def test_the_badge_redraws_itself_when_a_cta_changes(csm_client, csm_user):
    cta = CTAFactory(owner=csm_user, due_date=days(-1))
    badge = reverse("success:cockpit_badge")
    html = csm_client.get(reverse("home")).content.decode()
    assert f'hx-get="{badge}" hx-trigger="ctaChanged from:body"' in html
    assert re.search(
        r'class="nav-badge"[^>]*>1<', csm_client.get(badge, headers=HTMX).content.decode()
    )
    cta.is_closed = True
    cta.save()
    html = csm_client.get(badge, headers=HTMX).content.decode()
    assert 'id="nav-cockpit-badge"' in html and 'nav-badge"' not in html


def test_no_badge_without_overdue_ctas_nor_for_anonymous_visitors(
    client, csm_client, csm_user, django_assert_num_queries
):
    CTAFactory(owner=csm_user, due_date=days(3))
    assert 'class="nav-badge"' not in csm_client.get(COCKPIT).content.decode()
    with django_assert_num_queries(0):
        html = client.get(reverse("login")).content.decode()
    assert "nav-badge" not in html  # no slot at all for anonymous visitors


def test_the_badge_costs_one_query_and_none_in_fragments(
    csm_client, csm_user, django_assert_max_num_queries
):
    def badge_queries(captured) -> list[str]:
        return [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith('SELECT COUNT(*) FROM "success_cta" WHERE "owner_id" = ')
        ]

    CTAFactory(owner=csm_user, due_date=days(-3))
    with django_assert_max_num_queries(30) as full_page:
        csm_client.get(reverse("companies:list"))
    assert len(badge_queries(full_page)) == 1
    with django_assert_max_num_queries(30) as fragment:
        csm_client.get(COCKPIT, {"group": "due"}, headers=HTMX)
    assert badge_queries(fragment) == []


# ---------- query budget ----------


def test_the_cockpit_queries_do_not_grow_with_the_ctas(
    csm_client, csm_user, django_assert_max_num_queries
):
    def queries(**params) -> int:
        with django_assert_max_num_queries(20) as captured:
            assert csm_client.get(COCKPIT, params).status_code == 200
        return len(captured.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            company = CompanyFactory()
            cta = CTAFactory(
                company=company,
                relationship=RelationshipFactory(company=company),
                owner=csm_user,
                due_date=days(i - n // 2),
            )
            TaskFactory.create_batch(2, cta=cta)

    add(2)
    small = (queries(), queries(group="priority", owner="anyone"))
    add(30)
    large = (queries(), queries(group="priority", owner="anyone"))
    assert small == large
