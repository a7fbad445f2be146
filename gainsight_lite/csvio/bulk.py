"""Fast bulk writes for imports: INSERT and UPDATE with executemany, ids reserved up front.

The ORM's bulk_create prepares every value of every row through its field (a large share of
an import's time at 50,000 rows); here each column gets its adapter once and the rows go to
the database driver as tuples. Values are the model's own Python values (Decimal, date,
aware datetime...), converted exactly as the ORM would convert them for this database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models

BATCH = 500
# Ids per INSERT … SELECT of history_copy, within the database's limit of parameters.
HISTORY_BATCH = 5_000

Adapter = Callable[[Any], Any]


def _adapter(field: models.Field[Any, Any]) -> Adapter | None:
    """How a column's Python value becomes what the driver takes, as the ORM does it.

    None where the value goes to the driver as it is.
    """
    ops = connection.ops
    internal = field.get_internal_type()
    if internal == "DecimalField":
        digits, places = field.max_digits, field.decimal_places  # type: ignore[attr-defined]
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    if internal == "DateTimeField":
        # An import writes one "now" into every row: convert each distinct value once.
        seen: dict[Any, Any] = {}

        def adapt_datetime(value: Any) -> Any:
            if value not in seen:
                seen[value] = ops.adapt_datetimefield_value(value)
            return seen[value]

        return adapt_datetime
    if internal == "DateField":
        return ops.adapt_datefield_value
    if internal == "JSONField":
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _adapters(model: type[models.Model], columns: Sequence[str]) -> list[Adapter | None]:
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    adapters = [_adapter(by_attname[column]) for column in columns]  # type: ignore[arg-type]
    if connection.vendor == "sqlite":
        # The driver takes Decimal as it is (Django registers its adapter).
        kinds = [by_attname[column].get_internal_type() for column in columns]
        adapters = [
            None if kind == "DecimalField" else adapter
            for kind, adapter in zip(kinds, adapters, strict=True)
        ]
    return adapters


def _db_columns(model: type[models.Model], columns: Sequence[str]) -> list[str]:
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    return [quote(by_attname[column].column) for column in columns]


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for rows about to be inserted (inside the transaction).

    PostgreSQL takes them from the table's sequence. SQLite's write lock is held from the
    start of the transaction (IMMEDIATE), so the ids after the highest one are ours.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk_column = model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk_column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT MAX({quote(pk_column)}) FROM {quote(table)}")
        top = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            # AUTOINCREMENT tables remember ids of deleted rows: never hand those out again.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            remembered = cursor.fetchone()
            if remembered is not None:
                top = max(top, remembered[0] or 0)
        return list(range(top + 1, top + 1 + count))


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """INSERT `rows` (tuples in the order of `columns`, attnames) into the model's table."""
    adapters = _adapters(model, columns)
    names = ", ".join(_db_columns(model, columns))
    if connection.vendor == "postgresql":
        return _copy(model, names, adapters, rows)
    marks = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) VALUES ({marks})"
    )
    return _run(sql, adapters, rows)


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """UPDATE the rows whose primary key is the last value of each tuple; `columns` first."""
    adapters = [*_adapters(model, columns), None]
    sets = ", ".join(f"{name} = %s" for name in _db_columns(model, columns))
    pk_column = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
    sql = (
        f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {sets} "
        f"WHERE {pk_column} = %s"
    )
    return _run(sql, adapters, rows)


def _copy(
    model: type[models.Model], names: str, adapters: list[Adapter | None], rows: Iterable[Any]
) -> int:
    """PostgreSQL: the rows through COPY … FROM STDIN, several times faster than INSERTs."""
    converted = [(index, adapt) for index, adapt in enumerate(adapters) if adapt is not None]
    count = 0
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            if converted:
                row = list(row)
                for index, adapt in converted:
                    row[index] = adapt(row[index])
            copy.write_row(row)
            count += 1
    return count


