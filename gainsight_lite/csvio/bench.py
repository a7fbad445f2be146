"""Throughput of the companies import and of the companies export, for `make bench`.

Both run inside a transaction that is rolled back: the database is left as it was.
"""

from __future__ import annotations

import csv
import io
import random
import time
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gainsight_lite.csvio.importers import CompanyImporter, run_import

SEGMENTS = ["enterprise", "mid_market", "smb"]
STATUSES = ["active", "at_risk", "prospect", "churned"]
STAGES = ["onboarding", "adoption", "expansion", "renewal"]
WORDS = [
    "Acme", "Apex", "Blue", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iris",
    "Juniper", "Keystone", "Lumen", "Maple", "Nimbus", "Orbit", "Pioneer", "Quartz", "River",
    "Summit", "Titan", "Union", "Vertex", "Willow", "Zenith", "Labs", "Systems", "Health",
    "Logistics", "Retail", "Capital", "Energy", "Foods", "Media", "Works", "Group",
]  # fmt: skip


def companies_csv(rows: int, *, seed: int = 6, prefix: str = "BENCH") -> bytes:
    """A companies file of `rows` rows in hierarchies of up to five levels, shuffled.

    About a fifth of the companies are at the top; every other one is under a company of the
    level above, so the file exercises the any-order parent resolution.
    """
    rng = random.Random(seed)
    levels: list[list[str]] = [[] for _ in range(5)]
    records = []
    for index in range(rows):
        external_id = f"{prefix}-{index:07d}"
        level = 0 if index < max(1, rows // 5) else rng.choice([1, 1, 2, 2, 3, 4])
        while level and not levels[level - 1]:
            level -= 1
        parent = rng.choice(levels[level - 1]) if level else ""
        levels[level].append(external_id)
        records.append(
            [
                external_id,
                # Names in another order than the IDs, as in a real CRM's export.
                f"{rng.choice(WORDS)} {rng.choice(WORDS)} {index:07d}",
                parent,
                "Software",
                rng.choice(SEGMENTS),
                rng.choice(STAGES),
                rng.choice(STATUSES),
                f"{rng.randrange(0, 5_000_000)}.00",
                f"{rng.randrange(0, 400_000)}.50",
                f"2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "",
                "",
                "",
            ]
        )
    rng.shuffle(records)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CompanyImporter.column_names())
    writer.writerows(records)
    return out.getvalue().encode()


class _Rollback(Exception):
    pass


def bench_import(rows: int = 50_000, *, seed: int = 6) -> dict[str, Any]:
    """Import `rows` generated companies (rolled back) and return rows per second."""
    data = companies_csv(rows, seed=seed)
    figures: dict[str, Any] = {}
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            cpu_started = time.process_time()
            report = run_import("companies", data)
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            figures = {
                "rows": rows,
                "seconds": round(seconds, 3),
                "rows_per_second": round(rows / seconds),
                # The process's own CPU time (SQLite runs in it): the import's cost on a machine
                # not shared with other work.
                "cpu_seconds": round(cpu_seconds, 3),
                "cpu_rows_per_second": round(rows / cpu_seconds) if cpu_seconds else None,
                "queries": len(queries),
                "created": report.created,
                "errors": len(report.errors),
            }
            raise _Rollback
    except _Rollback:
        pass
    return figures


def bench_export(rows: int = 10_000, *, user: User | None = None) -> dict[str, Any]:
    """Stream the first `rows` rows of the companies export as `user` (an admin by default).

    The book must hold the rows: when it has fewer than `rows` companies, generated ones are
    imported first inside the same rolled-back transaction. Rows are counted by line ends, so
    a cell holding a line break makes the count a little high (the bench's books have none).
    """
    from companies.models import Company
    from gainsight_lite.csvio.exporters import companies_export

    figures: dict[str, Any] = {}
    try:
        with transaction.atomic():
            missing = rows - Company.objects.count()
            if missing > 0:
                run_import("companies", companies_csv(missing, prefix="BENCHX"))
            viewer = user or User.objects.filter(is_superuser=True).first()
            if viewer is None:
                viewer = User.objects.create(username="csv-bench", is_superuser=True)
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                size = 0
                lines = 0
                chunks = companies_export(user=viewer, params={})
                # The first `rows` rows of the list (a larger book is not read to its end).
                for chunk in chunks:
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                    if lines > rows:
                        break
                chunks.close()  # type: ignore[attr-defined]
                seconds = time.perf_counter() - started
            figures = {
                "rows": lines - 1,
                "seconds": round(seconds, 3),
                "rows_per_second": round((lines - 1) / seconds) if seconds else None,
                "bytes": size,
                "queries": len(queries),
            }
            raise _Rollback
    except _Rollback:
        pass
    return figures
