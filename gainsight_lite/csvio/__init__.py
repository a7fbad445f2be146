"""CSV import and export of the book of business.

`importers` holds one small class per kind (its columns, how a row is checked and how the good
rows are written in bulk), `exporters` the streaming downloads of the lists, `views` the
admin's import page and the download endpoints. An export and the import of the same kind
share their columns, so a companies export re-imports unchanged.
"""

from __future__ import annotations

from typing import Any


def bench_import(rows: int = 50_000, **options: Any) -> dict[str, Any]:
    """Import a generated file of `rows` companies and return its figures (see csvio.bench)."""
    from gainsight_lite.csvio.bench import bench_import as run

    return run(rows=rows, **options)


def bench_export(rows: int = 10_000, **options: Any) -> dict[str, Any]:
    """Stream a companies export of at least `rows` rows and return its figures."""
    from gainsight_lite.csvio.bench import bench_export as run

    return run(rows=rows, **options)
