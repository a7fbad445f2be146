"""The audit trail (django-simple-history), read for people: who changed what, and when.

`last_change(obj)` answers "changed by NAME at TIME" for one record. `history_page` merges
the history of several records (streams: a company's own rows, its CTAs', its scores'...)
newest first, a page at a time on a keyset cursor, and turns each row into the fields it
changed, old → new, with the fields' verbose names and readable values (a choice's label, a
related record's name, a user's full name). A page costs a fixed number of queries: two
per stream at most (the newest keys with the id of each one's previous version, then the
page's rows with those versions, per historical model) and one per kind of related record
named on the page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Expression, F, Q, QuerySet
from django.utils import formats, timezone
from django.utils.text import Truncator, capfirst

EMPTY = "—"
VALUE_CHARS = 160
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


class Change(NamedTuple):
    """The last change to a record: who (None when unknown, e.g. a script) and when."""

    user: User | None
    when: dt.datetime


def last_change(obj: models.Model) -> Change | None:
    """Who changed `obj` last and when, from its history; None when it has none (one query)."""
    history = getattr(type(obj), "history", None)
    if history is None or obj.pk is None:
        return None
    row = (
        history.filter(id=obj.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .only("history_date", "history_user")
        .first()
    )
    if row is None:
        return None
    return Change(user=row.history_user, when=row.history_date)


def user_name(user: Any) -> str:
    """A user's full name, or their username when they have none."""
    if user is None:
        return EMPTY
    return user.get_full_name() or user.get_username()


@dataclass(frozen=True)
class HistoryStream:
    """The history rows of one kind of record to show, and how to name them.

    `rows`: a queryset of a historical model, already filtered to the records shown.
    `record`: what the rows are, in words ("Company", "CTA", "Score"). `name_field`: the
    field whose readable value names each record ("name", or "measure" for a score).
    `created_fields`: fields listed (from empty) on a "created" row. `deleted_verb`: the word
    for a deletion ("cleared" for a score). `key_labels`: labels of a JSON field's keys
    ("attributes" → {"edition": "Edition"}).
    """

    rows: QuerySet[Any]
    record: str
    name_field: str = "name"
    created_fields: tuple[str, ...] = ()
    deleted_verb: str = "deleted"
    hidden_fields: frozenset[str] = frozenset()
    key_labels: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    user: User | None
    action: str  # created, changed, deleted (or the stream's word for it)
    record: str
    name: str
    changes: list[FieldChange]
    cursor: str

    @property
    def who(self) -> str:
        return user_name(self.user) if self.user is not None else "System"


@dataclass
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: str | None


# ---------- the cursor ----------


def cursor_for(when: dt.datetime, rank: int, history_id: int) -> str:
    micros = int(when.timestamp() * 1_000_000)
    return f"{micros}.{rank}.{history_id}"


def parse_cursor(value: Any) -> tuple[dt.datetime, int, int] | None:
    """(when, stream rank, history id) from a cursor; None for a missing or malformed one."""
    if not isinstance(value, str):
        return None
    parts = value.split(".")
    if len(parts) != 3 or not all(part.isdigit() and len(part) < 20 for part in parts):
        return None
    micros, rank, history_id = (int(part) for part in parts)
    try:
        when = dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when, rank, history_id


def _before(cursor: tuple[dt.datetime, int, int], rank: int) -> Q:
    """Rows of the stream at `rank` that come after the cursor in (date, rank, id) descending."""
    when, cursor_rank, history_id = cursor
    if rank < cursor_rank:
        return Q(history_date__lte=when)
    if rank > cursor_rank:
        return Q(history_date__lt=when)
    return Q(history_date__lt=when) | Q(history_date=when, history_id__lt=history_id)


# ---------- the page ----------


