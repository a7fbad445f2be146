"""The trigram index behind search and the as-you-type pickers: "contains" at any book size.

`icontains` reads every row: at 100k companies a search took hundreds of milliseconds. Here the
text that search looks into — company names and external IDs, relationship names, people's full
names and emails — is indexed by trigrams:

- SQLite: one FTS5 table per searched table (`tokenize="trigram"`, case-insensitive), an
  external-content table (it stores no copy of the text) kept in step by triggers on the searched
  table, so every write path — the services, the admin, cascading deletes, bulk inserts of the
  imports and the large demo — updates it in the same transaction. `search_index_rebuild()`
  rebuilds it from the tables (a bulk load that wants to skip the triggers, or a repair).
  Rebuilding a table (SQLite's ALTER TABLE by copy, in a later migration) drops its triggers:
  `search_index_install()` runs after every `migrate` and puts back what is missing.
- PostgreSQL: `pg_trgm` GIN indexes on the same UPPER(...) expressions `icontains` compiles to,
  so the ORM's own lookups use them.

Queries of one or two characters have no trigram: they match names that start with the text
(`istartswith`), which the NOCASE indexes (SQLite) and the trigram indexes (PostgreSQL) answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IContains

# Below this many characters a query has no trigram: prefix matches only.
TRIGRAM_LENGTH = 3


@dataclass(frozen=True)
class IndexedTable:
    """One searched table: its FTS5 table (SQLite) and the text columns it indexes."""

    key: str
    table: str
    fts: str
    # Column name in the FTS table -> SQL expression over the searched table's row.
    columns: tuple[tuple[str, str], ...]
    # Plain columns the expressions read: an UPDATE of any other column leaves the index alone.
    sources: tuple[str, ...]

    @property
    def source_view(self) -> str | None:
        """A view giving computed columns (a full name) their names for FTS5's `rebuild`."""
        if all(name == expression for name, expression in self.columns):
            return None
        return f"{self.fts}_source"

    @property
    def content(self) -> str:
        return self.source_view or self.table


INDEXED_TABLES: dict[str, IndexedTable] = {
    "company": IndexedTable(
        key="company",
        table="companies_company",
        fts="companies_company_search",
        columns=(("name", "name"), ("external_id", "external_id")),
        sources=("name", "external_id"),
    ),
    "person": IndexedTable(
        key="person",
        table="companies_person",
        fts="companies_person_search",
        # The same text as Concat("first_name", Value(" "), "last_name") in the ORM.
        columns=(("full_name", "first_name || ' ' || last_name"), ("email", "email")),
        sources=("first_name", "last_name", "email"),
    ),
    "relationship": IndexedTable(
        key="relationship",
        table="relationships_relationship",
        fts="relationships_relationship_search",
        columns=(("name", "name"),),
        sources=("name",),
    ),
}

# PostgreSQL: GIN trigram indexes on exactly what `icontains`/`istartswith` compile to.
PG_TRIGRAM_INDEXES: dict[str, tuple[tuple[str, str], ...]] = {
    "company": (
        ("companies_company_name_trgm", "UPPER((name)::text)"),
        ("companies_company_external_id_trgm", "UPPER((external_id)::text)"),
    ),
    "person": (
        ("companies_person_first_name_trgm", "UPPER((first_name)::text)"),
        ("companies_person_last_name_trgm", "UPPER((last_name)::text)"),
        ("companies_person_email_trgm", "UPPER((email)::text)"),
        ("companies_person_full_name_trgm", "UPPER(first_name || ' ' || last_name)"),
    ),
    "relationship": (("relationships_relationship_name_trgm", "UPPER((name)::text)"),),
}

# SQLite: NOCASE indexes, which the LIKE 'ab%' of `istartswith` can search (case-insensitive).
SQLITE_PREFIX_INDEXES: dict[str, tuple[tuple[str, str], ...]] = {
    "company": (
        ("companies_company_name_nocase", "name"),
        ("companies_company_external_id_nocase", "external_id"),
    ),
    "person": (
        ("companies_person_first_name_nocase", "first_name"),
        ("companies_person_last_name_nocase", "last_name"),
        ("companies_person_email_nocase", "email"),
    ),
    "relationship": (("relationships_relationship_name_nocase", "name"),),
}


def _row(spec: IndexedTable, prefix: str) -> tuple[str, str]:
    names = ", ".join(name for name, _ in spec.columns)
    values = ", ".join(
        _qualified(expression, spec.sources, prefix) for _, expression in spec.columns
    )
    return names, values


