"""Hierarchy (C360): ancestors, children and the subtree's rolled-up figures."""

from __future__ import annotations

from typing import Any

from companies.selectors import company_hierarchy_section
from layouts.sections.base import COMPANY, SectionContext, SectionKind, register


@register
class Hierarchy(SectionKind):
    key = "hierarchy"
    label = "Hierarchy"
    targets = frozenset({COMPANY})
    template = "layouts/sections/hierarchy.html"
    skeleton_height = 220

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        return company_hierarchy_section(user=ctx.user, company=ctx.company)
