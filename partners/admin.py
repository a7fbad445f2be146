"""Admin for partners, the users who work for them and the records they manage.

Every write goes through partners.services: a partner and its group, a partner user and
their two groups, and `managed_by` with its object permissions. The company and
relationship changelists get the bulk actions "Assign to partner…" (a page to choose the
partner) and "Remove partner" from here. The permission tables are shown read-only: rows
come from assignments, never by hand.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from gainsight_lite.admin_lists import LargeTablePaginator, indexed_search
from gainsight_lite.audit_admin import AuditedAdmin
from gainsight_lite.search_index import text_matches
from partners.models import (
    CompanyGroupObjectPermission,
    Partner,
    PartnerUser,
    RelationshipGroupObjectPermission,
    default_bundle,
)
from partners.services import (
    membership_taken_message,
    partner_assign,
    partner_delete,
    partner_save,
    partner_unassign,
    partner_update,
    partner_user_remove,
    partner_user_save,
)

ASSIGN_TEMPLATE = "admin/partners/assign_partner.html"


def bundle_choices() -> QuerySet[Group]:
    """Groups that may be a permission bundle: any group but a partner's own."""
    return Group.objects.filter(partner__isnull=True).order_by("name")


class PartnerUserForm(forms.ModelForm):
    """A partner membership, refused with a clear sentence when the user has another partner."""

    class Meta:
        model = PartnerUser
        fields = ["partner", "user", "bundle"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "bundle" in self.fields:
            bundle = self.fields["bundle"]
            bundle.queryset = bundle_choices()  # type: ignore[attr-defined]
            # The default as a plain initial value: an untouched extra row of the inline is
            # then unchanged (a callable model default would compare against a hidden input).
            bundle.show_hidden_initial = False
            if self.instance.pk is None:
                bundle.initial = default_bundle()

    def clean_user(self) -> Any:
        user = self.cleaned_data.get("user")
        if user is None:
            return user
        other = (
            PartnerUser.objects.filter(user=user)
            .exclude(pk=self.instance.pk)
            .select_related("partner")
            .first()
        )
        if other is not None:
            raise forms.ValidationError(membership_taken_message(user, other.partner))
        return user


class BundleWidgetMixin:
    """The bundle select links to the group's pages, but offers no delete from a user's row."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name == "bundle" and formfield is not None:
            formfield.widget.can_delete_related = False
        return formfield


class PartnerUserInline(BundleWidgetMixin, admin.TabularInline):
    model = PartnerUser
    form = PartnerUserForm
    fields = ("user", "bundle", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 1
    verbose_name = "user"
    verbose_name_plural = "users"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerUser]:
        return super().get_queryset(request).select_related("user", "bundle")


@admin.register(Partner)
class PartnerAdmin(AuditedAdmin):  # with its History page (the audit trail)
    list_display = ("name", "region", "active", "data_scope", "contact_name", "user_count")
    list_filter = ("active", "data_scope", "region")
    search_fields = ("name", "region", "contact_name")
    fields = (
        "name",
        "region",
        "contact_name",
        "contact_email",
        "active",
        "data_scope",
        "group",
    )
    readonly_fields = ("group",)
    inlines = [PartnerUserInline]
    actions = ["deactivate", "activate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        return super().get_queryset(request).annotate(user_total=Count("members"))

    @admin.display(description="users", ordering="user_total")
    def user_count(self, obj: Partner) -> int:
        return getattr(obj, "user_total", 0)

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        partner_save(partner=obj, by=request.user)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PartnerUser:
            super().save_formset(request, form, formset, change)
            return
        memberships = formset.save(commit=False)
        for removed in formset.deleted_objects:
            partner_user_remove(partner_user=removed, by=request.user)
        for membership in memberships:
            membership.partner = form.instance
            partner_user_save(partner_user=membership, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Partner) -> None:
        partner_delete(partner=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            partner_delete(partner=partner, by=request.user)

    @admin.action(description="Deactivate selected partners", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset.filter(active=True):
            partner_update(partner=partner, active=False, by=request.user)
        self.message_user(
            request, "The selected partners are inactive: their users see no record any more."
        )

    @admin.action(description="Reactivate selected partners", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset.filter(active=False):
            partner_update(partner=partner, active=True, by=request.user)
        self.message_user(request, "The selected partners are active again.")


@admin.register(PartnerUser)
class PartnerUserAdmin(BundleWidgetMixin, admin.ModelAdmin):
    form = PartnerUserForm
    list_display = ("user", "partner", "bundle", "created_at")
    list_select_related = ("user", "partner", "bundle")
    list_filter = ("partner", "bundle")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    autocomplete_fields = ("user", "partner")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerUser]:
        # __str__ names the user and the partner: join them for every list and search.
        return super().get_queryset(request).select_related("user", "partner")

    def save_model(self, request: HttpRequest, obj: PartnerUser, form: Any, change: bool) -> None:
        partner_user_save(partner_user=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: PartnerUser) -> None:
        partner_user_remove(partner_user=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PartnerUser]) -> None:
        for membership in queryset.select_related("user", "partner__group", "bundle"):
            partner_user_remove(partner_user=membership, by=request.user)


# ---------- bulk assignment on the company and relationship changelists ----------


class PartnerChoiceForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("name"),
        error_messages={
            "required": "Choose the partner that takes these records over.",
            "invalid_choice": "Choose a partner from the list.",
        },
        help_text="Its users will see and work these records; another partner's users no longer.",
    )


def _noun(model: type[Model], count: int) -> str:
    return str(model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural)


@admin.action(description="Assign to partner…", permissions=["change"])
def assign_to_partner(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    """First a page to choose the partner; its form posts the same action back with `apply`."""
    form = PartnerChoiceForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        partner = form.cleaned_data["partner"]
        try:
            count = partner_assign(records=queryset, partner=partner, by=request.user)
        except ValidationError as error:
            modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        noun = _noun(queryset.model, count)
        modeladmin.message_user(request, f"{count} {noun} assigned to {partner}.", messages.SUCCESS)
        return None
    count = queryset.count()
    opts = queryset.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Assign {count} {_noun(queryset.model, count)} to a partner",
        "opts": opts,
        "form": form,
        "count": count,
        "examples": list(queryset.order_by("pk")[:10]),
        "action": request.POST.get("action", "assign_to_partner"),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, ASSIGN_TEMPLATE, context)


@admin.action(description="Remove partner", permissions=["change"])
def remove_partner(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    """Take the selected records back in house; relationships follow their company again."""
    count = partner_unassign(records=queryset.filter(managed_by__isnull=False), by=request.user)
    noun = _noun(queryset.model, count)
    modeladmin.message_user(request, f"{count} {noun} no longer managed by a partner.")


# ---------- the permission tables, read-only ----------

GRANT_MODELS = (CompanyGroupObjectPermission, RelationshipGroupObjectPermission)


def deleted_objects_with_grants(
    result: tuple[list[Any], dict[str, int], set[str], list[Any]],
) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
    """A record's permission rows go with it: deleting it needs no delete right on them.

    For get_deleted_objects of the company and relationship admins; the rows are read-only
    in the admin so that nobody removes one by hand.
    """
    deleted, counts, perms_needed, protected = result
    names = {str(model._meta.verbose_name) for model in GRANT_MODELS}
    return deleted, counts, perms_needed - names, protected


class _GrantAdmin(admin.ModelAdmin):
    list_display = ("content_object", "group", "permission")
    # A permission's name shows its content type: joined too, not asked once per row.
    list_select_related = ("content_object", "group", "permission__content_type")
    list_filter = ("group",)
    # The record's name, through the search index (get_search_results); the group has its
    # filter.
    search_fields = ("content_object__name",)
    show_full_result_count = False
    paginator = LargeTablePaginator
    record_key = ""  # the search index's key of the granted records

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return indexed_search(queryset, search_term, self._matches)

    def _matches(self, term: str) -> Q:
        """Grants on the records whose name contains `term`."""
        records = self.model._meta.get_field("content_object").related_model
        named = records.objects.filter(text_matches(self.record_key, term)).order_by()
        return Q(content_object__in=named.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CompanyGroupObjectPermission)
class CompanyGroupObjectPermissionAdmin(_GrantAdmin):
    """Who holds which permission on which company: made by assigning companies to partners."""

    record_key = "company"


@admin.register(RelationshipGroupObjectPermission)
class RelationshipGroupObjectPermissionAdmin(_GrantAdmin):
    """Who holds which permission on which relationship: made by assigning to partners."""

    record_key = "relationship"
