"""`manage.py backup`: a timestamped backup in backups/ (see gainsight_lite.backups)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gainsight_lite.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back the database up into backups/ (SQLite: an online copy; PostgreSQL: a pg_dump "
        "custom-format archive). Safe while the application runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, default=None, help="Folder for the backup (default backups/)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = backup_create(folder=options["output"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"Backed up to {backup.path} ({backup.size / 1024:,.0f} KiB).")
        )
