from __future__ import annotations

from django.conf import settings
from django.db import models


class Partner(models.Model):
    """A reseller or service firm that runs customer success on the company's behalf."""

    class DataScope(models.TextChoices):
        COMPANIES_AND_RELATIONSHIPS = "companies_and_relationships", "Companies and relationships"
        COMPANIES_ONLY = "companies_only", "Companies only"

    name = models.CharField(max_length=120, unique=True)
    region = models.CharField(max_length=80, blank=True)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    active = models.BooleanField(default=True)
    data_scope = models.CharField(
        max_length=32, choices=DataScope.choices, default=DataScope.COMPANIES_AND_RELATIONSHIPS
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def sees_relationships(self) -> bool:
        return self.data_scope == self.DataScope.COMPANIES_AND_RELATIONSHIPS


class PartnerUser(models.Model):
    """Links a user to the one partner they work for."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner__name", "user__username"]
        verbose_name = "partner user"

    def __str__(self) -> str:
        return f"{self.user} ({self.partner})"
