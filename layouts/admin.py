from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from companies.models import Company
from layouts.models import Layout, LayoutCondition, Section
from layouts.sections import REGISTRY
from layouts.selection import condition_fields
from layouts.services import layout_clone, layout_delete
from relationships.models import Relationship

CONFIG_PREFIX = "config_"


class LayoutConditionForm(forms.ModelForm):
    class Meta:
        model = LayoutCondition
        fields = ["subject_field", "operator", "value"]

    def __init__(self, *args: Any, layout: Layout | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = condition_fields(layout) if layout is not None else []
        self.fields["subject_field"] = forms.ChoiceField(
            label="When", choices=[("", "---------"), *choices]
        )


class LayoutConditionInline(admin.TabularInline):
    model = LayoutCondition
    form = LayoutConditionForm
    extra = 0
    verbose_name_plural = "Criteria (all must hold; viewer conditions test who is looking)"

    def get_formset(self, request: HttpRequest, obj: Layout | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        layout = obj

        class ConditionFormSet(formset):  # type: ignore[misc, valid-type]
            def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
                return {**super().get_form_kwargs(index), "layout": layout}

            @property
            def empty_form(self) -> Any:
                form = self.form(
                    auto_id=self.auto_id,
                    prefix=self.add_prefix("__prefix__"),
                    empty_permitted=True,
                    use_required_attribute=False,
                    layout=layout,
                )
                self.add_fields(form, None)
                return form

        return ConditionFormSet

    def has_add_permission(self, request: HttpRequest, obj: Layout | None = None) -> bool:
        # Conditions depend on the layout's target and type: add them once it is saved.
        return obj is not None and not obj.is_default and super().has_add_permission(request, obj)


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["order", "kind", "title", "collapsed", "configure"]
    readonly_fields = ["configure"]
    extra = 0
    ordering = ["order", "id"]

    @admin.display(description="Configuration")
    def configure(self, section: Section) -> str:
        if section.pk is None:
            return "Save to configure"
        url = reverse("admin:layouts_section_change", args=[section.pk])
        return format_html('<a href="{}">Configure {}</a>', url, section.get_kind_display())


@admin.register(Layout)
class LayoutAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "target",
        "relationship_type",
        "priority",
        "is_default",
        "section_count",
    ]
    list_filter = ["target", "relationship_type", "is_default"]
    list_select_related = ["relationship_type"]
    search_fields = ["name"]
    ordering = ["target", "relationship_type__name", "-is_default", "priority", "name"]
    fields = [
        "name",
        "target",
        "relationship_type",
        "priority",
        "is_default",
        "description",
        "preview",
    ]
    readonly_fields = ["is_default", "preview"]
    inlines = [LayoutConditionInline, SectionInline]
    actions = ["clone_layouts", "delete_layouts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Layout]:
        return super().get_queryset(request).annotate(section_total=Count("sections"))

    @admin.display(description="Sections", ordering="section_total")
    def section_count(self, layout: Layout) -> int:
        return layout.section_total  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: Layout | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The target decides the sections' kinds and the criteria: fixed once created.
            fields += ["target", "relationship_type"]
        return fields

    @admin.display(description="Preview")
    def preview(self, layout: Layout) -> str:
        if layout.pk is None:
            return "Save the layout to preview it."
        url = reverse("admin:layouts_layout_preview", args=[layout.pk])
        return format_html('<a href="{}">Preview as this layout…</a>', url)

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
        query = request.GET.get("q", "").strip()
        subjects: list[tuple[str, str, str]] = []
        if layout.target == Layout.Target.COMPANY:
            companies = Company.objects.order_by("name")
            if query:
                companies = companies.filter(
                    Q(name__icontains=query) | Q(external_id__iexact=query)
                )
            for company in companies[:20]:
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
            for relationship in relationships.order_by("name")[:20]:
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
            "opts": Layout._meta,
        }
        return render(request, "admin/layouts/layout/preview.html", context)

    def has_delete_permission(self, request: HttpRequest, obj: Layout | None = None) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by delete_layouts, which spares defaults
        return actions

    @admin.action(description="Clone selected layouts", permissions=["add"])
    def clone_layouts(self, request: HttpRequest, queryset: QuerySet[Layout]) -> None:
        for layout in queryset:
            try:
                copy_ = layout_clone(layout=layout)
            except ValidationError as error:
                self.message_user(
                    request, f"{layout.name}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                self.message_user(request, f"Cloned {layout.name} as “{copy_.name}”.")

    @admin.action(description="Delete selected layouts (not defaults)", permissions=["delete"])
    def delete_layouts(self, request: HttpRequest, queryset: QuerySet[Layout]) -> None:
        deleted = 0
        for layout in queryset:
            try:
                layout_delete(layout=layout)
            except ValidationError as error:
                self.message_user(
                    request, f"{layout.name}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                deleted += 1
        if deleted:
            self.message_user(request, f"Deleted {deleted} layout(s).")


class SectionForm(forms.ModelForm):
    """A section with its kind's own configuration form folded in as `config_*` fields."""

    class Meta:
        model = Section
        fields = ["layout", "kind", "title", "order", "collapsed"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config_names: list[str] = []
        kind = REGISTRY.get(self.instance.kind) if self.instance.pk else None
        if kind is None:
            return
        layout = self.instance.layout
        config_form = kind.config_form_class(layout)
        current = self.instance.config or kind.default_config(layout)
        for name, field in config_form.base_fields.items():
            form_field = copy.deepcopy(field)
            self.fields[CONFIG_PREFIX + name] = form_field
            self.initial[CONFIG_PREFIX + name] = current.get(name, field.initial)
            self.config_names.append(name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.config_names:
            self.instance.config = {
                name: cleaned.get(CONFIG_PREFIX + name) for name in self.config_names
            }
        return cleaned

    def _update_errors(self, errors: ValidationError) -> None:
        # The model reports configuration errors on "config": show them above the form.
        if hasattr(errors, "error_dict") and "config" in errors.error_dict:
            config_errors = errors.error_dict.pop("config")
            errors.error_dict.setdefault("__all__", []).extend(config_errors)
        super()._update_errors(errors)  # type: ignore[misc]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    form = SectionForm
    list_display = ["title", "kind", "layout", "order", "collapsed"]
    list_filter = ["kind", "layout__target"]
    list_select_related = ["layout", "layout__relationship_type"]
    search_fields = ["title", "layout__name"]
    autocomplete_fields = ["layout"]

    def get_readonly_fields(self, request: HttpRequest, obj: Section | None = None) -> Any:
        # The configuration belongs to the kind: to change the kind, add a new section.
        return ["layout", "kind"] if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: Section | None = None) -> Any:
        base = ["layout", "kind", "title", "order", "collapsed"]
        if obj is None:
            return [(None, {"fields": base})]
        form = self.get_form(request, obj)(instance=obj)
        config = [name for name in form.fields if name.startswith(CONFIG_PREFIX)]
        fieldsets: list[Any] = [(None, {"fields": base})]
        if config:
            fieldsets.append(("Configuration", {"fields": config}))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["fields"] = None  # the form builds its own configuration fields
        return super().get_form(request, obj, change, **kwargs)
