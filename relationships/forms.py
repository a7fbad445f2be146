"""Forms for relationships: a relationship type's own fields as typed form fields.

`attribute_form_fields(relationship_type)` turns each of the type's fields into a form field
named `attr_<key>`. `RelationshipForm` adds them for the relationship's type and stores their
values in `Relationship.attributes` through `clean_attributes`, the one validator, so the
admin, the R360 pages and imports check a value the same way and say the same sentence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.html import escape

from gainsight_lite.forms import UserChoiceField
from relationships.attributes import LONG_TEXT_MAX, TEXT_MAX, clean_attributes
from relationships.models import Relationship, RelationshipType, RelationshipTypeField

if TYPE_CHECKING:
    from partners.access import AnyUser

ATTRIBUTE_PREFIX = "attr_"
Kind = RelationshipTypeField.Kind

# A select rather than a checkbox, so "not recorded" stays apart from "no".
BOOLEAN_CHOICES = [("", "---------"), ("yes", "Yes"), ("no", "No")]

# The form fields speak the sentences of relationships.attributes, so a value refused by the
# browser-facing field reads the same as one refused by clean_attributes.
NUMBER_INVALID = "Enter a number."
TWO_PLACES = "Enter a number with at most 2 decimal places."
PERCENT_RANGE = "Enter a percentage from 0 to 100."
DATE_INVALID = "Enter a date as YYYY-MM-DD."
URL_INVALID = "Enter a valid web address starting with http:// or https://."
EMAIL_INVALID = "Enter a valid email address."
TOO_LONG = "Enter at most %(limit_value)d characters (it has %(show_value)d)."


def attribute_field_name(key: str) -> str:
    """The form field name of a relationship type field's key."""
    return f"{ATTRIBUTE_PREFIX}{key}"


def attribute_form_field(field: RelationshipTypeField) -> forms.Field:
    """The typed form field that edits one relationship type field."""
    common: dict[str, Any] = {
        "label": field.label,
        # Django renders a form field's help text as HTML (the admin too): this one is typed
        # by an admin, so it is shown as text.
        "help_text": escape(field.help_text),
        "required": field.required,
    }
    kind = field.kind
    if kind == Kind.TEXT:
        return forms.CharField(
            max_length=TEXT_MAX, error_messages={"max_length": TOO_LONG}, **common
        )
    if kind == Kind.LONG_TEXT:
        # Long text is stored as typed, line breaks and leading spaces included.
        return forms.CharField(
            max_length=LONG_TEXT_MAX,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 4}),
            error_messages={"max_length": TOO_LONG},
            **common,
        )
    if kind == Kind.NUMBER:
        return forms.DecimalField(error_messages={"invalid": NUMBER_INVALID}, **common)
    if kind == Kind.CURRENCY:
        return forms.DecimalField(
            decimal_places=2,
            error_messages={"invalid": NUMBER_INVALID, "max_decimal_places": TWO_PLACES},
            **common,
        )
    if kind == Kind.PERCENT:
        return forms.DecimalField(
            min_value=0,
            max_value=100,
            decimal_places=2,
            error_messages={
                "invalid": NUMBER_INVALID,
                "min_value": PERCENT_RANGE,
                "max_value": PERCENT_RANGE,
                "max_decimal_places": TWO_PLACES,
            },
            **common,
        )
    if kind == Kind.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d"],
            error_messages={"invalid": DATE_INVALID},
            **common,
        )
    if kind == Kind.BOOLEAN:
        return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
    if kind == Kind.CHOICE:
        listed = list(field.choices or [])
        # A blank first option even when required: a field added to the type later must be
        # chosen on purpose, not silently take the first choice on the next save.
        return forms.ChoiceField(
            choices=[("", "---------"), *[(choice, choice) for choice in listed]],
            error_messages={"invalid_choice": f"Choose one of: {', '.join(listed)}."},
            **common,
        )
    if kind == Kind.URL:
        return forms.URLField(
            assume_scheme="https", error_messages={"invalid": URL_INVALID}, **common
        )
    if kind == Kind.EMAIL:
        return forms.EmailField(error_messages={"invalid": EMAIL_INVALID}, **common)
    raise ValueError(f"Unknown relationship type field kind {kind!r}.")


