from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from layouts.selection import Viewer

MAX_C360_LAYOUTS = 50
MAX_R360_LAYOUTS_PER_TYPE = 25


class Layout(models.Model):
    """A 360 page: for companies (C360) or for one relationship type (R360).

    Criteria (its conditions) pick the layout for a subject and a viewer: the first layout by
    priority whose conditions all hold wins; the target's default layout is used otherwise.
    """

    class Target(models.TextChoices):
        COMPANY = "company", "C360 (companies)"
        RELATIONSHIP = "relationship", "R360 (relationships)"

    name = models.CharField(max_length=80)
    target = models.CharField(max_length=16, choices=Target.choices, default=Target.COMPANY)
    relationship_type = models.ForeignKey(
        "relationships.RelationshipType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="layouts",
        help_text="For R360 layouts: the relationship type they show.",
    )
    priority = models.PositiveIntegerField(
        default=100, help_text="Lower numbers are tried first; the first match wins."
    )
    is_default = models.BooleanField(
        "default layout",
        default=False,
        help_text="Used when no other layout matches. Each target has exactly one.",
    )
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()  # the audit trail

    class Meta:
        ordering = ["target", "relationship_type", "-is_default", "priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(target="company", relationship_type__isnull=True)
                    | models.Q(target="relationship", relationship_type__isnull=False)
                ),
                name="layout_type_matches_target",
                violation_error_message=(
                    "An R360 layout needs a relationship type; a C360 layout has none."
                ),
            ),
            models.UniqueConstraint(
                fields=["target"],
                condition=models.Q(is_default=True, target="company"),
                name="layout_one_default_c360",
                violation_error_message="There is already a default C360 layout.",
            ),
            models.UniqueConstraint(
                fields=["relationship_type"],
                condition=models.Q(is_default=True),
                name="layout_one_default_per_type",
                violation_error_message="This relationship type already has a default layout.",
            ),
        ]

    def __str__(self) -> str:
        if self.target == self.Target.RELATIONSHIP and self.relationship_type_id:
            return f"{self.name} (R360 · {self.relationship_type})"
        return f"{self.name} (C360)"

    def clean(self) -> None:
        super().clean()
        if self.target == self.Target.COMPANY:
            if self.relationship_type_id is not None:
                raise ValidationError(
                    {"relationship_type": "A C360 layout is for companies: leave the type empty."}
                )
            siblings = Layout.objects.filter(target=self.Target.COMPANY)
            limit, what = MAX_C360_LAYOUTS, "C360 layouts"
        else:
            if self.relationship_type_id is None:
                raise ValidationError(
                    {"relationship_type": "Choose the relationship type this R360 layout shows."}
                )
            siblings = Layout.objects.filter(relationship_type_id=self.relationship_type_id)
            limit, what = MAX_R360_LAYOUTS_PER_TYPE, "R360 layouts for this relationship type"
        if self.pk is None and siblings.count() >= limit:
            raise ValidationError(f"There can be at most {limit} {what}.")

    def matches(self, subject: Any, viewer: Viewer) -> bool:
        """Whether every condition holds (conditions must be prefetched)."""
        return all(c.holds(subject, viewer) for c in self.conditions.all())


class LayoutCondition(models.Model):
    """One criterion of a layout: a subject field or the viewer compared with a value."""

    class Operator(models.TextChoices):
        IS = "is", "is"
        IS_NOT = "is_not", "is not"
        ONE_OF = "one_of", "is one of (comma-separated)"

    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="conditions")
    subject_field = models.CharField(
        "when",
        max_length=60,
        help_text="A field of the company or relationship (attr.KEY for a type's own field), "
        "viewer.kind (internal or partner) or viewer.group (a group name).",
    )
    operator = models.CharField(max_length=8, choices=Operator.choices, default=Operator.IS)
    value = models.CharField(max_length=200)

    class Meta:
        ordering = ["layout", "id"]
        verbose_name = "condition"

    def __str__(self) -> str:
        return f"{self.subject_field} {self.get_operator_display()} {self.value}"

    def clean(self) -> None:
        super().clean()
        from layouts.selection import condition_fields

        if self.layout_id is None:
            return
        allowed = dict(condition_fields(self.layout))
        if self.subject_field not in allowed:
            raise ValidationError(
                {"subject_field": "Choose a field of this layout's records or of the viewer."}
            )
        if not self.value.strip():
            raise ValidationError({"value": "Enter the value to compare with."})

    def wanted(self) -> set[str]:
        if self.operator == self.Operator.ONE_OF:
            return {v.strip().lower() for v in self.value.split(",") if v.strip()}
        return {self.value.strip().lower()}

    def holds(self, subject: Any, viewer: Viewer) -> bool:
        from layouts.selection import actual_values

        actual = actual_values(self.subject_field, subject, viewer)
        hit = bool(actual & self.wanted())
        return not hit if self.operator == self.Operator.IS_NOT else hit


def section_kind_choices() -> list[tuple[str, str]]:
    from layouts.sections import REGISTRY

    return [(kind.key, kind.label) for kind in REGISTRY.values()]


class Section(models.Model):
    """One block of a 360 layout, of a registered kind, with a configuration that kind checks."""

    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="sections")
    kind = models.CharField(max_length=32, choices=section_kind_choices)
    title = models.CharField(max_length=80)
    order = models.PositiveIntegerField(default=0)
    collapsed = models.BooleanField(
        "collapsed by default", default=False, help_text="Loaded when the user opens it."
    )
    config = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()  # the audit trail

    class Meta:
        ordering = ["layout", "order", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_kind_display()})"

    def clean(self) -> None:
        super().clean()
        from layouts.sections import REGISTRY

        kind = REGISTRY.get(self.kind)
        if kind is None:
            raise ValidationError({"kind": "Choose a section kind."})
        # A section added on the admin's add page belongs to a layout not saved yet: check it
        # against that layout too.
        layout = self.layout if self.layout_id or Section.layout.is_cached(self) else None
        if layout is not None and layout.target not in kind.targets:
            raise ValidationError(
                {"kind": f"A {kind.label} section cannot be used on this kind of page."}
            )
        # A section added without a configuration starts from its kind's defaults.
        config = self.config if self.config else kind.default_config(layout)
        self.config = kind.clean_config(config, layout=layout)
