"""CSV exports of the lists, streamed: rows are read with `.iterator()` and written in chunks.

Each export takes the list's own filters (the same forms and selectors as its page) and the
viewer's scope from partners.access, so a download holds exactly what the page lists, all
pages of it. A kind that can be imported is exported with the import's columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from companies.forms import CompanyFilterForm
from companies.selectors import companies_filtered
from gainsight_lite.csvio import cells
from gainsight_lite.csvio.importers import (
    ActivityImporter,
    Column,
    CompanyImporter,
    RelationshipImporter,
    field_column,
)
from gainsight_lite.http import parse_id
from partners.access import AnyUser, relationships_visible_to
from relationships.models import Relationship, RelationshipType
from success.models import CTA, Activity

# Rows read from the database at a time, and bytes gathered before a chunk is sent.
CHUNK_ROWS = 2_000
CHUNK_BYTES = 64 * 1024
BOM = "\ufeff"  # spreadsheets open UTF-8 files with it correctly

WRITERS = {
    "text": lambda value: "" if value is None else str(value),
    "decimal": cells.write_decimal,
    "date": cells.write_date,
    "datetime": cells.write_datetime,
    "boolean": cells.write_boolean,
    "any": cells.write_any,
}


def stream(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """The CSV file as UTF-8 chunks: a byte-order mark and the header, then the rows.

    Every cell goes through the formula-injection guard.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cells.guard(cell) for cell in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _column_rows(
    queryset: QuerySet[Any], columns: Sequence[Column], extra: Sequence[str] = ()
) -> Iterator[list[Any]]:
    """Each record's values of `columns` (and `extra` paths after them), as tuples, streamed."""
    paths = [column.path for column in columns]
    for values in queryset.values_list(*paths, *extra).iterator(chunk_size=CHUNK_ROWS):
        yield list(values)


def _cells(columns: Sequence[Column], values: Sequence[Any]) -> list[str]:
    return [WRITERS[column.writes](value) for column, value in zip(columns, values, strict=False)]


# ---------- companies ----------


def companies_export(*, user: AnyUser, params: Mapping[str, Any]) -> Iterator[bytes]:
    """The companies list with its filters and order, every page, in the import's columns."""
    form = CompanyFilterForm(params, user=user)
    queryset = companies_filtered(user=user, filters=form.filters())
    columns = CompanyImporter.columns
    rows = (_cells(columns, values) for values in _column_rows(queryset, columns))
    return stream([column.name for column in columns], rows)


# ---------- relationships of one type ----------


def relationship_type_for(*, params: Mapping[str, Any]) -> RelationshipType | None:
    """The relationship type named by the `type` parameter (its id), or None."""
    pk = parse_id(params.get("type"))
    if pk is None:
        return None
    return RelationshipType.objects.filter(pk=pk).first()


def relationships_export(
    *, user: AnyUser, relationship_type: RelationshipType, params: Mapping[str, Any]
) -> Iterator[bytes]:
    """The relationships of a type the viewer may see, with the type's fields as columns.

    `status` narrows them; the columns are the relationships import's, so the file re-imports.
    """
    fields = list(relationship_type.fields.order_by("order", "pk"))
    base = RelationshipImporter.columns
    queryset = relationships_visible_to(user).filter(relationship_type=relationship_type)
    status = str(params.get("status") or "")
    if status in Relationship.Status.values:
        queryset = queryset.filter(status=status)
    queryset = queryset.order_by("company__name", "company_id", "name", "pk")
    header = [column.name for column in base] + [
        field_column(field.key, RelationshipImporter.column_names()) for field in fields
    ]

    def rows() -> Iterator[list[str]]:
        for values in _column_rows(queryset, base, extra=["attributes"]):
            attributes = values[-1] if isinstance(values[-1], dict) else {}
            yield _cells(base, values[:-1]) + [
                cells.write_any(attributes.get(field.key)) for field in fields
            ]

    return stream(header, rows())


# ---------- the Cockpit ----------

CTA_HEADER = [
    "id",
    "name",
    "company",
    "company_external_id",
    "relationship",
    "relationship_type",
    "type",
    "reason",
    "priority",
    "status",
    "closed",
    "owner",
    "due_date",
    "snoozed_until",
    "created_at",
    "closed_at",
]
CTA_PATHS = [
    "pk",
    "name",
    "company__name",
    "company__external_id",
    "relationship__name",
    "relationship__relationship_type__name",
    "cta_type__name",
    "reason__name",
    "priority__name",
    "status__name",
    "is_closed",
    "owner__username",
    "due_date",
    "snoozed_until",
    "created_at",
    "closed_at",
]


def ctas_export(*, ctas: QuerySet[CTA]) -> Iterator[bytes]:
    """The Cockpit's CTAs (already filtered and ordered by its selector)."""

    def rows() -> Iterator[list[str]]:
        for values in ctas.values_list(*CTA_PATHS).iterator(chunk_size=CHUNK_ROWS):
            yield [_any_cell(value) for value in values]

    return stream(CTA_HEADER, rows())


def _any_cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return cells.write_datetime(value)
    if isinstance(value, dt.date):
        return cells.write_date(value)
    if isinstance(value, Decimal):
        return cells.write_decimal(value)
    return cells.write_any(value)


# ---------- the timeline ----------


def activities_export(*, activities: QuerySet[Activity]) -> Iterator[bytes]:
    """Timeline activities (already scoped and filtered), newest first, as the import reads them."""
    columns = ActivityImporter.columns
    queryset = activities.order_by("-occurred_at", "-pk")
    rows = (_cells(columns, values) for values in _column_rows(queryset, columns))
    return stream([column.name for column in columns], rows)


def filename(kind: str) -> str:
    return f"{kind}-{timezone.localdate().isoformat()}.csv"