def _qualified(expression: str, sources: tuple[str, ...], prefix: str) -> str:
    for column in sources:
        expression = re.sub(rf"\b{column}\b", f"{prefix}.{column}", expression)
    return expression


def _sqlite_statements(spec: IndexedTable) -> list[str]:
    names, new_values = _row(spec, "new")
    _, old_values = _row(spec, "old")
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in spec.sources)
    statements = []
    if spec.source_view:
        select = ", ".join(f"{expression} AS {name}" for name, expression in spec.columns)
        statements.append(
            f"CREATE VIEW IF NOT EXISTS {spec.source_view} AS SELECT id, {select} FROM {spec.table}"
        )
    statements += [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {spec.fts} USING fts5({names}, "
        f"content='{spec.content}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {spec.fts}_insert AFTER INSERT ON {spec.table} BEGIN "
        f"INSERT INTO {spec.fts}(rowid, {names}) VALUES (new.id, {new_values}); END",
        f"CREATE TRIGGER IF NOT EXISTS {spec.fts}_delete AFTER DELETE ON {spec.table} BEGIN "
        f"INSERT INTO {spec.fts}({spec.fts}, rowid, {names}) "
        f"VALUES ('delete', old.id, {old_values}); END",
        f"CREATE TRIGGER IF NOT EXISTS {spec.fts}_update AFTER UPDATE OF "
        f"{', '.join(spec.sources)} ON {spec.table} WHEN {changed} BEGIN "
        f"INSERT INTO {spec.fts}({spec.fts}, rowid, {names}) "
        f"VALUES ('delete', old.id, {old_values}); "
        f"INSERT INTO {spec.fts}(rowid, {names}) VALUES (new.id, {new_values}); END",
    ]
    statements += [
        f"CREATE INDEX IF NOT EXISTS {name} ON {spec.table} ({column} COLLATE NOCASE)"
        for name, column in SQLITE_PREFIX_INDEXES[spec.key]
    ]
    return statements


def _sqlite_missing(connection: BaseDatabaseWrapper, spec: IndexedTable) -> bool:
    """Whether any part of the table's index (FTS table, view, triggers) is missing."""
    wanted = {spec.fts, f"{spec.fts}_insert", f"{spec.fts}_delete", f"{spec.fts}_update"}
    if spec.source_view:
        wanted.add(spec.source_view)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name IN ({})".format(
                ", ".join(["%s"] * len(wanted))
            ),
            sorted(wanted),
        )
        found = {row[0] for row in cursor.fetchall()}
    return found != wanted


