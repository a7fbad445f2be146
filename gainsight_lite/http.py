"""Request helpers: the typed htmx request, and reading a record id from a request value."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

# The largest id any database here stores (a signed 64-bit integer): SQLite cannot even bind a
# larger Python int (OverflowError), so a request value above it must never reach a query.
MAX_ID = 2**63 - 1


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def parse_id(value: Any) -> int | None:
    """The record id a request value names, or None when it names none.

    Only plain ASCII digits from 1 to 2**63-1 are an id: "-1", "1e3", "", " ", "½", "٣" and
    "99999999999999999999" are not, so the caller answers as for a record that does not exist.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ID else None
    text = str(value if value is not None else "").strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
