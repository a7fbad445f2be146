"""Stale edits: a form carries the version of the record it edits, and a save of an older
version is refused instead of overwriting what someone else saved meanwhile.

The version is the record's `updated_at` (every save moves it; health-score updates do not,
being `.update()`s of one column), written into the form as `version_of(record)` in a hidden
`version` field. The services take `version=` and call `version_check` inside their
transaction: the row is locked, its stored version compared, and a mismatch refused with
"Changed by NAME at TIME — reload to see it." (the name from the audit trail, else from the
record's `updated_by`). Writes without a form (imports, scripts) pass no version.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils import dateformat, timezone

from gainsight_lite.history import last_change, user_name

VERSION_FIELD = "version"
TIME_FORMAT = "j M Y H:i"


def version_of(record: Any) -> str:
    """The version of `record` a form carries: its last save time, to the microsecond."""
    updated_at = getattr(record, "updated_at", None)
    return updated_at.isoformat() if updated_at is not None else ""


class VersionField(forms.CharField):
    """The hidden field with the version the form was drawn from."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)


def stale_message(record: models.Model, stored_at: Any = None) -> str:
    """ "Changed by NAME at TIME — reload to see it." for the record's last change."""
    change = last_change(record)
    user = change.user if change is not None and change.user is not None else None
    if user is None:
        user = getattr(record, "updated_by", None)
    when = change.when if change is not None else stored_at
    who = user_name(user) if user is not None else "someone else"
    at = f" at {dateformat.format(timezone.localtime(when), TIME_FORMAT)}" if when else ""
    return f"Changed by {who}{at} — reload to see it."


def version_check(record: models.Model, version: str | None) -> None:
    """Refuse (ValidationError) to save `record` when it changed since `version`.

    Call inside the writing transaction: the row stays locked (PostgreSQL; SQLite has one
    writer) until the save, so no other save lands between the check and this one. None (no
    form) skips the check; an empty version (a form without one) is refused as stale.
    """
    if version is None:
        return
    stored = (
        type(record)
        ._default_manager.select_for_update()
        .filter(pk=record.pk)
        .values_list("updated_at", flat=True)
        .first()
    )
    if stored is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: "This record was deleted meanwhile — reload to see it."}
        )
    if stored.isoformat() != version:
        fresh = type(record)._default_manager.filter(pk=record.pk).first() or record
        raise ValidationError({NON_FIELD_ERRORS: stale_message(fresh, stored)})
