"""The page numbers every paginated list shows (templates/includes/pagination.html)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page


def page_range(page: Page[Any]) -> list[int | str]:
    """Page numbers around the current one and at both ends, with "…" where pages are left
    out: 1 … 4 5 [6] 7 8 … 20."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
