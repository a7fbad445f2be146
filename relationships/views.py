"""The relationship page (R360)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from companies.selectors import section_block
from partners.access import get_relationship_for
from relationships.selectors import (
    relationship_company_visible,
    relationship_fields_section,
    relationship_people_section,
)


@login_required
@require_GET
def relationship_detail(request: HttpRequest, pk: int) -> HttpResponse:
    relationship = get_relationship_for(request.user, pk)
    sections = [
        section_block(
            "relationships/sections/fields.html",
            title=f"{relationship.relationship_type.name} details",
            context=relationship_fields_section(relationship=relationship),
        ),
        section_block(
            "relationships/sections/people.html",
            title="People",
            context=relationship_people_section(relationship=relationship),
            column="side",
        ),
    ]
    context = {
        "relationship": relationship,
        "company": relationship.company,
        "company_visible": relationship_company_visible(
            user=request.user, relationship=relationship
        ),
        "main_sections": [s for s in sections if s.column == "main"],
        "side_sections": [s for s in sections if s.column == "side"],
    }
    return render(request, "relationships/detail.html", context)
