"""Exact counts of the book kept by the database: the Home and Cockpit figures without counting.

A `COUNT(*)` of 100k companies, 300k relationships or 200k open CTAs, or a partner's 20k
companies summed, costs tens of milliseconds a page on PostgreSQL, and every one of these
figures is shown as exact. So they are kept in `gainsight_lite_rowcount` (`RowCount`) by
database triggers on the counted tables, the pattern of `search_index`: every write path — the
services, the admin, cascading deletes, CSV imports, the bulk seeds — moves them in the same
transaction, and a rolled-back write rolls its counts back.

What is counted (`COUNTED`), each as rows (kind, owner, detail):

- `company` per partner (`owner` = managed_by, 0 for none): how many, their ARR (in cents:
  exact on SQLite, which stores decimals as floats) and how many at risk; the whole book is
  the sum over owners. An UPDATE of managed_by, arr or status moves them.
- `relationship`: all relationships.
- `cta_open`: the CTAs not closed; an UPDATE of is_closed moves them.
- `company_grant` / `relationship_grant` per (group, permission): the rows of the two guardian
  tables, which are what a partner user may see (`partners.access`).

SQLite runs a row trigger per written row (one writer at a time: one row per count).
PostgreSQL runs statement triggers with transition tables: one addition per count a statement
moved, whatever its rows (a bulk insert of 20k companies adds once per partner), and none when
an UPDATE moved nothing counted. A count is kept in up to `SHARDS` rows ("shares", summed by
readers): a writer adds to a share no other open transaction holds (FOR UPDATE SKIP LOCKED),
so a long transaction (a CSV import) never makes a user saving a company wait for it; only
with all SHARDS shares of one count held at once does a writer wait.

`row_counts_rebuild()` recounts everything from the tables (after a bulk load that dropped the
triggers, or as a repair); `row_counts_check()` lists any count out of step (the
`row_counts` command runs both). `row_counts_install()` puts back missing triggers and runs after
every `migrate` (SQLite drops a table's triggers when a migration rebuilds it) followed by a
rebuild, which also puts the counts right after a test's flush.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, Sum

from gainsight_lite.models import RowCount

TABLE = RowCount._meta.db_table
# PostgreSQL: at most this many rows ("shares") per count.
SHARDS = 8
# Ids per statement of `row_counts_deferred`: within SQLite's limit on parameters.
DEFERRED_BATCH = 500


@dataclass(frozen=True)
class Counted:
    """One count kept by triggers: its table, and SQL over a row `{r}` of that table."""

    kind: str
    table: str
    # Which rows count (all when None).
    where: str | None = None
    owner: str = "0"
    detail: str = "0"
    arr_cents: str = "0"
    at_risk: str = "0"
    # The columns the expressions read: an UPDATE of any other column moves nothing (SQLite
    # has no UPDATE trigger when empty).
    sources: tuple[str, ...] = ()

    def sql(self, expression: str, row: str) -> str:
        return expression.format(r=row)

    def condition(self, row: str) -> str:
        return self.sql(self.where, row) if self.where else "1 = 1"


COMPANY = "company"
RELATIONSHIP = "relationship"
CTA_OPEN = "cta_open"
COMPANY_GRANT = "company_grant"
RELATIONSHIP_GRANT = "relationship_grant"

# Kept equal to companies.models.Company.Status.AT_RISK (a test checks it).
AT_RISK = "at_risk"

COUNTED: dict[str, Counted] = {
    COMPANY: Counted(
        kind=COMPANY,
        table="companies_company",
        owner="COALESCE({r}.managed_by_id, 0)",
        arr_cents="CAST(ROUND(COALESCE({r}.arr, 0) * 100) AS BIGINT)",
        at_risk=f"CASE WHEN {{r}}.status = '{AT_RISK}' THEN 1 ELSE 0 END",
        sources=("managed_by_id", "arr", "status"),
    ),
    RELATIONSHIP: Counted(kind=RELATIONSHIP, table="relationships_relationship"),
    CTA_OPEN: Counted(
        kind=CTA_OPEN, table="success_cta", where="NOT {r}.is_closed", sources=("is_closed",)
    ),
    COMPANY_GRANT: Counted(
        kind=COMPANY_GRANT,
        table="partners_companygroupobjectpermission",
        owner="{r}.group_id",
        detail="{r}.permission_id",
        sources=("group_id", "permission_id"),
    ),
    RELATIONSHIP_GRANT: Counted(
        kind=RELATIONSHIP_GRANT,
        table="partners_relationshipgroupobjectpermission",
        owner="{r}.group_id",
        detail="{r}.permission_id",
        sources=("group_id", "permission_id"),
    ),
}

_COLUMNS = "kind, owner, detail, shard, total, arr_cents, at_risk"
_ADD = (
    f"ON CONFLICT (kind, owner, detail, shard) DO UPDATE SET "
    f"total = {TABLE}.total + excluded.total, "
    f"arr_cents = {TABLE}.arr_cents + excluded.arr_cents, "
    f"at_risk = {TABLE}.at_risk + excluded.at_risk"
)


# ---------- SQLite: a row trigger per write ----------


def _sqlite_add(spec: Counted, row: str, sign: str) -> str:
    return (
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT '{spec.kind}', {spec.sql(spec.owner, row)}, "
        f"{spec.sql(spec.detail, row)}, 0, {sign}1, {sign}({spec.sql(spec.arr_cents, row)}), "
        f"{sign}({spec.sql(spec.at_risk, row)}) WHERE {spec.condition(row)} {_ADD};"
    )


def _sqlite_prune(spec: Counted, row: str) -> str:
    """A count's row gone back to nothing is removed (a deleted partner leaves none)."""
    return (
        f"DELETE FROM {TABLE} WHERE kind = '{spec.kind}' AND owner = {spec.sql(spec.owner, row)} "
        f"AND detail = {spec.sql(spec.detail, row)} AND shard = 0 AND total = 0 "
        f"AND arr_cents = 0 AND at_risk = 0;"
    )