def _run(sql: str, adapters: list[Adapter | None], rows: Iterable[Sequence[Any]]) -> int:
    converted = [(index, adapt) for index, adapt in enumerate(adapters) if adapt is not None]
    count = 0
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            if converted:
                row = list(row)
                for index, adapt in converted:
                    row[index] = adapt(row[index])
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def history_copy(
    model: type[models.Model],
    ids: Sequence[int],
    *,
    by: User | None,
    history_type: str,
    reason: str,
    when: dt.datetime,
) -> int:
    """Audit-trail rows (django-simple-history) for records just written in bulk.

    Each record's values are copied from its row as stored, by the database (one
    INSERT … SELECT per chunk of ids): no Python value per column and row, and the history
    holds exactly what was written. Nothing is written when the model keeps no history.
    """
    manager = getattr(model, "history", None)
    if manager is None or not ids:
        return 0
    historical = manager.model
    ops = connection.ops
    quote = ops.quote_name
    stored = {field.attname: field.column for field in model._meta.concrete_fields}
    given = {
        "history_date": ops.adapt_datetimefield_value(when),
        "history_type": history_type,
        "history_change_reason": reason,
        "history_user_id": by.pk if by is not None else None,
    }
    names: list[str] = []
    selected: list[str] = []
    params: list[Any] = []
    for field in historical._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(quote(field.column))
        if field.attname in given:
            selected.append("%s")
            params.append(given[field.attname])
        elif field.attname in stored:
            selected.append(quote(stored[field.attname]))
        else:
            selected.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    pk_column = quote(model._meta.pk.column)  # type: ignore[union-attr]
    head = (
        f"INSERT INTO {quote(historical._meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(selected)} FROM {quote(model._meta.db_table)} WHERE {pk_column} IN "
    )
    size = min(HISTORY_BATCH, (connection.features.max_query_params or HISTORY_BATCH) - len(params))
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), size):
            chunk = list(ids[start : start + size])
            # In id order, as the rows were written.
            cursor.execute(
                f"{head}({', '.join(['%s'] * len(chunk))}) ORDER BY {pk_column}",
                [*params, *chunk],
            )
            count += len(chunk)
    return count


def model_defaults(model: type[models.Model]) -> dict[str, Any]:
    """Each concrete field's default value, by attname (the primary key left out)."""
    return {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not field.primary_key
    }


@contextlib.contextmanager
def search_index_deferred(key: str, ids: Sequence[int]) -> Iterator[None]:
    """Index rows inserted in bulk into the SQLite search index in one statement.

    The search index (gainsight_lite.search_index) is kept by an AFTER INSERT trigger per row;
    at 50,000 rows that trigger costs as much as the rest of the import, while one
    INSERT … SELECT of the same rows into the FTS table is ten times cheaper. Inside the
    import's transaction the trigger is dropped, the rows inserted, indexed at once and the
    trigger put back: a rollback undoes all of it. Nothing changes where there is no such
    trigger (PostgreSQL, or an index not installed).
    """
    spec = _search_spec(key)
    trigger_sql = None
    if spec is not None and connection.vendor == "sqlite" and ids:
        trigger = f"{spec.fts}_insert"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger]
            )
            found = cursor.fetchone()
            if found is not None:
                trigger_sql = found[0]
                cursor.execute(f"DROP TRIGGER {trigger}")
    try:
        yield
    finally:
        if trigger_sql is not None:
            assert spec is not None
            names = ", ".join(name for name, _ in spec.columns)
            values = ", ".join(expression for _, expression in spec.columns)
            with connection.cursor() as cursor:
                for chunk_start in range(0, len(ids), BATCH):
                    chunk = list(ids[chunk_start : chunk_start + BATCH])
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"INSERT INTO {spec.fts}(rowid, {names}) SELECT id, {values} "
                        f"FROM {spec.table} WHERE id IN ({marks})",
                        chunk,
                    )
                cursor.execute(trigger_sql)


def _search_spec(key: str) -> Any:
    try:
        from gainsight_lite.search_index import INDEXED_TABLES
    except ImportError:
        return None
    return INDEXED_TABLES.get(key)
