"""Typed values of a relationship type's own fields, validated in one place.

Every path that writes `Relationship.attributes` (model `clean()`, the forms, the admin,
imports) goes through `clean_attributes`, so a value is checked the same way everywhere.
Stored forms: text as str, numbers as int or float, dates as ISO "YYYY-MM-DD" strings,
booleans as true/false, choices as the listed string.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

if TYPE_CHECKING:
    from relationships.models import RelationshipTypeField

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000
TRUE_WORDS = {"true", "yes", "1", "on", "y"}
FALSE_WORDS = {"false", "no", "0", "off", "n"}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def _number(value: Any, *, places: int | None = None) -> int | float:
    if isinstance(value, bool):
        raise ValidationError("Enter a number.")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValidationError("Enter a number.") from None
    else:
        raise ValidationError("Enter a number.")
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise ValidationError("Enter a number of at most 15 digits.")
    if places is not None:
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise ValidationError(f"Enter a number with at most {places} decimal places.")
    if number == number.to_integral_value():
        return int(number)
    result = float(number)
    if math.isinf(result):
        raise ValidationError("Enter a number of at most 15 digits.")
    return result


def clean_value(field: RelationshipTypeField, value: Any) -> Any:
    """Return the stored form of `value` for `field`, or raise ValidationError with a sentence."""
    kind = field.kind
    if isinstance(value, str) and "\x00" in value:
        # PostgreSQL stores no U+0000 in text or jsonb; forms refuse it with the same sentence.
        raise ValidationError("Null characters are not allowed.")
    if kind in ("text", "long_text"):
        if not isinstance(value, str):
            raise ValidationError("Enter text.")
        limit = TEXT_MAX if kind == "text" else LONG_TEXT_MAX
        text = value.strip() if kind == "text" else value
        if len(text) > limit:
            raise ValidationError(f"Enter at most {limit} characters (it has {len(text)}).")
        return text
    if kind == "number":
        return _number(value)
    if kind == "currency":
        return _number(value, places=2)
    if kind == "percent":
        number = _number(value, places=2)
        if not 0 <= number <= 100:
            raise ValidationError("Enter a percentage from 0 to 100.")
        return number
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValidationError("Enter a date as YYYY-MM-DD.")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        raise ValidationError("Enter yes or no.")
    if kind == "choice":
        if isinstance(value, str) and value in (field.choices or []):
            return value
        listed = ", ".join(field.choices or [])
        raise ValidationError(f"Choose one of: {listed}.")
    if kind == "url":
        if isinstance(value, str):
            url = value.strip()
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                pass
            else:
                return url
        raise ValidationError("Enter a valid web address starting with http:// or https://.")
    if kind == "email":
        if isinstance(value, str):
            email = value.strip()
            try:
                EmailValidator()(email)
            except ValidationError:
                pass
            else:
                return email.lower()
        raise ValidationError("Enter a valid email address.")
    raise ValidationError(f"Unknown field kind “{kind}”.")


def clean_attributes(
    fields: Iterable[RelationshipTypeField], data: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check `data` against the type's `fields`.

    Returns the stored values and the errors keyed by field key (unknown keys included);
    empty values are left out, so a required field without a value is an error.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        return {}, {"__all__": "Attributes must be an object of field keys and values."}
    by_key = {field.key: field for field in fields}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in data:
        if key not in by_key:
            errors[str(key)] = f"“{key}” is not a field of this relationship type."
    for key, field in by_key.items():
        value = data.get(key)
        if is_empty(value):
            if field.required:
                errors[key] = "This field is required."
            continue
        try:
            cleaned[key] = clean_value(field, value)
        except ValidationError as error:
            errors[key] = error.messages[0]
    return cleaned, errors
