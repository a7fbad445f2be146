"""The Cockpit's "Anyone" views (everyone's open CTAs; a partner user's default), read by
buckets of one due date and priority: the same rows, in the same order and on the same pages,
as sorting them all; and a fixed number of queries however many CTAs there are."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse

from success.models import CTA, CTAPriority, CTAStatus
from success.selectors import cockpit
from success.selectors.cockpit import (
    GROUP_BY_DUE,
    GROUP_BY_PRIORITY,
    OWNER_ANYONE,
    CockpitFilters,
    cockpit_ctas,
    cockpit_page,
    due_group,
)
from tests.factories import CompanyFactory, CTAFactory, RelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db

COCKPIT = reverse("success:cockpit")
# A Wednesday: "this week" runs to Sunday the 11th.
WEDNESDAY = dt.date(2026, 1, 7)
DUES = [
    WEDNESDAY - dt.timedelta(days=10),  # overdue
    WEDNESDAY - dt.timedelta(days=1),  # overdue
    WEDNESDAY,  # today
    WEDNESDAY + dt.timedelta(days=1),  # this week
    WEDNESDAY + dt.timedelta(days=4),  # Sunday: this week
    WEDNESDAY + dt.timedelta(days=5),  # later
    WEDNESDAY + dt.timedelta(days=30),  # later
    None,
]


def craft(companies, owners) -> None:
    """Open CTAs on every due date, several of each priority per date, created in an order
    that is not the priorities' (ids do not follow priority); some snoozed (to a later day:
    hidden; to today or before: shown), some closed (never listed)."""
    priorities = list(CTAPriority.objects.order_by("order"))
    # Priority order made to differ from the ids': Low first, then High, then Medium.
    low, high, medium = priorities[2], priorities[0], priorities[1]
    low.order, high.order, medium.order = 0, 1, 2
    for p in (low, high, medium):
        p.save()
    closed = CTAStatus.objects.filter(is_closed=True).first()
    spread = itertools.cycle(companies)
    owner = itertools.cycle(owners)
    for n, due in enumerate(DUES):
        for priority in [medium, low, high, medium, high, low][: 3 + n % 4]:
            CTAFactory(company=next(spread), owner=next(owner), due_date=due, priority=priority)
    CTAFactory(company=companies[0], due_date=DUES[2], priority=high, status=closed)
    snoozes = [WEDNESDAY + dt.timedelta(days=2), WEDNESDAY, WEDNESDAY - dt.timedelta(days=3)]
    for snooze, due in zip(snoozes, [DUES[0], DUES[2], None], strict=True):
        CTAFactory(company=companies[0], due_date=due, priority=medium, snoozed_until=snooze)


def expected(ctas, *, group: str) -> list[int]:
    """The Cockpit's order written out: due date (empty last), then priority, then id; or
    priority first."""

    def key(cta: CTA) -> tuple:
        dated = (cta.due_date is None, cta.due_date or dt.date.min)
        by_priority = (cta.priority.order, cta.priority_id)
        return (
            (*by_priority, *dated, cta.pk)
            if group == GROUP_BY_PRIORITY
            else (
                *dated,
                *by_priority,
                cta.pk,
            )
        )

    return [cta.pk for cta in sorted(ctas, key=key)]


def listed(user, filters: CockpitFilters, monkeypatch, size: int) -> list[list[int]]:
    """Every page's CTA ids, with pages of `size` (buckets split across pages)."""
    monkeypatch.setattr(cockpit, "PAGE_SIZE", size)
    pages = []
    number = 1
    while True:
        listing = cockpit_page(user=user, filters=filters, page_number=number, today=WEDNESDAY)
        pages.append([int(row["pk"]) for group in listing.groups for row in group.rows])
        # Groups stay contiguous and named for their rows.
        if filters.group == GROUP_BY_DUE:
            for group in listing.groups:
                assert {due_group(row["due_date"], today=WEDNESDAY) for row in group.rows} == {
                    group.key
                }
        if not listing.page.has_next():
            assert listing.page.paginator.count == sum(len(p) for p in pages)
            return pages
        number += 1


