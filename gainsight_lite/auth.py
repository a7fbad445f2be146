"""Sign-in: the model backend whose permission checks cost one query, and the throttling hooks
for django-axes (the client's address and the lockout answer)."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import CharField, Value
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
    asks for both; one query instead of two."""
    names = ("content_type__app_label", "codename")
    # A group's row carries no app label: NULL, which no permission has.
    groups = (
        Group.objects.filter(user=user_obj)
        .values_list(Value(None, output_field=CharField()), "name")
        .order_by()
    )
    if user_obj.is_superuser:
        rows = Permission.objects.values_list(*names).order_by().union(groups, all=True)
    else:
        own = Permission.objects.filter(user=user_obj).values_list(*names).order_by()
        grouped = Permission.objects.filter(group__user=user_obj).values_list(*names).order_by()
        rows = own.union(grouped, groups)
    permissions: set[str] = set()
    group_names: set[str] = set()
    for app_label, name in rows:
        if app_label is None:
            group_names.add(name)
        else:
            permissions.add(f"{app_label}.{name}")
    user_obj._perm_cache = permissions
    user_obj._group_names = frozenset(group_names)


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
