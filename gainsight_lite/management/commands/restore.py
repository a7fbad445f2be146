"""`manage.py restore FILE`: put a backup made by `manage.py backup` back, after asking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from gainsight_lite.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Replace every record in the database with a backup made by `manage.py backup`. "
        "Asks first unless --no-input is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The backup file, e.g. backups/gainsight-….")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no backup file at {path}.")
        target = connection.settings_dict["NAME"]
        if options["interactive"]:
            answer = input(
                f"This replaces every record in the {connection.vendor} database {target} with "
                f"the backup {path}.\nType 'yes' to continue, anything else to stop: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled: nothing was changed.")
        try:
            backup_restore(path=path)
        except BackupError as error:
            raise CommandError(f"{error} Nothing was changed.") from error
        self.stdout.write(self.style.SUCCESS(f"Restored {target} from {path}."))
