"""Relationships (C360): the company's relationships as cards grouped by type."""

from __future__ import annotations

from typing import Any

from layouts.sections.base import COMPANY, SectionContext, SectionKind, register
from relationships.selectors import relationship_cards_section


@register
class Relationships(SectionKind):
    key = "relationships"
    label = "Relationships"
    targets = frozenset({COMPANY})
    template = "layouts/sections/relationships.html"
    skeleton_height = 260

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        return relationship_cards_section(user=ctx.user, company=ctx.company)
