"""Section kinds of the 360 pages. Importing this package registers every kind."""

from layouts.sections import (  # noqa: F401  (importing a kind registers it)
    attributes,
    cockpit,
    embed,
    hierarchy,
    history,
    people,
    related_list,
    relationships,
    scorecard,
    success_plans,
    summary,
    surveys,
    timeline,
    usage,
)
from layouts.sections.base import (
    COMPANY,
    REGISTRY,
    RELATIONSHIP,
    SUBJECT_CHANGED,
    SectionContext,
    SectionKind,
    register,
    section_url,
)

__all__ = [
    "COMPANY",
    "RELATIONSHIP",
    "REGISTRY",
    "SUBJECT_CHANGED",
    "SectionContext",
    "SectionKind",
    "register",
    "section_url",
]
