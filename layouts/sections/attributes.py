"""Attributes: chosen fields of the company or relationship (with the type's own fields)."""

from __future__ import annotations

from typing import Any

from django import forms

from companies.models import Company
from layouts.sections.base import SectionContext, SectionKind, register
from relationships.models import Relationship

COMPANY_FIELDS = [
    ("name", "Name"),
    ("external_id", "External ID"),
    ("industry", "Industry"),
    ("segment", "Segment"),
    ("stage", "Lifecycle stage"),
    ("status", "Status"),
    ("arr", "ARR"),
    ("mrr", "MRR"),
    ("renewal_date", "Renewal date"),
    ("original_contract_date", "Original contract date"),
    ("csm", "CSM"),
]
RELATIONSHIP_FIELDS = [
    ("name", "Name"),
    ("status", "Status"),
    ("stage", "Stage"),
    ("arr", "ARR"),
    ("mrr", "MRR"),
    ("start_date", "Start date"),
    ("renewal_date", "Renewal date"),
    ("csm", "CSM"),
]


def field_choices(layout: Any) -> list[tuple[str, str]]:
    """The fields an attributes section of `layout` may show (type fields as attr.KEY)."""
    if layout is None or layout.target == "company":
        return COMPANY_FIELDS
    own = []
    if layout.relationship_type_id is not None:
        own = [(f"attr.{f.key}", f.label) for f in layout.relationship_type.fields.all()]
    return RELATIONSHIP_FIELDS + own


@register
class Attributes(SectionKind):
    key = "attributes"
    label = "Attributes"
    template = "layouts/sections/attributes.html"
    skeleton_height = 220
    partner_visible = True

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        choices = field_choices(layout)

        class AttributesConfig(forms.Form):
            fields = forms.MultipleChoiceField(  # type: ignore[assignment]
                choices=choices,
                initial=[key for key, _ in choices],
                widget=forms.CheckboxSelectMultiple,
                help_text="The fields shown, in this order.",
            )

        return AttributesConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        subject = ctx.subject
        chosen = ctx.config.get("fields") or []
        rows: list[dict[str, Any]] = []
        type_fields = {}
        if isinstance(subject, Relationship):
            type_fields = {f.key: f for f in subject.relationship_type.fields.all()}
        labels = dict(COMPANY_FIELDS if isinstance(subject, Company) else RELATIONSHIP_FIELDS)
        for name in chosen:
            if name.startswith("attr."):
                field = type_fields.get(name[5:])
                if field is None:
                    continue  # the field was removed from the type since the section was set up
                value = subject.attributes.get(field.key)  # type: ignore[union-attr]
                rows.append(
                    {"name": name, "label": field.label, "type_field": field, "value": value}
                )
            elif name in labels:
                rows.append({"name": name, "label": labels[name], "value": _display(subject, name)})
        return {"rows": rows}


def _display(subject: Company | Relationship, name: str) -> Any:
    display = getattr(subject, f"get_{name}_display", None)
    if callable(display):
        return display() or None
    value = getattr(subject, name)
    if name == "csm":
        return (value.get_full_name() or value.get_username()) if value else None
    return value
