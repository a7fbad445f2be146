"""CSV in the browser: an admin imports a file from the admin (checked, then imported in the
background while the page polls its progress) and downloads the companies list."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from companies.models import Company
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"
HEADER = "external_id,name,parent_external_id,segment\n"


@pytest.fixture
def admin_signed_in(page, settings, tmp_path):
    settings.CSV_IMPORT_DIR = str(tmp_path)
    UserFactory(username="importer", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Companies", exact=True)).to_be_visible()
    return page


def choose_file(page, path: Path, *, skip: bool = False) -> None:
    page.goto("/admin/")
    page.get_by_role("link", name="Import a CSV file").click()
    page.get_by_label("What the file holds").select_option("companies")
    page.get_by_label("CSV file").set_input_files(str(path))
    if skip:
        page.get_by_label("Skip invalid rows").check()
    page.get_by_role("button", name="Check the file").click()


def test_an_admin_checks_then_imports_a_file_and_downloads_the_list(
    admin_signed_in, tmp_path, screenshot
):
    page = admin_signed_in
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "K2,Kite Europe,K1,smb\nK1,Kite,,galaxy\nK3,Kite Loop,K3,\n")
    choose_file(page, bad)
    expect(page.get_by_text("Nothing was imported: 2 rows have errors")).to_be_visible()
    errors = page.locator("#csv-import-errors")
    expect(errors).to_contain_text("“galaxy” is not one of: enterprise, mid_market, smb.")
    expect(errors).to_contain_text("The parents make a cycle (Kite Loop → Kite Loop)")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    screenshot("csv-01-import-errors")

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "K2,Kite Europe,K1,smb\nK1,Kite,,enterprise\n")
    choose_file(page, good)
    expect(page.get_by_text("Checked, nothing written yet.")).to_be_visible()
    page.get_by_role("button", name="Import 2 changes").click()
    # The import runs in a thread; coming back to the page shows its report. (The page's
    # htmx poll does not start under the test's live server, where the thread shares an
    # in-memory database; it does under runserver and gunicorn — see test_import_page.)
    done = page.get_by_text("Imported. Companies, 2 rows: 2 were created")
    for _ in range(20):
        if done.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(done).to_be_visible()
    screenshot("csv-02-imported")
    assert Company.objects.get(external_id="K2").parent.external_id == "K1"

    page.goto("/companies/?segment=smb")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert [(row["external_id"], row["parent_external_id"]) for row in rows] == [("K2", "K1")]
