"""Admin for 360 layouts: sections inline and ordered, criteria, previews, clones.

A section's configuration is edited through its kind's own form (folded into the section's
change page as `config_*` fields), never as raw JSON. The default layout of each page is used
when no other layout matches, so it cannot be deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.forms.utils import pretty_name
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from companies.models import Company
from gainsight_lite.audit_admin import AuditedAdmin
from gainsight_lite.search import clean_query
from layouts.models import (
    MAX_C360_LAYOUTS,
    MAX_R360_LAYOUTS_PER_TYPE,
    Layout,
    LayoutCondition,
    Section,
)
from layouts.sections import REGISTRY
from layouts.selection import (
    COMPANY_CONDITION_FIELDS,
    RELATIONSHIP_CONDITION_FIELDS,
    VIEWER_CONDITION_FIELDS,
    condition_fields,
)
from layouts.services import layout_clone, layout_delete
from relationships.models import Relationship

CONFIG_PREFIX = "config_"
PREVIEW_ROWS = 20


class ConfigErrorsOnTop:
    """The model reports configuration errors on `config`, which no section form shows as a
    field: show them with the form's own errors instead of failing."""

    def _update_errors(self, errors: ValidationError) -> None:
        if hasattr(errors, "error_dict") and "config" in errors.error_dict:
            config_errors = errors.error_dict.pop("config")
            errors.error_dict.setdefault("__all__", []).extend(config_errors)
        super()._update_errors(errors)  # type: ignore[misc]


# Criteria -----------------------------------------------------------------------------------


