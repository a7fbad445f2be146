"""Settings come from the environment; /healthz proves the database answers."""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import reverse

import gainsight_lite.settings

SETTINGS_ENV = ("DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")


@pytest.fixture
def load_settings(monkeypatch):
    """Evaluates settings.py afresh under a given environment, leaving the live settings alone."""

    def load(**env: str) -> ModuleType:
        for name in SETTINGS_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        spec = importlib.util.spec_from_file_location(
            "settings_under_test", gainsight_lite.settings.__file__
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def test_database_url_selects_postgresql(load_settings):
    loaded = load_settings(DATABASE_URL="postgres://cs:secret@127.0.0.1:5433/book")

    database = loaded.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("book", "cs", "secret")
    assert (database["HOST"], database["PORT"]) == ("127.0.0.1", 5433)
    assert "init_command" not in database.get("OPTIONS", {})


def test_without_database_url_sqlite_file_in_project_folder_in_wal_mode(load_settings):
    loaded = load_settings()

    database = loaded.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(loaded.BASE_DIR / "db.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_debug_is_off_unless_asked_for(load_settings):
    loaded = load_settings()

    assert loaded.DEBUG is False
    # Production serving: hashed, compressed static files.
    assert loaded.STORAGES["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("True", True), ("0", False), ("false", False), ("", False)],
)
def test_debug_reads_the_environment(load_settings, value, expected):
    assert load_settings(DEBUG=value).DEBUG is expected


def test_secret_key_and_allowed_hosts_read_the_environment(load_settings):
    loaded = load_settings(SECRET_KEY="s3cret-from-env", ALLOWED_HOSTS="cs.example.com, 127.0.0.1,")

    assert loaded.SECRET_KEY == "s3cret-from-env"
    assert loaded.ALLOWED_HOSTS == ["cs.example.com", "127.0.0.1"]


def test_allowed_hosts_default_to_this_machine(load_settings):
    assert load_settings().ALLOWED_HOSTS == ["127.0.0.1", "localhost"]


def test_tests_run_on_the_database_ci_asked_for():
    """`DATABASE_URL=postgres://… make test` must really run the suite on PostgreSQL."""
    expected = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite3"
    assert django_settings.DATABASES["default"]["ENGINE"] == f"django.db.backends.{expected}"


@pytest.mark.django_db
def test_healthz_answers_ok_after_a_database_round_trip(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith("ok")
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    class UnreachableDatabase:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("gainsight_lite.views.connection", UnreachableDatabase())

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.content.decode() == "error: database unavailable (OperationalError)\n"


def test_healthz_only_answers_get(client):
    assert client.post(reverse("healthz")).status_code == 405
