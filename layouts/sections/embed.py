"""Embed: another tool's page (a BI dashboard, a support view) for this subject, in a frame.

The admin writes an https address with {placeholders} that are filled with the subject's
fields, e.g. ``https://bi.example.com/acct?id={external_id}``. The scheme and host are fixed
text (a placeholder can never choose where the frame points), every value is URL-encoded,
and the frame is sandboxed and sends no referrer.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from companies.models import Company
from layouts.sections.base import RELATIONSHIP, SectionContext, SectionKind, register
from relationships.models import Relationship

# Placeholders every embed may use: the company's own fields on a C360.
COMPANY_PLACEHOLDERS = ["id", "name", "external_id", "segment", "industry", "status", "stage"]
# On an R360, id, name, status and stage are the relationship's; the company's fields it
# does not have (external ID, segment, industry) come from its company, and every company
# field is there as company.FIELD too.
RELATIONSHIP_OWN_PLACEHOLDERS = [
    "id",
    "name",
    "status",
    "stage",
    "arr",
    "mrr",
    "start_date",
    "renewal_date",
    "type",
]
RELATIONSHIP_COMPANY_PLACEHOLDERS = ["external_id", "segment", "industry"]
MIN_HEIGHT, MAX_HEIGHT, DEFAULT_HEIGHT = 200, 1200, 480
MAX_TEMPLATE_LENGTH = 500
HTTPS = "https://"


def allowed_placeholders(layout: Any) -> list[str]:
    """The placeholders an embed on `layout` may use, in the order the help text lists them."""
    if layout is None or layout.target != RELATIONSHIP:
        return list(COMPANY_PLACEHOLDERS)
    own = []
    if layout.relationship_type_id is not None:
        own = [
            f"attr.{key}" for key in layout.relationship_type.fields.values_list("key", flat=True)
        ]
    return [
        *RELATIONSHIP_OWN_PLACEHOLDERS,
        *RELATIONSHIP_COMPANY_PLACEHOLDERS,
        *own,
        *(f"company.{name}" for name in COMPANY_PLACEHOLDERS),
    ]


def _parts(template: str) -> list[tuple[str, str | None]]:
    """The template as (literal text, placeholder or None) pairs; ValidationError if malformed."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise ValidationError(
            "The address has a { or } without its partner: write placeholders as {name}."
        ) from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, format_spec, conversion in parsed:
        if name is not None and (format_spec or conversion):
            raise ValidationError(
                f"Write the placeholder as {{{name}}}, without a format or conversion."
            )
        if name is not None and not name.strip():
            raise ValidationError("A placeholder is empty: write a field name between { and }.")
        parts.append((literal, name))
    return parts


def check_url_template(template: str, allowed: list[str] | None) -> str:
    """The template, stripped, if it is a safe https address template; else a ValidationError.

    With `allowed` None the placeholder names are not checked (a page fills unknown ones
    with nothing), only the scheme, the host and the form of the address.
    """
    template = template.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in template):
        raise ValidationError("The address cannot contain spaces or line breaks.")
    if not template.lower().startswith(HTTPS):
        raise ValidationError(
            "Only secure https:// addresses can be embedded, e.g. "
            "https://bi.example.com/account?id={external_id}."
        )
    parts = _parts(template)
    # Scheme and host must be fixed text: a value filled in later cannot move the frame
    # to another site.
    first_literal = parts[0][0] if parts else template
    has_placeholders = any(name is not None for _, name in parts)
    head = urlsplit(first_literal)
    rest = first_literal[len(HTTPS) :]
    if not head.netloc or (has_placeholders and not any(sep in rest for sep in "/?#")):
        raise ValidationError(
            "Write the site's address as fixed text before any placeholder, "
            "e.g. https://bi.example.com/account?id={external_id}."
        )
    if "@" in head.netloc:
        raise ValidationError("The address cannot contain a user name or password.")
    unknown = [name for _, name in parts if name is not None and name not in (allowed or [])]
    if allowed is not None and unknown:
        raise ValidationError(
            f"Unknown placeholder {{{unknown[0]}}}: use one of "
            + ", ".join(f"{{{name}}}" for name in allowed)
            + "."
        )
    sample = "".join(literal + ("0" if name is not None else "") for literal, name in parts)
    try:
        URLValidator(schemes=["https"])(sample)
    except ValidationError:
        raise ValidationError(
            "This is not a valid web address, e.g. https://bi.example.com/account?id={external_id}."
        ) from None
    return template


