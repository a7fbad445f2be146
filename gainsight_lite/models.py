"""The project's own tables: the book's running counts (see `gainsight_lite.row_counts`)."""

from __future__ import annotations

from django.db import models


class RowCount(models.Model):
    """A share of one running count of the book, written only by database triggers.

    What is counted is `kind` (with `owner` and `detail` where a count is per partner or per
    group and permission); the count is the sum of its rows over `shard` (PostgreSQL: a
    writer adds to a share no other open transaction holds, so concurrent writers do not
    queue on one row). Never edit by hand: `row_counts_rebuild()` recounts from the tables.
    """

    kind = models.CharField(max_length=32)
    # The partner (companies), the group (grants), or 0.
    owner = models.BigIntegerField(default=0)
    # The permission (grants), or 0.
    detail = models.BigIntegerField(default=0)
    shard = models.SmallIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    # Companies: the sum of their ARR in cents (exact on SQLite too, which has no decimals).
    arr_cents = models.BigIntegerField(default=0)
    # Companies: how many of them are at risk.
    at_risk = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "owner", "detail", "shard"], name="row_count_one_per_shard"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.owner}/{self.detail} [{self.shard}]: {self.total}"
