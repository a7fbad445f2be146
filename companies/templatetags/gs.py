"""Formatting for the pages: money, days left, typed field values, who is looking.

Every function escapes what it is given and builds markup with `format_html`, so a value
typed by a user can never become HTML.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.template.context import Context
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from gainsight_lite.forms import user_label
from partners.access import group_names, partner_of

register = template.Library()

EMPTY = "—"
DATE_FORMAT = "M j, Y"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _signed(number: Decimal, body: str) -> str:
    return f"−{body}" if number < 0 else body


@register.filter
def money(value: Any) -> str:
    """Whole dollars with thousands separators: 1234567.4 → "$1,234,567"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    whole = abs(number).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return _signed(number, f"${whole:,}")


@register.filter
def money_cents(value: Any) -> str:
    """Dollars and cents: 1234.5 → "$1,234.50"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    cents = abs(number).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return _signed(number, f"${cents:,}")


@register.filter
def money_compact(value: Any) -> str:
    """Short amounts for summary tiles: 1234567 → "$1.2M", 48000 → "$48K"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    size = abs(number)
    for threshold, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if size >= threshold:
            short = (size / threshold).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{short:f}".removesuffix(".0")
            return _signed(number, f"${text}{suffix}")
    return money(value)


def _plain_number(value: Any) -> str:
    number = _decimal(value)
    if number is None:
        return str(value)
    if number == number.to_integral_value():
        return f"{number.to_integral_value():,}"
    return f"{number.normalize():,f}"


def days_until(value: dt.date | None, today: dt.date | None = None) -> int | None:
    """Days from `today` (default: the local date now) to `value`; None without a date.

    A page formatting many dates passes one `today`, read once per request."""
    if value is None:
        return None
    return (value - (today or timezone.localdate())).days


def days_text(days: int | None) -> str:
    """A number of days from today, in words: "in 12 days", "today", "3 days ago"."""
    if days is None:
        return ""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    if days > 0:
        return f"in {days:,} days"
    return f"{-days:,} days ago"


def urgency(days: int | None) -> str:
    """A CSS modifier for days to a renewal: past, soon (≤ 30 days), near (≤ 90 days) or later."""
    if days is None:
        return "none"
    if days < 0:
        return "past"
    if days <= 30:
        return "soon"
    if days <= 90:
        return "near"
    return "later"


@register.filter
def days_left(value: dt.date | None) -> str:
    """How far a date is from today, in words: "in 12 days", "today", "3 days ago"."""
    return days_text(days_until(value))


@register.filter
def renewal_urgency(value: dt.date | None) -> str:
    """A CSS modifier for a renewal date: past, soon (≤ 30 days), near (≤ 90 days) or later."""
    return urgency(days_until(value))


def short_date(value: dt.date | None, language: str | None = None) -> str:
    """A date as the lists write it, "Nov 23, 2026": the text of `{{ value|date:"M j, Y" }}`
    (`DATE_FORMAT`), with the month's name looked up once per language instead of a
    `date_format()` per date (30 µs, the most of a list row's cost). A list passes the
    `language` it read once."""
    if value is None:
        return ""
    month = _month_abbreviation(value.month, language or get_language())
    return f"{month} {value.day}, {value.year:04d}"


@functools.cache
def _month_abbreviation(month: int, language: str | None) -> str:
    """ "Nov": the "M" of a date format in `language` (the active one when called)."""
    return date_format(dt.date(2000, month, 1), "M")


def id_urls(viewname: str) -> Callable[[int], str]:
    """`reverse(viewname, args=[pk])` for the rows of a list at the cost of one `reverse()`:
    the URL is reversed once with a marker id and the marker replaced per row. (Built per
    request: the script prefix belongs to the request's thread.)"""
    marker = "7315942680"
    url = reverse(viewname, args=[int(marker)])
    if url.count(marker) != 1:  # the marker is part of the URL itself: reverse every row
        return lambda pk: reverse(viewname, args=[pk])
    prefix, _, suffix = url.partition(marker)
    return lambda pk: f"{prefix}{pk}{suffix}"


def format_attribute(kind: str, value: Any) -> SafeString:
    """A relationship field value shown by its kind; an empty value is a dash."""
    if value is None or value == "" or value == []:
        return format_html('<span class="empty-value">{}</span>', EMPTY)
    if kind == "boolean":
        return format_html("{}", "Yes" if value is True or value == "true" else "No")
    if kind == "currency":
        return format_html("{}", money_cents(value))
    if kind == "percent":
        number = _decimal(value)
        return format_html("{}%", _plain_number(number) if number is not None else value)
    if kind == "number":
        return format_html("{}", _plain_number(value))
    if kind == "date":
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return format_html("{}", value)
        return format_html("{}", date_format(day, DATE_FORMAT))
    if kind == "url":
        url = str(value)
        # Only web addresses become links: a stored "javascript:" value stays inert text.
        if url.lower().startswith(("http://", "https://")):
            return format_html(
                '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, url
            )
        return format_html("{}", url)
    if kind == "email":
        return format_html('<a href="mailto:{}">{}</a>', value, value)
    if kind == "long_text":
        # linebreaksbr escapes first (autoescape), then turns newlines into <br>.
        return format_html(
            '<span class="long-text">{}</span>', linebreaksbr(str(value), autoescape=True)
        )
    return format_html("{}", value)


@register.simple_tag
def attribute_value(field: Any, value: Any) -> SafeString:
    """`{% attribute_value field value %}`: the value formatted by the field's kind."""
    return format_attribute(field.kind, value)


@register.filter
def display_name(user: Any) -> str:
    """A user's full name, or their username when they have none."""
    if user is None:
        return EMPTY
    return user_label(user)


@register.filter
def initials(name: Any) -> str:
    """Up to two initials for an avatar: "Dana Scully" → "DS"."""
    words = [word for word in str(name or "").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


@register.simple_tag
def viewer_role(user: Any) -> str:
    """What the signed-in user is: their partner's name, "Admin", or their role groups."""
    if not user.is_authenticated:
        return ""
    partner = partner_of(user)
    if partner is not None:
        return f"Partner · {partner.name}"
    if user.is_superuser:
        return "Admin"
    return ", ".join(sorted(group_names(user))) or "Internal user"


@register.simple_tag(takes_context=True)
def sort_header(
    context: Context, label: str, key: str, current: str, *, numeric: bool = False
) -> SafeString:
    """A sortable column heading: the first click sorts by `key`, the next reverses it."""
    ascending = key.removeprefix("-")
    descending = f"-{ascending}"
    if current == ascending:
        state, target, arrow = "ascending", descending, "↑"
    elif current == descending:
        state, target, arrow = "descending", ascending, "↓"
    else:
        state, target, arrow = "none", key, ""
    query = context["request"].GET.copy()
    query["sort"] = target
    query.pop("page", None)
    href = f"?{query.urlencode()}"
    return format_html(
        '<th scope="col" aria-sort="{}" class="sortable{}">'
        '<a href="{}" hx-get="{}">{}<span class="sort-arrow" aria-hidden="true">{}</span></a>'
        "</th>",
        state,
        " num" if numeric else "",
        href,
        href,
        label,
        arrow,
    )