class _PreviousVersion(Expression):
    """The history id of the version of the same record just before the outer row's, or NULL:

    (SELECT history_id FROM <history table> WHERE id = <row>.id AND (history_date, history_id)
    before the row's ORDER BY history_date DESC, history_id DESC LIMIT 1)

    Written out as the ORM would write the same Subquery of OuterRefs, which it clones,
    resolves and compiles again for every stream of every page (~0.7 ms a stream).
    """

    output_field = models.IntegerField()

    def __init__(self, model: type[models.Model]) -> None:
        super().__init__()
        self.model = model
        self.refs: list[Any] = [F("id"), F("history_date"), F("history_id")]

    def get_source_expressions(self) -> list[Any]:
        return self.refs

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.refs = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        quote = connection.ops.quote_name
        (id_sql, id_params), (date_sql, date_params), (key_sql, key_params) = (
            compiler.compile(ref) for ref in self.refs
        )
        version = quote("previous_version")
        # simple-history's columns are named as its fields.
        record, date, key = (
            f"{version}.{quote(name)}" for name in ("id", "history_date", "history_id")
        )
        sql = (
            f"(SELECT {key} FROM {quote(self.model._meta.db_table)} {version}"
            f" WHERE {record} = {id_sql}"
            f" AND ({date} < {date_sql} OR ({date} = {date_sql} AND {key} < {key_sql}))"
            f" ORDER BY {date} DESC, {key} DESC LIMIT 1)"
        )
        return sql, [*id_params, *date_params, *date_params, *key_params]


def history_page(
    *, streams: Sequence[HistoryStream], after: Any = None, size: int = 20
) -> HistoryPage:
    """`size` entries of the streams' history newest first, starting after cursor `after`.

    Each stream's newest keys are read first (a few columns), and only the rows of the page
    in full, with the versions before them, one query per historical model: a stream's rows
    hold every field of the record, and most of a stream's `size + 1` candidates are not shown.
    """
    cursor = parse_cursor(after)
    keys: list[tuple[tuple[dt.datetime, int, int], str, int | None]] = []
    for rank, stream in enumerate(streams):
        rows = stream.rows
        model = rows.model
        if cursor is not None:
            rows = rows.filter(_before(cursor, rank))
        fetched = (
            rows.annotate(previous_history_id=_PreviousVersion(model))
            .order_by("-history_date", "-history_id")
            .values_list("history_date", "history_id", "history_type", "previous_history_id")[
                : size + 1
            ]
        )
        keys.extend(
            ((when, rank, history_id), history_type, previous_id)
            for when, history_id, history_type, previous_id in fetched
        )
    keys.sort(key=lambda item: item[0], reverse=True)
    shown = keys[:size]
    found = _rows_of(streams, shown)
    plans = []
    for key, history_type, previous_id in shown:
        model = streams[key[1]].rows.model
        row = found.get((model, key[2]))
        if row is None:  # gone between the two reads
            continue
        before = None
        if history_type == "~" and previous_id is not None:
            before = found.get((model, previous_id))
        plans.append((key, row, streams[key[1]], before))
    lookups = _Lookups()
    for _, row, stream, before in plans:
        lookups.want(row, stream, before)
    lookups.fetch()
    entries = [_entry(key, row, stream, before, lookups) for key, row, stream, before in plans]
    next_cursor = None
    if len(keys) > size and shown:
        when, rank, history_id = shown[-1][0]
        next_cursor = cursor_for(when, rank, history_id)
    return HistoryPage(entries=entries, next_cursor=next_cursor)


def _rows_of(
    streams: Sequence[HistoryStream],
    shown: Iterable[tuple[tuple[dt.datetime, int, int], str, int | None]],
) -> dict[tuple[type[models.Model], int], Any]:
    """The shown rows and the version before each changed one, one query per historical
    model, keyed by (model, history id)."""
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for (_, rank, history_id), history_type, previous_id in shown:
        model = streams[rank].rows.model
        wanted[model].add(history_id)
        if history_type == "~" and previous_id is not None:
            wanted[model].add(previous_id)
    found: dict[tuple[type[models.Model], int], Any] = {}
    for model, ids in wanted.items():
        rows = model._default_manager.select_related("history_user").in_bulk(sorted(ids))
        for history_id, row in rows.items():
            found[(model, history_id)] = row
    return found


_HISTORY_MODELS: dict[type[models.Model], Any] = {}


def history_model(model: type[models.Model]) -> Any:
    """The historical model of `model` (`model.history.model`), kept per process:
    simple-history builds a new manager class each time `.history` is read."""
    found = _HISTORY_MODELS.get(model)
    if found is None:
        found = _HISTORY_MODELS[model] = getattr(model, "history").model  # noqa: B009
    return found


def _shown_fields(row: Any, stream: HistoryStream) -> list[models.Field[Any, Any]]:
    """The original model's fields a person edits, as the history row holds them."""
    original = type(row).instance_type
    return [
        f
        for f in original._meta.concrete_fields
        if f.editable
        and not f.primary_key
        and f.name not in stream.hidden_fields
        and hasattr(row, f.attname)
    ]


