"""CSV downloads: the list's filters, the viewer's scope, streaming, the formula guard, and the
round trip of a companies export through the import."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from companies.models import Company
from gainsight_lite.csvio.importers import CompanyImporter, run_import
from relationships.models import Relationship, RelationshipTypeField
from tests.csvio.helpers import assert_valid_tree
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

COMPANIES = reverse("csvio:companies")
RELATIONSHIPS = reverse("csvio:relationships")


def download(client, url: str, **params) -> tuple[bytes, list[dict[str, str]]]:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    data = b"".join(response.streaming_content)
    return data, list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def snapshot() -> list[tuple]:
    return list(
        Company.objects.order_by("pk").values_list(
            "pk",
            "external_id",
            "name",
            "parent_id",
            "tree_id",
            "lft",
            "rght",
            "level",
            "industry",
            "segment",
            "stage",
            "status",
            "arr",
            "mrr",
            "renewal_date",
            "original_contract_date",
            "csm_id",
            "managed_by_id",
            "updated_at",
        )
    )


def test_a_companies_export_reimports_unchanged(admin_client, partner_a):
    csm = UserFactory(username="csm.one")
    top = CompanyFactory(name="Acme", csm=csm, managed_by=partner_a)
    europe = CompanyFactory(name="=Acme Europe", parent=top, arr=Decimal("1234.50"))
    CompanyFactory(name='Acme France, "Paris"', parent=europe, industry="@Retail\nand more")
    CompanyFactory(name="Zenith", renewal_date=None, segment="", stage="")
    before = snapshot()

    data, rows = download(admin_client, COMPANIES)
    assert data.startswith(b"\xef\xbb\xbf")  # spreadsheets read UTF-8 with the mark
    assert list(rows[0]) == CompanyImporter.column_names()
    assert {row["name"] for row in rows} >= {"'=Acme Europe", "Acme"}

    report = run_import("companies", data)
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged, report.rows) == (0, 0, 4, 4)
    assert snapshot() == before
    assert_valid_tree()


def test_an_import_of_a_changed_export_updates_only_those_rows(admin_client):
    CompanyFactory(name="Alpha", external_id="A")
    CompanyFactory(name="Beta", external_id="B")
    data, rows = download(admin_client, COMPANIES)
    text = data.decode("utf-8-sig").replace("Beta", "Beta Renamed")
    report = run_import("companies", text.encode())
    assert (report.updated, report.unchanged) == (1, 1)
    assert Company.objects.get(external_id="B").name == "Beta Renamed"


def test_the_export_keeps_the_lists_filters_and_order(csm_client):
    CompanyFactory(name="Small one", segment="smb", arr=Decimal(10))
    CompanyFactory(name="Small two", segment="smb", arr=Decimal(20))
    CompanyFactory(name="Big one", segment="enterprise")
    _, rows = download(csm_client, COMPANIES, segment="smb", sort="-arr")
    assert [row["name"] for row in rows] == ["Small two", "Small one"]
    _, rows = download(csm_client, COMPANIES, q="big")
    assert [row["name"] for row in rows] == ["Big one"]


def test_a_partner_user_exports_only_their_records(partner_a, partner_b, partner_a_client):
    CompanyFactory(name="Theirs", managed_by=partner_a)
    CompanyFactory(name="Other partner's", managed_by=partner_b)
    CompanyFactory(name="In house")
    _, rows = download(partner_a_client, COMPANIES)
    assert [row["name"] for row in rows] == ["Theirs"]


def test_the_export_streams_in_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    def queries(count: int) -> int:
        for _ in range(count):
            CompanyFactory()
        with django_assert_max_num_queries(10) as captured:
            response = admin_client.get(COMPANIES)
            assert response.streaming
            lines = b"".join(response.streaming_content).count(b"\n")
        assert lines == Company.objects.count() + 1
        return len(captured.captured_queries)

    assert queries(3) == queries(60)


def test_formula_looking_cells_are_guarded_and_numbers_are_not(admin_client):
    kind = RelationshipTypeFactory(name="Platform")
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="delta", kind=RelationshipTypeField.Kind.NUMBER
    )
    RelationshipTypeFieldFactory(relationship_type=kind, key="note")
    company = CompanyFactory(name="+Plus", external_id="P")
    RelationshipFactory(
        company=company, relationship_type=kind, name="@At", attributes={"delta": -5, "note": "-x"}
    )
    _, rows = download(admin_client, RELATIONSHIPS, type=kind.pk)
    assert rows[0]["name"] == "'@At"
    assert rows[0]["delta"] == "-5"
    assert rows[0]["note"] == "'-x"
    _, companies = download(admin_client, COMPANIES)
    assert companies[0]["name"] == "'+Plus"


def test_relationships_of_a_type_have_its_fields_as_columns_and_reimport(admin_client):
    kind = RelationshipTypeFactory(name="Analytics")
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="seats", kind=RelationshipTypeField.Kind.NUMBER
    )
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="live", kind=RelationshipTypeField.Kind.BOOLEAN
    )
    RelationshipTypeFieldFactory(relationship_type=kind, key="name")  # clashes with a column
    other = RelationshipTypeFactory(name="Services")
    company = CompanyFactory(external_id="C1")
    RelationshipFactory(
        company=company,
        relationship_type=kind,
        name="Main",
        attributes={"seats": 12.5, "live": True, "name": "Inner"},
    )
    RelationshipFactory(company=company, relationship_type=other, name="Not this type")
    data, rows = download(admin_client, RELATIONSHIPS, type=kind.pk)
    assert list(rows[0])[-3:] == ["seats", "live", "field:name"]
    assert [(r["name"], r["seats"], r["live"], r["field:name"]) for r in rows] == [
        ("Main", "12.5", "yes", "Inner")
    ]
    before = list(Relationship.objects.values_list("pk", "attributes", "updated_at"))
    report = run_import("relationships", data)
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert list(Relationship.objects.values_list("pk", "attributes", "updated_at")) == before


def test_relationships_export_needs_a_type_and_keeps_the_scope(
    csm_client, partner_b, partner_b_client
):
    kind = RelationshipTypeFactory(name="Analytics")
    company = CompanyFactory(managed_by=partner_b)
    RelationshipFactory(company=company, relationship_type=kind, name="Partner B's own")
    RelationshipFactory(relationship_type=kind, name="In house")
    response = csm_client.get(RELATIONSHIPS)
    assert response.status_code == 400
    assert b"Choose a relationship type" in response.content
    for wrong in ("9999", "99999999999999999999999", "-1", "x", "1\x00"):
        assert csm_client.get(RELATIONSHIPS, {"type": wrong}).status_code == 404
    _, rows = download(csm_client, RELATIONSHIPS, type=kind.pk, status="active")
    assert len(rows) == 2
    # Partner B works companies only: no relationship at all.
    _, rows = download(partner_b_client, RELATIONSHIPS, type=kind.pk)
    assert rows == []


def test_the_relationship_downloads_page_lists_the_types(csm_client, partner_b_client):
    RelationshipTypeFactory(name="Analytics")
    page = csm_client.get(reverse("csvio:relationship_downloads")).content.decode()
    assert "Analytics" in page and reverse("csvio:relationships") in page
    page = partner_b_client.get(reverse("csvio:relationship_downloads")).content.decode()
    assert "works companies only" in page


def test_the_cockpit_export_keeps_its_filters(csm_client, csm_user):
    CTAFactory(name="Mine", owner=csm_user)
    CTAFactory(name="Someone else's")
    _, rows = download(csm_client, reverse("csvio:cockpit"))
    assert [row["name"] for row in rows] == ["Mine"]
    _, rows = download(csm_client, reverse("csvio:cockpit"), owner="anyone")
    assert {row["name"] for row in rows} == {"Mine", "Someone else's"}


def test_a_partner_user_exports_only_their_timeline(partner_a, partner_a_client):
    ActivityFactory(company=CompanyFactory(managed_by=partner_a), subject="Their call")
    ActivityFactory(subject="In-house call")
    data, rows = download(partner_a_client, reverse("csvio:timeline"))
    assert [row["subject"] for row in rows] == ["Their call"]


def test_a_timeline_export_reimports_as_activities_unchanged(admin_client):
    ActivityFactory(company=CompanyFactory(external_id="T1"), subject="A call", notes="=1+1")
    data, rows = download(admin_client, reverse("csvio:timeline"))
    assert rows[0]["notes"] == "'=1+1"
    report = run_import("activities", data)
    assert report.errors == []
    assert (report.created, report.unchanged) == (0, 1)


def test_the_list_pages_link_their_download_with_the_query(csm_client):
    page = csm_client.get(reverse("companies:list"), {"segment": "smb"}).content.decode()
    assert f'href="{COMPANIES}?segment=smb"' in page
    page = csm_client.get(reverse("success:cockpit"), {"owner": "anyone"}).content.decode()
    assert f'href="{reverse("csvio:cockpit")}?owner=anyone"' in page
    page = csm_client.get(reverse("success:timeline")).content.decode()
    assert f'href="{reverse("csvio:timeline")}"' in page
