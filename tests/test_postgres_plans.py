"""PostgreSQL: the plans the speed budgets rely on.

The trigram indexes must match, expression for expression, the SQL that search, the pickers,
the lists' text filter and the admin's search compile to (UPPER(...) LIKE ...); a difference
(a cast, another function) would leave them unused and every search reading the whole table.
Only bitmap scans are left to the planner here (GIN indexes give nothing else) so that the few
rows of a test still show which index *can* answer. And every connection runs without JIT and
with the shorter join search set in settings.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from companies.models import Company, Person
from companies.selectors import companies_for_picker
from gainsight_lite.search_index import PG_TRIGRAM_INDEXES, text_matches
from relationships.models import Relationship
from tests.factories import CompanyFactory, PersonFactory, RelationshipFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]


def only_bitmap_scans() -> None:
    """Until the test's transaction ends, scans of a table's rows or of a b-tree's order cost
    too much: a plan of a few rows shows whether an index *can* answer its condition."""
    with connection.cursor() as cursor:
        for kind in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")


def plan_of(queryset: QuerySet[Any]) -> str:
    only_bitmap_scans()
    return queryset.explain()


@pytest.fixture
def book() -> None:
    for number in range(5):
        company = CompanyFactory(name=f"Acme {number}", external_id=f"CRM-{number}")
        RelationshipFactory(company=company, name=f"Renewal {number}")
        PersonFactory(first_name="Jane", last_name=f"Doe{number}", email=f"jane{number}@acme.io")


@pytest.mark.parametrize(
    ("model", "key", "query", "indexes"),
    [
        (Company, "company", "acme 3", {"companies_company_name_trgm"}),
        (Company, "company", "crm-3", {"companies_company_external_id_trgm"}),
        # Under three characters: a prefix, which the trigram indexes answer too.
        (Company, "company", "ac", {"companies_company_name_trgm"}),
        (Relationship, "relationship", "renewal", {"relationships_relationship_name_trgm"}),
        (
            Person,
            "person",
            "jane doe",
            {"companies_person_full_name_trgm", "companies_person_email_trgm"},
        ),
    ],
)
def test_text_matches_is_answered_by_the_trigram_indexes(book, model, key, query, indexes):
    plan = plan_of(model.objects.filter(text_matches(key, query)))
    assert all(name in plan for name in indexes), plan
    assert f"Seq Scan on {model._meta.db_table}" not in plan


def test_every_trigram_index_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        found = {row[0] for row in cursor.fetchall()}
    wanted = {name for indexes in PG_TRIGRAM_INDEXES.values() for name, _ in indexes}
    assert wanted <= found


def test_the_company_picker_reads_the_trigram_index(book, admin_user):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        picked = companies_for_picker(user=admin_user, q="acme 2")
    assert [c.name for c in picked] == ["Acme 2"]
    only_bitmap_scans()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "companies_company_name_trgm" in plan, plan


def test_connections_plan_without_jit_and_with_a_shorter_join_search():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
        cursor.execute("SHOW join_collapse_limit")
        assert cursor.fetchone() == ("6",)