def _sqlite_triggers(spec: Counted) -> dict[str, str]:
    name = f"row_counts_{spec.kind}"
    removed = f"{_sqlite_add(spec, 'old', '-')} {_sqlite_prune(spec, 'old')}"
    triggers = {
        f"{name}_insert": f"CREATE TRIGGER {name}_insert AFTER INSERT ON "
        f"{spec.table} BEGIN {_sqlite_add(spec, 'new', '')} END",
        f"{name}_delete": f"CREATE TRIGGER {name}_delete AFTER DELETE ON "
        f"{spec.table} BEGIN {removed} END",
    }
    if spec.sources:
        changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in spec.sources)
        triggers[f"{name}_update"] = (
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF "
            f"{', '.join(spec.sources)} ON {spec.table} WHEN {changed} BEGIN "
            f"{_sqlite_add(spec, 'new', '')} {removed} END"
        )
    return triggers


# ---------- PostgreSQL: a statement trigger per write, over its transition tables ----------

_PG_EVENTS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
}


def _pg_rows(spec: Counted, source: str, sign: str) -> str:
    return (
        f"SELECT {sign}1 AS total, {spec.sql(spec.owner, 'r')} AS owner, "
        f"{spec.sql(spec.detail, 'r')} AS detail, "
        f"{sign}({spec.sql(spec.arr_cents, 'r')}) AS arr_cents, "
        f"{sign}({spec.sql(spec.at_risk, 'r')}) AS at_risk "
        f"FROM {source} r WHERE {spec.condition('r')}"
    )


# Add to one count: to a share of it no other transaction holds (SKIP LOCKED: this
# transaction's own share, or the first free one), else a new share while there are fewer
# than SHARDS; only when SHARDS transactions hold all of them does it wait, for its own.
_PG_ADD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION row_counts_add(
    k text, o bigint, d bigint, n bigint, a bigint, r bigint
) RETURNS void LANGUAGE plpgsql AS $body$
DECLARE
    target bigint;