class LayoutConditionForm(forms.ModelForm):
    """A criterion whose "When" offers the fields of the layout's own records and the viewer."""

    class Meta:
        model = LayoutCondition
        fields = ["subject_field", "operator", "value"]
        help_texts = {
            "value": "A stored value or its label (Enterprise or enterprise); for “is one of”, "
            "separate the values with commas.",
        }

    def __init__(
        self, *args: Any, when_choices: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # A select over the model's text field: the model's clean says what is allowed.
        field = self.fields["subject_field"]
        field.label = "When"
        field.widget = forms.Select(choices=[("", "---------"), *(when_choices or [])])


class LayoutConditionInline(admin.TabularInline):
    model = LayoutCondition
    form = LayoutConditionForm
    extra = 0
    verbose_name = "criterion"
    verbose_name_plural = "Criteria (all must hold; “Viewer…” tests who is looking)"

    def get_formset(self, request: HttpRequest, obj: Layout | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # The type's own fields are read once for the whole formset, not once per row.
        choices = condition_fields(obj) if obj is not None else []

        class ConditionFormSet(formset):  # type: ignore[misc, valid-type]
            def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
                return {**super().get_form_kwargs(index), "when_choices": choices}

        return ConditionFormSet


# Sections inline ------------------------------------------------------------------------------


class SectionInlineForm(ConfigErrorsOnTop, forms.ModelForm):
    class Meta:
        model = Section
        fields = ["order", "kind", "title", "collapsed"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None and "kind" in self.changed_data:
            # Another kind has other options: start from its defaults (Section.clean).
            self.instance.config = {}
        return cleaned


class SectionInline(admin.TabularInline):
    model = Section
    form = SectionInlineForm
    fields = ["order", "kind", "title", "collapsed", "configure"]
    readonly_fields = ["configure"]
    extra = 0
    ordering = ["order", "id"]
    verbose_name_plural = "Sections (in order; a new one starts with its kind's defaults)"

    @admin.display(description="Configuration")
    def configure(self, section: Section) -> str:
        if section.pk is None:
            return "Save the layout to configure it."
        kind = REGISTRY.get(section.kind)
        if kind is None:
            return "This kind of section no longer exists."
        url = reverse("admin:layouts_section_change", args=[section.pk])
        return format_html('<a href="{}">Configure…</a>', url)


# Layouts ------------------------------------------------------------------------------------


class LayoutForm(forms.ModelForm):
    class Meta:
        model = Layout
        fields = ["name", "target", "relationship_type", "priority", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"size": 40}),
            "description": forms.TextInput(attrs={"size": 80}),
        }


@admin.register(Layout)
class LayoutAdmin(AuditedAdmin):  # with its History page (the audit trail)
    form = LayoutForm
    list_display = [
        "name",
        "page",
        "priority",
        "is_default",
        "criteria",
        "section_count",
        "preview_link",
    ]
    list_display_links = ["name"]
    list_filter = ["target", "relationship_type", "is_default"]
    list_select_related = ["relationship_type"]
    search_fields = ["name", "description"]
    ordering = ["target", "relationship_type__name", "-is_default", "priority", "name"]
    readonly_fields = ["is_default", "preview"]
    inlines = [LayoutConditionInline, SectionInline]
    actions = ["clone_layouts", "delete_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Layout]:
        return (
            super()
            .get_queryset(request)
            .annotate(section_total=Count("sections"))
            .prefetch_related("conditions")
        )

    def get_fieldsets(self, request: HttpRequest, obj: Layout | None = None) -> Any:
        main = ["name", "target", "relationship_type", "priority", "is_default", "description"]
        if obj is None:
            limits = (
                f"At most {MAX_C360_LAYOUTS} C360 layouts and {MAX_R360_LAYOUTS_PER_TYPE} R360 "
                "layouts per relationship type. Add its criteria once the layout is saved: the "
                "fields they test depend on the page it is for."
            )
            return [(None, {"fields": main, "description": limits})]
        return [(None, {"fields": main}), ("Preview", {"fields": ["preview"]})]

    def get_readonly_fields(self, request: HttpRequest, obj: Layout | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The target decides the sections' kinds and the criteria: fixed once created.
            fields += ["target", "relationship_type"]
        return fields

    def get_inlines(self, request: HttpRequest, obj: Layout | None) -> Any:
        if obj is None or obj.is_default:
            # The default layout is used when nothing else matches: criteria would not apply.
            # A new layout gets its criteria once saved (the fields depend on its target).
            return [SectionInline]
        return [LayoutConditionInline, SectionInline]

    @admin.display(description="Page", ordering="target")
    def page(self, layout: Layout) -> str:
        if layout.target == Layout.Target.RELATIONSHIP:
            return f"R360 · {layout.relationship_type}"
        return "C360"

    @admin.display(description="Criteria")
    def criteria(self, layout: Layout) -> str:
        if layout.is_default:
            return "When no other layout matches"
        conditions = list(layout.conditions.all())
        if not conditions:
            return "Always (no criteria)"
        # Labels without reading the type's fields: a type field shows as its key.
        fields = COMPANY_CONDITION_FIELDS if layout.target == Layout.Target.COMPANY else []
        labels = dict(fields or RELATIONSHIP_CONDITION_FIELDS) | dict(VIEWER_CONDITION_FIELDS)
        return "; ".join(
            f"{labels.get(c.subject_field, c.subject_field.removeprefix('attr.'))} "
            f"{c.get_operator_display()} {c.value}"
            for c in conditions
        )

    @admin.display(description="Sections", ordering="section_total")
    def section_count(self, layout: Layout) -> int:
        return layout.section_total  # type: ignore[attr-defined]

    @admin.display(description="Preview")
    def preview_link(self, layout: Layout) -> str:
        url = reverse("admin:layouts_layout_preview", args=[layout.pk])
        return format_html('<a href="{}">Preview…</a>', url)

    @admin.display(description="Preview")
    def preview(self, layout: Layout) -> str:
        if layout.pk is None:
            return "Save the layout to preview it."
        url = reverse("admin:layouts_layout_preview", args=[layout.pk])
        return format_html(
            '<a href="{}">Preview as this layout…</a> — open a {} with this layout, whatever '
            "its criteria say.",
            url,
            "company" if layout.target == Layout.Target.COMPANY else "relationship",
        )

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:layout_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="layouts_layout_preview",
            )
        ]
        return own + super().get_urls()

    def preview_view(self, request: HttpRequest, layout_id: int) -> HttpResponse:
        """Pick a company or relationship to open its 360 page with this layout."""
        layout = get_object_or_404(Layout.objects.select_related("relationship_type"), pk=layout_id)
        if not self.has_view_or_change_permission(request, layout):
            raise PermissionDenied
        query = clean_query(request.GET.get("q", ""))
        subjects: list[tuple[str, str, str]] = []
        if layout.target == Layout.Target.COMPANY:
            companies = Company.objects.order_by("name", "pk")
            if query:
                companies = companies.filter(
                    Q(name__icontains=query) | Q(external_id__iexact=query)
                )
            for company in companies[:PREVIEW_ROWS]:
                url = reverse("layouts:company", args=[company.pk]) + f"?layout={layout.pk}"
                subjects.append((company.name, company.external_id or "", url))
        else:
            relationships = Relationship.objects.filter(
                relationship_type_id=layout.relationship_type_id
            ).select_related("company")
            if query:
                relationships = relationships.filter(
                    Q(name__icontains=query) | Q(company__name__icontains=query)
                )
            for relationship in relationships.order_by("name", "pk")[:PREVIEW_ROWS]:
                url = (
                    reverse("layouts:relationship", args=[relationship.pk]) + f"?layout={layout.pk}"
                )
                subjects.append((relationship.name, relationship.company.name, url))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview {layout}",
            "layout": layout,
            "query": query,
            "subjects": subjects,
            "rows": PREVIEW_ROWS,
            "opts": Layout._meta,
        }
        return render(request, "admin/layouts/layout/preview.html", context)

    def has_delete_permission(self, request: HttpRequest, obj: Layout | None = None) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Layout) -> None:
        layout_delete(layout=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Layout]) -> None:
        for layout in queryset:
            layout_delete(layout=layout)

    @admin.action(description="Clone selected layouts", permissions=["add"])
    def clone_layouts(self, request: HttpRequest, queryset: QuerySet[Layout]) -> None:
        for layout in queryset.select_related("relationship_type"):
            try:
                clone = layout_clone(layout=layout)
            except ValidationError as error:
                self.message_user(
                    request,
                    f"{layout.name} was not cloned: {' '.join(error.messages)}",
                    messages.ERROR,
                )
            else:
                url = reverse("admin:layouts_layout_change", args=[clone.pk])
                self.message_user(
                    request,
                    format_html('Cloned {} as <a href="{}">{}</a>.', layout.name, url, clone.name),
                )

    @admin.action(description="Delete selected layouts", permissions=["delete"])
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[Layout]
    ) -> HttpResponse | None:
        """Django's delete (with its confirmation page), sparing the default layouts."""
        defaults = [layout.name for layout in queryset if layout.is_default]
        if defaults and not request.POST.get("post"):
            self.message_user(
                request,
                f"The default layout cannot be deleted ({', '.join(defaults)}): it is used when "
                "no other layout matches. Edit or clone it instead.",
                messages.WARNING,
            )
        deletable = queryset.filter(is_default=False)
        if not deletable.exists():
            return None
        response: HttpResponse | None = django_delete_selected(self, request, deletable)
        return response


