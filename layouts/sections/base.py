"""The section registry: every kind of 360 section is a small class registered here.

A kind has a key, a label, the pages it may be used on, a configuration form (what an admin
sets per section), a selector that gets its data in a fixed number of queries (`context`),
a partial template, and optionally actions (writes such as an inline edit) that answer with
the re-rendered section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from companies.models import Company
from relationships.models import Relationship

# The events sections listen to are success's (its writes send them); re-exported for the kinds.
from success.events import (  # noqa: F401
    ACTIVITY_LOGGED,
    CTA_CHANGED,
    EVERY_CHANGE,
    PLAN_CHANGED,
    SCORE_CHANGED,
    SUBJECT_CHANGED,
)

if TYPE_CHECKING:
    from layouts.models import Layout, Section

COMPANY = "company"
RELATIONSHIP = "relationship"

REGISTRY: dict[str, SectionKind] = {}


@dataclass
class SectionContext:
    """Everything a section kind needs to render for one request."""

    request: HttpRequest
    section: Section
    subject: Company | Relationship
    params: dict[str, Any] = field(default_factory=dict)
    # This section's URL for this subject, reversed once per request (see url()).
    _url: str = field(default="", init=False, repr=False, compare=False)

    @property
    def target(self) -> str:
        return COMPANY if isinstance(self.subject, Company) else RELATIONSHIP

    @property
    def company(self) -> Company:
        subject = self.subject
        return subject if isinstance(subject, Company) else subject.company

    @property
    def user(self) -> Any:
        return self.request.user

    @property
    def config(self) -> dict[str, Any]:
        return self.section.config or {}

    def url(self, action: str | None = None) -> str:
        """This section's own URL (or one of its actions') for this subject.

        An action's URL is the section's followed by `<action>/` (layouts/urls.py): one
        reverse() per request however many action URLs a section draws (a test compares
        each kind's actions with section_url)."""
        if not self._url:
            self._url = section_url(self.subject, self.section)
        return f"{self._url}{action}/" if action else self._url


def section_url(
    subject: Company | Relationship, section: Section, action: str | None = None
) -> str:
    name = "company" if isinstance(subject, Company) else "relationship"
    if action:
        return reverse(f"layouts:{name}_section_action", args=[subject.pk, section.pk, action])
    return reverse(f"layouts:{name}_section", args=[subject.pk, section.pk])


class NoConfig(forms.Form):
    """For kinds with nothing to configure."""


class SectionKind:
    key: ClassVar[str]
    label: ClassVar[str]
    targets: ClassVar[frozenset[str]] = frozenset({COMPANY, RELATIONSHIP})
    template: ClassVar[str]
    # Events (sent with HX-Trigger by writes elsewhere on the page) that make it reload.
    refresh_on: ClassVar[tuple[str, ...]] = (SUBJECT_CHANGED,)
    # False: not on the events its own saves send (they answer with their own row, and a
    # reload would throw away an edit open in another row). The page's policy allows no
    # eval, so no hx-trigger filter: app.js cancels such a reload (data-skip-own-events).
    refresh_on_own: ClassVar[bool] = True
    # Height of the loading skeleton, so the page does not jump when the section arrives.
    skeleton_height: ClassVar[int] = 160
    # Partner users see only the kinds marked here (see partners.access).
    partner_visible: ClassVar[bool] = False
    actions: ClassVar[dict[str, str]] = {}  # action name → method name

    def allowed_for(self, user: Any) -> bool:
        """Whether `user` may see sections of this kind at all (partners.access asks it first)."""
        return True

    def config_form_class(self, layout: Layout | None) -> type[forms.Form]:
        """The form an admin fills to configure a section of this kind on `layout`."""
        return NoConfig

    def default_config(self, layout: Layout | None) -> dict[str, Any]:
        form = self.config_form_class(layout)()
        return {name: _jsonable(f.initial) for name, f in form.fields.items()}

    def clean_config(self, config: Any, *, layout: Layout | None) -> dict[str, Any]:
        """The checked configuration, or a ValidationError on `config` with sentences."""
        if not isinstance(config, dict):
            raise ValidationError({"config": "The configuration must be a set of named options."})
        form = self.config_form_class(layout)(data=config)
        if not form.is_valid():
            messages = [
                f"{form.fields[name].label or pretty_name(name)}: {error}"
                if name in form.fields
                else str(error)
                for name, errors in form.errors.items()
                for error in errors
            ]
            raise ValidationError({"config": messages})
        return {name: _jsonable(value) for name, value in form.cleaned_data.items()}

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        """The data the template shows, read in a fixed number of queries."""
        return {}

    def handle(self, ctx: SectionContext, action: str) -> HttpResponse | None:
        method_name = self.actions.get(action)
        if method_name is None:
            return None
        method: Callable[[SectionContext], HttpResponse] = getattr(self, method_name)
        return method(ctx)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def register(kind_class: type[SectionKind]) -> type[SectionKind]:
    """Class decorator: add a kind to the registry under its key."""
    REGISTRY[kind_class.key] = kind_class()
    return kind_class
