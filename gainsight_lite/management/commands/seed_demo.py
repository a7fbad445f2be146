"""`manage.py seed_demo`: load the demo book of business and print the demo logins."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import transaction

from gainsight_lite.demo import (
    DEFAULT_COMPANIES,
    DEFAULT_SEED,
    DEMO_LOGINS,
    MIN_COMPANIES,
    demo_book_build,
    demo_book_delete,
    demo_book_loaded,
    demo_counts,
)
from gainsight_lite.demo_large import (
    LARGE_COMPANIES,
    MIN_LARGE_COMPANIES,
    large_book_build,
    large_book_layouts_refresh,
    large_book_loaded,
    large_counts,
)


class ProgressLine:
    """One line that updates in place on a terminal; plain lines at each quarter otherwise."""

    def __init__(self, out: OutputWrapper, *, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self.tty = out.isatty()
        self.label: str | None = None
        self.open = False  # a terminal line is waiting for its newline

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.quiet:
            return
        text = f"{label} {done}/{total}"
        if self.tty:
            if label != self.label:
                self.finish()
            # \r back to the start of the line, \033[K clears what a longer text left.
            self.out.write(f"\r{text}\033[K", ending="")
            self.out.flush()
            self.open = True
        else:
            quarters = {total * q // 4 for q in (1, 2, 3, 4)}
            if done in quarters:
                self.out.write(text)
        self.label = label

    def finish(self) -> None:
        if self.open:
            self.out.write("")
            self.open = False


class Command(BaseCommand):
    help = (
        "Load the demo book of business (companies, relationships, people, partners) and the "
        "demo logins. Does nothing when the demo is already loaded, unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed: the same seed gives the same book (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--scale",
            choices=["small", "large"],
            default="small",
            help="small: the demo book built through the services (default); large: a big "
            f"customer's book, {LARGE_COMPANIES:,} companies and millions of records written in "
            "bulk, into a database without companies (e.g. DATABASE_URL=sqlite:///bench.sqlite3).",
        )
        parser.add_argument(
            "--companies",
            type=int,
            default=None,
            help=f"How many companies to create (small: default {DEFAULT_COMPANIES}, at least "
            f"{MIN_COMPANIES}; large: default {LARGE_COMPANIES}, at least {MIN_LARGE_COMPANIES}, "
            "every other figure scales with it).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo with DEBUG off too (its logins have well-known passwords).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo book and its logins, then build it again.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off, so this looks like a production database: the demo adds logins "
                "with well-known passwords. Run it with DEBUG=1, or add --force if you mean it."
            )
        if options["scale"] == "large":
            self.handle_large(options)
            return
        if options["companies"] is None:
            options["companies"] = DEFAULT_COMPANIES
        if options["companies"] < MIN_COMPANIES:
            raise CommandError(
                f"The demo needs at least {MIN_COMPANIES} companies to show its hierarchies "
                f"and partners; --companies {options['companies']} is too few."
            )
        if not options["reset"] and demo_book_loaded():
            self.stdout.write("The demo data is already loaded (use --reset to rebuild it).")
            self.write_logins()
            return
        progress = ProgressLine(self.stdout, quiet=options["verbosity"] == 0)
        started = time.perf_counter()
        # One transaction for the reset and the build: a failure keeps the old book.
        with transaction.atomic():
            if options["reset"]:
                demo_book_delete()
                self.stdout.write("Deleted the demo book.")
            book = demo_book_build(
                seed=options["seed"], companies=options["companies"], progress=progress
            )
        progress.finish()
        counts = demo_counts()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts['companies']} companies, {counts['relationships']} "
                f"relationships, {counts['people']} people and {counts['partners']} partners "
                f"in {time.perf_counter() - started:.1f} s (seed {options['seed']})."
            )
        )
        for note in book.notes:
            self.stdout.write(self.style.WARNING(note))
        self.write_logins()

    def handle_large(self, options: dict[str, Any]) -> None:
        companies = options["companies"] or LARGE_COMPANIES
        if companies < MIN_LARGE_COMPANIES:
            raise CommandError(
                f"The large demo book needs at least {MIN_LARGE_COMPANIES} companies; "
                f"--companies {companies} is too few."
            )
        if options["reset"]:
            raise CommandError(
                "--reset is not offered with --scale large: the large book has a database of its "
                "own. Delete that database (e.g. bench.sqlite3), migrate, and seed again."
            )
        if large_book_loaded():
            notes = large_book_layouts_refresh(seed=options["seed"])
            self.stdout.write(
                "The large demo book is already loaded; its demo layouts now have this "
                "version's sections."
            )
            for note in notes:
                self.stdout.write(self.style.WARNING(note))
            self.write_logins()
            return
        progress = ProgressLine(self.stdout, quiet=options["verbosity"] == 0)
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            large = large_book_build(seed=options["seed"], companies=companies, progress=progress)
        except ValueError as error:
            raise CommandError(str(error)) from error
        progress.finish()
        counts = ", ".join(f"{count:,} {kind}" for kind, count in large_counts().items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded the large demo book in {time.perf_counter() - started:.0f} s "
                # The CPU time of this process: with SQLite, nearly all the work; it tells
                # what the wall clock would be on a machine nobody else is using.
                f"({time.process_time() - cpu_started:.0f} s of CPU, seed {options['seed']}): "
                f"{counts}."
            )
        )
        self.write_phases(large.phases)
        for note in large.book.notes:
            self.stdout.write(self.style.WARNING(note))
        self.write_logins()

    def write_phases(self, phases: list[tuple[str, float, float]]) -> None:
        """Seconds per step of the large build: where the time went."""
        width = max(len(name) for name, _, _ in phases)
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"  {'Step':<{width}}  {'Wall s':>7}  {'CPU s':>7}")
        )
        for name, wall, cpu in phases:
            self.stdout.write(f"  {name:<{width}}  {wall:7.1f}  {cpu:7.1f}")
        self.stdout.write(
            "  (CPU: this process's; PostgreSQL's server works in its own processes.)"
        )

    def write_logins(self) -> None:
        rows = [("Username", "Password", "Role")] + [
            (login.username, login.password, login.role) for login in DEMO_LOGINS
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        self.stdout.write("")
        self.stdout.write("Demo logins (demo only):")
        for number, (username, password, role) in enumerate(rows):
            line = f"  {username:<{widths[0]}}  {password:<{widths[1]}}  {role}"
            self.stdout.write(self.style.MIGRATE_HEADING(line) if number == 0 else line)
