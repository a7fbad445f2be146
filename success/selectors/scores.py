"""Reads of the CSM's work, always scoped through `partners.access`."""

from __future__ import annotations

from decimal import Decimal

from success.models import GradeBand


def grade_bands() -> list[GradeBand]:
    """The grading scheme, lowest band first (one query)."""
    return list(GradeBand.objects.order_by("low"))


def grade_for(value: Decimal | int | None, bands: list[GradeBand]) -> GradeBand | None:
    """The band a score falls in; a fractional score between bands takes the lower band.

    Bands hold whole numbers (Red 0–49, Yellow 50–74...): 49.6 is still Red, since it has not
    reached the next band's low end.
    """
    if value is None:
        return None
    found = None
    for band in bands:
        if value >= band.low:
            found = band
    if found is not None and value <= found.high + 1:
        return found
    return None
