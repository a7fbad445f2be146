"""Backups of the database: an online SQLite copy or a PostgreSQL custom-format dump.

`manage.py backup` writes one into `backups/` (git-ignored) and `manage.py restore FILE`
puts one back; `make backup` and `make restore FILE=…` call them.

- SQLite: SQLite's online backup API, so a copy taken while the application writes is
  consistent; restoring goes through the same API into the live database, so the other
  connections see the old or the new database whole, never a half-copied file.
- PostgreSQL: `pg_dump --format=custom`, restored with `pg_restore --clean --if-exists
  --single-transaction`, so a failed restore leaves the database as it was. The connection
  settings reach the tools through PG* environment variables, never the command line.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".dump"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int


def backup_folder() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", settings.BASE_DIR / "backups"))


def _vendor(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def _private_file(path: Path) -> None:
    # A backup holds every customer record: readable by the owner only.
    path.chmod(0o600)


def backup_create(*, folder: Path | None = None, alias: str = "default") -> Backup:
    """Writes a timestamped backup of the database into `folder` (default `backups/`)."""
    vendor = _vendor(alias)
    folder = folder or backup_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
    suffix = SQLITE_SUFFIX if vendor == "sqlite" else POSTGRES_SUFFIX
    path = folder / f"gainsight-{stamp}{suffix}"
    partial = path.with_name(path.name + ".partial")
    try:
        if vendor == "sqlite":
            _sqlite_backup(alias, partial)
        else:
            _postgres_dump(alias, partial)
        _private_file(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(path=path, size=path.stat().st_size)


def backup_restore(*, path: Path, alias: str = "default") -> None:
    """Replaces the database's contents with the backup at `path` (checked first)."""
    vendor = _vendor(alias)
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    expected = SQLITE_SUFFIX if vendor == "sqlite" else POSTGRES_SUFFIX
    if path.suffix != expected:
        raise BackupError(
            f"{path.name} is not a {'SQLite' if vendor == 'sqlite' else 'PostgreSQL'} backup "
            f"(those end in {expected}); this database is {vendor}."
        )
    if vendor == "sqlite":
        _sqlite_restore(alias, path)
    else:
        _postgres_restore(alias, path)


def _sqlite_backup(alias: str, target: Path) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    source: Any = connection.connection
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # One self-contained file: the live database's WAL mode would come along otherwise.
        copy.execute("PRAGMA journal_mode=DELETE")
        _sqlite_check(copy, target)
    finally:
        copy.close()


def _sqlite_check(database: sqlite3.Connection, path: Path) -> None:
    try:
        (result,) = database.execute("PRAGMA integrity_check").fetchone()
        migrations = database.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
        ).fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path.name} is not a readable SQLite database ({error}).") from error
    if result != "ok":
        raise BackupError(f"{path.name} fails SQLite's integrity check: {result}.")
    if migrations is None:
        raise BackupError(f"{path.name} is not a Gainsight Lite database (no migrations table).")


def _sqlite_restore(alias: str, path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _sqlite_check(source, path)
        connection = connections[alias]
        connection.ensure_connection()
        if connection.in_atomic_block:
            raise BackupError("A restore cannot run inside a transaction.")
        source.backup(connection.connection)
    finally:
        source.close()


def _postgres_environment(alias: str) -> dict[str, str]:
    database = connections[alias].settings_dict
    environment = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if database.get(key):
            environment[variable] = str(database[key])
    return environment


def _postgres_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            f"{name} is not on PATH: install PostgreSQL's client tools (apt-get install "
            "postgresql-client) in the version of the server or newer."
        )
    return tool


def _run(command: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{Path(command[0]).name} failed (exit {result.returncode})"
            + (f": {detail[-1]}" if detail else ".")
        )


def _postgres_dump(alias: str, target: Path) -> None:
    _run(
        [_postgres_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}"],
        _postgres_environment(alias),
    )


def _postgres_restore(alias: str, path: Path) -> None:
    environment = _postgres_environment(alias)
    tool = _postgres_tool("pg_restore")
    # --list reads the archive without touching the database: a wrong file stops here.
    _run([tool, "--list", str(path)], environment)
    connections[alias].close()
    _run(
        [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={environment['PGDATABASE']}",
            str(path),
        ],
        environment,
    )
