"""The navigation in every page's frame: its links are reversed once per process, per script
prefix, and are the same addresses `{% url %}` gives."""

from __future__ import annotations

import re

import pytest
from django.urls import get_script_prefix, reverse, set_script_prefix

from gainsight_lite.context_processors import NAV_URL_NAMES, nav

pytestmark = pytest.mark.django_db


def frame_links(html: str) -> set[str]:
    header = re.search(r'<header class="topbar">.*?</header>', html, re.S)
    assert header is not None
    return set(re.findall(r'(?:href|action|hx-get)="([^"]+)"', header[0]))


def test_the_navigation_links_every_page_of_the_frame(csm_client):
    links = frame_links(csm_client.get(reverse("companies:list")).content.decode())
    assert {reverse(name) for name in NAV_URL_NAMES.values()} <= links


def test_the_navigation_follows_the_script_prefix(rf):
    """Mounted under /crm, the links say so; the plain mount's links stay as they were."""
    plain = nav(rf.get("/"))["nav_urls"]
    before = get_script_prefix()
    set_script_prefix("/crm/")
    try:
        mounted = nav(rf.get("/"))["nav_urls"]
        assert mounted == {key: reverse(name) for key, name in NAV_URL_NAMES.items()}
    finally:
        set_script_prefix(before)
    for key, name in NAV_URL_NAMES.items():
        assert mounted[key] == f"/crm{reverse(name)}"
        assert plain[key] == reverse(name)
    assert nav(rf.get("/"))["nav_urls"] == plain