BEGIN
    LOOP
        SELECT id INTO target FROM {TABLE}
        WHERE kind = k AND owner = o AND detail = d
        ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            UPDATE {TABLE} SET total = total + n, arr_cents = arr_cents + a,
                at_risk = at_risk + r
            WHERE id = target;
            -- A share gone back to nothing is removed (a deleted partner leaves none).
            DELETE FROM {TABLE}
            WHERE id = target AND total = 0 AND arr_cents = 0 AND at_risk = 0;
            RETURN;
        END IF;
        IF (SELECT count(*) FROM {TABLE} WHERE kind = k AND owner = o AND detail = d)
                >= {SHARDS} THEN
            UPDATE {TABLE} SET total = total + n, arr_cents = arr_cents + a,
                at_risk = at_risk + r
            WHERE kind = k AND owner = o AND detail = d
                AND shard = pg_backend_pid() % {SHARDS};
            RETURN;
        END IF;
        INSERT INTO {TABLE} ({_COLUMNS})
        SELECT k, o, d, s, n, a, r FROM generate_series(0, {SHARDS - 1}) s
        WHERE NOT EXISTS (
            SELECT 1 FROM {TABLE} c
            WHERE c.kind = k AND c.owner = o AND c.detail = d AND c.shard = s
        )
        ORDER BY (s - pg_backend_pid()) % {SHARDS} = 0 DESC, s LIMIT 1
        ON CONFLICT (kind, owner, detail, shard) DO NOTHING;
        IF FOUND THEN
            RETURN;
        END IF;
        -- Another transaction made that share just now: look again.
    END LOOP;
END $body$
"""


def _pg_add(spec: Counted, rows: str) -> str:
    # Grouped by count (one addition each), in a fixed order, and nothing written for a
    # count the statement left as it was (an UPDATE of other columns).
    return (
        f"FOR c IN SELECT owner, detail, SUM(total) AS total, SUM(arr_cents) AS arr_cents, "
        f"SUM(at_risk) AS at_risk FROM ({rows}) d GROUP BY owner, detail "
        f"HAVING SUM(total) <> 0 OR SUM(arr_cents) <> 0 OR SUM(at_risk) <> 0 "
        f"ORDER BY owner, detail LOOP PERFORM row_counts_add('{spec.kind}', c.owner, "
        f"c.detail, c.total::bigint, c.arr_cents::bigint, c.at_risk::bigint); END LOOP;"
    )


def _pg_function(spec: Counted) -> str:
    added = _pg_rows(spec, "new_rows", "")
    removed = _pg_rows(spec, "old_rows", "-")
    # PL/pgSQL plans a statement when it first runs: each branch names only the transition
    # tables its trigger has.
    return (
        f"CREATE OR REPLACE FUNCTION row_counts_{spec.kind}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body$ DECLARE c record; BEGIN "
        f"IF TG_OP = 'INSERT' THEN {_pg_add(spec, added)} "
        f"ELSIF TG_OP = 'DELETE' THEN {_pg_add(spec, removed)} "
        f"ELSE {_pg_add(spec, f'{added} UNION ALL {removed}')} END IF; "
        f"RETURN NULL; END $body$"
    )


def _pg_triggers(spec: Counted) -> dict[str, str]:
    name = f"row_counts_{spec.kind}"
    events = ("insert", "delete", "update") if spec.sources else ("insert", "delete")
    return {
        f"{name}_{event}": f"CREATE TRIGGER {name}_{event} AFTER {_PG_EVENTS[event][0]} ON "
        f"{spec.table} {_PG_EVENTS[event][1]} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION row_counts_{spec.kind}()"
        for event in events
    }


# ---------- installing, dropping, rebuilding, checking ----------


def _triggers(connection: BaseDatabaseWrapper, spec: Counted) -> dict[str, str]:
    return _pg_triggers(spec) if connection.vendor == "postgresql" else _sqlite_triggers(spec)


def _present(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of the row-count triggers the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                ["row_counts_%"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                ["row_counts_%"],
            )
        return {row[0] for row in cursor.fetchall()}


def _supported(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor in ("sqlite", "postgresql")


def row_counts_install(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create whichever row-count trigger is missing and bring the others to their current
    definition (SQLite: dropped and created again; PostgreSQL: the trigger functions
    replaced). Returns the names of the triggers that were missing (idempotent).

    Counts written before a trigger existed are not in the table: rebuild after installing
    any (`row_counts_restore` does both).
    """
    connection = connections[using]
    if not _supported(connection):
        return []
    present = _present(connection)
    created = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_ADD_FUNCTION)
        for spec in COUNTED.values():
            if connection.vendor == "postgresql":
                cursor.execute(_pg_function(spec))
            for name, sql in _triggers(connection, spec).items():
                if name not in present:
                    created.append(name)
                elif connection.vendor == "sqlite":
                    cursor.execute(f"DROP TRIGGER {name}")
                else:
                    continue
                cursor.execute(sql)
    return created


