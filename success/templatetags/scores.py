"""`{% score_badge value bands %}`: a health score as a badge in its grading band's colour."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from success.selectors.scores import grade_for, score_text

register = template.Library()


@register.simple_tag
def score_badge(value: Decimal | int | None, bands: list[Any], size: str = "") -> SafeString:
    """The score in its band's colour (`bands`: `grade_bands()`); "Not scored" when None."""
    band = grade_for(value, bands)
    classes = "score-badge"
    if size:
        classes += f" score-badge--{size}"
    if band is None:
        return format_html(
            '<span class="{} score-badge--none" title="Health: not scored">{}</span>',
            classes,
            score_text(value),
        )
    return format_html(
        '<span class="{}" style="--band: {}" title="Health: {}">{}</span>',
        classes,
        band.colour,
        band.label,
        score_text(value),
    )
