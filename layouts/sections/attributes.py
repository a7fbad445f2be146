"""Attributes: chosen fields of the company or relationship (with the type's own fields).

Users who may change the record edit each field in place: "edit" swaps the row into a
one-field form, "save" writes it through the services (nothing saved when a rule fails, the
error shown next to the field) and "row" puts the row back as it was (Cancel).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import render
from django.template.defaultfilters import urlencode
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django_htmx.http import trigger_client_event

from companies.models import Company
from companies.services import company_update
from companies.templatetags.gs import EMPTY, format_attribute, money, short_date
from gainsight_lite.forms import user_label
from gainsight_lite.versions import VERSION_FIELD, version_of
from layouts.sections.base import SUBJECT_CHANGED, SectionContext, SectionKind, register
from partners.access import can, is_cs_admin
from partners.models import Partner
from relationships.forms import (
    CsmChoiceField,
    IsoDateField,
    MoneyField,
    attribute_form_field,
    attribute_initial,
)
from relationships.models import Relationship, RelationshipTypeField
from relationships.services import relationship_attribute_set, relationship_update

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
    ("managed_by", "Managed by (partner)"),
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
    ("managed_by", "Managed by (partner)"),
]
# Only admins hand a record to a partner (or take it back): partners.services keeps the
# partner's object permissions in step through the company and relationship services.
ADMIN_FIELDS = frozenset({"managed_by"})
ATTRIBUTE_PREFIX = "attr."
MONEY_FIELDS = frozenset({"arr", "mrr"})
DATE_FIELDS = frozenset({"start_date", "renewal_date", "original_contract_date"})
EMPTY_VALUE = format_html('<span class="empty-value">{}</span>', EMPTY)


def field_choices(layout: Any) -> list[tuple[str, str]]:
    """The fields an attributes section of `layout` may show (type fields as attr.KEY)."""
    if layout is None or layout.target == "company":
        return COMPANY_FIELDS
    own = []
    if layout.relationship_type_id is not None:
        own = [
            (f"{ATTRIBUTE_PREFIX}{f.key}", f.label) for f in layout.relationship_type.fields.all()
        ]
    return RELATIONSHIP_FIELDS + own


@dataclass
class FieldRow:
    """One shown field: its configured name ("arr", "attr.seats"), label and current value."""

    name: str
    label: str
    value: Any
    type_field: RelationshipTypeField | None = None
    # Whether the viewer gets the pencil on this row, and what the row draws (set by
    # `_editable`: computed once here rather than by filters and lookups in the template).
    editable: bool = False
    dom_id: str = ""
    edit_href: str = ""
    shown: SafeString = SafeString("")

    @property
    def slug(self) -> str:
        """The name as it can appear in an HTML id."""
        return self.name.replace(".", "-")

    @property
    def display(self) -> str:
        """How the template shows the value: attribute, money, date or text."""
        if self.type_field is not None:
            return "attribute"
        if self.name in MONEY_FIELDS:
            return "money"
        if self.name in DATE_FIELDS:
            return "date"
        return "text"

    @property
    def wide(self) -> bool:
        return self.type_field is not None and self.type_field.kind == "long_text"

    @property
    def help_text(self) -> str:
        return self.type_field.help_text if self.type_field is not None else ""

    def shown_value(self) -> SafeString:
        """The value as the row shows it (escaped): by the type field's kind, money, date or
        text; an empty value is a dash."""
        if self.type_field is not None:
            return format_attribute(self.type_field.kind, self.value)
        if self.value is None or self.value == "":
            return EMPTY_VALUE
        display = self.display
        if display == "money":
            return conditional_escape(money(self.value))
        if display == "date":
            return conditional_escape(short_date(self.value))
        return conditional_escape(self.value)


class PartnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class FieldValueForm(forms.Form):
    """One field's new value, named `value` whatever the field, as the inline edit posts it."""

    def __init__(self, *, field: forms.Field, prefix_id: str, **kwargs: Any) -> None:
        kwargs["auto_id"] = f"{prefix_id}-%s"
        super().__init__(**kwargs)
        field.widget.attrs.setdefault("autofocus", True)
        self.fields["value"] = field

    def mark_invalid(self) -> None:
        """Point assistive technology at the error shown under the input."""
        if self.has_error("value"):
            self.fields["value"].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": f"{self['value'].auto_id}-error"}
            )


