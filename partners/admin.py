"""Admin for partners and the users who work for them (one partner per user)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from partners.models import Partner, PartnerUser


class PartnerUserForm(forms.ModelForm):
    """A partner membership, refused with a clear sentence when the user has another partner."""

    class Meta:
        model = PartnerUser
        fields = ["partner", "user"]

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
            raise forms.ValidationError(
                f"{user} already belongs to the partner {other.partner}. A user belongs to "
                f"at most one partner: remove them from {other.partner} first."
            )
        return user


class PartnerUserInline(admin.TabularInline):
    model = PartnerUser
    form = PartnerUserForm
    fields = ("user", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 1
    verbose_name = "user"
    verbose_name_plural = "users"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerUser]:
        return super().get_queryset(request).select_related("user")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "active", "data_scope", "contact_name", "user_count")
    list_filter = ("active", "data_scope", "region")
    search_fields = ("name", "region", "contact_name")
    inlines = [PartnerUserInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        return super().get_queryset(request).annotate(user_total=Count("members"))

    @admin.display(description="users", ordering="user_total")
    def user_count(self, obj: Partner) -> int:
        return getattr(obj, "user_total", 0)


@admin.register(PartnerUser)
class PartnerUserAdmin(admin.ModelAdmin):
    form = PartnerUserForm
    list_display = ("user", "partner", "created_at")
    list_select_related = ("user", "partner")
    list_filter = ("partner",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    autocomplete_fields = ("user", "partner")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerUser]:
        # __str__ names the user and the partner: join them for every list and search.
        return super().get_queryset(request).select_related("user", "partner")
