"""`manage.py row_counts [--rebuild]`: compare the book's running counts with the tables.

Every count kept by the triggers of `gainsight_lite.row_counts` (companies per partner with
their ARR and at-risk count, relationships, open CTAs, partner grants) is compared with a
recount of its table, and the triggers with the ones that should exist. Each difference is
printed; the exit status is 1 when any was found, unless `--rebuild` put the triggers back and
recounted everything (then checked again).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from gainsight_lite.row_counts import row_counts_check, row_counts_restore


class Command(BaseCommand):
    help = "Compare the running counts (Home, Cockpit) with the tables; --rebuild recounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Put back missing triggers and recount every count from the tables.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        found = row_counts_check(using=using)
        for line in found.lines():
            self.stdout.write(line)
        if found.ok:
            self.stdout.write("The counts agree with the tables.")
            return
        if not options["rebuild"]:
            raise CommandError(f"{len(found.lines())} difference(s); --rebuild recounts.")
        row_counts_restore(using=using)
        again = row_counts_check(using=using)
        if not again.ok:
            raise CommandError("Still out of step after the rebuild: " + "; ".join(again.lines()))
        self.stdout.write("Rebuilt: the counts agree with the tables.")