@register
class Attributes(SectionKind):
    key = "attributes"
    label = "Attributes"
    template = "layouts/sections/attributes.html"
    skeleton_height = 220
    partner_visible = True
    # A save here answers with its own row; reloading the whole section on it too would
    # throw away an edit open in another row: only writes made elsewhere reload it.
    refresh_on = (SUBJECT_CHANGED,)
    refresh_on_own = False
    actions = {"edit": "edit", "save": "save", "row": "row"}

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
        type_fields = _type_fields(ctx.subject)
        rows = [
            row
            for name in ctx.config.get("fields") or []
            if (row := _row(ctx.subject, name, type_fields)) is not None
        ]
        urls = _urls(ctx)
        for row in rows:
            _editable(ctx, row, urls)
        # The version the section shows; every inline save carries it (gainsight_lite.versions).
        return {"rows": rows, "version": version_of(ctx.subject), **urls}

    # Actions -------------------------------------------------------------------------------

    def edit(self, ctx: SectionContext) -> HttpResponse:
        """GET ?field=NAME: the row as a one-field form."""
        if ctx.request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        _require_change(ctx)
        row = _requested_row(ctx, ctx.request.GET.get("field"))
        if isinstance(row, HttpResponse):
            return row
        _require_admin_for(ctx, row)
        form = _form(ctx, row)
        return _render_form(ctx, row, form)

    def save(self, ctx: SectionContext) -> HttpResponse:
        """POST field=NAME&value=…: write one field; the row again, or the form with its error."""
        if ctx.request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        _require_change(ctx)
        row = _requested_row(ctx, ctx.request.POST.get("field"))
        if isinstance(row, HttpResponse):
            return row
        _require_admin_for(ctx, row)
        form = _form(ctx, row, data=ctx.request.POST)
        if form.is_valid():
            try:
                subject = _write(
                    ctx, row, form.cleaned_data["value"], ctx.request.POST.get(VERSION_FIELD)
                )
            except ValidationError as error:
                for message in _messages(error, row, form.cleaned_data["value"]):
                    form.add_error("value", message)
            else:
                updated = _row(subject, row.name, _type_fields(subject))
                # The section now shows this version: the next save starts from it.
                response = _render_row(ctx, updated or row, saved=subject)
                trigger_client_event(response, SUBJECT_CHANGED)
                return response
        return _render_form(ctx, row, form)

    def row(self, ctx: SectionContext) -> HttpResponse:
        """GET ?field=NAME: the row as shown (Cancel puts it back with this)."""
        if ctx.request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        row = _requested_row(ctx, ctx.request.GET.get("field"))
        if isinstance(row, HttpResponse):
            return row
        return _render_row(ctx, row)


# Reading the rows -----------------------------------------------------------------------------


def _type_fields(subject: Company | Relationship) -> dict[str, RelationshipTypeField]:
    """The relationship type's own fields by key (one query); none for a company."""
    if isinstance(subject, Relationship):
        return {f.key: f for f in subject.relationship_type.fields.all()}
    return {}


def _row(
    subject: Company | Relationship, name: str, type_fields: dict[str, RelationshipTypeField]
) -> FieldRow | None:
    """The row of field `name`, or None when the subject has no such field (any more)."""
    if name.startswith(ATTRIBUTE_PREFIX):
        type_field = type_fields.get(name.removeprefix(ATTRIBUTE_PREFIX))
        if type_field is None:
            return None  # the field was removed from the type since the section was set up
        value = subject.attributes.get(type_field.key)  # type: ignore[union-attr]
        return FieldRow(name=name, label=type_field.label, value=value, type_field=type_field)
    labels = dict(COMPANY_FIELDS if isinstance(subject, Company) else RELATIONSHIP_FIELDS)
    if name not in labels:
        return None
    return FieldRow(name=name, label=labels[name], value=_display(subject, name))


def _display(subject: Company | Relationship, name: str) -> Any:
    display = getattr(subject, f"get_{name}_display", None)
    if callable(display):
        return display() or None
    value = getattr(subject, name)
    if name == "csm":
        return user_label(value) if value else None
    if name == "managed_by":
        return value.name if value else None
    return value


def _urls(ctx: SectionContext) -> dict[str, Any]:
    return {
        "can_edit": can(ctx.user, "change", type(ctx.subject)),
        "edit_url": ctx.url("edit"),
        "save_url": ctx.url("save"),
        "row_url": ctx.url("row"),
    }


def _editable(ctx: SectionContext, row: FieldRow, urls: dict[str, Any]) -> FieldRow:
    """Mark whether the viewer may edit `row` (may change the record, and be an admin for
    the admin-only fields), and set what the row draws: its id, value and pencil's URL."""
    row.editable = bool(urls["can_edit"]) and (
        row.name not in ADMIN_FIELDS or is_cs_admin(ctx.user)
    )
    row.dom_id = f"attr-{ctx.section.pk}-{row.slug}"
    row.edit_href = f"{urls['edit_url']}?field={urlencode(row.name)}"
    row.shown = row.shown_value()
    return row


def _require_admin_for(ctx: SectionContext, row: FieldRow) -> None:
    if row.name in ADMIN_FIELDS and not is_cs_admin(ctx.user):
        raise PermissionDenied("Only an admin assigns a record to a partner.")


def _require_change(ctx: SectionContext) -> None:
    if not can(ctx.user, "change", type(ctx.subject)):
        what = "company" if isinstance(ctx.subject, Company) else "relationship"
        raise PermissionDenied(f"You may not change this {what}.")


