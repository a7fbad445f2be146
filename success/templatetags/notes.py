"""`{{ text|notes }}`: notes typed by a user, shown as plain text with clickable web links.

Line breaks are kept and http(s) addresses become links; everything else is escaped, so a
note can never add HTML (a script, an image, a javascript: link) to the page.
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Quotes and angle brackets end an address: they cannot be in a URL unescaped, and stopping
# there keeps `"`, `<` and `>` in the (escaped) text around the link.
WEB_ADDRESS = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the address ("see https://x.example.").
TRAILING = ".,;:!?*"


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        if last in TRAILING or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
            continue
        break
    return url


def _link(url: str) -> SafeString:
    return format_html(
        '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', url, url
    )


@register.filter(is_safe=True)
def notes(value: Any) -> SafeString:
    """Plain text with its line breaks, and its http(s) addresses as links; nothing else."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    pieces: list[str] = []
    position = 0
    for match in WEB_ADDRESS.finditer(text):
        url = _trim(match.group(0))
        if "://" not in url or url.endswith("://"):
            continue
        pieces.append(escape(text[position : match.start()]))
        pieces.append(_link(url))
        position = match.start() + len(url)
    pieces.append(escape(text[position:]))
    # Every piece is escaped or built by format_html; newlines only come from the text itself.
    return mark_safe("".join(pieces).replace("\n", "<br>"))  # noqa: S308


# Notes longer than this are clamped to a few lines with a "more" toggle.
LONG_NOTES_CHARACTERS = 280
LONG_NOTES_LINES = 4


@register.filter
def notes_long(value: Any) -> bool:
    """Whether notes are long enough to be shown clamped, with "more"."""
    text = str(value or "")
    return len(text) > LONG_NOTES_CHARACTERS or text.count("\n") >= LONG_NOTES_LINES