def row_counts_triggers_drop(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Drop the row-count triggers (before a bulk load; the migration's reverse).

    Returns their names. After the load, `row_counts_restore()` puts them back and recounts,
    one grouped query per table instead of a trigger per row. Meant for inside a transaction:
    a failure rolls the drop back with the rows.
    """
    connection = connections[using]
    if not _supported(connection):
        return []
    dropped = []
    present = _present(connection)
    with connection.cursor() as cursor:
        for spec in COUNTED.values():
            for name in _triggers(connection, spec):
                if name in present:
                    on = f" ON {spec.table}" if connection.vendor == "postgresql" else ""
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
                    dropped.append(name)
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP FUNCTION IF EXISTS row_counts_{spec.kind}()")
        if connection.vendor == "postgresql":
            arguments = ", ".join(["text"] + ["bigint"] * 5)
            cursor.execute(f"DROP FUNCTION IF EXISTS row_counts_add({arguments})")
    return dropped


def _recount_sql(spec: Counted) -> str:
    """(kind, owner, detail, total, arr_cents, at_risk) recounted from the table."""
    return (
        f"SELECT '{spec.kind}' AS kind, owner, detail, COUNT(*) AS total, "
        f"COALESCE(SUM(arr_cents), 0) AS arr_cents, COALESCE(SUM(at_risk), 0) AS at_risk "
        f"FROM ({_pg_rows(spec, spec.table, '')}) d GROUP BY owner, detail"
    )


def row_counts_rebuild(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Recount everything from the tables, in one transaction.

    PostgreSQL: the counted tables are locked against writes (SHARE) meanwhile, so no write
    slips between the recount and the new rows; SQLite has one writer at a time anyway.
    """
    connection = connections[using]
    if not _supported(connection):
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(spec.table for spec in COUNTED.values())
            cursor.execute(f"LOCK TABLE {tables} IN SHARE MODE")
            cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")
        for spec in COUNTED.values():
            cursor.execute(
                f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT kind, owner, detail, 0, total, "
                f"arr_cents, at_risk FROM ({_recount_sql(spec)}) c"
            )


def row_counts_restore(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Put back missing triggers and recount: after a bulk load, a `migrate` or a flush."""
    created = row_counts_install(using=using)
    row_counts_rebuild(using=using)
    return created


@dataclass(frozen=True)
class Drift:
    """One count out of step: what is kept, and what a recount of the table gives."""

    kind: str
    owner: int
    detail: int
    kept: tuple[int, int, int]
    actual: tuple[int, int, int]

    def __str__(self) -> str:
        names = ("rows", "ARR cents", "at risk")
        differences = ", ".join(
            f"{name} {kept} kept, {actual} in the table"
            for name, kept, actual in zip(names, self.kept, self.actual, strict=True)
            if kept != actual
        )
        return f"{self.kind} (owner {self.owner}, detail {self.detail}): {differences}"


@dataclass
class Check:
    """What `row_counts_check` found: triggers missing, counts out of step."""

    missing: list[str] = field(default_factory=list)
    drifts: list[Drift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.drifts

    def lines(self) -> list[str]:
        return [f"trigger {name} is missing" for name in self.missing] + [
            str(drift) for drift in self.drifts
        ]


Counts = dict[tuple[str, int, int], tuple[int, int, int]]


def _counts(rows: list[tuple[Any, ...]]) -> Counts:
    return {
        (kind, int(owner), int(detail)): (int(total), int(arr_cents), int(at_risk))
        for kind, owner, detail, total, arr_cents, at_risk in rows
    }


def row_counts_check(*, using: str = DEFAULT_DB_ALIAS) -> Check:
    """Compare every count with a recount of its table, and look for missing triggers.

    PostgreSQL, outside a transaction: in one snapshot (REPEATABLE READ), so writes going on
    meanwhile show as no difference. Other databases: nothing to check.
    """
    connection = connections[using]
    check = Check()
    if not _supported(connection):
        return check
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and own_transaction:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        present = _present(connection)
        check.missing = [
            name
            for spec in COUNTED.values()
            for name in _triggers(connection, spec)
            if name not in present
        ]
        cursor.execute(
            f"SELECT kind, owner, detail, SUM(total), SUM(arr_cents), SUM(at_risk) FROM {TABLE} "
            f"GROUP BY kind, owner, detail"
        )
        kept = _counts(cursor.fetchall())
        actual: Counts = {}
        for spec in COUNTED.values():
            cursor.execute(_recount_sql(spec))
            actual.update(_counts(cursor.fetchall()))
    for key in sorted(kept.keys() | actual.keys()):
        had, has = kept.get(key, (0, 0, 0)), actual.get(key, (0, 0, 0))
        if had != has:
            check.drifts.append(Drift(key[0], key[1], key[2], had, has))
    return check


@contextlib.contextmanager
def row_counts_deferred(kind: str, ids: Sequence[int]) -> Iterator[None]:
    """SQLite: count rows of `kind` inserted in bulk (their ids) in one statement at the end.

    A row trigger makes SQLite open a statement journal for each row an `executemany`
    inserts (~50 µs a row: an import of 50,000 companies 2.5 s slower). Inside the caller's
    transaction the table's INSERT trigger is dropped, the rows inserted, counted by one
    grouped statement per chunk of ids and the trigger put back: a rollback undoes all of it.
    Only inserts of exactly these rows may happen in the block (updates and deletes are still
    counted by their triggers). PostgreSQL: nothing to do (a statement trigger per batch).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    spec = COUNTED[kind]
    name = f"row_counts_{kind}_insert"
    deferred = connection.vendor == "sqlite" and bool(ids) and name in _present(connection)
    if deferred:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        if deferred:
            with connection.cursor() as cursor:
                for start in range(0, len(ids), DEFERRED_BATCH):
                    chunk = list(ids[start : start + DEFERRED_BATCH])
                    marks = ", ".join(["%s"] * len(chunk))
                    rows = f"{_pg_rows(spec, spec.table, '')} AND r.id IN ({marks})"
                    cursor.execute(
                        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT '{kind}', owner, detail, 0, "
                        f"COUNT(*), SUM(arr_cents), SUM(at_risk) FROM ({rows}) d "
                        f"GROUP BY owner, detail {_ADD}",
                        chunk,
                    )
                cursor.execute(_sqlite_triggers(spec)[name])


# ---------- reading ----------


@dataclass(frozen=True)
class Book:
    """The companies of one partner: how many, their ARR, how many at risk."""

    total: int = 0
    arr: Decimal = Decimal(0)
    at_risk: int = 0


def table_total(kind: str) -> int:
    """All rows counted as `kind` (COMPANY, RELATIONSHIP, CTA_OPEN): one query of a few rows."""
    found = RowCount.objects.filter(kind=kind).aggregate(total=Sum("total"))
    return int(found["total"] or 0)


def grant_total(kind: str, *, group_id: int, permission_id: Any) -> int:
    """How many records `kind` (COMPANY_GRANT, RELATIONSHIP_GRANT) grants the group with
    `permission_id` (an id, or a subquery giving it)."""
    found = RowCount.objects.filter(kind=kind, owner=group_id, detail=permission_id).aggregate(
        total=Sum("total")
    )
    return int(found["total"] or 0)


def partner_book(partner_id: int) -> Book:
    """The companies `partner_id` manages (`Company.managed_by`): one query."""
    found = RowCount.objects.filter(Q(kind=COMPANY, owner=partner_id)).aggregate(
        total=Sum("total"), arr_cents=Sum("arr_cents"), at_risk=Sum("at_risk")
    )
    return Book(
        total=int(found["total"] or 0),
        arr=Decimal(int(found["arr_cents"] or 0)) / 100,
        at_risk=int(found["at_risk"] or 0),
    )


def restore_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: put back triggers a table rebuild dropped (SQLite's ALTER TABLE by copy)
    and recount (after a flush too: SQLite's DELETE of each table ran the triggers in an
    order that may have left the counts below zero)."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if not _supported(connection):
        return
    if ("gainsight_lite", "0001_row_counts") in MigrationRecorder(connection).applied_migrations():
        row_counts_restore(using=using)
