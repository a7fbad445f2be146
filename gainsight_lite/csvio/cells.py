"""Cells of a CSV file: how one value is read on import and written on export.

Import and export share these, so a value exported re-imports as itself: decimals as plain
numbers with their places, dates as YYYY-MM-DD, yes/no for booleans, choice keys (labels are
accepted on import too).

Export guards against formula injection: a text cell starting with =, +, -, @, a tab or a
carriage return is written with a leading apostrophe (spreadsheets then show it as text), unless
it is a number. On import an apostrophe in front of one of those characters is that guard and
is taken off again, so the round trip gives back the value that was exported.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

# Characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
TRUE_WORDS = frozenset({"yes", "true", "1", "y", "on"})
FALSE_WORDS = frozenset({"no", "false", "0", "n", "off", ""})


class CellError(ValueError):
    """A cell's value is wrong; the message is a sentence a CSM understands."""


def guard(value: str) -> str:
    """The cell as written to a CSV file: formula-looking text gets a leading apostrophe."""
    if value and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def unguard(value: str) -> str:
    """Take off the apostrophe that `guard` put in front of formula-looking text."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def text(value: str, *, max_length: int) -> str:
    value = value.strip()
    if len(value) > max_length:
        raise CellError(f"Enter at most {max_length} characters (it has {len(value)}).")
    return value


def decimal(
    value: str, *, max_digits: int = 14, places: int = 2, minimum: Decimal | None = Decimal(0)
) -> Decimal | None:
    """A decimal with at most `places` decimal places; an empty cell is None."""
    value = value.strip()
    if not value:
        return None
    if "," in value:
        value = value.replace(",", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError(f"“{value}” is not a number.") from None
    if not number.is_finite():
        raise CellError(f"“{value}” is not a number.")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise CellError(f"Enter a number with at most {places} decimal places.")
    if minimum is not None and number < minimum:
        raise CellError(f"Enter a number of at least {minimum}.")
    if abs(number) >= Decimal(10) ** (max_digits - places):
        raise CellError(f"Enter a number below {10 ** (max_digits - places):,}.")
    return number.quantize(Decimal(1).scaleb(-places))


def integer(value: str, *, minimum: int, maximum: int) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise CellError(f"“{value}” is not a whole number.") from None
    if not minimum <= number <= maximum:
        raise CellError(f"Enter a whole number from {minimum} to {maximum}.")
    return number


def date(value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CellError(f"“{value}” is not a date: write it as YYYY-MM-DD.") from None


def datetime(value: str) -> dt.datetime | None:
    """A date and time (ISO 8601); without a time zone it is the site's; a date is midnight."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(
            value.replace(" ", "T", 1) if "T" not in value else value
        )
    except ValueError:
        raise CellError(
            f"“{value}” is not a date and time: write it as YYYY-MM-DD HH:MM (or YYYY-MM-DD)."
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def boolean(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"“{value}” is not yes or no.")


class Choices:
    """A choice column: its keys and labels (any case) → key, read once per import."""

    def __init__(self, choices: Sequence[tuple[str, Any]], *, blank: str | None = "") -> None:
        self.blank = blank
        self.listed = ", ".join(str(key) for key, _ in choices)
        self.keys: dict[str, str] = {}
        for key, label in choices:
            self.keys[str(label).lower()] = str(key)
        for key, _ in choices:
            self.keys[str(key).lower()] = str(key)

    def __call__(self, value: str) -> str:
        """The key of a cell's choice; `blank` is what an empty cell is (None: required)."""
        word = value.strip()
        if not word:
            if self.blank is None:
                raise CellError("This column needs a value.")
            return self.blank
        key = self.keys.get(word.lower())
        if key is None:
            raise CellError(f"“{word}” is not one of: {self.listed}.")
        return key


# ---------- writing ----------


def write_decimal(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def write_date(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def write_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return local.isoformat(sep=" ", timespec="seconds" if not local.microsecond else "microseconds")


def write_boolean(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def write_any(value: Any) -> str:
    """An attribute value as stored in JSON (see relationships.attributes) as a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return write_boolean(value)
    if isinstance(value, float):
        return format(Decimal(str(value)), "f")
    return str(value)
