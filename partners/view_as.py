"""Viewing the application as a partner user sees it, for an admin checking what a partner sees.

The session carries the viewed user's id; `partners.middleware.ViewAsMiddleware` runs each
request as that user and refuses every write. Starting and stopping are logged twice: on the
audit log (`gainsight_lite.audit`) and in the admin's history of the partner user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone

from partners.access import AnyUser, may_view_as, partner_of
from partners.models import Partner, PartnerUser

SESSION_KEY = "view_as_user_id"

audit = logging.getLogger("gainsight_lite.audit")


@dataclass
class ViewAs:
    """Who is really signed in, and the partner user whose eyes the request uses."""

    real_user: User
    user: User
    partner: Partner


def view_as_target(*, real_user: AnyUser, target_id: object) -> User | None:
    """The user `real_user` may view the application as, or None when no longer allowed."""
    if not isinstance(target_id, int):
        return None
    target = User.objects.filter(pk=target_id).first()
    if target is None or not may_view_as(real_user, target):
        return None
    return target


def view_as_start(*, request: HttpRequest, real_user: User, target: User) -> None:
    """Start viewing as `target` in this session, and log it."""
    request.session[SESSION_KEY] = target.pk
    _record(real_user=real_user, target=target, target_id=target.pk, started=True)


def view_as_stop(*, request: HttpRequest, real_user: User, target_id: object) -> None:
    """Stop viewing as the user `target_id` in this session, and log it."""
    request.session.pop(SESSION_KEY, None)
    target = User.objects.filter(pk=target_id).first() if isinstance(target_id, int) else None
    _record(real_user=real_user, target=target, target_id=target_id, started=False)


def _record(*, real_user: User, target: User | None, target_id: object, started: bool) -> None:
    partner = partner_of(target) if target is not None else None
    audit.info(
        "%s viewing as a partner user: %s (id %s) as %s (id %s) of %s at %s",
        "Started" if started else "Stopped",
        real_user.get_username(),
        real_user.pk,
        target.get_username() if target is not None else "a removed user",
        target_id,
        partner.name if partner is not None else "no partner",
        timezone.now().isoformat(timespec="seconds"),
    )
    if target is None:
        return
    # The admin's history of the partner user shows who looked through their eyes, and when.
    LogEntry.objects.log_actions(
        user_id=real_user.pk,
        queryset=PartnerUser.objects.filter(user=target),
        action_flag=CHANGE,
        change_message=(
            "Started viewing the application as this user."
            if started
            else "Stopped viewing the application as this user."
        ),
    )