def attribute_form_fields(
    relationship_type: RelationshipType,
) -> dict[str, forms.Field]:
    """The type's fields as typed form fields named `attr_<key>`, in the type's order."""
    return {
        attribute_field_name(field.key): attribute_form_field(field)
        for field in relationship_type.fields.all()
    }


def attribute_initial(field: RelationshipTypeField, value: Any) -> Any:
    """A stored attribute value in the form its form field shows."""
    if field.kind == Kind.BOOLEAN and isinstance(value, bool):
        return "yes" if value else "no"
    if field.kind == Kind.DATE and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


class RelationshipForm(forms.ModelForm):
    """A relationship with its type's own fields as typed `attr_<key>` fields.

    The type comes from the `relationship_type` argument, else the form's own
    `relationship_type` field (bound data, then initial), else the instance. Stored values
    whose key is no longer a field of the type are listed in `stale_keys` and dropped on save.
    """

    # Set by a subclass (the admin's add step) to fix the type without a form field.
    default_relationship_type: RelationshipType | None = None

    class Meta:
        model = Relationship
        fields = [
            "company",
            "relationship_type",
            "name",
            "status",
            "stage",
            "csm",
            "managed_by",
            "arr",
            "mrr",
            "start_date",
            "renewal_date",
        ]

    def __init__(
        self, *args: Any, relationship_type: RelationshipType | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        chosen = relationship_type or self.default_relationship_type or self._type_from_form_field()
        if chosen is None and self.instance.relationship_type_id is not None:
            chosen = self.instance.relationship_type
        self.relationship_type: RelationshipType | None = chosen
        if chosen is not None and "relationship_type" not in self.fields:
            self.instance.relationship_type = chosen
        self.attribute_fields: list[RelationshipTypeField] = (
            list(chosen.fields.all()) if chosen is not None else []
        )
        stored = self.instance.attributes if isinstance(self.instance.attributes, Mapping) else {}
        for type_field in self.attribute_fields:
            name = attribute_field_name(type_field.key)
            self.fields[name] = attribute_form_field(type_field)
            if type_field.key in stored:
                self.initial.setdefault(name, attribute_initial(type_field, stored[type_field.key]))
        keys = {type_field.key for type_field in self.attribute_fields}
        self.stale_keys: list[str] = sorted(str(key) for key in stored if key not in keys)

    def _type_from_form_field(self) -> RelationshipType | None:
        field = self.fields.get("relationship_type")
        if not isinstance(field, forms.ModelChoiceField):
            return None
        value = (
            self.data.get(self.add_prefix("relationship_type"))
            if self.is_bound
            else self.get_initial_for_field(field, "relationship_type")
        )
        try:
            found = field.clean(value)
        except ValidationError:
            # The type field reports the wrong value itself; no attribute fields meanwhile.
            return None
        return found if isinstance(found, RelationshipType) else None

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        if self.relationship_type is None:
            return cleaned_data
        names = {f.key: attribute_field_name(f.key) for f in self.attribute_fields}
        # A field its form field already refused keeps that one message; the others are
        # checked by the one validator, so every wrong value is reported in one round.
        values = {
            key: cleaned_data.get(name) for key, name in names.items() if not self.has_error(name)
        }
        cleaned, errors = clean_attributes(self.attribute_fields, values)
        for key, message in errors.items():
            name = names.get(key)
            if name is None:
                self.add_error(None, message)
            elif not self.has_error(name):
                self.add_error(name, message)
        if not any(self.has_error(name) for name in names.values()):
            self.instance.attributes = cleaned
        return cleaned_data

    def _update_errors(self, errors: ValidationError) -> None:
        # Relationship.clean() checks the attributes again and reports on the model's
        # `attributes` field, which this form edits as attr_<key> fields: when those already
        # show the messages, drop the copy; otherwise show it above the form.
        error_dict = getattr(errors, "error_dict", None)
        if error_dict is not None and "attributes" in error_dict:
            messages = error_dict.pop("attributes")
            if not any(self.has_error(attribute_field_name(f.key)) for f in self.attribute_fields):
                error_dict.setdefault(NON_FIELD_ERRORS, []).extend(messages)
            if not error_dict:
                return
        super()._update_errors(errors)  # type: ignore[misc]


class RelationshipTypeChoiceForm(forms.Form):
    """The first step of adding a relationship: its type decides its fields."""

    relationship_type = forms.ModelChoiceField(
        queryset=RelationshipType.objects.filter(active=True),
        label="Relationship type",
        help_text="The type decides which fields the relationship has.",
        error_messages={"invalid_choice": "Choose one of the active relationship types."},
    )


class ChoiceListField(forms.CharField):
    """A list of choices edited one per line, stored as a JSON list of strings."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 24})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return [str(item).strip() for item in value if str(item).strip()]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class RelationshipTypeFieldForm(forms.ModelForm):
    """One field of a relationship type, its choices typed one per line."""

    choices = ChoiceListField(
        required=False,
        help_text="For choice fields only: the allowed values, one per line.",
    )

    class Meta:
        model = RelationshipTypeField
        fields = [
            "relationship_type",
            "key",
            "label",
            "kind",
            "choices",
            "required",
            "help_text",
            "order",
            "shown_in_lists",
        ]


class CsmChoiceField(UserChoiceField):
    """A CSM select by name: the people `partners.access.users_choosable_by` offers `user`.

    Without a user (the admin, a model form's field class): the active internal users. A
    partner user gets their partner's users and the record's current CSM, never the staff list.
    """

    def __init__(
        self,
        *,
        user: AnyUser | None = None,
        company_id: Any = None,
        relationship_id: Any = None,
        current_id: Any = None,
        **kwargs: Any,
    ) -> None:
        from partners.access import users_choosable_by

        kwargs.setdefault("label", "CSM")
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", "Unassigned")
        # As a model form's field class it is handed the model field's queryset: replace it.
        kwargs["queryset"] = users_choosable_by(
            user, company_id=company_id, relationship_id=relationship_id, current_id=current_id
        )
        super().__init__(**kwargs)


class MoneyField(forms.DecimalField):
    """An amount in dollars, never negative; "$120,000" is read as 120000 as a CSM types it."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        messages = {
            "invalid": "Enter an amount, such as 120000 or $120,000.50.",
            "min_value": "Enter an amount of zero or more.",
            "max_decimal_places": "Enter at most two decimal places (cents).",
            "max_digits": "Enter an amount below one trillion.",
            "max_whole_digits": "Enter an amount below one trillion.",
        }
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().removeprefix("$").replace(",", "").strip()
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        # A stored amount is shown as a CSM reads it (120,000), which to_python reads back.
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return f"{value:,.2f}".removesuffix(".00")
        return super().prepare_value(value)


class IsoDateField(forms.DateField):
    """A date picked in the browser's date input, which always sends YYYY-MM-DD."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": DATE_INVALID}


class RelationshipAddForm(RelationshipForm):
    """Adding a relationship from its company's page: company and type are already chosen."""

    class Meta(RelationshipForm.Meta):
        fields = [
            "name",
            "status",
            "stage",
            "csm",
            "arr",
            "mrr",
            "start_date",
            "renewal_date",
        ]
        field_classes = {
            "csm": CsmChoiceField,
            "arr": MoneyField,
            "mrr": MoneyField,
            "start_date": IsoDateField,
            "renewal_date": IsoDateField,
        }
