"""What every page's frame needs: `csp_nonce` for our <script> tags, `nav_urls` for the
navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

# The navigation's links by name, reversed once per process for each (script prefix, URLconf):
# the addresses change only with those, and a reverse() costs ~40 µs on every page.
NAV_URL_NAMES = {
    "home": "home",
    "companies": "companies:list",
    "cockpit": "success:cockpit",
    "timeline": "success:timeline",
    "plans": "success:plans",
    "search": "search",
    "logout": "logout",
}
_NAV_URLS: dict[tuple[str, str], dict[str, str]] = {}


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    # request.csp_nonce is lazy: the policy names a nonce only on pages that use one.
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def nav(request: HttpRequest) -> dict[str, Any]:
    """`nav_urls`: the addresses base.html links to, as `{% url %}` gives them."""
    key = (get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF))
    urls = _NAV_URLS.get(key)
    if urls is None:
        urls = {key_: reverse(name) for key_, name in NAV_URL_NAMES.items()}
        _NAV_URLS[key] = urls
    return {"nav_urls": urls}
