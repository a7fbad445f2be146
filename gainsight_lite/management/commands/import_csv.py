"""`manage.py import_csv KIND FILE [--dry-run] [--skip-invalid]`: import a CSV file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gainsight_lite.csvio.importers import KINDS, Report, run_import

# Files with more rows than this get a progress bar on stderr.
PROGRESS_FROM = 2_000
BAR_WIDTH = 30


class ProgressBar:
    """A one-line bar on stderr, redrawn with a carriage return: "Writing [=====>    ]  52%"."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown: tuple[str, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        percent = 100 * done // total if total else 100
        if self.shown == (phase, percent):
            return
        if self.shown is not None and self.shown[0] != phase:
            self.stream.write("\n")
        filled = BAR_WIDTH * percent // 100
        bar = "=" * filled + (">" if filled < BAR_WIDTH else "") + " " * (BAR_WIDTH - filled - 1)
        self.stream.write(f"\r{phase:<9} [{bar[:BAR_WIDTH]}] {percent:3d}% ({done}/{total})")
        self.stream.flush()
        self.shown = (phase, percent)

    def finish(self) -> None:
        if self.shown is not None:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = None


class Command(BaseCommand):
    help = (
        "Import a CSV file (UTF-8, a header line naming the columns) of one KIND: "
        + ", ".join(KINDS)
        + ". Any bad row stops the whole import unless --skip-invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS), help="What the file holds.")
        parser.add_argument("file", help="The CSV file to import.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and say what it would do; write nothing.",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the good rows and report the bad ones (default: a bad row stops all).",
        )
        parser.add_argument(
            "--user",
            help="The username recorded as having made the changes (the audit trail).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        by = None
        if options["user"]:
            by = User.objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(f"No user has the username “{options['user']}”.")
        bar = ProgressBar(sys.stderr)
        try:
            report = run_import(
                options["kind"],
                data,
                by=by,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                progress=bar,
            )
        finally:
            bar.finish()
        self.print_report(report)
        if report.blocked:
            raise CommandError(report.summary())

    def print_report(self, report: Report) -> None:
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for problem in report.errors:
            where = f"line {problem.line}" if problem.line else "file"
            column = f", {problem.column}" if problem.column else ""
            self.stderr.write(f"{where}{column}: {problem.message}")
        if report.blocked:
            return
        self.stdout.write(
            ("Dry run, nothing written. " if report.dry_run else "")
            + report.summary()
            + f" ({report.seconds:.2f} s)"
        )
