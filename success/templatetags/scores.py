"""`{% score_badge value bands %}`: a health score as a badge in its grading band's colour.

Admin-chosen colours (grade bands, CTA priorities) reach the page as SVG presentation
attributes (`fill=`), never as a `style=` attribute: the Content-Security-Policy allows no
inline style. `{% band_marks colour %}` draws a badge's tint and dot, `{% colour_dot colour %}`
a dot alone.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from success.selectors.cockpit import safe_colour
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
        '<span class="{}" title="Health: {}">{}{}</span>',
        classes,
        band.label,
        band_marks(band.colour),
        score_text(value),
    )


@register.simple_tag
def band_marks(colour: str) -> SafeString:
    """A score badge's tint (behind its text) and dot in `colour`; nothing for a bad colour."""
    colour = safe_colour(colour)
    if not colour:
        return SafeString("")
    return format_html(
        '<svg class="score-badge__fill" aria-hidden="true" focusable="false">'
        '<rect width="100%" height="100%" rx="999" fill="{}" fill-opacity=".14" '
        'stroke="{}" stroke-opacity=".45" stroke-width="2"/></svg>'
        '<svg class="score-badge__dot" viewBox="0 0 8 8" aria-hidden="true" focusable="false">'
        '<circle cx="4" cy="4" r="4" fill="{}"/></svg>',
        colour,
        colour,
        colour,
    )


@register.simple_tag
def colour_dot(colour: str, extra_class: str = "") -> SafeString:
    """A dot in `colour` (a plain #RRGGBB), or in the faint grey when it has none."""
    colour = safe_colour(colour)
    classes = "dot" + ("" if colour else " dot--none") + (f" {extra_class}" if extra_class else "")
    return format_html(
        '<svg class="{}" viewBox="0 0 8 8" aria-hidden="true" focusable="false">'
        '<circle cx="4" cy="4" r="4" fill="{}"/></svg>',
        classes,
        colour or "currentColor",
    )
