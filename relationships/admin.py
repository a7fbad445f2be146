"""Admin for relationship types (with their fields), relationships and their people.

A relationship's attributes are edited as typed fields generated from its type
(relationships.forms), never as raw JSON. Adding a relationship takes two steps, like
Django's own user add: first the type, then the fields that type has. On the change page
the type is read-only: switching it would drop every stored value the new type does not
have, and the type's R360 layouts, scorecard and activity types go with it, so a new type
is a new relationship.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from companies.models import Company
from gainsight_lite.admin_lists import LargeTablePaginator, indexed_search
from gainsight_lite.audit_admin import AuditedAdmin
from gainsight_lite.search_index import text_matches
from partners.admin import assign_to_partner, deleted_objects_with_grants, remove_partner
from partners.services import partner_assign, partner_grants_sync, partner_unassign
from relationships.forms import (
    ATTRIBUTE_PREFIX,
    RelationshipForm,
    RelationshipTypeChoiceForm,
    RelationshipTypeFieldForm,
    attribute_field_name,
)
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)

_CHOSEN_TYPE = "_relationship_admin_chosen_type"


class RelationshipTypeFieldInline(admin.TabularInline):
    model = RelationshipTypeField
    form = RelationshipTypeFieldForm
    fields = (
        "order",
        "key",
        "label",
        "kind",
        "choices",
        "required",
        "help_text",
        "shown_in_lists",
    )
    ordering = ("order", "id")
    extra = 1


@admin.register(RelationshipType)
class RelationshipTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "order", "field_count", "layout_count")
    list_editable = ("order",)
    list_filter = ("active",)
    search_fields = ("name",)
    fields = ("name", "description", "active", "order", "r360_layouts")
    readonly_fields = ("r360_layouts",)
    inlines = [RelationshipTypeFieldInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RelationshipType]:
        # Distinct counts: the two joins would otherwise multiply each other.
        return (
            super()
            .get_queryset(request)
            .annotate(
                field_total=Count("fields", distinct=True),
                layout_total=Count("layouts", distinct=True),
            )
        )

    @admin.display(description="fields", ordering="field_total")
    def field_count(self, obj: RelationshipType) -> int:
        return getattr(obj, "field_total", 0)

    @admin.display(description="R360 layouts", ordering="layout_total")
    def layout_count(self, obj: RelationshipType) -> str:
        # The layouts app sits above this one: name its admin pages by URL, not by import.
        url = reverse("admin:layouts_layout_changelist")
        return format_html(
            '<a href="{}?relationship_type__id__exact={}">{}</a>',
            url,
            obj.pk,
            getattr(obj, "layout_total", 0),
        )

    @admin.display(description="R360 layouts")
    def r360_layouts(self, obj: RelationshipType) -> str:
        if obj.pk is None:
            return "Save the type to give it R360 layouts."
        add_url = reverse("admin:layouts_layout_add")
        add = format_html(
            '<a class="addlink" href="{}?target=relationship&amp;relationship_type={}">'
            "Add an R360 layout</a>",
            add_url,
            obj.pk,
        )
        layouts = format_html_join(
            "",
            '<li><a href="{}">{}</a> ({})</li>',
            (
                (
                    reverse("admin:layouts_layout_change", args=[layout.pk]),
                    layout.name,
                    "default" if layout.is_default else f"priority {layout.priority}",
                )
                for layout in obj.layouts.order_by("-is_default", "priority", "name")
            ),
        )
        if not layouts:
            return format_html(
                "None yet: the type's R360 pages use a default layout made on first use. {}",
                add,
            )
        return format_html(
            "<ul>{}</ul>{}",
            layouts,
            add,
        )


@admin.register(RelationshipTypeField)
class RelationshipTypeFieldAdmin(admin.ModelAdmin):
    form = RelationshipTypeFieldForm
    list_display = ("label", "key", "relationship_type", "kind", "required", "order")
    list_select_related = ("relationship_type",)
    list_filter = ("relationship_type", "kind", "required", "shown_in_lists")
    search_fields = ("key", "label", "relationship_type__name")


class RelationshipPersonInline(admin.TabularInline):
    model = RelationshipPerson
    fields = ("company_person", "role")
    autocomplete_fields = ("company_person",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[RelationshipPerson]:
        return (
            super()
            .get_queryset(request)
            .select_related("company_person__person", "company_person__company")
        )


def relationship_matches(term: str) -> Q:
    """Relationships whose name, or whose company's name or external ID, contains `term`.

    One set of keys from two index searches (a UNION): an OR across the join would read every
    relationship.
    """
    companies = Company.objects.filter(text_matches("company", term)).order_by().values("pk")
    named = Relationship.objects.filter(text_matches("relationship", term)).order_by()
    of_companies = Relationship.objects.filter(company__in=companies).order_by()
    return Q(pk__in=named.values("pk").union(of_companies.values("pk")))


@admin.register(Relationship)
class RelationshipAdmin(AuditedAdmin):  # with its History page (the audit trail)
    form = RelationshipForm
    add_type_template = "admin/relationships/relationship/choose_type.html"
    list_display = (
        "name",
        "company",
        "relationship_type",
        "status",
        "stage",
        "arr",
        "renewal_date",
        "csm",
        "managed_by",
    )
    list_select_related = ("company", "relationship_type", "csm", "managed_by")
    list_filter = ("relationship_type", "status", "stage", "managed_by")
    # Searched through the search index: the relationship's name or its company's name or
    # external ID containing the text (get_search_results).
    search_fields = ("name", "company__name", "company__external_id")
    autocomplete_fields = ("company", "csm", "managed_by")
    readonly_fields = ("relationship_type", "created_at", "updated_at")
    show_full_result_count = False
    # Newest first, which the primary key gives: the model's order (company, type, name) sorts
    # all 300k rows and their joins for every page (about a second at the large scale), and
    # names repeat too much (tens of thousands of rows per name) for a name order to be cheap.
    ordering = ("-pk",)
    paginator = LargeTablePaginator
    actions = [assign_to_partner, remove_partner]
    base_fieldsets: Any = (
        (None, {"fields": ("company", "relationship_type", "name", "status", "stage")}),
        (
            "Account",
            {"fields": ("csm", "managed_by", "arr", "mrr", "start_date", "renewal_date")},
        ),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Relationship], search_term: str
    ) -> tuple[QuerySet[Relationship], bool]:
        return indexed_search(queryset, search_term, relationship_matches)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        return deleted_objects_with_grants(super().get_deleted_objects(objs, request))

    def save_model(self, request: HttpRequest, obj: Relationship, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The partner goes through the service, which keeps the permissions in step; a
        # relationship without one follows its company's partner, so a new company counts too.
        if "managed_by" in form.changed_data and obj.managed_by is not None:
            partner_assign(records=[obj], partner=obj.managed_by, by=request.user)
        elif "managed_by" in form.changed_data:
            partner_unassign(records=[obj], by=request.user)
        elif not change or "company" in form.changed_data:
            partner_grants_sync(records=[obj])

    def get_inlines(self, request: HttpRequest, obj: Relationship | None) -> list[Any]:
        # Only once the relationship exists: its company is what a person must belong to,
        # and model validation can only check that against a saved relationship.
        return [RelationshipPersonInline] if obj is not None else []

    def chosen_type(self, request: HttpRequest) -> RelationshipType | None:
        """The active type picked on the add page's first step (`?relationship_type=<id>`)."""
        if not hasattr(request, _CHOSEN_TYPE):
            form = RelationshipTypeChoiceForm(request.GET)
            setattr(
                request,
                _CHOSEN_TYPE,
                form.cleaned_data["relationship_type"] if form.is_valid() else None,
            )
        chosen: RelationshipType | None = getattr(request, _CHOSEN_TYPE)
        return chosen

    def get_fieldsets(self, request: HttpRequest, obj: Relationship | None = None) -> Any:
        relationship_type = obj.relationship_type if obj is not None else self.chosen_type(request)
        fieldsets = list(self.base_fieldsets)
        if obj is None:
            # Created and updated dates exist only once the relationship is saved.
            fieldsets = [fieldset for fieldset in fieldsets if fieldset[0] != "Record"]
        if relationship_type is None:
            return fieldsets
        names = [attribute_field_name(f.key) for f in relationship_type.fields.all()]
        stored = obj.attributes if obj is not None and isinstance(obj.attributes, dict) else {}
        stale = sorted(key for key in stored if attribute_field_name(key) not in names)
        description: str = ""
        if obj is None:
            other_type = request.GET.copy()
            other_type.pop("relationship_type", None)
            description = format_html(
                '<a href="?{}">Choose another type</a> before you fill in the fields.',
                other_type.urlencode(),
            )
        elif stale:
            # The admin prints a description unescaped: escape the names.
            description = format_html(
                "These stored values are no longer fields of {} and are removed when you save: {}.",
                relationship_type,
                ", ".join(stale),
            )
        if names or description:
            fieldsets.insert(
                1, (f"{relationship_type} fields", {"fields": names, "description": description})
            )
        return fieldsets

    def get_form(
        self,
        request: HttpRequest,
        obj: Relationship | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        # The attr_<key> fields are added by the form itself, not by the model form factory.
        fields = kwargs.get("fields") or flatten_fieldsets(self.base_fieldsets)
        kwargs["fields"] = [name for name in fields if not name.startswith(ATTRIBUTE_PREFIX)]
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form_class = type(
                form_class.__name__,
                (form_class,),
                {"default_relationship_type": self.chosen_type(request)},
            )
        return form_class

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self.chosen_type(request) is None:
            return self.choose_type_view(request)
        return super().add_view(request, form_url, extra_context)

    def choose_type_view(self, request: HttpRequest) -> HttpResponse:
        """The add page's first step: pick the type, then come back with `?relationship_type=`."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RelationshipTypeChoiceForm(
            request.GET if "relationship_type" in request.GET else None
        )
        carried = [
            (name, value)
            for name, values in request.GET.lists()
            if name != "relationship_type"
            for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Add relationship: choose its type",
            "opts": self.opts,
            "form": form,
            "carried": carried,
            "has_types": RelationshipType.objects.filter(active=True).exists(),
            "is_popup": "_popup" in request.GET,
        }
        return TemplateResponse(request, self.add_type_template, context)


@admin.register(RelationshipPerson)
class RelationshipPersonAdmin(admin.ModelAdmin):
    list_display = ("company_person", "relationship", "role", "created_at")
    list_select_related = (
        "company_person__person",
        "company_person__company",
        "relationship",
    )
    list_filter = ("role",)
    search_fields = (
        "company_person__person__first_name",
        "company_person__person__last_name",
        "company_person__person__email",
        "relationship__name",
    )
    autocomplete_fields = ("relationship", "company_person")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[RelationshipPerson]:
        # __str__ names the person and the relationship: join them for every list and search.
        return (
            super().get_queryset(request).select_related("company_person__person", "relationship")
        )