def _requested_row(ctx: SectionContext, name: str | None) -> FieldRow | HttpResponse:
    """The row of a field this section shows, or a 400 answer saying why not."""
    if not name:
        return HttpResponseBadRequest("Say which field to edit.")
    if name not in (ctx.config.get("fields") or []):
        return HttpResponseBadRequest(f"This section does not show the field “{name}”.")
    row = _row(ctx.subject, name, _type_fields(ctx.subject))
    if row is None:
        return HttpResponseBadRequest(f"“{name}” is no longer a field of this record.")
    return row


# Editing one field ----------------------------------------------------------------------------


def _form(ctx: SectionContext, row: FieldRow, data: Any = None) -> FieldValueForm:
    subject = ctx.subject
    if row.type_field is not None:
        field = attribute_form_field(row.type_field)
        initial = attribute_initial(row.type_field, row.value)
    else:
        field = _standard_form_field(ctx, row.name, row.label)
        initial = (
            getattr(subject, f"{row.name}_id")
            if row.name in ("csm", "managed_by")
            else getattr(subject, row.name)
        )
    return FieldValueForm(
        data=data,
        field=field,
        prefix_id=f"attr-{ctx.section.pk}-{row.slug}",
        initial={"value": initial},
    )


def _standard_form_field(ctx: SectionContext, name: str, label: str) -> forms.Field:
    subject = ctx.subject
    model = type(subject)
    if name == "csm":
        # A partner user picks among their partner's users and the current CSM only.
        is_company = isinstance(subject, Company)
        return CsmChoiceField(
            label=label,
            user=ctx.user,
            company_id=subject.pk if is_company else None,
            relationship_id=None if is_company else subject.pk,
            current_id=subject.csm_id,
        )
    if name == "managed_by":
        return PartnerChoiceField(
            label=label,
            required=False,
            empty_label="No partner — run in house",
            queryset=Partner.objects.filter(
                Q(active=True) | Q(pk=subject.managed_by_id or 0)
            ).order_by("name"),
            error_messages={"invalid_choice": "Choose an active partner from the list."},
        )
    if name in MONEY_FIELDS:
        return MoneyField(label=label)
    if name in DATE_FIELDS:
        return IsoDateField(label=label, required=False)
    field = model._meta.get_field(name).formfield(label=label)  # type: ignore[union-attr]
    if field is None:
        raise ValueError(f"{model.__name__}.{name} has no form field.")
    return field


def _write(
    ctx: SectionContext, row: FieldRow, value: Any, version: str | None
) -> Company | Relationship:
    """Save the value through the services; a copy, so a refused value leaves `ctx.subject`.

    `version`: the record's version the section showed (see gainsight_lite.versions); a
    record saved by someone else since is refused with who and when.
    """
    subject = copy.copy(ctx.subject)
    if isinstance(subject, Company):
        return company_update(company=subject, by=ctx.user, version=version, **{row.name: value})
    if row.type_field is not None:
        return relationship_attribute_set(
            relationship=subject,
            key=row.type_field.key,
            value=value,
            by=ctx.user,
            version=version,
        )
    return relationship_update(
        relationship=subject, by=ctx.user, version=version, **{row.name: value}
    )


def _messages(error: ValidationError, row: FieldRow, value: Any) -> list[str]:
    """The service's refusal as sentences to show under the one field being edited."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    own = {row.name, NON_FIELD_ERRORS, "attributes"}
    if row.type_field is not None:
        own.add(row.type_field.key)
    messages = []
    for key, errors in error.error_dict.items():
        for item in errors:
            if key == "external_id" and item.code == "unique":
                messages.append(f"Another company already has the external ID “{value}”.")
                continue
            for message in item.messages:
                # Another field of the record refused the save (say, a required field of the
                # type left empty): name it, since only this field's input is on screen.
                messages.append(message if key in own else f"{_label_of(key, row)}: {message}")
    return messages


def _label_of(key: str, row: FieldRow) -> str:
    if row.type_field is not None:
        for type_field in row.type_field.relationship_type.fields.all():
            if type_field.key == key:
                return type_field.label
    return dict(COMPANY_FIELDS + RELATIONSHIP_FIELDS).get(key, key.replace("_", " ").capitalize())


def _render_row(
    ctx: SectionContext, row: FieldRow, *, saved: Company | Relationship | None = None
) -> HttpResponse:
    urls = _urls(ctx)
    context = {"row": _editable(ctx, row, urls), "section": ctx.section, **urls}
    if saved is not None:
        # Swapped out of band into the section's version input (attributes.html).
        context["saved_version"] = version_of(saved)
    return render(ctx.request, "layouts/sections/attributes_row.html", context)


def _render_form(ctx: SectionContext, row: FieldRow, form: FieldValueForm) -> HttpResponse:
    form.mark_invalid()
    context = {"row": row, "form": form, "section": ctx.section, **_urls(ctx)}
    return render(ctx.request, "layouts/sections/attributes_form.html", context)
