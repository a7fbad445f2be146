"""People: the company's people (C360) or the relationship's people and roles (R360)."""

from __future__ import annotations

from typing import Any

from companies.selectors import company_people_section
from layouts.sections.base import SectionContext, SectionKind, register
from relationships.models import Relationship
from relationships.selectors import relationship_people_section


@register
class People(SectionKind):
    key = "people"
    label = "People"
    template = "layouts/sections/people.html"
    skeleton_height = 200

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        if isinstance(ctx.subject, Relationship):
            return {
                "on_relationship": True,
                **relationship_people_section(relationship=ctx.subject),
            }
        return {"on_relationship": False, **company_people_section(company=ctx.subject)}
