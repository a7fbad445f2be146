"""`manage.py backup` and `manage.py restore`: a round trip gives the data back."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from companies.models import Company
from tests.factories import CompanyFactory

SQLITE = connection.vendor == "sqlite"
POSTGRES_TOOLS = bool(shutil.which("pg_dump") and shutil.which("pg_restore"))


def backup(folder: Path) -> Path:
    out = StringIO()
    call_command("backup", "--output", str(folder), stdout=out)
    (made,) = [path for path in folder.iterdir() if not path.name.endswith(".partial")]
    assert f"Backed up to {made}" in out.getvalue()
    return made


def restore(path: Path) -> str:
    out = StringIO()
    call_command("restore", str(path), "--no-input", stdout=out)
    return out.getvalue()


def round_trip(tmp_path: Path) -> None:
    kept = CompanyFactory(name="Acme Holdings", arr=Decimal("120000.00"))
    made = backup(tmp_path)
    Company.objects.filter(pk=kept.pk).update(name="Renamed after the backup", arr=Decimal(1))
    CompanyFactory(name="Added after the backup")

    restore(made)

    assert list(Company.objects.values_list("name", "arr")) == [("Acme Holdings", Decimal(120000))]


@pytest.mark.skipif(not SQLITE, reason="the SQLite round trip needs SQLite")
@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_brings_the_data_back(tmp_path):
    round_trip(tmp_path)


@pytest.mark.skipif(not SQLITE, reason="SQLite backups")
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_is_one_private_self_contained_file(tmp_path):
    CompanyFactory(name="Acme Holdings")

    made = backup(tmp_path)

    assert made.name.startswith("gainsight-") and made.suffix == ".sqlite3"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    copy = sqlite3.connect(made)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT name FROM companies_company").fetchall() == [("Acme Holdings",)]
    finally:
        copy.close()


@pytest.mark.skipif(not SQLITE, reason="SQLite backups")
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_file_that_is_no_backup_and_changes_nothing(tmp_path):
    CompanyFactory(name="Acme Holdings")
    junk = tmp_path / "notes.sqlite3"
    junk.write_text("not a database at all")
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    dump = tmp_path / "gainsight.dump"
    dump.write_bytes(b"PGDMP")

    with pytest.raises(CommandError, match="not a readable SQLite database"):
        restore(junk)
    with pytest.raises(CommandError, match="not a Gainsight Lite database"):
        restore(empty)
    with pytest.raises(CommandError, match="not a SQLite backup"):
        restore(dump)
    with pytest.raises(CommandError, match="There is no backup file"):
        restore(tmp_path / "missing.sqlite3")

    assert list(Company.objects.values_list("name", flat=True)) == ["Acme Holdings"]


@pytest.mark.skipif(not SQLITE, reason="SQLite backups")
@pytest.mark.django_db(transaction=True)
def test_restore_asks_first_and_stops_unless_told_yes(tmp_path, monkeypatch):
    CompanyFactory(name="Acme Holdings")
    made = backup(tmp_path)
    CompanyFactory(name="Added after the backup")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Restore cancelled: nothing was changed."):
        call_command("restore", str(made), stdout=StringIO())
    assert Company.objects.count() == 2

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("restore", str(made), stdout=StringIO())
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme Holdings"]


@pytest.mark.skipif(
    SQLITE or not POSTGRES_TOOLS,
    reason="the PostgreSQL round trip needs DATABASE_URL on PostgreSQL and pg_dump on PATH",
)
@pytest.mark.django_db(transaction=True)
def test_postgresql_round_trip_brings_the_data_back(tmp_path):
    round_trip(tmp_path)
    (made,) = tmp_path.iterdir()
    assert made.suffix == ".dump" and made.read_bytes().startswith(b"PGDMP")


@pytest.mark.skipif(SQLITE or not POSTGRES_TOOLS, reason="PostgreSQL backups")
@pytest.mark.django_db(transaction=True)
def test_postgresql_restore_refuses_a_file_that_is_no_dump(tmp_path):
    CompanyFactory(name="Acme Holdings")
    junk = tmp_path / "junk.dump"
    junk.write_bytes(os.urandom(64))

    with pytest.raises(CommandError, match="pg_restore failed"):
        restore(junk)

    assert list(Company.objects.values_list("name", flat=True)) == ["Acme Holdings"]
