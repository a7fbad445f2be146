"""Settings, read from the environment.

DATABASE_URL   postgres://user:pass@host:port/name (default: SQLite file in the project folder)
SECRET_KEY     required outside debug mode in production; a development key is used otherwise
DEBUG          "1"/"true" turns debug mode on (only `make run` sets it)
ALLOWED_HOSTS  comma-separated host names (default: 127.0.0.1,localhost)

Production (DEBUG off; README "Production" has the whole table):
HTTPS                  "0" serves plain HTTP (a local trial on 127.0.0.1); default on: HTTPS-only
                       cookies, redirect to HTTPS, HSTS
SECURE_SSL_REDIRECT    overrides the redirect alone ("0" when the proxy redirects itself)
SECURE_PROXY_SSL_HEADER  opt-in behind a proxy that sets it, e.g. HTTP_X_FORWARDED_PROTO
TRUSTED_PROXY_COUNT    proxies in front of the app: the client address is taken from
                       X-Forwarded-For that many hops from the right (login lockout per IP)
SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD
CSRF_TRUSTED_ORIGINS   comma-separated origins, e.g. https://cs.example.com
SESSION_COOKIE_AGE     seconds a sign-in lasts (default two weeks)
LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES   lockout per username and address
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "django-insecure-development-key-set-SECRET_KEY-in-production"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mptt",
    "guardian",
    "django_htmx",
    "template_partials",
    "axes",
    "simple_history",
    "gainsight_lite",
    "partners",
    "companies",
    "relationships",
    "success",
    "layouts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # An htmx request of a signed-out user: HX-Redirect to the sign-in page, not a swap.
    "gainsight_lite.middleware.HtmxLoginRedirectMiddleware",
    # The admin's search, filters and autocomplete never send a NUL byte to the database.
    "gainsight_lite.middleware.AdminQueryCleanMiddleware",
    # After authentication: an admin viewing as a partner user runs as that user from here on.
    "partners.middleware.ViewAsMiddleware",
    "partners.middleware.PartnerBoundaryMiddleware",
    # The audit trail records the request's user as who made each change.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a locked-out sign-in into the login form with the lockout message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gainsight_lite.urls"
WSGI_APPLICATION = "gainsight_lite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "success.context_processors.cockpit",
                "gainsight_lite.context_processors.csp_nonce",
                "gainsight_lite.context_processors.nav",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a writer writes; a busy timeout instead of "database is locked".
    # temp_store in memory: the statement journal each row of a bulk insert opens for the
    # search-index and row-count triggers stays off the disk (about 45 -> 12 µs a row).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Planner settings of this connection (PostgreSQL 15, the large book):
    # - jit off: JIT compiles any query costed over 100,000 (a partner's Cockpit count, the
    #   timeline's author choices) for 60-70 ms, more than such a query runs; it pays off only
    #   for long analytical queries.
    # - join_collapse_limit 6 (default 8): a CTA row joins 9 tables (owner, company,
    #   relationship and its type, the CTA type, reason, priority, status); searching every join
    #   order of 8 of them planned for 10-18 ms to run for 1 ms. With 6 it plans in 2-4 ms; the
    #   joins a query filters on come first in Django's SQL, so they stay in the searched part.
    # - values bound client-side (Django's default; no `server_side_binding`): nothing is
    #   prepared. A prepared statement goes to a generic plan that knows neither the text
    #   searched nor the partner (partner-a's search 60 -> 320 ms when tried).
    planner = "-c jit=off -c join_collapse_limit=6"
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} {planner}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, its permission checks one query instead of two.
    "gainsight_lite.auth.ModelPermissionsBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes): LOGIN_FAILURE_LIMIT failed sign-ins for one username from
# one address lock that pair out for LOGIN_COOLOFF_MINUTES; a good sign-in clears the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gainsight_lite.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "gainsight_lite.auth.client_ip"
AXES_VERBOSE = False
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

MPTT_ADMIN_LEVEL_INDENT = 20

# The audit trail (django-simple-history) is read-only in the admin: reverting a record to an
# old version would go around the services (a partner's permissions follow managed_by there).
SIMPLE_HISTORY_REVERT_DISABLED = True

# Production hardening. HTTPS (on unless debugging) sends cookies over HTTPS only, redirects
# plain HTTP and sets HSTS; HTTPS=0 is for a trial on 127.0.0.1 without a certificate.
HTTPS = env_bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
# Behind a proxy that terminates TLS: opt in with the header it sets, e.g.
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO (the value meaning HTTPS defaults to "https").
if os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
    _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].strip().partition(",")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip() or "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (django-csp): scripts from this site or carrying the request's nonce
# (the htmx script), styles only from this site: no inline script, style or on* handler.
# Embed sections frame https pages (in a sandbox); the app itself is never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": ["https:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Django's own logging config prints django.* only with DEBUG on; ours prints warnings and
# errors (500 tracebacks) always, each once: django.* does not also propagate to the root.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": "INFO" if DEBUG else "WARNING",
            "propagate": False,
        },
        # runserver's request lines; configuring "django" above resets this child logger.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # Who viewed the application as which partner user, and when (printed by the root's
        # handler; propagating keeps it visible to pytest's caplog too).
        "gainsight_lite.audit": {"level": "INFO"},
    },
}
