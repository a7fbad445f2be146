"""The admin's import page: upload, the checked preview, importing, progress, access."""

from __future__ import annotations

import os
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from companies.models import Company
from gainsight_lite.csvio import views
from tests.csvio.helpers import csv_bytes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

START = reverse("csvio:import")
HEADER = ["external_id", "name", "parent_external_id"]


@pytest.fixture(autouse=True)
def _imports_here(settings, tmp_path):
    settings.CSV_IMPORT_DIR = str(tmp_path)
    settings.CSV_IMPORT_IN_BACKGROUND = False


def upload(client: Client, data: bytes, *, kind: str = "companies", skip: bool = False):
    file = SimpleUploadedFile("book.csv", data, content_type="text/csv")
    payload = {"kind": kind, "file": file}
    if skip:
        payload["skip_invalid"] = "on"
    return client.post(START, payload)


def token_of(response) -> str:
    match = re.search(r"/admin/import/([^/]+)/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def test_the_admin_index_links_the_import_page(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{START}"' in page
    page = admin_client.get(START).content.decode()
    assert "Check the file" in page and "parent_external_id" in page


def test_a_checked_file_shows_its_counts_then_imports(admin_client, admin_user):
    response = upload(admin_client, csv_bytes(HEADER, ["A", "Alpha", ""], ["B", "Beta", "A"]))
    assert response.status_code == 302
    token = token_of(response)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Checked, nothing written yet" in page and "Import 2 changes" in page
    assert not Company.objects.exists()

    response = admin_client.post(reverse("csvio:import_run", args=[token]))
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "Imported." in page and "2 were created" in page
    assert Company.objects.get(external_id="B").parent.external_id == "A"
    # Importing the same upload twice is not possible: the page shows its report.
    admin_client.post(reverse("csvio:import_run", args=[token]))
    assert Company.objects.count() == 2


def test_bad_rows_are_listed_and_the_import_is_refused(admin_client):
    response = upload(admin_client, csv_bytes(HEADER, ["A", "Alpha", "NOPE"], ["B", "", ""]))
    token = token_of(response)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Nothing was imported: 2 rows have errors" in page
    assert "No company has the external ID “NOPE”" in page
    assert "This column needs a value." in page
    assert "Import 0" not in page and reverse("csvio:import_run", args=[token]) not in page
    refused = admin_client.post(reverse("csvio:import_run", args=[token]))
    assert refused.status_code == 400
    errors = admin_client.get(reverse("csvio:import_errors", args=[token]))
    body = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "line,column,message"
    assert '2,parent_external_id,"No company has the external ID “NOPE”' in body
    assert not Company.objects.exists()


def test_skip_invalid_imports_the_good_rows(admin_client):
    data = csv_bytes(HEADER, ["A", "Alpha", ""], ["B", "", ""])
    response = upload(admin_client, data, skip=True)
    token = token_of(response)
    page = admin_client.get(response["Location"]).content.decode()
    assert "1 skipped (errors)" in page
    admin_client.post(reverse("csvio:import_run", args=[token]))
    assert list(Company.objects.values_list("external_id", flat=True)) == ["A"]


def test_a_background_import_reports_progress_then_its_result(
    admin_client, admin_user, settings, monkeypatch
):
    """The thread's progress file is what the page polls; here the thread is run inline."""
    settings.CSV_IMPORT_IN_BACKGROUND = True
    started = []

    class InlineThread:
        def __init__(self, target, name, daemon):
            self.target = target
            started.append(name)

        def start(self):
            self.target()

    monkeypatch.setattr(views.threading, "Thread", InlineThread)
    monkeypatch.setattr(views.connection, "close", lambda: None)
    monkeypatch.setattr(views, "close_old_connections", lambda: None)
    response = upload(
        admin_client, csv_bytes(HEADER, *[[f"C{i}", f"C {i}", ""] for i in range(30)])
    )
    token = token_of(response)
    admin_client.post(reverse("csvio:import_run", args=[token]))
    assert started and Company.objects.count() == 30
    fragment = admin_client.get(
        reverse("csvio:import_status", args=[token]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "Imported." in fragment and "hx-trigger" not in fragment


def test_a_running_import_is_polled_with_a_progress_bar(admin_client):
    response = upload(admin_client, csv_bytes(HEADER, ["A", "Alpha", ""]))
    token = token_of(response)
    views._state_write(token, {"state": "running", "phase": "Writing", "done": 40, "total": 80})
    page = admin_client.get(reverse("csvio:import_status", args=[token])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="50"' in page and "Writing 50%" in page


def test_wrong_files_are_form_errors(admin_client):
    response = admin_client.post(START, {"kind": "companies"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = admin_client.post(
        START, {"kind": "planets", "file": SimpleUploadedFile("x.csv", b"a\n1\n")}
    )
    assert "Select a valid choice" in response.content.decode()


def test_an_upload_is_only_reachable_from_its_own_session(admin_client, admin_user):
    token = token_of(upload(admin_client, csv_bytes(HEADER, ["A", "Alpha", ""])))
    other_admin = Client()
    other_admin.force_login(UserFactory(username="admin2", is_staff=True, is_superuser=True))
    for name in ("csvio:import_status", "csvio:import_errors"):
        assert other_admin.get(reverse(name, args=[token])).status_code == 404
    assert other_admin.post(reverse("csvio:import_run", args=[token])).status_code == 404
    assert admin_client.get("/admin/import/..%2F..%2Fetc%2Fpasswd/").status_code == 404
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    "persona", ["csm_client", "viewer_client", "partner_a_client", "partner_b_client"]
)
def test_only_staff_and_cs_admins_may_import(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(START).status_code == 404
    assert upload(client, csv_bytes(HEADER, ["A", "Alpha", ""])).status_code == 404
    assert not Company.objects.exists()


def test_an_import_whose_process_went_away_says_so(admin_client):
    token = token_of(upload(admin_client, csv_bytes(HEADER, ["A", "Alpha", ""])))
    views._state_write(token, {"state": "running", "phase": "Writing", "done": 1, "total": 2})
    _, state_path = views._paths(token)
    old = time.time() - views.STALE_SECONDS - 10
    os.utime(state_path, (old, old))
    page = admin_client.get(reverse("csvio:import_status", args=[token])).content.decode()
    assert "the server running it was restarted" in page and "hx-trigger" not in page
