"""Helpers for tests of the 360 pages, whose sections load from their own URLs."""

from __future__ import annotations

import re

from django.test import Client

SECTION_URL = re.compile(r'hx-get="(/(?:companies|relationships)/\d+/sections/\d+/)"')


def section_urls(html: str) -> list[str]:
    """The section URLs a 360 page's placeholders load."""
    return SECTION_URL.findall(html)


def open_360(client: Client, url: str) -> str:
    """The page's HTML followed by every section's, as htmx loads them."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    parts = [html]
    for section_url in section_urls(html):
        section = client.get(section_url, headers={"HX-Request": "true"})
        assert section.status_code == 200, (section_url, section.status_code)
        parts.append(section.content.decode())
    return "\n".join(parts)
