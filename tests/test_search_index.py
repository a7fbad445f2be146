"""The trigram search index: finds what icontains found, stays in step with every write."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

import gainsight_lite.search as search_module
from companies.models import Company, Person
from gainsight_lite.search import search
from gainsight_lite.search_index import (
    INDEXED_TABLES,
    contains,
    restore_after_migrate,
    search_index_check,
    search_index_rebuild,
)
from relationships.models import Relationship
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
)

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the FTS5 tables and triggers are SQLite's"
)

NAMES = [
    "Acme",
    "ACME Europe",
    "Old acme Holdings",
    "Ac-me Labs",
    "Nord & Söhne",
    "100% Juice",
    'The "Quoted" Co',
    "Globex_Asia",
    "Ünïcode Straße",
    "a b c",
]
QUERIES = ["acme", "ACM", "me ", "cme e", "& s", "0% j", '"quoted"', "x_a", "straße", "a b", "zzz"]


def _ids(queryset):
    return sorted(queryset.values_list("pk", flat=True))


@pytest.fixture
def book():
    licence = RelationshipTypeFactory(name="Licence")
    for number, name in enumerate(NAMES):
        company = CompanyFactory(name=name, external_id=f"EXT-{number}-{name[:3].upper()}")
        RelationshipFactory(company=company, relationship_type=licence, name=f"{name} licence")
        CompanyPersonFactory(
            company=company,
            person=PersonFactory(
                first_name=name.split()[0], last_name=name.split()[-1], email=f"p{number}@x.example"
            ),
        )


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_what_icontains_found(book, query):
    companies = Company.objects.all()
    assert _ids(companies.filter(contains("company", query))) == _ids(
        companies.filter(name__icontains=query) | companies.filter(external_id__icontains=query)
    )
    relationships = Relationship.objects.all()
    assert _ids(relationships.filter(contains("relationship", query))) == _ids(
        relationships.filter(name__icontains=query)
    )
    people = Person.objects.annotate(full=Concat("first_name", Value(" "), "last_name"))
    assert _ids(people.filter(contains("person", query, column="full_name"))) == _ids(
        people.filter(full__icontains=query)
    )
    assert _ids(people.filter(contains("person", query))) == _ids(
        people.filter(full__icontains=query) | people.filter(email__icontains=query)
    )


def test_the_index_follows_a_rename_a_delete_a_cascade_and_bulk_writes(csm_user):
    licence = RelationshipTypeFactory(name="Licence")
    company = CompanyFactory(name="Initech")
    RelationshipFactory(company=company, relationship_type=licence, name="Initech payroll")
    person = PersonFactory(first_name="Peter", last_name="Gibbons", email="peter@initech.example")
    CompanyPersonFactory(company=company, person=person)

    company.name = "Intertrode"
    company.save()
    Person.objects.filter(pk=person.pk).update(last_name="Bolton", email="peter@intertrode.example")
    Company.objects.bulk_create(
        [
            Company(name=f"Bulk Initech {n}", tree_id=1000 + n, lft=1, rght=2, level=0)
            for n in range(3)
        ]
    )

    assert [h.name for h in search(user=csm_user, query="initech").groups[0].hits] == [
        f"Bulk Initech {n}" for n in range(3)
    ]
    assert search(user=csm_user, query="intertrode").groups[0].count == 1
    people = search(user=csm_user, query="bolton").groups[2]
    assert [hit.name for hit in people.hits] == ["Peter Bolton"]
    assert search(user=csm_user, query="gibbons").groups[2].count == 0

    company.delete()  # cascades to its relationship through Django's collector

    assert search(user=csm_user, query="intertrode").groups[0].count == 0
    assert search(user=csm_user, query="payroll").groups[1].count == 0
    assert search_index_check() == []


@sqlite_only
def test_a_table_rebuild_that_dropped_the_triggers_is_repaired_after_migrate(csm_user):
    with connection.cursor() as cursor:
        for suffix in ("insert", "delete", "update"):
            cursor.execute(f"DROP TRIGGER {INDEXED_TABLES['company'].fts}_{suffix}")
    CompanyFactory(name="Vandelay Industries")  # written while the index was not kept
    assert search_index_check() == ["company"]

    restore_after_migrate(using="default")

    assert search_index_check() == []
    assert search(user=csm_user, query="vandelay").groups[0].count == 1


@sqlite_only
def test_rebuild_restores_an_index_left_behind_by_a_bulk_load(csm_user):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {INDEXED_TABLES['relationship'].fts}_insert")
        RelationshipFactory(name="Soylent supply")
        cursor.execute(
            f"INSERT INTO {INDEXED_TABLES['relationship'].fts}"
            f"({INDEXED_TABLES['relationship'].fts}) VALUES ('delete-all')"
        )
    assert search(user=csm_user, query="soylent").groups[1].count == 0

    search_index_rebuild()

    assert search(user=csm_user, query="soylent").groups[1].count == 1
    assert search_index_check() == []


def test_a_two_character_query_matches_the_start_of_names(csm_user):
    CompanyFactory(name="Quartz", external_id="Q-1")
    CompanyFactory(name="Old Quartz", external_id="Q-2")
    CompanyFactory(name="Aqua", external_id="QU-3")
    place = CompanyFactory(name="Home", external_id="H-1")
    CompanyPersonFactory(company=place, person=PersonFactory(first_name="Zed", last_name="Quayle"))
    CompanyPersonFactory(company=place, person=PersonFactory(first_name="Lou", last_name="Bequ"))

    results = search(user=csm_user, query="qu")

    assert [hit.name for hit in results.groups[0].hits] == ["Aqua", "Quartz"]
    assert [hit.name for hit in results.groups[2].hits] == ["Zed Quayle"]


@pytest.fixture
def crowded(partner_a):
    """More matches than a small cap: ranks and counts must come from the tiered queries."""
    licence = RelationshipTypeFactory(name="Licence")
    names = ["Umbrella", "umbrella labs", "Umbrella Corp", "Old Umbrella", "Big umbrella Co"]
    names += [f"Umbrella {n:02d}" for n in range(6)] + [f"Z Umbrella {n}" for n in range(4)]
    for number, name in enumerate(names):
        company = CompanyFactory(
            name=name,
            external_id=f"UMB-{number:02d}",
            managed_by=partner_a if number % 2 else None,
        )
        RelationshipFactory(company=company, relationship_type=licence, name=f"{name} deal")
        CompanyPersonFactory(
            company=company,
            person=PersonFactory(
                first_name=["Umbra", "Ann", "Bo"][number % 3],
                last_name=f"Umbrellason{number}" if number % 4 else "Smith",
                email=f"{number}@umbrella.example",
            ),
        )


def _ranks(results):
    """Each group's hits as (rank tier, sort key...) in the order shown."""

    def tier(group, hit):
        query = results.query.lower()
        if group == "people":
            person = hit.record
            if any(
                value.lower().startswith(query)
                for value in (person.first_name, person.last_name, person.email)
            ):
                return 0
            return 1 if query in person.full_name.lower() else 2
        values = [hit.name] + ([hit.record.external_id or ""] if group == "companies" else [])
        if any(value.lower() == query for value in values):
            return 0
        return 1 if any(value.lower().startswith(query) for value in values) else 2

    def order(group, hit):
        if group == "people":
            return (hit.record.last_name, hit.record.first_name)
        return (hit.name,)

    return {g.key: [(tier(g.key, h), *order(g.key, h)) for h in g.hits] for g in results.groups}


