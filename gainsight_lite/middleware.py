"""An htmx request after the session expired: the whole browser goes to the sign-in page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
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