@pytest.mark.parametrize("group", [GROUP_BY_DUE, GROUP_BY_PRIORITY])
@pytest.mark.parametrize("show_snoozed", [False, True])
@pytest.mark.parametrize("size", [1, 4, 7, 50])
def test_everyones_ctas_come_in_the_sorted_order_on_every_page(
    csm_user, monkeypatch, group, show_snoozed, size
):
    companies = CompanyFactory.create_batch(3)
    craft(companies, [csm_user, UserFactory(), None])
    filters = CockpitFilters(owner=OWNER_ANYONE, group=group, show_snoozed=show_snoozed)
    shown = [
        cta
        for cta in CTA.objects.filter(is_closed=False).select_related("priority")
        if show_snoozed or cta.snoozed_until is None or cta.snoozed_until <= WEDNESDAY
    ]
    order = expected(shown, group=group)
    pages = listed(csm_user, filters, monkeypatch, size)
    assert [pk for page in pages for pk in page] == order
    assert all(len(page) == size for page in pages[:-1])
    # The same as the query sorting them all.
    assert order == list(
        cockpit_ctas(user=csm_user, filters=filters, today=WEDNESDAY).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("group", [GROUP_BY_DUE, GROUP_BY_PRIORITY])
def test_a_partners_cockpit_lists_only_what_it_may_see_in_order(
    partner_a_user, partner_a, partner_b, monkeypatch, group
):
    ours = CompanyFactory.create_batch(2, managed_by=partner_a)
    theirs = CompanyFactory(managed_by=partner_b)
    craft([*ours, theirs], [None])
    # A CTA on a relationship of ours the partner may see, one on a relationship it may not.
    seen = RelationshipFactory(company=ours[0])
    hidden = RelationshipFactory(company=ours[1], managed_by=partner_b)
    visible_rel = CTAFactory(company=ours[0], relationship=seen, due_date=DUES[1])
    CTAFactory(company=ours[1], relationship=hidden, due_date=DUES[1])

    filters = CockpitFilters(owner=OWNER_ANYONE, group=group, default_owner=OWNER_ANYONE)
    shown = [
        cta
        for cta in CTA.objects.filter(is_closed=False, company__in=ours).select_related("priority")
        if (cta.snoozed_until is None or cta.snoozed_until <= WEDNESDAY)
        and cta.relationship_id in (None, seen.pk)
    ]
    assert visible_rel in shown
    for size in (3, 50):
        pages = listed(partner_a_user, filters, monkeypatch, size)
        assert [pk for page in pages for pk in page] == expected(shown, group=group)


def test_an_empty_list_and_a_page_past_the_end(csm_user, monkeypatch):
    filters = CockpitFilters(owner=OWNER_ANYONE)
    listing = cockpit_page(user=csm_user, filters=filters, page_number="9", today=WEDNESDAY)
    assert listing.groups == [] and listing.page.paginator.count == 0
    craft(CompanyFactory.create_batch(2), [csm_user])
    monkeypatch.setattr(cockpit, "PAGE_SIZE", 5)
    last = cockpit_page(user=csm_user, filters=filters, page_number="999", today=WEDNESDAY)
    count = last.page.paginator.count
    assert last.page.number == last.page.paginator.num_pages
    assert sum(len(g.rows) for g in last.groups) == count - 5 * (last.page.number - 1)
    junk = cockpit_page(user=csm_user, filters=filters, page_number="x", today=WEDNESDAY)
    assert junk.page.number == 1


# ---------- query budget ----------


@pytest.mark.parametrize("group", [GROUP_BY_DUE, GROUP_BY_PRIORITY])
def test_the_anyone_views_queries_do_not_grow_with_the_ctas(
    csm_client, partner_a_client, partner_a, django_assert_max_num_queries, group
):
    def queries(client, **params) -> tuple[int, int]:
        counts = []
        for page in ("1", "2"):
            with django_assert_max_num_queries(20) as captured:
                response = client.get(COCKPIT, {"group": group, "page": page, **params})
                assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        return counts[0], counts[1]

    def add(n: int) -> None:
        companies = [CompanyFactory(managed_by=partner_a), CompanyFactory()]
        for i in range(n):
            company = companies[i % 2]
            CTAFactory(
                company=company,
                relationship=RelationshipFactory(company=company) if i % 3 == 0 else None,
                due_date=WEDNESDAY + dt.timedelta(days=i % 9) if i % 5 else None,
            )

    add(3)
    small = (queries(csm_client, owner=OWNER_ANYONE), queries(partner_a_client))
    add(130)
    large = (queries(csm_client, owner=OWNER_ANYONE), queries(partner_a_client))
    assert small == large


@pytest.mark.parametrize("group", [GROUP_BY_DUE, GROUP_BY_PRIORITY])
def test_a_partner_seeing_most_of_the_book_walks_it_in_a_fixed_number_of_queries(
    partner_a_client, partner_a, django_assert_max_num_queries, group
):
    """Most of the book is the partner's: the first pages are placed by walking the open CTAs
    in due order (`_buckets_to`: one query more than counting all the partner's buckets), the
    same queries at both sizes."""

    def queries() -> tuple[int, int]:
        counts = []
        for page in ("1", "2"):
            with django_assert_max_num_queries(20) as captured:
                response = partner_a_client.get(COCKPIT, {"group": group, "page": page})
                assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        return counts[0], counts[1]

    def add(n: int) -> None:
        ours = CompanyFactory(managed_by=partner_a)
        for i in range(n):
            CTAFactory(company=ours, due_date=WEDNESDAY + dt.timedelta(days=i % 9))
        CTAFactory(company=CompanyFactory())

    add(120)
    small = queries()
    add(200)
    assert queries() == small
