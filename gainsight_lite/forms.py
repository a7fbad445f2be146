"""Form pieces every app's forms share: how a user and a relationship read in a choice list,
and a service's ValidationError shown on a form."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html
from django.utils.safestring import SafeString

if TYPE_CHECKING:  # no app import at run time: every app's forms may use this module
    from relationships.models import Relationship


def name_label(first_name: str, last_name: str, username: str) -> str:
    """A user by name from their columns (a list reads them without the User): the full name,
    else the username."""
    return f"{first_name} {last_name}".strip() or username


def user_label(user: AbstractBaseUser | AnonymousUser | Any) -> str:
    """A person by name: their full name, else their username (else the object as text)."""
    if isinstance(user, AbstractUser):
        return name_label(user.first_name, user.last_name, user.get_username())
    full_name = getattr(user, "get_full_name", lambda: "")()
    if full_name:
        return str(full_name)
    get_username = getattr(user, "get_username", None)
    return str(get_username()) if get_username is not None else str(user)


def relationship_label(relationship: Relationship) -> str:
    """A relationship in a list of choices: its name and, when that does not already say it,
    its type ("Acme EMEA licence (Analytics Cloud)", but "Analytics Cloud" once)."""
    kind = relationship.relationship_type.name
    if relationship.name.strip().casefold() == kind.strip().casefold():
        return relationship.name
    return f"{relationship.name} ({kind})"


class QuickSelect(forms.Select):
    """A single select drawn in Python: the same HTML as Django's templates (`select.html`,
    `select_option.html`, `attrs.html`), without a template include per option — nor the
    option dictionaries of `optgroups()`. A filter of 200 CSMs drew in 25-34 ms of CPU through
    the templates, the whole budget of a list."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        chosen = self.format_value(value)
        has_selected = False

        def option(option_value: Any, label: Any) -> str:
            nonlocal has_selected
            text = str(option_value)
            selected = not has_selected and text in chosen
            has_selected |= selected
            # What the templates' autoescaping writes: the value always escaped (it is drawn
            # through `stringformat`), the label unless it is safe HTML.
            drawn = label.__html__() if hasattr(label, "__html__") else html.escape(str(label))
            return (
                f'<option value="{html.escape(text)}"{" selected" if selected else ""}>'
                f"{drawn}</option>"
            )

        parts = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                drawn = "".join(option(v, sub) for v, sub in label)
                parts.append(
                    format_html(
                        '<optgroup label="{}">{}</optgroup>', option_value, SafeString(drawn)
                    )
                    if option_value
                    else drawn
                )
            else:
                parts.append(option("" if option_value is None else option_value, label))
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            SafeString("".join(parts)),
        )


class UserChoiceIterator(ModelChoiceIterator):
    """A user select's choices read as columns (id and names), no User built per option: the
    same values and labels as `UserChoiceField.label_from_instance` gives."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        field = self.field
        if (
            field.to_field_name is not None
            or type(field).label_from_instance is not UserChoiceField.label_from_instance
            or "label_from_instance" in vars(field)
        ):
            yield from super().__iter__()
            return
        if field.empty_label is not None:
            yield ("", field.empty_label)
        columns = self.queryset.values_list("pk", "first_name", "last_name", "username")
        # Fetched at once, not through iterator(): a few hundred rows, and on PostgreSQL no
        # server-side cursor (DECLARE, FETCH, CLOSE: three round trips).
        for pk, first_name, last_name, username in columns:
            yield (pk, name_label(first_name, last_name, username))


class UserChoiceField(forms.ModelChoiceField):
    """Users by name (full name, else username), not by username."""

    widget = QuickSelect
    iterator = UserChoiceIterator

    def label_from_instance(self, obj: Any) -> str:
        return user_label(obj)


class RelationshipChoiceField(forms.ModelChoiceField):
    """Relationships by name and type (the queryset selects `relationship_type`)."""

    def label_from_instance(self, obj: Any) -> str:
        return relationship_label(obj)


def add_service_errors(
    form: forms.BaseForm, error: ValidationError, *, fallback: str | None = None
) -> None:
    """Show a service's ValidationError on `form`: each message next to its field, or on
    `fallback` (None: above the form) when the form has no such field."""
    errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, messages in errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else fallback, message)


class ReadyChoices(BaseChoiceIterator):
    """Choices already in their (value, label) form, which a field and its widget keep as they
    are: a plain list is normalised item by item on each assignment (the field's, then its
    widget's), milliseconds of CPU for a filter of a few hundred people."""

    def __init__(self, choices: list[tuple[Any, str]]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)
