"""Relationships (C360): the company's relationships as cards grouped by type.

The section filters its cards by type and status (?type=<id>&status=<value> on its own URL)
and, for users who may add relationships, opens the "Add relationship" dialog: step 1 picks
an active type, step 2 is that type's form with its own fields as typed inputs.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import QuerySet, UniqueConstraint
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from gainsight_lite.http import dialog_saved
from layouts.sections.base import COMPANY, SUBJECT_CHANGED, SectionContext, SectionKind, register
from relationships.forms import RelationshipAddForm, RelationshipTypeChoiceForm
from relationships.models import Relationship, RelationshipType
from relationships.selectors import relationship_cards_section, relationship_types_addable
from relationships.services import relationship_create

ADD_PERMISSION = "relationships.add_relationship"

# The database rule a duplicate name breaks; the service reports it without a field.
UNIQUE_NAME_MESSAGE = next(
    constraint.violation_error_message
    for constraint in Relationship._meta.constraints
    if isinstance(constraint, UniqueConstraint)
    and constraint.name == "relationship_unique_name_per_company_type"
)


def _type_choices() -> list[tuple[int, str]]:
    return [(t.pk, t.name) for t in RelationshipType.objects.order_by("order", "name")]


class RelationshipsConfig(forms.Form):
    types = forms.TypedMultipleChoiceField(
        label="Relationship types",
        choices=_type_choices,
        coerce=int,
        required=False,
        initial=[],
        widget=forms.CheckboxSelectMultiple,
        help_text="The types shown; leave all unticked to show every type, "
        "including types added later.",
        error_messages={"invalid_choice": "Choose relationship types that exist."},
    )
    show_churned = forms.BooleanField(
        label="Show churned relationships",
        required=False,
        initial=True,
        help_text="Untick to keep the section to the relationships still running.",
    )


@register
class Relationships(SectionKind):
    key = "relationships"
    label = "Relationships"
    targets = frozenset({COMPANY})
    template = "layouts/sections/relationships.html"
    skeleton_height = 260
    actions = {"add": "add"}

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        return RelationshipsConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        cards = relationship_cards_section(
            user=ctx.user,
            company=ctx.company,
            type_ids=_configured_types(ctx),
            show_churned=ctx.config.get("show_churned", True) is not False,
            type_filter=ctx.params.get("type"),
            status_filter=ctx.params.get("status"),
        )
        chosen = {}
        if cards["type_filter"] is not None:
            chosen["type"] = cards["type_filter"].pk
        if cards["status_filter"] is not None:
            chosen["status"] = cards["status_filter"]
        base = ctx.url()
        return {
            **cards,
            "company": ctx.company,
            "filtered": bool(chosen),
            "section_url": base,
            # The frame reloads from `url` when the page's data changes: keep the filters.
            "url": f"{base}?{urlencode(chosen)}" if chosen else base,
            "can_add": ctx.user.has_perm(ADD_PERMISSION),
            "add_url": ctx.url("add"),
        }

    def add(self, ctx: SectionContext) -> HttpResponse:
        """The "Add relationship" dialog: the type step, the typed form, then the save."""
        if not ctx.user.has_perm(ADD_PERMISSION):
            raise PermissionDenied("You may not add relationships.")
        request = ctx.request
        data = request.POST if request.method == "POST" else request.GET
        types = relationship_types_addable(type_ids=_configured_types(ctx))
        if "relationship_type" not in data or data.get("step") == "type":
            # "Change type" in step 2 comes back here with the type it had chosen.
            initial = {"relationship_type": data.get("relationship_type", "")}
            return _type_step(ctx, RelationshipTypeChoiceForm(initial=initial), types)
        choice = RelationshipTypeChoiceForm(data={"relationship_type": data["relationship_type"]})
        choice.fields["relationship_type"].queryset = types  # type: ignore[attr-defined]
        if not choice.is_valid():
            return _type_step(ctx, choice, types)
        relationship_type: RelationshipType = choice.cleaned_data["relationship_type"]
        instance = Relationship(company=ctx.company)
        if request.method != "POST":
            form = RelationshipAddForm(
                relationship_type=relationship_type,
                instance=instance,
                initial={"csm": ctx.company.csm_id},
            )
            return _typed_step(ctx, form, relationship_type)
        form = RelationshipAddForm(
            data=request.POST, relationship_type=relationship_type, instance=instance
        )
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in RelationshipAddForm.Meta.fields}
            try:
                relationship_create(
                    by=ctx.user,
                    company=ctx.company,
                    relationship_type=relationship_type,
                    attributes=form.instance.attributes,
                    **fields,
                )
            except ValidationError as error:
                _show_refusal(form, error, ctx, relationship_type)
            else:
                # The dialog closes and the sections showing the company reload.
                return dialog_saved(SUBJECT_CHANGED)
        return _typed_step(ctx, form, relationship_type)


def _configured_types(ctx: SectionContext) -> list[int]:
    return [pk for pk in ctx.config.get("types") or [] if isinstance(pk, int)]


def _type_step(
    ctx: SectionContext, form: RelationshipTypeChoiceForm, types: QuerySet[RelationshipType]
) -> HttpResponse:
    chosen = form["relationship_type"].value()
    context = {
        "company": ctx.company,
        "form": form,
        "types": list(types),
        "chosen": str(chosen) if chosen is not None else "",
        "add_url": ctx.url("add"),
    }
    return render(ctx.request, "layouts/sections/relationships_add_type.html", context)


def _typed_step(
    ctx: SectionContext, form: RelationshipAddForm, relationship_type: RelationshipType
) -> HttpResponse:
    invalid = [name for name in form.fields if name in form.errors]
    for name in invalid:
        form.fields[name].widget.attrs.update(
            {"aria-invalid": "true", "aria-describedby": f"{form[name].auto_id}-error"}
        )
    # htmx focuses the [autofocus] input of what it swaps in: the first wrong one, or the name.
    form.fields[invalid[0] if invalid else "name"].widget.attrs["autofocus"] = True
    standard = [form[name] for name in RelationshipAddForm.Meta.fields]
    # The type's fields; long text takes the dialog's full width.
    typed = [
        {"field": form[name], "wide": isinstance(form.fields[name].widget, forms.Textarea)}
        for name in form.fields
        if name not in RelationshipAddForm.Meta.fields
    ]
    context = {
        "company": ctx.company,
        "form": form,
        "relationship_type": relationship_type,
        "standard_fields": standard,
        "typed_fields": typed,
        "add_url": ctx.url("add"),
    }
    return render(ctx.request, "layouts/sections/relationships_add_form.html", context)


def _show_refusal(
    form: RelationshipAddForm,
    error: ValidationError,
    ctx: SectionContext,
    relationship_type: RelationshipType,
) -> None:
    """Put the service's refusal next to the fields it is about (the name, for a duplicate)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        for message in ValidationError(errors).messages:
            if key in form.fields:
                form.add_error(key, message)
            elif key == NON_FIELD_ERRORS and message == UNIQUE_NAME_MESSAGE:
                name = form.data.get("name", "").strip()
                form.add_error(
                    "name",
                    f"{ctx.company.name} already has a {relationship_type.name} "
                    f"relationship named “{name}”.",
                )
            else:
                form.add_error(None, message)
