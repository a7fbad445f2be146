"""The admin's "View as this user" button: shown only to those who may use it."""

from __future__ import annotations

from typing import Any

from django import template

from partners.access import may_view_as

register = template.Library()


@register.simple_tag(takes_context=True)
def view_as_allowed(context: Any, target: Any) -> bool:
    """Whether the signed-in user may view the application as `target` (a user)."""
    request = context.get("request")
    if request is None or target is None:
        return False
    return may_view_as(request.user, target)