def search_index_install(
    *, keys: tuple[str, ...] | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Create whatever part of the search index is missing; rebuild a table's index if so.

    Returns the keys of the tables whose index was (re)built. Idempotent: run by the
    migrations that create the index and after every `migrate`.
    """
    connection = connections[using]
    built = []
    for key in keys or tuple(INDEXED_TABLES):
        spec = INDEXED_TABLES[key]
        if connection.vendor == "sqlite":
            if not _sqlite_missing(connection, spec):
                continue
            with connection.cursor() as cursor:
                for statement in _sqlite_statements(spec):
                    cursor.execute(statement)
                cursor.execute(f"INSERT INTO {spec.fts}({spec.fts}) VALUES ('rebuild')")
            built.append(key)
        elif connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                for name, expression in PG_TRIGRAM_INDEXES[key]:
                    cursor.execute(
                        f"CREATE INDEX IF NOT EXISTS {name} ON {spec.table} "
                        f"USING gin (({expression}) gin_trgm_ops)"
                    )
            built.append(key)
    return built


def search_index_uninstall(
    *, keys: tuple[str, ...] | None = None, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Drop the search index of these tables (the migrations' reverse)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        for key in keys or tuple(INDEXED_TABLES):
            spec = INDEXED_TABLES[key]
            if connection.vendor == "sqlite":
                for suffix in ("insert", "delete", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {spec.fts}_{suffix}")
                cursor.execute(f"DROP TABLE IF EXISTS {spec.fts}")
                if spec.source_view:
                    cursor.execute(f"DROP VIEW IF EXISTS {spec.source_view}")
                for name, _ in SQLITE_PREFIX_INDEXES[key]:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")
            elif connection.vendor == "postgresql":
                for name, _ in PG_TRIGRAM_INDEXES[key]:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")


def search_index_rebuild(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Rebuild the whole search index from the tables: the one call for bulk paths and repairs.

    PostgreSQL keeps its GIN indexes itself: nothing to do there.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    search_index_install(using=using)
    with connection.cursor() as cursor:
        for spec in INDEXED_TABLES.values():
            cursor.execute(f"INSERT INTO {spec.fts}({spec.fts}) VALUES ('rebuild')")


def search_index_triggers_drop(*, using: str = DEFAULT_DB_ALIAS) -> tuple[str, ...]:
    """Before a bulk load (SQLite): drop the triggers that index each inserted row.

    Returns the keys of the tables whose triggers it dropped: after the load,
    `search_index_install(keys=...)` puts them back and rebuilds those tables' index in one
    pass each (FTS5's `rebuild`), several times faster than a trigger program and a trigram
    split per row. Meant for inside a transaction: a failure rolls the drop back with the rows.
    PostgreSQL: nothing to drop (its GIN indexes are the tables' own).
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return ()
    keys = tuple(
        key for key, spec in INDEXED_TABLES.items() if not _sqlite_missing(connection, spec)
    )
    with connection.cursor() as cursor:
        for key in keys:
            for suffix in ("insert", "delete", "update"):
                cursor.execute(f"DROP TRIGGER {INDEXED_TABLES[key].fts}_{suffix}")
    return keys


def search_index_check(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The keys of the tables whose index disagrees with their rows (SQLite; [] elsewhere)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    broken = []
    with connection.cursor() as cursor:
        for key, spec in INDEXED_TABLES.items():
            if _sqlite_missing(connection, spec):
                broken.append(key)
                continue
            try:
                cursor.execute(
                    f"INSERT INTO {spec.fts}({spec.fts}, rank) VALUES ('integrity-check', 1)"
                )
            except DatabaseError:  # SQLite reports an index out of step as an error
                broken.append(key)
    return broken


def _fts_phrase(query: str, column: str | None) -> str:
    # One quoted phrase: every character literal (a quote doubled), matched as a substring.
    phrase = '"' + query.replace('"', '""') + '"'
    return f"{column} : {phrase}" if column else phrase


def contains(
    key: str, query: str, *, column: str | None = None, using: str = DEFAULT_DB_ALIAS
) -> Q:
    """Rows of `key` whose indexed text (or one `column` of it) contains `query`, any case.

    `query` has at least TRIGRAM_LENGTH characters (shorter ones have no trigram).
    """
    spec = INDEXED_TABLES[key]
    if connections[using].vendor == "sqlite":
        matches = RawSQL(
            f"SELECT rowid FROM {spec.fts} WHERE {spec.fts} MATCH %s",
            [_fts_phrase(query, column)],
        )
        return Q(pk__in=matches)
    condition = Q()
    for name, _ in spec.columns:
        if column not in (None, name):
            continue
        if name == "full_name":
            # UPPER((first_name || ' ' || last_name)::text): the full-name trigram index.
            condition |= Q(IContains(_full_name(), query))
        else:
            condition |= Q(**{f"{name}__icontains": query})
    return condition


def _full_name() -> Func:
    return Func(
        F("first_name"),
        F("last_name"),
        template="(%(expressions)s)",
        arg_joiner=" || ' ' || ",
        output_field=TextField(),
    )


# The migration that creates each table's index: the index is put back only where it applies.
INSTALLED_BY = {
    "company": ("companies", "0004_search_index"),
    "person": ("companies", "0004_search_index"),
    "relationship": ("relationships", "0004_search_index"),
}


def restore_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: put back triggers a table rebuild dropped (SQLite's ALTER TABLE by copy)."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    applied = MigrationRecorder(connection).applied_migrations()
    keys = tuple(key for key, migration in INSTALLED_BY.items() if migration in applied)
    if keys:
        search_index_install(keys=keys, using=using)


# What a one- or two-character query is matched against: the start of these fields.
PREFIX_FIELDS: dict[str, tuple[str, ...]] = {
    "company": ("name", "external_id"),
    "person": ("first_name", "last_name", "email"),
    "relationship": ("name",),
}


def text_matches(key: str, query: str) -> Q:
    """Rows of `key` whose searched text contains `query` (starts with it under three
    characters, which have no trigram): the filter of every as-you-type picker and list."""
    if len(query) >= TRIGRAM_LENGTH:
        return contains(key, query)
    condition = Q()
    for name in PREFIX_FIELDS[key]:
        condition |= Q(**{f"{name}__istartswith": query})
    return condition
