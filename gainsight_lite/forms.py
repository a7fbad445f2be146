"""Form pieces every app's forms share: how a user and a relationship read in a choice list,
and a service's ValidationError shown on a form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError

if TYPE_CHECKING:  # no app import at run time: every app's forms may use this module
    from relationships.models import Relationship


def user_label(user: AbstractBaseUser | AnonymousUser | Any) -> str:
    """A person by name: their full name, else their username (else the object as text)."""
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


class UserChoiceField(forms.ModelChoiceField):
    """Users by name (full name, else username), not by username."""

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
