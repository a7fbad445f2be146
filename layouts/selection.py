"""Which layout a viewer gets for a company or a relationship."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partners.access import AnyUser, group_names, is_partner_user

if TYPE_CHECKING:
    from layouts.models import Layout

COMPANY_CONDITION_FIELDS = [
    ("segment", "Segment"),
    ("industry", "Industry"),
    ("stage", "Lifecycle stage"),
    ("status", "Status"),
]
RELATIONSHIP_CONDITION_FIELDS = [("status", "Status"), ("stage", "Stage")]
VIEWER_CONDITION_FIELDS = [
    ("viewer.kind", "Viewer is (internal or partner)"),
    ("viewer.group", "Viewer's group"),
]


@dataclass
class Viewer:
    """What layout criteria may ask about the person looking at the page."""

    user: AnyUser
    is_partner: bool
    groups: set[str] = field(default_factory=set)


def viewer_for(user: AnyUser) -> Viewer:
    """The viewer facts for `user` (one query for the group names)."""
    groups = {name.lower() for name in group_names(user)}
    return Viewer(user=user, is_partner=is_partner_user(user), groups=groups)


def condition_fields(layout: Layout) -> list[tuple[str, str]]:
    """The fields a condition of `layout` may test, as (value, label) choices."""
    if layout.target == layout.Target.RELATIONSHIP:
        own = []
        if layout.relationship_type_id is not None:
            own = [
                (f"attr.{f.key}", f"{f.label} (type field)")
                for f in layout.relationship_type.fields.all()  # type: ignore[union-attr]
            ]
        return RELATIONSHIP_CONDITION_FIELDS + own + VIEWER_CONDITION_FIELDS
    return COMPANY_CONDITION_FIELDS + VIEWER_CONDITION_FIELDS


def _as_text(value: Any) -> set[str]:
    if value is None:
        return {""}
    if isinstance(value, bool):
        return {"true", "yes"} if value else {"false", "no"}
    return {str(value).strip().lower()}


def actual_values(subject_field: str, subject: Any, viewer: Viewer) -> set[str]:
    """The lower-cased values a condition on `subject_field` compares with.

    A choice field answers with both its stored value and its label, so an admin may write
    either "mid_market" or "Mid-Market".
    """
    if subject_field == "viewer.kind":
        return {"partner"} if viewer.is_partner else {"internal"}
    if subject_field == "viewer.group":
        return viewer.groups
    if subject_field.startswith("attr."):
        return _as_text((getattr(subject, "attributes", None) or {}).get(subject_field[5:]))
    values = _as_text(getattr(subject, subject_field, None))
    label = getattr(subject, f"get_{subject_field}_display", None)
    if callable(label):
        values |= _as_text(label())
    return values


def layout_for(*, subject: Any, viewer: Viewer) -> Layout:
    """The layout `viewer` gets for `subject` (a Company or a Relationship), in three queries.

    The first non-default layout by priority whose conditions all hold; else the default.
    """
    from companies.models import Company
    from layouts.models import Layout

    if isinstance(subject, Company):
        layouts = Layout.objects.filter(target=Layout.Target.COMPANY)
    else:
        layouts = Layout.objects.filter(
            target=Layout.Target.RELATIONSHIP, relationship_type_id=subject.relationship_type_id
        )
    candidates = list(layouts.order_by("priority", "id").prefetch_related("conditions", "sections"))
    for layout in candidates:
        if not layout.is_default and layout.matches(subject, viewer):
            return layout
    default = next((layout for layout in candidates if layout.is_default), None)
    if default is None:
        from layouts.services import layout_default_ensure

        default = layout_default_ensure(
            relationship_type=None if isinstance(subject, Company) else subject.relationship_type
        )
    return default
