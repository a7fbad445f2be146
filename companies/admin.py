"""Admin for companies, people and the people at each company, sized for 100k companies.

No whole-tree widget anywhere: the parent is an autocomplete, the changelist pages through
the tree in tree order and indents each name by its level. The hierarchy rules come from
`Company.clean()`, so the admin shows the same sentence next to the parent field as every
other path and saves nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from companies.models import MAX_LEVEL, Company, CompanyPerson, Person
from companies.services import (
    TREE_FIELDS,
    company_delete,
    company_tree_refresh,
    hierarchy_lock,
)
from gainsight_lite.admin_lists import (
    LargeTablePaginator,
    UsedRelatedOnlyFilter,
    indexed_search,
)
from gainsight_lite.audit_admin import AuditedAdmin
from gainsight_lite.search_index import text_matches
from partners.admin import assign_to_partner, deleted_objects_with_grants, remove_partner
from partners.services import partner_assign, partner_unassign


class CompanyAdminForm(forms.ModelForm):
    """The company form; its checks and its save run under the hierarchy lock."""

    class Meta:
        model = Company
        fields = [
            "name",
            "external_id",
            "parent",
            "industry",
            "segment",
            "stage",
            "status",
            "arr",
            "mrr",
            "renewal_date",
            "original_contract_date",
            "csm",
            "managed_by",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        # The admin's change view runs in one transaction: from here to the save, no other
        # tree write runs, and the five-level check below (Company.clean) reads fresh values.
        hierarchy_lock()
        company_tree_refresh(self.instance)
        parent = cleaned_data.get("parent")
        if parent is not None:
            parent.refresh_from_db(fields=TREE_FIELDS)
        return cleaned_data


@admin.register(Company)
class CompanyAdmin(AuditedAdmin):  # with its History page (the audit trail)
    form = CompanyAdminForm
    list_display = (
        "indented_name",
        "external_id",
        "segment",
        "status",
        "arr_display",
        "renewal_date",
        "csm",
        "managed_by",
    )
    list_display_links = ("indented_name",)
    list_select_related = ("csm", "managed_by")
    list_filter = (
        "segment",
        "status",
        # Only users who are some company's CSM, not every user of the system.
        ("csm", UsedRelatedOnlyFilter),
        "managed_by",
    )
    # The search box and the autocompletes that pick a company search the search index (name
    # or external ID containing the text), not LIKE '%text%' over 100k rows: see
    # get_search_results.
    search_fields = ("name", "external_id")
    autocomplete_fields = ("parent", "csm", "managed_by")
    ordering = ("tree_id", "lft")
    show_full_result_count = False
    list_per_page = 50
    paginator = LargeTablePaginator
    actions = [assign_to_partner, remove_partner]
    readonly_fields = ("place_in_hierarchy", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "external_id", "parent", "place_in_hierarchy")}),
        (
            "Account",
            {
                "fields": (
                    "industry",
                    "segment",
                    "stage",
                    "status",
                    "arr",
                    "mrr",
                    "renewal_date",
                    "original_contract_date",
                )
            },
        ),
        ("Ownership", {"fields": ("csm", "managed_by")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description="name")
    def indented_name(self, obj: Company) -> str:
        # An SVG spacer's width attribute indents: the Content-Security-Policy forbids style=.
        return format_html(
            '<svg class="admin-indent" width="{}" height="1" aria-hidden="true"></svg>{}',
            obj.level * 20,
            obj.name,
        )

    @admin.display(description="ARR", ordering="arr")
    def arr_display(self, obj: Company) -> str:
        return f"{obj.arr:,.0f}"

    @admin.display(description="place in hierarchy")
    def place_in_hierarchy(self, obj: Company) -> str:
        if obj.pk is None:
            return "-"
        ancestors = list(obj.get_ancestors())
        path = format_html_join(" › ", "{}", ((a.name,) for a in [*ancestors, obj]))
        return format_html("{} (level {} of {})", path, obj.level + 1, MAX_LEVEL + 1)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "parent":
            # A plain choice field: mptt's TreeNodeChoiceField prefixes labels with dashes.
            kwargs.setdefault("form_class", forms.ModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Company], search_term: str
    ) -> tuple[QuerySet[Company], bool]:
        queryset, may_have_duplicates = indexed_search(
            queryset, search_term, lambda term: text_matches("company", term)
        )
        # The parent autocomplete offers only companies that can still have children.
        if request.GET.get("model_name") == "company" and request.GET.get("field_name") == "parent":
            queryset = queryset.filter(level__lt=MAX_LEVEL)
        return queryset, may_have_duplicates

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        return deleted_objects_with_grants(super().get_deleted_objects(objs, request))

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The partner goes through the service, which keeps its group's permissions in step.
        if "managed_by" in form.changed_data:
            if obj.managed_by is not None:
                partner_assign(records=[obj], partner=obj.managed_by, by=request.user)
            else:
                partner_unassign(records=[obj], by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Company]) -> None:
        # One by one, deepest first, so mptt closes each gap in the tree (a bulk delete
        # leaves the tree's left/right numbers wrong) and no parent goes before its child.
        with transaction.atomic():
            for company in queryset.order_by("-level"):
                company_delete(company=company)

    def delete_model(self, request: HttpRequest, obj: Company) -> None:
        company_delete(company=obj)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "phone", "created_at")
    search_fields = ("first_name", "last_name", "email")
    show_full_result_count = False


@admin.register(CompanyPerson)
class CompanyPersonAdmin(admin.ModelAdmin):
    list_display = ("person", "company", "title", "role", "is_sponsor", "sentiment")
    list_select_related = ("person", "company")
    list_filter = ("role", "sentiment", "is_sponsor")
    search_fields = (
        "person__first_name",
        "person__last_name",
        "person__email",
        "company__name",
        "=company__external_id",
    )
    autocomplete_fields = ("company", "person", "manager")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CompanyPerson]:
        # __str__ names the person and the company: join them for every list and search.
        return super().get_queryset(request).select_related("person", "company")
