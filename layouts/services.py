"""Writes to layouts: the default layouts, cloning."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from relationships.models import RelationshipType

# The sections a new default layout starts with, by target.
DEFAULT_SECTIONS = {
    Layout.Target.COMPANY: [
        ("summary", "Summary"),
        ("scorecard", "Health scorecard"),
        ("timeline", "Timeline"),
        ("cockpit", "Cockpit"),
        ("attributes", "Attributes"),
        ("relationships", "Relationships"),
        ("success_plans", "Success plans"),
        ("people", "People"),
        ("hierarchy", "Hierarchy"),
        ("history", "History"),
    ],
    Layout.Target.RELATIONSHIP: [
        ("summary", "Summary"),
        ("scorecard", "Health scorecard"),
        ("timeline", "Timeline"),
        ("cockpit", "Cockpit"),
        ("attributes", "Attributes"),
        ("success_plans", "Success plans"),
        ("people", "People"),
        ("history", "History"),
    ],
}


def layout_default_ensure(*, relationship_type: RelationshipType | None = None) -> Layout:
    """The default layout of C360 (no type) or of a type's R360, created on first use."""
    target = Layout.Target.RELATIONSHIP if relationship_type else Layout.Target.COMPANY
    existing = Layout.objects.filter(
        target=target, relationship_type=relationship_type, is_default=True
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            layout = Layout.objects.create(
                name="Default",
                target=target,
                relationship_type=relationship_type,
                is_default=True,
                priority=1000,
            )
            for order, (kind_key, title) in enumerate(DEFAULT_SECTIONS[target]):
                kind = REGISTRY.get(kind_key)
                if kind is None:
                    continue
                Section.objects.create(
                    layout=layout,
                    kind=kind_key,
                    title=title,
                    order=order,
                    config=kind.default_config(layout),
                )
            return layout
    except IntegrityError:
        # Another request created it first.
        return Layout.objects.get(
            target=target, relationship_type=relationship_type, is_default=True
        )


@transaction.atomic
def layout_clone(*, layout: Layout, name: str | None = None) -> Layout:
    """A copy of `layout` with its conditions and sections, never a default, tried after it."""
    sections = list(layout.sections.all())
    conditions = list(layout.conditions.all())
    copy = Layout(
        name=(name or f"Copy of {layout.name}")[:80],
        target=layout.target,
        relationship_type=layout.relationship_type,
        priority=layout.priority + 1,
        is_default=False,
        description=layout.description,
    )
    copy.full_clean()
    copy.save()
    for section in sections:
        section.pk = None
        section.layout = copy
    # With their audit rows ("created"), as a section saved one by one has.
    bulk_create_with_history(sections, Section)
    for condition in conditions:
        condition.pk = None
        condition.layout = copy
    copy.conditions.model.objects.bulk_create(conditions)
    return copy


@transaction.atomic
def layout_delete(*, layout: Layout) -> None:
    """Delete a layout; the default layout of a page cannot be deleted."""
    from django.core.exceptions import ValidationError

    if layout.is_default:
        raise ValidationError("The default layout cannot be deleted: edit or clone it instead.")
    layout.delete()
