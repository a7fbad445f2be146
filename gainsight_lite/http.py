"""Request and response helpers: the typed htmx request, a record id read from a request value,
whether to answer with a fragment, and the answer to a dialog's successful write."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django_htmx.http import trigger_client_event
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


# The event static/js/app.js closes the modal dialog on.
CLOSE_MODAL = "closeModal"


def wants_fragment(request: HttpRequest) -> bool:
    """Whether to answer with the page's fragment: an htmx request, but not a history restore
    (htmx asks for the whole page then, e.g. after the back button)."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request


def dialog_saved(*events: str) -> HttpResponse:
    """The answer to a successful write from a dialog: close it and send `events` (HX-Trigger)
    so the parts of the page showing what changed reload themselves.

    204: htmx swaps nothing — the dialog is closed by the event, not emptied and reopened.
    """
    response = HttpResponse(status=204)
    for event in (CLOSE_MODAL, *events):
        trigger_client_event(response, event)
    return response
