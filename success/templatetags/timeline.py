"""Formatting for the timeline: how long ago something happened, and how long it lasted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import TIME_STRINGS, timesince

register = template.Library()


class _Unit:
    """One unit of `TIME_STRINGS` ("%(num)d days"), each number translated once."""

    def __init__(self, lazy: Any) -> None:
        self.lazy = lazy
        self.done: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        number = values["num"]
        if number not in self.done:
            self.done[number] = self.lazy % values
        return self.done[number]


def time_strings() -> dict[str, Any]:
    """`timesince`'s unit strings for the rows of one list: the same words, each "3 days"
    translated once instead of once a row (a translation lookup costs more than the date
    arithmetic). Built per list: the language is the request's."""
    return {name: _Unit(lazy) for name, lazy in TIME_STRINGS.items()}


@register.filter
def ago(
    value: dt.datetime | None,
    now: dt.datetime | None = None,
    strings: dict[str, Any] | None = None,
) -> str:
    """The time from now, in its largest unit: "3 days ago", "just now", "in 2 hours".

    `now` lets a list read the clock once for all its rows, `strings` (`time_strings()`)
    translate each unit once.
    """
    if value is None:
        return ""
    now = now or timezone.now()
    if value > now + dt.timedelta(minutes=1):
        return f"in {timesince(now, value, time_strings=strings, depth=1)}"
    if now - value < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now, time_strings=strings, depth=1)} ago"


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
