"""partners.access keeps the ids of the view permissions partner lists filter on: read with
the partner (no query of their own), emptied when the tables are rebuilt."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.models import Company
from partners import access
from relationships.models import Relationship
from tests.factories import CompanyFactory, RelationshipFactory

pytestmark = pytest.mark.django_db

LIST = reverse("companies:list")


def _list_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_ids_are_read_with_the_partner_then_used_as_constants(partner_a, partner_a_client):
    company = CompanyFactory(name="Alpha One", managed_by=partner_a)
    RelationshipFactory(company=company, managed_by=partner_a)
    CompanyFactory(name="In House")
    access._permission_ids.clear()

    cold = _list_queries(partner_a_client)
    warm = _list_queries(partner_a_client)

    assert access._permission_ids == {
        (Company, "view"): Permission.objects.get(codename="view_company").pk,
        (Relationship, "view"): Permission.objects.get(codename="view_relationship").pk,
    }
    # No query of their own: cold, the partner is asked for with them; warm, the partner came
    # with the signed-in user (gainsight_lite.auth) and is not asked for at all.
    assert len(cold) == len(warm) + 1
    assert any("auth_permission" in sql and "partners_partner" in sql for sql in cold)
    assert not any(sql.startswith('SELECT "partners_partner"') for sql in warm)
    # Warm, no list query looks the permission up (the role checks of base.html may).
    listed = [sql for sql in warm if "companygroupobjectpermission" in sql]
    assert listed and not any("auth_permission" in sql for sql in listed)
    # And the partner still sees exactly its own.
    page = partner_a_client.get(LIST)
    assert [row["name"] for row in page.context["listing"].rows] == ["Alpha One"]
    assert page.context["listing"].rows[0]["relationship_count"] == 1


def test_an_internal_user_leaves_the_ids_unknown(csm_client):
    access._permission_ids.clear()

    _list_queries(csm_client)

    assert access._permission_ids == {}


def test_rebuilt_tables_empty_the_ids(partner_a_client):
    _list_queries(partner_a_client)
    assert access._permission_ids

    # migrate and flush send post_migrate: permissions may come back with other ids.
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)

    assert access._permission_ids == {}
