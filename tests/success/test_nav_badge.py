"""The navigation's overdue badge: how its one COUNT reads the database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.access import ctas_visible_to
from partners.models import Partner
from partners.services import partner_update
from success.selectors.cockpit import overdue_cta_count
from tests.factories import CompanyFactory, CTAFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
@pytest.mark.parametrize("persona", ["csm_user", "partner_a_user"])
def test_the_badge_counts_from_the_covering_index_alone(request, persona):
    """No table row per CTA: the owner's open CTAs by due date, with what the COUNT tests
    (snoozed until, company and relationship for a partner's grants) in the index."""
    user = request.getfixturevalue(persona)
    CTAFactory.create_batch(3, owner=user)
    with CaptureQueriesContext(connection) as captured:
        overdue_cta_count(user=user, today=timezone.localdate())
    query = captured.captured_queries[-1]
    assert query["sql"].startswith('SELECT COUNT(*) FROM "success_cta"')
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    assert "SEARCH success_cta USING COVERING INDEX success_cta_overdue_cover" in plan, plan


@pytest.mark.parametrize("scope", ["companies and relationships", "companies only", "inactive"])
def test_the_badge_counts_what_the_cockpit_shows_as_overdue(
    scope, csm_user, partner_a, partner_a_user, django_assert_num_queries
):
    """The written-out COUNT and the access rule (`ctas_visible_to`) give the same number:
    for an internal user and a partner user, whatever the partner's data scope."""
    if scope == "companies only":
        partner_update(partner=partner_a, data_scope=Partner.DataScope.COMPANIES_ONLY)
    if scope == "inactive":
        partner_update(partner=partner_a, active=False)
    today = timezone.localdate()
    theirs = CompanyFactory(managed_by=partner_a)
    followed = RelationshipFactory(company=theirs)
    house = CompanyFactory()
    for owner in (csm_user, partner_a_user):
        for company, relationship in ((theirs, None), (theirs, followed), (house, None)):
            for due, snoozed in (
                (today - dt.timedelta(days=3), None),  # overdue
                (today - dt.timedelta(days=3), today),  # snoozed until today: awake
                (today - dt.timedelta(days=3), today + dt.timedelta(days=1)),  # asleep
                (today, None),  # due today: not yet overdue
            ):
                CTAFactory(
                    company=company,
                    relationship=relationship,
                    owner=owner,
                    due_date=due,
                    snoozed_until=snoozed,
                )
        # Closed, however late: never counted.
        CTAFactory(
            company=theirs, owner=owner, due_date=today - dt.timedelta(days=9), is_closed=True
        )
    for user in (csm_user, partner_a_user):
        user = type(user).objects.get(pk=user.pk)
        expected = (
            ctas_visible_to(user)
            .filter(owner=user, is_closed=False, due_date__lt=today)
            .exclude(snoozed_until__gt=today)
            .count()
        )
        # (The user's partner was read above; an inactive partner's users see no CTA.)
        asks = 0 if scope == "inactive" and user == partner_a_user else 1
        with django_assert_num_queries(asks):
            assert overdue_cta_count(user=user, today=today) == expected
    # Two awake and overdue per company or relationship the user sees.
    assert overdue_cta_count(user=csm_user, today=today) == 6
    partners = {"companies and relationships": 4, "companies only": 2, "inactive": 0}
    assert overdue_cta_count(user=partner_a_user, today=today) == partners[scope]
