"""The navigation's overdue badge: how its one COUNT reads the database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from success.selectors.cockpit import overdue_cta_count
from tests.factories import CTAFactory

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
    assert query["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "success_cta"')
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    assert "SEARCH success_cta USING COVERING INDEX success_cta_overdue_cover" in plan, plan
