"""Sign-in: the model backend whose permission checks cost one query, and the throttling hooks
for django-axes (the client's address and the lockout answer)."""

from __future__ import annotations

import functools
import math
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class ModelPermissionsBackend(ModelBackend):
    """Django's ModelBackend, with a user's permissions — their own and their groups' — read in
    one query (a UNION of the two, and of the names of their groups: see
    `read_permissions_and_groups`) instead of three, on the first permission check of a
    request (most pages make one); kept on the user object for the request, as Django does. The
    signed-in user comes with their partner membership and partner in the same query
    (`partners.access.partner_of` reads them from it instead of asking again)."""

    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.select_related("partner_membership__partner")
        try:
            user = users.get(pk=user_id)
        except ObjectDoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            read_permissions_and_groups(user_obj)
        cached: set[str] = user_obj._perm_cache
        return cached


def read_permissions_and_groups(user_obj: Any) -> None:
    """Read an active user's permissions (their own and their groups', or every one for a
    superuser) and the names of their groups in one query, and keep them on the user object
    for the request: `_perm_cache` as Django's ModelBackend keeps it, `_group_names` for
    `partners.access.group_names` (the user menu's role, the layout criteria). A full page
    asks for both; one query instead of two.

    The SQL is written out (`_permissions_and_groups_sql`): built by the ORM, this UNION of
    three joins cost ~1.5 ms of Python on every page that checks a permission, ten times
    what the database spends on it."""
    with connection.cursor() as cursor:
        sql = _permissions_and_groups_sql(superuser=user_obj.is_superuser)
        cursor.execute(sql, [user_obj.pk] * sql.count("%s"))
        rows = cursor.fetchall()
    permissions: set[str] = set()
    group_names: set[str] = set()
    for app_label, name in rows:
        # A group's row carries no app label: NULL, which no permission has.
        if app_label is None:
            group_names.add(name)
        else:
            permissions.add(f"{app_label}.{name}")
    user_obj._perm_cache = permissions
    user_obj._group_names = frozenset(group_names)


@functools.cache
def _permissions_and_groups_sql(*, superuser: bool) -> str:
    """(app label, codename) of each of the user's permissions — every permission for a
    superuser, as Django's ModelBackend gives them — then (NULL, name) of each of their groups;
    every parameter is the user's id, and the tables' names are their models'."""
    quote = connection.ops.quote_name
    user_model = get_user_model()
    table = {
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
        "group": Group._meta.db_table,
        "group_permission": Group.permissions.through._meta.db_table,
        "user_permission": user_model.user_permissions.through._meta.db_table,
        "user_group": user_model.groups.through._meta.db_table,
    }
    name = {key: quote(value) for key, value in table.items()}
    user_id, group_id, permission_id = quote("user_id"), quote("group_id"), quote("permission_id")
    held = (
        f"SELECT {permission_id} FROM {name['user_permission']} WHERE {user_id} = %s"
        f" UNION SELECT gp.{permission_id} FROM {name['group_permission']} gp"
        f" INNER JOIN {name['user_group']} ug ON ug.{group_id} = gp.{group_id}"
        f" WHERE ug.{user_id} = %s"
    )
    permissions = (
        f"SELECT c.{quote('app_label')}, p.{quote('codename')} FROM {name['permission']} p"
        f" INNER JOIN {name['content_type']} c ON c.{quote('id')} = p.{quote('content_type_id')}"
    )
    if not superuser:
        permissions += f" WHERE p.{quote('id')} IN ({held})"
    groups = (
        f"SELECT NULL, g.{quote('name')} FROM {name['group']} g"
        f" INNER JOIN {name['user_group']} ug ON ug.{group_id} = g.{quote('id')}"
        f" WHERE ug.{user_id} = %s"
    )
    return f"{permissions} UNION ALL {groups}"


def client_ip(request: HttpRequest) -> str:
    """The address a sign-in came from: behind TRUSTED_PROXY_COUNT proxies, the address the
    outermost of them saw (X-Forwarded-For counted from the right, where a client cannot forge
    it); otherwise the connection's own address."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return str(request.META.get("REMOTE_ADDR", ""))


def lockout_message(request: HttpRequest | None = None) -> str:
    cool_off = get_cool_off(request)
    if not cool_off:  # no cool-off configured: the lockout lasts until an admin clears it
        return "Too many failed sign-ins. Ask your administrator to unlock your account."
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    return f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def lockout_response(
    request: HttpRequest, response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """The sign-in form again, with the lockout message instead of a password check (429)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "lockout": lockout_message(request),
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    return render(request, "registration/login.html", context, status=429)