# Sections, each configured through its kind's form ---------------------------------------------


class SectionForm(ConfigErrorsOnTop, forms.ModelForm):
    """A section with its kind's own configuration form folded in as `config_*` fields.

    The kind's form checks the values (field by field, then as a whole) and its errors show
    next to the fields they are about; the section stores the cleaned values.
    """

    class Meta:
        model = Section
        fields = ["layout", "kind", "title", "order", "collapsed"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config_names: list[str] = []
        self.kind = REGISTRY.get(self.instance.kind) if self.instance.pk else None
        if self.kind is None:
            return
        layout = self.instance.layout
        self.config_form_class = self.kind.config_form_class(layout)
        current = self.instance.config or self.kind.default_config(layout)
        for name, field in self.config_form_class.base_fields.items():
            form_field = copy.deepcopy(field)
            # Labelled as in the kind's own form, not after the prefixed name.
            form_field.label = field.label or pretty_name(name)
            self.fields[CONFIG_PREFIX + name] = form_field
            self.initial[CONFIG_PREFIX + name] = current.get(name, field.initial)
            self.config_names.append(name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.kind is None:
            return cleaned
        if any(CONFIG_PREFIX + name in self.errors for name in self.config_names):
            return cleaned
        values = {name: cleaned.get(CONFIG_PREFIX + name) for name in self.config_names}
        config_form = self.config_form_class(data=values)
        if not config_form.is_valid():
            # The kind's own checks (e.g. "an embed URL must start with https://").
            for name, errors in config_form.errors.items():
                field = CONFIG_PREFIX + name if name in self.config_names else None
                for error in errors:
                    self.add_error(field, error)
            return cleaned
        # Section.clean stores them as the kind's clean configuration.
        self.instance.config = config_form.cleaned_data
        return cleaned


@admin.register(Section)
class SectionAdmin(AuditedAdmin):  # with its History page (the audit trail)
    form = SectionForm
    list_display = ["title", "kind", "layout", "order", "collapsed"]
    list_filter = ["kind", "layout__target", "collapsed"]
    list_select_related = ["layout", "layout__relationship_type"]
    search_fields = ["title", "layout__name"]
    autocomplete_fields = ["layout"]
    ordering = ["layout__target", "layout__name", "order", "id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Section | None = None) -> Any:
        # The configuration belongs to the kind: to change the kind, add a new section.
        return ["layout", "kind"] if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: Section | None = None) -> Any:
        base = ["layout", "kind", "title", "order", "collapsed"]
        if obj is None:
            description = "The section starts with its kind's default configuration."
            return [(None, {"fields": base, "description": description})]
        form = self.get_form(request, obj)(instance=obj)
        config = [name for name in form.fields if name.startswith(CONFIG_PREFIX)]
        fieldsets: list[Any] = [(None, {"fields": base})]
        kind = REGISTRY.get(obj.kind)
        if config and kind is not None:
            fieldsets.append((f"{kind.label} configuration", {"fields": config}))
        elif kind is not None:
            description = f"A {kind.label.lower()} section has nothing to configure."
            fieldsets.append(("Configuration", {"fields": [], "description": description}))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["fields"] = None  # the form builds its own configuration fields
        return super().get_form(request, obj, change, **kwargs)

    def response_change(self, request: HttpRequest, obj: Section) -> HttpResponse:
        # Sections are edited from their layout: go back there after saving.
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, f"The section “{obj.title}” was saved.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:layouts_layout_change", args=[obj.layout_id]))

    def response_add(
        self, request: HttpRequest, obj: Section, post_url_continue: str | None = None
    ) -> HttpResponse:
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        # A new section is configured next: open its change page with the kind's form.
        self.message_user(
            request, f"The section “{obj.title}” was added: configure it below.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:layouts_section_change", args=[obj.pk]))
