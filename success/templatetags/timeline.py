"""Formatting for the timeline: how long ago something happened, and how long it lasted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The time from now, in its largest unit: "3 days ago", "just now", "in 2 hours".

    `now` lets a list read the clock once for all its rows.
    """
    if value is None:
        return ""
    now = now or timezone.now()
    if value > now + dt.timedelta(minutes=1):
        return f"in {timesince(now, value, depth=1)}"
    if now - value < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now, depth=1)} ago"


@register.filter
def minutes(value: Any) -> str:
    """A duration in minutes as people say it: "45 min", "1 h 30 min", "2 h"."""
    if value is None or value == "":
        return ""
    try:
        total = int(value)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 60)
    if not hours:
        return f"{rest} min"
    if not rest:
        return f"{hours} h"
    return f"{hours} h {rest} min"
