"""`manage.py bench`: time the pages on a seeded book and compare them with the budgets."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gainsight_lite.bench import BenchError, run_bench, table, write_results


class Command(BaseCommand):
    help = (
        "Benchmark the C360/R360 pages and their sections, Cockpit, lists, search, timeline "
        "and CSV export in process (median and p95 ms, queries, bytes), then under gunicorn and "
        "wrk next to the floor (/healthz/auth). Needs a seeded database (seed_demo --scale "
        "large) and DEBUG off; writes JSON and markdown to bench-results/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=30, help="Timed requests per page.")
        parser.add_argument("--warmup", type=int, default=5, help="Untimed requests first.")
        parser.add_argument(
            "--load-seconds",
            type=int,
            default=30,
            help="wrk seconds for the mix and for the floor (0 skips the load test).",
        )
        parser.add_argument(
            "--page-seconds",
            type=int,
            default=5,
            help="wrk seconds for each page alone (0 skips them).",
        )
        parser.add_argument("--connections", type=int, default=8, help="wrk connections.")
        parser.add_argument(
            "--export-rows", type=int, default=10_000, help="CSV export size (0 skips it)."
        )
        parser.add_argument(
            "--import-rows", type=int, default=50_000, help="CSV import size (0 skips it)."
        )
        parser.add_argument(
            "--only",
            default="",
            help="Time only the pages whose name contains this text (e.g. Cockpit).",
        )
        parser.add_argument(
            "--out",
            default=str(Path(settings.BASE_DIR) / "bench-results"),
            help="Folder for the JSON and markdown results (default bench-results/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requests"] < 1 or options["warmup"] < 0:
            raise CommandError("--requests must be at least 1 and --warmup at least 0.")
        verbose = options["verbosity"] > 0
        # WhiteNoise warns once that collectstatic has not run: the pages do not need it here.
        warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")

        def progress(message: str) -> None:
            if verbose:
                self.stderr.write(f"  {message}")

        try:
            report = run_bench(
                requests=options["requests"],
                warmup=options["warmup"],
                load_seconds=options["load_seconds"],
                page_seconds=options["page_seconds"],
                connections=options["connections"],
                export_rows=options["export_rows"],
                import_rows=options["import_rows"],
                only=options["only"],
                progress=progress,
            )
        except BenchError as error:
            raise CommandError(str(error)) from error
        json_path, md_path = write_results(report, Path(options["out"]))
        self.stdout.write(f"{report.database}; {report.machine}")
        self.stdout.write(table(report))
        for key, figures in report.extras.items():
            self.stdout.write(f"{key}: {figures}")
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        over = report.over
        if over:
            self.stdout.write(self.style.ERROR(f"Over budget: {', '.join(over)}."))
        else:
            self.stdout.write(self.style.SUCCESS("Every figure is within budget."))
        self.stdout.write(f"Results: {json_path} and {md_path}")