def _changed(
    row: Any, stream: HistoryStream, before: Any
) -> list[tuple[models.Field[Any, Any], Any, Any]]:
    """(field, old, new) for each shown field that differs between `before` and `row`."""
    fields = _shown_fields(row, stream)
    if row.history_type == "+":
        return [
            (f, None, getattr(row, f.attname))
            for f in fields
            if f.name in stream.created_fields and getattr(row, f.attname) not in (None, "")
        ]
    if row.history_type != "~" or before is None:
        return []
    return [
        (f, getattr(before, f.attname), getattr(row, f.attname))
        for f in fields
        if getattr(before, f.attname) != getattr(row, f.attname)
    ]


class _Lookups:
    """Related records named on a page, fetched in one query per model."""

    def __init__(self) -> None:
        self.wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
        self.found: dict[type[models.Model], dict[Any, models.Model]] = {}

    def want(self, row: Any, stream: HistoryStream, before: Any) -> None:
        name_field = _field(row, stream.name_field)
        if name_field is not None and name_field.is_relation:
            self._add(name_field, getattr(row, name_field.attname))
        for f, old, new in _changed(row, stream, before):
            if f.is_relation:
                self._add(f, old)
                self._add(f, new)

    def _add(self, f: models.Field[Any, Any], value: Any) -> None:
        if value is not None and f.related_model is not None:
            self.wanted[f.related_model].add(value)  # type: ignore[index]

    def fetch(self) -> None:
        for model, ids in self.wanted.items():
            self.found[model] = model._default_manager.in_bulk(sorted(ids))

    def name(self, f: models.Field[Any, Any], value: Any) -> str:
        related = self.found.get(f.related_model, {}).get(value)  # type: ignore[arg-type]
        if related is None:
            return f"#{value} (deleted)"
        if isinstance(related, User):
            return user_name(related)
        return str(related)


def _field(row: Any, name: str) -> models.Field[Any, Any] | None:
    try:
        found = type(row).instance_type._meta.get_field(name)
    except Exception:
        return None
    return found if isinstance(found, models.Field) else None


def readable(f: models.Field[Any, Any] | None, value: Any, lookups: _Lookups) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "":
        return EMPTY
    if f is not None and f.is_relation:
        return lookups.name(f, value)
    if f is not None and f.choices:
        return str(dict(f.flatchoices).get(value, value))
    return _plain(value)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, Decimal):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return Truncator(str(value)).chars(VALUE_CHARS)


def _field_changes(
    row: Any, stream: HistoryStream, before: Any, lookups: _Lookups
) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for f, old, new in _changed(row, stream, before):
        label = capfirst(str(f.verbose_name))
        both_objects = isinstance(old or {}, dict) and isinstance(new or {}, dict)
        if isinstance(f, models.JSONField) and both_objects:
            changes.extend(_key_changes(label, old or {}, new or {}, stream, f.name))
            continue
        changes.append(
            FieldChange(label=label, old=readable(f, old, lookups), new=readable(f, new, lookups))
        )
    return changes


def _key_changes(
    label: str, old: dict[str, Any], new: dict[str, Any], stream: HistoryStream, name: str
) -> list[FieldChange]:
    """A JSON object's changed keys, each under its own label ("Edition", else the key)."""
    labels = stream.key_labels.get(name, {})
    return [
        FieldChange(
            label=labels.get(key) or f"{label}: {key}",
            old=_plain(old.get(key)),
            new=_plain(new.get(key)),
        )
        for key in sorted(set(old) | set(new), key=lambda k: (k not in labels, k))
        if old.get(key) != new.get(key)
    ]


def _entry(
    key: tuple[dt.datetime, int, int],
    row: Any,
    stream: HistoryStream,
    before: Any,
    lookups: _Lookups,
) -> HistoryEntry:
    name_field = _field(row, stream.name_field)
    name_value = getattr(row, name_field.attname if name_field else stream.name_field, "")
    action = ACTIONS.get(row.history_type, "changed")
    if row.history_type == "-":
        action = stream.deleted_verb
    return HistoryEntry(
        when=row.history_date,
        user=row.history_user,
        action=action,
        record=stream.record,
        name=readable(name_field, name_value, lookups),
        changes=_field_changes(row, stream, before, lookups),
        cursor=cursor_for(*key),
    )