@pytest.mark.parametrize("persona", ["csm_user", "partner_a_user"])
@pytest.mark.parametrize("query", ["umbrella", "UMB", "um", "umbrella 0", "umbrellason"])
def test_a_capped_search_shows_the_best_tiers_first_each_in_order(
    request, crowded, monkeypatch, persona, query
):
    user = request.getfixturevalue(persona)
    full = _ranks(search(user=user, query=query, limit=7))
    full_counts = {g.key: g.count for g in search(user=user, query=query, limit=7).groups}
    monkeypatch.setattr(search_module, "COUNT_CAP", 3)

    results = search(user=user, query=query, limit=7)
    capped = _ranks(results)

    for group in results.groups:
        # As many hits of each tier as the full ranking shows: the best tiers come first.
        assert [hit[0] for hit in capped[group.key]] == [hit[0] for hit in full[group.key]]
        # Within a tier, by name.
        assert capped[group.key] == sorted(capped[group.key])
        if full_counts[group.key] > 3:
            assert group.capped and group.count == 3 and group.count_text == "3+"
        else:
            assert not group.capped and group.count == full_counts[group.key]
            assert capped[group.key] == full[group.key]


def test_a_capped_count_reads_as_more_than(csm_client, crowded, monkeypatch):
    monkeypatch.setattr(search_module, "COUNT_CAP", 3)

    html = csm_client.get("/search/", {"q": "umbrella"}).content.decode()

    assert '<span class="count">3+</span>' in html
    assert "9+</strong> results" in html


def test_the_capped_search_runs_a_bounded_number_of_queries(
    csm_client, crowded, monkeypatch, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as uncapped:
        csm_client.get("/search/", {"q": "umbrella"})
    monkeypatch.setattr(search_module, "COUNT_CAP", 3)

    # At most one query more per rank tier of each group: 3 + 3 + 3.
    with django_assert_max_num_queries(len(uncapped) + 9):
        response = csm_client.get("/search/", {"q": "umbrella"})

    assert response.status_code == 200
