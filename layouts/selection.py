"""Which layout a viewer gets for a company or a relationship."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import prefetch_related_objects
from django.utils import timezone

from partners.access import AnyUser, group_names, is_partner_user

if TYPE_CHECKING:
    from layouts.models import Layout, Section

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

    @cached_property
    def groups(self) -> set[str]:
        """The lower-cased names of the viewer's groups, read when a condition asks (one
        query, shared with the user menu's role: a partner user's page may need neither)."""
        return {name.lower() for name in group_names(self.user)}


def viewer_for(user: AnyUser) -> Viewer:
    """The viewer facts for `user` (the group names are read only if a condition asks)."""
    return Viewer(user=user, is_partner=is_partner_user(user))


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


# The candidate layouts of each page kind, with their conditions and sections, kept per process:
# (target, relationship type id) -> (stamp, layouts). The stamp is the (id, updated_at) of every
# layout of that kind, read again on each page: a layout added, deleted or saved changes it, and
# so does a section or condition saved or deleted (`touch_layout` bumps its layout's updated_at,
# which other processes see). Saves in this process also empty it outright. The layouts, their
# conditions and sections are shared between requests: read them, never change them.
Stamp = tuple[tuple[Any, ...], ...]
_CANDIDATES: dict[tuple[str, int | None], tuple[Stamp, list[Layout]]] = {}


def forget_candidates(**kwargs: Any) -> None:
    """Empty this process's cache of candidate layouts (a layout, section or condition changed)."""
    _CANDIDATES.clear()


def touch_layout(*, instance: Any, **kwargs: Any) -> None:
    """A section or condition was saved or deleted: its layout counts as changed, for every
    process's cache (the stamp reads updated_at), and this process forgets at once."""
    from layouts.models import Layout

    _CANDIDATES.clear()
    if instance.layout_id is not None:
        Layout.objects.filter(pk=instance.layout_id).update(updated_at=timezone.now())


def _candidates(subject: Any) -> list[Layout]:
    """The layouts that may show `subject`, by priority, with conditions and sections: one
    query when they have not changed since this process last read them, four when they have."""
    from layouts.models import Layout

    key = _key(subject)
    layouts = Layout.objects.filter(target=key[0])
    if key[0] == Layout.Target.RELATIONSHIP:
        layouts = layouts.filter(relationship_type_id=key[1])
    stamp = _stamp(*key)
    cached = _CANDIDATES.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    fresh = list(layouts.order_by("priority", "id"))
    prefetch_related_objects(fresh, "conditions", "sections")
    # Read after the stamp: a change in between makes the next request's stamp differ.
    _CANDIDATES[key] = (stamp, fresh)
    return fresh


def _key(subject: Any) -> tuple[str, int | None]:
    """The kind of page `subject` has: (target, relationship type id or None)."""
    from companies.models import Company
    from layouts.models import Layout

    if isinstance(subject, Company):
        return (Layout.Target.COMPANY, None)
    return (Layout.Target.RELATIONSHIP, subject.relationship_type_id)


def _stamp(target: str, relationship_type_id: int | None) -> Stamp:
    """(id, updated_at) of each layout of a page kind, sorted, as the database returns them:
    compared only with an earlier stamp, so not converted (the SQL is written out: the ORM's
    query and models cost ~0.6 ms of Python on every 360 page, for a handful of rows)."""
    from layouts.models import Layout

    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('id')}, {quote('updated_at')} FROM {quote(Layout._meta.db_table)}"
        f" WHERE {quote('target')} = %s"
    )
    params: list[Any] = [target]
    if target == Layout.Target.RELATIONSHIP:
        sql += f" AND {quote('relationship_type_id')} = %s"
        params.append(relationship_type_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(sorted(cursor.fetchall()))


def page_section(*, subject: Any, section_id: int) -> Section | None:
    """The section `section_id` if it is on one of the layouts of `subject`'s kind of page;
    None otherwise.

    Taken from the candidate layouts this process keeps when a page has read them and their
    stamp still holds (one query: the stamp; shared between requests like the layouts: read
    it, never change it); otherwise read by its key (one query more when the stamp changed).
    """
    from layouts.models import Section

    key = _key(subject)
    cached = _CANDIDATES.get(key)
    if cached is not None and cached[0] == _stamp(*key):
        for layout in cached[1]:
            for section in layout.sections.all():
                if section.pk == section_id:
                    return section
        return None
    found = Section.objects.select_related("layout").filter(pk=section_id).first()
    if found is None or found.layout.target != key[0]:
        return None
    if key[1] is not None and found.layout.relationship_type_id != key[1]:
        return None
    return found


def layout_for(*, subject: Any, viewer: Viewer) -> Layout:
    """The layout `viewer` gets for `subject` (a Company or a Relationship), with its
    conditions and sections prefetched, in one query (four when the layouts changed).

    The first non-default layout by priority whose conditions all hold; else the default.
    """
    from companies.models import Company

    candidates = _candidates(subject)
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
