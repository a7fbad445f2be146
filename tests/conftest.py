"""Personas every view test checks: admin, CSM, read-only, partner A user, partner B user."""

from __future__ import annotations

import pytest
from django.test import Client

from partners.models import Partner
from partners.roles import CSM, READ_ONLY, roles_sync
from tests.factories import PartnerFactory, PartnerUserFactory, UserFactory


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Put back what the data migrations wrote when a transactional test emptied the tables.

    Browser tests run on a transactional database that is flushed after each test, data
    migrations' rows (role groups, default lookups) included; a test that runs after one in
    the same worker would otherwise find them gone.
    """
    if request.node.get_closest_marker("django_db") is None and not (
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    ):
        return
    transactional = bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    ) or getattr(request.node.get_closest_marker("django_db"), "kwargs", {}).get("transaction")
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.apps import apps

    from success.defaults import defaults_create
    from success.models import CTAStatus

    if not CTAStatus.objects.exists():
        roles_sync(apps)
        defaults_create(apps)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # With DEBUG off the manifest storage needs `collectstatic`; every page uses {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_user(db):
    """Overrides pytest-django's, so its `admin_client` logs in as this superuser."""
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def csm_user(db):
    return UserFactory(username="csm", groups=[CSM])


@pytest.fixture
def viewer_user(db):
    return UserFactory(username="viewer", groups=[READ_ONLY])


@pytest.fixture
def partner_a(db):
    return PartnerFactory(name="Partner A")


@pytest.fixture
def partner_b(db):
    return PartnerFactory(name="Partner B", data_scope=Partner.DataScope.COMPANIES_ONLY)


@pytest.fixture
def partner_a_user(partner_a):
    return PartnerUserFactory(partner=partner_a, user__username="partner-a").user


@pytest.fixture
def partner_b_user(partner_b):
    return PartnerUserFactory(partner=partner_b, user__username="partner-b").user


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def csm_client(csm_user) -> Client:
    return _client_for(csm_user)


@pytest.fixture
def viewer_client(viewer_user) -> Client:
    return _client_for(viewer_user)


@pytest.fixture
def partner_a_client(partner_a_user) -> Client:
    return _client_for(partner_a_user)


@pytest.fixture
def partner_b_client(partner_b_user) -> Client:
    return _client_for(partner_b_user)