def _text(value: Any) -> str:
    """A field value as the text put in the address: nothing for an empty value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def placeholder_values(subject: Company | Relationship) -> dict[str, str]:
    """Every placeholder's text for `subject` (its stored values, e.g. mid_market)."""
    if isinstance(subject, Company):
        return {name: _text(getattr(subject, name)) for name in COMPANY_PLACEHOLDERS}
    company = subject.company
    values = {
        name: _text(getattr(subject, name))
        for name in RELATIONSHIP_OWN_PLACEHOLDERS
        if name != "type"
    }
    values["type"] = subject.relationship_type.name
    values.update(
        {name: _text(getattr(company, name)) for name in RELATIONSHIP_COMPANY_PLACEHOLDERS}
    )
    values.update(
        {f"company.{name}": _text(getattr(company, name)) for name in COMPANY_PLACEHOLDERS}
    )
    values.update(
        {f"attr.{key}": _text(value) for key, value in (subject.attributes or {}).items()}
    )
    return values


def fill_url_template(template: str, values: dict[str, str]) -> str:
    """The address with each placeholder replaced by its URL-encoded value ('' when missing)."""
    return "".join(
        literal + (quote(values.get(name, ""), safe="") if name is not None else "")
        for literal, name in _parts(template)
    )


@register
class Embed(SectionKind):
    key = "embed"
    label = "Embed"
    template = "layouts/sections/embed.html"
    skeleton_height = DEFAULT_HEIGHT + 40

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        allowed = allowed_placeholders(layout)
        listed = ", ".join(f"{{{name}}}" for name in allowed)

        class EmbedConfig(forms.Form):
            url_template = forms.CharField(
                label="Address",
                max_length=MAX_TEMPLATE_LENGTH,
                # Optional so that a new section can be added before its address is known;
                # until then the page says that an address is missing.
                required=False,
                initial="",
                widget=forms.TextInput(attrs={"size": 80, "spellcheck": "false"}),
                help_text=f"An https:// address; placeholders are filled with this page's "
                f"record: {listed}.",
            )
            height = forms.IntegerField(
                label="Height (pixels)",
                min_value=MIN_HEIGHT,
                max_value=MAX_HEIGHT,
                initial=DEFAULT_HEIGHT,
                error_messages={
                    "min_value": f"The frame must be at least {MIN_HEIGHT} pixels high.",
                    "max_value": f"The frame can be at most {MAX_HEIGHT} pixels high.",
                    "invalid": "Enter the height as a whole number of pixels.",
                },
            )
            title = forms.CharField(
                label="Frame title",
                max_length=80,
                required=False,
                initial="",
                help_text="What the embedded page is, for screen readers; "
                "the section's title when empty.",
            )

            def clean_url_template(self) -> str:
                template = self.cleaned_data["url_template"].strip()
                return check_url_template(template, allowed) if template else ""

        return EmbedConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        """The filled address (no queries: the subject and its company are already loaded)."""
        config = ctx.config
        template = str(config.get("url_template") or "")
        height = config.get("height")
        if not isinstance(height, int) or not MIN_HEIGHT <= height <= MAX_HEIGHT:
            height = DEFAULT_HEIGHT
        title = str(config.get("title") or "") or ctx.section.title
        src = ""
        problem = ""
        if not template:
            problem = "No address is set for this embed yet: an admin can set one in the layout."
        else:
            # Checked again here: a configuration written around the admin must not slip
            # another scheme or host into the page.
            try:
                check_url_template(template, None)
            except ValidationError as error:
                problem = f"This embed cannot be shown: {error.messages[0]}"
            else:
                src = fill_url_template(template, placeholder_values(ctx.subject))
        host = urlsplit(src).hostname or "" if src else ""
        return {
            "src": src,
            "host": host,
            "height": height,
            "frame_title": title,
            "problem": problem,
        }
