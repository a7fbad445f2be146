"""`csp_nonce` in every template: `{% htmx_script %}` and our own <script> tags carry it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    # request.csp_nonce is lazy: the policy names a nonce only on pages that use one.
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
