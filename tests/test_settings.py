"""Settings come from the environment; /healthz proves the database answers."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import reverse

import gainsight_lite.settings

SETTINGS_ENV = (
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "HTTPS",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "CSRF_TRUSTED_ORIGINS",
    "SESSION_COOKIE_AGE",
    "TRUSTED_PROXY_COUNT",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_COOLOFF_MINUTES",
)


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


def test_postgresql_connections_plan_without_jit_and_a_shorter_join_search(load_settings):
    loaded = load_settings(DATABASE_URL="postgres://cs:secret@127.0.0.1:5433/book")
    assert loaded.DATABASES["default"]["OPTIONS"]["options"] == (
        "-c jit=off -c join_collapse_limit=6"
    )
    # Options given in the URL are kept, the planner settings added after them.
    loaded = load_settings(
        DATABASE_URL="postgres://cs:secret@127.0.0.1:5433/book?sslmode=require"
        "&options=-c%20statement_timeout%3D5000"
    )
    options = loaded.DATABASES["default"]["OPTIONS"]
    assert options["sslmode"] == "require"
    assert options["options"] == "-c statement_timeout=5000 -c jit=off -c join_collapse_limit=6"


def test_postgresql_connections_bind_values_client_side_so_nothing_is_prepared(load_settings):
    """Server-side binding lets psycopg prepare a statement run five times on a connection, and
    PostgreSQL then moves it to a generic plan that knows neither the text searched nor the
    partner: partner-a's search went from 60 to 320 ms, its companies list's rows query from
    0.9 to 145 ms. Django binds client-side unless asked."""
    loaded = load_settings(DATABASE_URL="postgres://cs:secret@127.0.0.1:5433/book")
    options = loaded.DATABASES["default"]["OPTIONS"]
    assert not options.get("server_side_binding")
    assert "prepare_threshold" not in options


def test_without_database_url_sqlite_file_in_project_folder_in_wal_mode(load_settings):
    loaded = load_settings()

    database = loaded.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(loaded.BASE_DIR / "db.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert "temp_store=MEMORY" in database["OPTIONS"]["init_command"]


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


# ---------- production mode ----------

# The production environment README "Production" documents (the values are examples).
PRODUCTION_ENV = {
    "SECRET_KEY": "k8Zq2vN7pW4xR9tY1uB6cD3fG5hJ0mL-aS8eQ2wE4rT6yU1iO3pA5sD7fG9hJ2kL",
    "ALLOWED_HOSTS": "cs.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://cs.example.com",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
}
PROJECT = Path(gainsight_lite.settings.__file__).resolve().parents[1]


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy` in a fresh process with only `env` (and PATH) set."""
    environment = {"PATH": os.environ.get("PATH", ""), **env}
    if os.environ.get("DATABASE_URL"):
        environment["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_reports_nothing_in_the_documented_production_environment():
    result = check_deploy(PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_check_deploy_speaks_up_when_production_is_misconfigured():
    """The clean report above means something: these settings each draw a warning."""
    result = check_deploy({"DEBUG": "1", "HTTPS": "0"})

    assert result.returncode != 0
    report = result.stdout + result.stderr
    for warning in (
        "security.W004",
        "security.W008",
        "security.W009",
        "security.W012",
        "security.W016",
        "security.W018",
    ):
        assert warning in report, warning


def test_production_defaults_are_https_only(load_settings):
    loaded = load_settings(**PRODUCTION_ENV)

    assert loaded.DEBUG is False
    assert loaded.SECURE_SSL_REDIRECT is True
    assert loaded.SESSION_COOKIE_SECURE is True and loaded.CSRF_COOKIE_SECURE is True
    assert loaded.SESSION_COOKIE_HTTPONLY is True and loaded.CSRF_COOKIE_HTTPONLY is True
    assert loaded.SECURE_HSTS_SECONDS == 365 * 24 * 3600
    assert loaded.SECURE_HSTS_INCLUDE_SUBDOMAINS is True and loaded.SECURE_HSTS_PRELOAD is True
    assert loaded.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded.CSRF_TRUSTED_ORIGINS == ["https://cs.example.com"]
    assert loaded.X_FRAME_OPTIONS == "DENY"
    assert loaded.SECURE_REFERRER_POLICY == "same-origin"


def test_without_a_proxy_header_none_is_trusted(load_settings):
    assert not hasattr(load_settings(), "SECURE_PROXY_SSL_HEADER")


def test_the_proxy_header_and_its_value_read_the_environment(load_settings):
    loaded = load_settings(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_SCHEME, secure")

    assert loaded.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_SCHEME", "secure")


def test_https_0_serves_plain_http_for_a_local_trial(load_settings):
    loaded = load_settings(HTTPS="0")

    assert loaded.SECURE_SSL_REDIRECT is False
    assert loaded.SESSION_COOKIE_SECURE is False and loaded.CSRF_COOKIE_SECURE is False
    assert loaded.SECURE_HSTS_SECONDS == 0


def test_debug_mode_is_plain_http(load_settings):
    loaded = load_settings(DEBUG="1")

    assert loaded.SECURE_SSL_REDIRECT is False and loaded.SESSION_COOKIE_SECURE is False


def test_a_proxy_that_redirects_itself_can_turn_the_redirect_off(load_settings):
    loaded = load_settings(SECURE_SSL_REDIRECT="0")

    assert loaded.SECURE_SSL_REDIRECT is False and loaded.SESSION_COOKIE_SECURE is True


def test_session_length_and_lockout_read_the_environment(load_settings):
    loaded = load_settings(
        SESSION_COOKIE_AGE="3600", LOGIN_FAILURE_LIMIT="10", LOGIN_COOLOFF_MINUTES="30"
    )

    assert loaded.SESSION_COOKIE_AGE == 3600
    assert loaded.AXES_FAILURE_LIMIT == 10
    cool_off = loaded.AXES_COOLOFF_TIME
    assert cool_off == dt.timedelta(minutes=30)


def test_tests_run_on_plain_http_with_lockout_off():
    """tests/settings.py: the test client and live server speak HTTP; lockout is opt-in."""
    assert django_settings.SECURE_SSL_REDIRECT is False
    assert django_settings.SESSION_COOKIE_SECURE is False
    assert getattr(django_settings, "AXES_ENABLED", None) is False


def test_responses_carry_the_security_headers(client):
    response = client.get(reverse("login"))

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response


def test_https_redirect_and_hsts_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    plain = client.get(reverse("login"))
    proxied = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")

    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_sqlite_connections_keep_temporary_storage_in_memory():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's pragma")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA temp_store")
        assert cursor.fetchone()[0] == 2  # MEMORY
