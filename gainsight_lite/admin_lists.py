"""The admin's changelists of the large tables (companies, relationships): fast at 300k rows.

Two costs grow with the table in Django's own changelist, and the paginator here removes both:

- Django reads a page as the full rows and their joins (the CSM, the partner, ...), sorted and
  then cut: a deep page (`?p=1500`, `OFFSET 75000`) reads and joins every skipped row, and an
  order no index gives (ARR) sorts every joined row (2 s for 300k relationships on SQLite).
  Here a page reads its keys first (an index walk or a sort of two columns, no join the
  ordering does not need), then only those rows with their joins.
- The unfiltered list's count: `COUNT(*)` reads every row on PostgreSQL (70-80 ms for 300k
  relationships). There, with no filter and no search, the planner's row estimate
  (`pg_class.reltuples`, kept by ANALYZE and autovacuum) stands in for it once a table is
  large; a filtered list, a small table and SQLite (whose count is a b-tree walk) count exactly.

The admin's search goes through the app's search index (`text_matches`: SQLite FTS5 trigram
tables, PostgreSQL pg_trgm), not `LIKE '%term%'` over every row: see `indexed_search`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Model, OuterRef, Q, QuerySet, Subquery
from django.utils.functional import cached_property

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

from gainsight_lite.search import clean_query

# Below this many rows (as estimated) the exact count is cheap enough.
ESTIMATE_FROM = 100_000


def unfiltered_count(queryset: QuerySet[Any]) -> int | None:
    """An unfiltered table's row count on PostgreSQL in one query, else None.

    The planner's estimate (`reltuples`) from ESTIMATE_FROM rows on, an exact `COUNT(*)` below
    it or when the table was never analyzed. None when the queryset filters, groups, combines
    or slices anything, and on other databases: the caller counts as Django does.
    """
    query = queryset.query
    if query.where or query.combinator or query.is_sliced or query.distinct or query.group_by:
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = queryset.model._meta.db_table
    with connection.cursor() as cursor:
        # CASE runs the COUNT(*) subquery only when the estimate is too small to stand.
        cursor.execute(
            "SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint "
            f"ELSE (SELECT COUNT(*) FROM {connection.ops.quote_name(table)}) END "
            "FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_FROM, table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


class LargeTablePaginator(Paginator):
    """A changelist paginator for tables of 100k rows and more (see the module's text)."""

    @property
    def _queryset(self) -> QuerySet[Any]:
        return cast("QuerySet[Any]", self.object_list)

    @cached_property
    def count(self) -> int:
        counted = unfiltered_count(self._queryset)
        if counted is not None:
            return counted
        exact: int = super().count
        return exact

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.orphans and top + self.orphans >= self.count:
            top = self.count
        keys = list(self._queryset.values_list("pk", flat=True)[bottom:top])
        rows: dict[Any, Model] = {row.pk: row for row in self._queryset.filter(pk__in=keys)}
        # The keys' order is the list's order; a row deleted in between is left out.
        return Page([rows[key] for key in keys if key in rows], number, self)


class UsedRelatedOnlyFilter(admin.RelatedFieldListFilter):
    """Django's RelatedOnlyFieldListFilter (only what some listed row points to), asked the
    other way round: for each related object (a few hundred users), its first row through the
    foreign key's index. Django's collects the foreign key of every row (100k companies: a
    hash of the whole table on PostgreSQL, 20-35 ms).

    A scalar subquery with LIMIT 1, not EXISTS: PostgreSQL turns an EXISTS into a join of
    the whole table again.
    """

    def field_choices(
        self, field: Any, request: Any, model_admin: Any
    ) -> list[tuple[str, str | _StrPromise]]:
        rows = model_admin.get_queryset(request).order_by()
        first_row = rows.filter(**{self.field_path: OuterRef("pk")}).values("pk")[:1]
        used = (
            field.related_model._default_manager.annotate(first_row=Subquery(first_row))
            .filter(first_row__isnull=False)
            .values("pk")
        )
        ordering = self.field_admin_ordering(field, request, model_admin)
        choices: list[tuple[str, str | _StrPromise]] = field.get_choices(
            include_blank=False, limit_choices_to={"pk__in": used}, ordering=ordering
        )
        return choices


def indexed_search(
    queryset: QuerySet[Any], search_term: str, condition: Callable[[str], Q]
) -> tuple[QuerySet[Any], bool]:
    """The changelist's search through the search index: `condition(term)` gives the Q.

    The term is cleaned as every search is (no NUL byte reaches the database) and searched as
    one phrase, like the app's search box; an empty term leaves the list as it is.
    """
    term = clean_query(search_term)
    if not term:
        return queryset, False
    matches: Q = condition(term)
    return queryset.filter(matches), False
