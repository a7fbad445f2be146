"""What every page's navigation shows about the CSM's work."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from success.selectors.cockpit import overdue_cta_count


def cockpit(request: HttpRequest) -> dict[str, Any]:
    """`overdue_cta_count`: how many of my open CTAs are past due, for the Cockpit's badge.

    Lazy: the one COUNT runs only when a template shows it (the navigation of a full page),
    never for htmx fragments, and not at all for anonymous visitors.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "overdue_cta_count": SimpleLazyObject(
            lambda: overdue_cta_count(user=user, today=timezone.localdate())
        )
    }
