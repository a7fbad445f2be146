"""Signing in: lockout after repeated failures, password rules, session expiry, sign-out by
POST only, and `next=` redirects that stay on this site."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "long-enough-secret"
LOCKED = "Too many failed sign-ins. Try again in 15 minutes."


@pytest.fixture
def axes(settings):
    """Lockout on, as in production (tests/settings.py turns it off for `client.login()`)."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return settings


@pytest.fixture
def dana(db):
    return UserFactory(username="dana", first_name="Dana", password=PASSWORD)


def sign_in(client, password: str, username: str = "dana", address: str = "198.51.100.4"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_production_settings_lock_out_per_username_and_address():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


@pytest.mark.usefixtures("axes")
def test_the_third_failure_locks_the_username_out_with_a_clear_message(client, dana):
    for _ in range(2):
        response = sign_in(client, "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    response = sign_in(client, "wrong")

    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and 'role="alert"' in html
    assert 'value="dana"' in html, "the form keeps the username"
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.usefixtures("axes")
def test_a_locked_out_user_cannot_sign_in_even_with_the_right_password(client, dana):
    for _ in range(3):
        sign_in(client, "wrong")

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("axes")
def test_the_lockout_is_per_username_and_address(client, dana):
    UserFactory(username="erin", password=PASSWORD)
    for _ in range(3):
        sign_in(client, "wrong")

    assert sign_in(client, PASSWORD, address="192.0.2.9").status_code == 302
    client.logout()
    assert sign_in(client, PASSWORD, username="erin").status_code == 302


@pytest.mark.usefixtures("axes")
def test_the_lockout_ends_after_the_cool_off(client, dana):
    for _ in range(3):
        sign_in(client, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))

    response = sign_in(client, PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.usefixtures("axes")
def test_a_successful_sign_in_clears_the_failures(client, dana):
    for _ in range(2):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()

    for _ in range(2):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, PASSWORD).status_code == 302


def test_the_cool_off_in_the_message_follows_the_setting(client, dana, axes):
    axes.AXES_COOLOFF_TIME = dt.timedelta(minutes=1)
    for _ in range(3):
        response = sign_in(client, "wrong")

    assert "Try again in 1 minute." in response.content.decode()


def test_without_a_cool_off_the_message_says_who_unlocks(client, dana, axes):
    axes.AXES_COOLOFF_TIME = None
    for _ in range(3):
        response = sign_in(client, "wrong")

    assert response.status_code == 429
    assert "Ask your administrator to unlock your account." in response.content.decode()


@pytest.mark.usefixtures("axes")
def test_the_address_behind_trusted_proxies_is_the_one_the_outermost_proxy_saw(
    client, dana, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(3):
        # What the client puts first in X-Forwarded-For is its own to forge: not counted.
        client.post(
            LOGIN,
            {"username": "dana", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{number}, 198.51.100.4",
        )

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.4"}
    other = client.post(
        LOGIN,
        {"username": "dana", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.9",
    )
    assert other.status_code == 302


# ---------- passwords and sessions ----------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("83749201938", "entirely numeric"),
        ("dana-dana-example", "too similar"),
    ],
)
def test_weak_passwords_are_refused(password, reason):
    user = UserFactory.build(username="dana-dana", email="dana-dana@example.com")

    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)

    assert reason in " ".join(refused.value.messages)


def test_a_strong_password_passes():
    validate_password("plum-harbour-quietly-41", UserFactory.build(username="dana"))


def test_a_sign_in_lasts_two_weeks_by_default_in_an_http_only_cookie(client, dana):
    response = client.post(LOGIN, {"username": "dana", "password": PASSWORD})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_COOKIE_AGE == 14 * 24 * 3600
    assert cookie["max-age"] == 14 * 24 * 3600
    assert cookie["httponly"]
    assert client.session.get_expiry_age() == 14 * 24 * 3600


def test_signing_out_takes_a_post(client, dana):
    client.force_login(dana)

    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_the_sign_out_button_is_a_form_that_posts(client, dana):
    client.force_login(dana)

    html = client.get("/").content.decode()

    assert f'<form method="post" action="{reverse("logout")}"' in html


# ---------- next= stays on this site ----------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "//evil.example/companies/",
        "https:evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_to_another_site_goes_home_instead(client, dana, target):
    response = client.post(
        f"{LOGIN}?next={target}", {"username": "dana", "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_next_on_this_site_is_followed(client, dana):
    response = client.post(
        LOGIN, {"username": "dana", "password": PASSWORD, "next": "/cockpit/?group=priority"}
    )

    assert response["Location"] == "/cockpit/?group=priority"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example"])
def test_a_signed_in_visitor_to_the_sign_in_page_is_not_sent_away(client, dana, target):
    client.force_login(dana)

    response = client.get(LOGIN, {"next": target})

    assert response.status_code == 302 and response["Location"] == "/"


# ---------- permissions in one query ----------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["own and grouped", "superuser", "inactive", "none"])
def test_a_users_permissions_are_djangos_read_in_one_query(kind, django_assert_num_queries):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Group, Permission, User

    from gainsight_lite.auth import ModelPermissionsBackend

    user = UserFactory(is_superuser=kind == "superuser", is_active=kind != "inactive")
    if kind in ("own and grouped", "inactive"):
        user.user_permissions.add(Permission.objects.get(codename="change_company"))
        group = Group.objects.create(name="Readers of relationships")
        group.permissions.add(
            *Permission.objects.filter(codename__in=["view_relationship", "change_company"])
        )
        user.groups.add(group)
    fresh = User.objects.get(pk=user.pk)
    with django_assert_num_queries(0 if kind == "inactive" else 1):
        ours = ModelPermissionsBackend().get_all_permissions(fresh)
        assert ModelPermissionsBackend().get_all_permissions(fresh) == ours  # kept: no query
    theirs = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert ours == theirs
    if kind == "own and grouped":
        assert ours == {"companies.change_company", "relationships.view_relationship"}
    if kind == "superuser":
        assert len(ours) == Permission.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("superuser", [False, True])
@pytest.mark.parametrize("first", ["permissions", "groups"])
def test_a_users_group_names_come_with_their_permissions(
    superuser, first, django_assert_num_queries
):
    from django.contrib.auth.models import Group, Permission, User

    from partners.access import group_names

    user = UserFactory(is_superuser=superuser)
    readers = Group.objects.create(name="Readers")
    readers.permissions.add(Permission.objects.get(codename="view_relationship"))
    user.groups.add(readers, Group.objects.create(name="No permissions"))
    Group.objects.create(name="Someone else's")
    fresh = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):  # whichever is asked first reads both
        if first == "groups":
            names = group_names(fresh)
        assert fresh.has_perm("relationships.view_relationship")
        assert fresh.has_perm("companies.change_company") is superuser
        names = group_names(fresh)
    assert names == {"Readers", "No permissions"}
    # The same answers as Django's own reads.
    assert names == set(user.groups.values_list("name", flat=True))
    assert fresh.get_all_permissions() == ModelBackend().get_all_permissions(
        User.objects.get(pk=user.pk)
    )


@pytest.mark.django_db
def test_an_inactive_users_group_names_are_still_read(django_assert_num_queries):
    from django.contrib.auth.models import Group, User

    from partners.access import group_names

    user = UserFactory(is_active=False)
    user.groups.add(Group.objects.create(name="Former team"))
    fresh = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert group_names(fresh) == {"Former team"}
        assert group_names(fresh) == {"Former team"}  # kept: no query


@pytest.mark.django_db
def test_a_signed_in_users_permission_checks_go_through_the_one_query_backend(client):
    user = UserFactory()
    client.force_login(user)
    assert "gainsight_lite.auth.ModelPermissionsBackend" in settings.AUTHENTICATION_BACKENDS
    assert "django.contrib.auth.backends.ModelBackend" not in settings.AUTHENTICATION_BACKENDS
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_the_signed_in_user_comes_with_their_partner_in_one_query(
    client, csm_user, partner_a_user, partner_a, django_assert_num_queries
):
    from django.contrib.auth import get_user
    from django.contrib.auth.models import User

    from gainsight_lite.auth import ModelPermissionsBackend
    from partners.access import partner_of

    # A partner user's first lookup in the process reads the view permissions' ids with it.
    partner_of(User.objects.get(pk=partner_a_user.pk))
    for user, partner in ((csm_user, None), (partner_a_user, partner_a)):
        with django_assert_num_queries(1):
            loaded = ModelPermissionsBackend().get_user(user.pk)
        assert loaded == user
        with django_assert_num_queries(0):
            assert partner_of(loaded) == partner
    # Through a signed-in request (its session read already): the user with their partner.
    client.force_login(partner_a_user)
    request = client.get(reverse("home")).wsgi_request
    with django_assert_num_queries(1) as captured:
        signed_in = get_user(request)
        assert partner_of(signed_in) == partner_a
    assert "partners_partner" in captured.captured_queries[0]["sql"]
    assert ModelPermissionsBackend().get_user(0) is None


@pytest.mark.django_db
def test_an_inactive_user_is_not_signed_in_by_the_backend(csm_user):
    from gainsight_lite.auth import ModelPermissionsBackend

    csm_user.is_active = False
    csm_user.save()
    assert ModelPermissionsBackend().get_user(csm_user.pk) is None
