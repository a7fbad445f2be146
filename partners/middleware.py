"""Request-wide partner rules: viewing as a partner user, and the admin closed to partners."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import trigger_client_event

from partners.access import is_partner_user, partner_of
from partners.view_as import SESSION_KEY, ViewAs, view_as_stop, view_as_target

# Reads; anything else is a write and is refused while viewing as someone.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sent with a refused htmx write: the view-as banner reloads itself to say what happened.
VIEW_AS_REFUSED = "viewAsRefused"


class ViewAsMiddleware:
    """While an admin views as a partner user, run every request as that user.

    `request.user` is the partner user and `request.real_user` the admin (`request.view_as`
    holds both and the partner). Every write other than stopping is refused with 403, so
    looking can never change a record in the partner user's name. When the admin may no
    longer view as that user (role removed, user left the partner...) the session ends it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        target_id = session.get(SESSION_KEY) if session is not None else None
        if target_id is not None:
            real_user = request.user
            target = view_as_target(real_user=real_user, target_id=target_id)
            if target is None or not isinstance(real_user, User):
                if isinstance(real_user, User):
                    view_as_stop(request=request, real_user=real_user, target_id=target_id)
                else:
                    session.pop(SESSION_KEY, None)  # type: ignore[union-attr]
            else:
                self._swap(request, real_user, target)
                if request.method not in SAFE_METHODS and request.path != reverse(
                    "partners:view_as_stop"
                ):
                    return refused(request)
        return self.get_response(request)

    @staticmethod
    def _swap(request: HttpRequest, real_user: User, target: User) -> None:
        partner = partner_of(target)
        assert partner is not None  # view_as_target only answers partner users
        request.view_as = ViewAs(real_user=real_user, user=target, partner=partner)  # type: ignore[attr-defined]
        request.real_user = real_user  # type: ignore[attr-defined]
        request.user = target

        async def auser() -> User:
            return target

        request.auser = auser  # type: ignore[method-assign]


def refused(request: HttpRequest) -> HttpResponse:
    """403 for a write made while viewing as someone: the reason, on the page or the banner."""
    view_as: ViewAs = request.view_as  # type: ignore[attr-defined]
    message = (
        f"Nothing was changed: you are viewing the application as "
        f"{view_as.user.get_full_name() or view_as.user.get_username()} of "
        f"{view_as.partner.name}, and changes are turned off. Stop viewing as them to make "
        "changes."
    )
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
        return trigger_client_event(response, VIEW_AS_REFUSED)
    return render(request, "partners/view_as_refused.html", {"message": message}, status=403)


class PartnerBoundaryMiddleware:
    """Partner users get 404 anywhere in the admin (even with a staff flag set by mistake), the
    same answer as a page that does not exist."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        if request.path.startswith(self._admin_prefix) and is_partner_user(request.user):
            raise Http404("No such page.")
        return self.get_response(request)
