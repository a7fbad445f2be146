"""Request middleware of our own: an htmx request after the session expired sends the whole
browser to the sign-in page; the admin's query strings lose their NUL bytes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

REDIRECTS = {301, 302, 303, 307, 308}


class HtmxLoginRedirectMiddleware:
    """Turn `login_required`'s redirect of an htmx request into `HX-Redirect`.

    Without it htmx follows the redirect itself and swaps the sign-in page into a section or
    the modal. `next` is the page the browser is on (htmx's HX-Current-URL, same origin only),
    not the fragment the request asked for, so signing in comes back to that page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or response.status_code not in REDIRECTS:
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        page = htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(f"{login_path}?{urlencode({REDIRECT_FIELD_NAME: page})}")


class AdminQueryCleanMiddleware:
    """The admin's query strings without NUL bytes or other control characters.

    The admin's changelist search (`?q=`), its filters and its autocomplete (`?term=`) put the
    query string's values into SQL as they are, and PostgreSQL refuses a NUL byte in a text
    parameter (a 500). Our own views clean what they search with `search.clean_query`; the
    admin's views are Django's, so their GET values are cleaned here, before they run.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = reverse("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefix) and any(
            _has_control(value) for values in request.GET.lists() for value in values[1]
        ):
            pairs = [
                (_without_control(key), _without_control(value))
                for key, values in request.GET.lists()
                for value in values
            ]
            # An immutable QueryDict, as Django's own.
            request.GET = QueryDict(urlencode(pairs))  # type: ignore[assignment]
        return self.get_response(request)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _without_control(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
