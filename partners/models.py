from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from guardian.models import GroupObjectPermissionBase
from simple_history.models import HistoricalRecords

# The permission bundle a new partner user gets unless an admin chooses another one.
DEFAULT_BUNDLE = "Default partner bundle"
# Each partner's own group, which holds the object permissions on its records.
PARTNER_GROUP_PREFIX = "Partner: "

_VIEW = ("view",)
_WORK = ("view", "add", "change")
# app label → model → actions. Partner users see their companies and relationships, log and
# edit timeline activities (deleting only their own: the activity services check the author),
# create and work CTAs and tasks, and see scorecards, success plans, usage and surveys. The
# lookups they pick from when they log or create (types, reasons, statuses...) are viewable.
DEFAULT_BUNDLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "companies": {"company": _VIEW, "person": _VIEW, "companyperson": _VIEW},
    "relationships": {
        "relationship": _VIEW,
        "relationshipperson": _VIEW,
        "relationshiptype": _VIEW,
        "relationshiptypefield": _VIEW,
    },
    "success": {
        "activity": ("view", "add", "change", "delete"),
        "activitytype": _VIEW,
        "cta": _WORK,
        "task": _WORK,
        "ctatype": _VIEW,
        "ctareason": _VIEW,
        "ctapriority": _VIEW,
        "ctastatus": _VIEW,
        "playbook": _VIEW,
        "playbooktask": _VIEW,
        "scorecard": _VIEW,
        "measuregroup": _VIEW,
        "measure": _VIEW,
        "score": _VIEW,
        "scoresnapshot": _VIEW,
        "gradeband": _VIEW,
        "successplantype": _VIEW,
        "successplan": _VIEW,
        "usagemetric": _VIEW,
        "usagevalue": _VIEW,
        "surveyresponse": _VIEW,
    },
}


def default_bundle_permissions() -> set[tuple[str, str]]:
    """The default partner bundle's permissions as (app_label, codename)."""
    return {
        (app_label, f"{action}_{model}")
        for app_label, models_ in DEFAULT_BUNDLE_PERMISSIONS.items()
        for model, actions in models_.items()
        for action in actions
    }


def default_bundle_permission_rows(permission_model: Any) -> list[Any]:
    """The default bundle's Permission rows (`permission_model`: live or a migration's)."""
    wanted = models.Q(pk__in=[])
    for app_label, codename in sorted(default_bundle_permissions()):
        wanted |= models.Q(content_type__app_label=app_label, codename=codename)
    return list(permission_model.objects.filter(wanted))


def default_bundle() -> int:
    """The default partner bundle's id.

    A migration creates it; should it be missing (deleted while nobody used it, or a test's
    flush), it is made again with its starting permissions rather than fail or grant nothing.
    """
    group, created = Group.objects.get_or_create(name=DEFAULT_BUNDLE)
    if created:
        group.permissions.set(default_bundle_permission_rows(Permission))
    return group.pk


class Partner(models.Model):
    """A reseller or service firm that runs customer success on the company's behalf.

    Its `group` holds the object permissions on the records it manages; partners.services
    creates it, renames it with the partner and keeps its grants in step with `managed_by`.
    """

    class DataScope(models.TextChoices):
        COMPANIES_AND_RELATIONSHIPS = "companies_and_relationships", "Companies and relationships"
        COMPANIES_ONLY = "companies_only", "Companies only"

    name = models.CharField(max_length=120, unique=True)
    region = models.CharField(max_length=80, blank=True)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    active = models.BooleanField(
        default=True, help_text="An inactive partner's users see no record at all."
    )
    data_scope = models.CharField(
        max_length=32, choices=DataScope.choices, default=DataScope.COMPANIES_AND_RELATIONSHIPS
    )
    group = models.OneToOneField(
        Group,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="partner",
        help_text="The partner's own group: it holds the permissions on the partner's records.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()  # the audit trail

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def sees_relationships(self) -> bool:
        return self.data_scope == self.DataScope.COMPANIES_AND_RELATIONSHIPS

    @property
    def group_name(self) -> str:
        return f"{PARTNER_GROUP_PREFIX}{self.name}"


class PartnerUser(models.Model):
    """Links a user to the one partner they work for, with their permission bundle.

    The user is in exactly two groups, kept by partners.services: the partner's group (which
    records) and the bundle (which model permissions: what they may do with those records).
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership"
    )
    bundle = models.ForeignKey(
        Group,
        on_delete=models.PROTECT,
        default=default_bundle,
        related_name="partner_users",
        verbose_name="permission bundle",
        help_text="The group whose model permissions say what this user may do with the "
        "partner's records.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner__name", "user__username"]
        verbose_name = "partner user"

    def __str__(self) -> str:
        return f"{self.user} ({self.partner})"


class CompanyGroupObjectPermission(GroupObjectPermissionBase):
    """A permission on one company for one group (guardian's direct foreign-key table).

    Rows are written only by partners.services; check_partner_permissions compares them
    with `managed_by`. The unique (group, permission, company) index serves the access join.
    """

    content_object = models.ForeignKey("companies.Company", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "company permission of a group"
        verbose_name_plural = "company permissions of groups"


class RelationshipGroupObjectPermission(GroupObjectPermissionBase):
    """A permission on one relationship for one group (guardian's direct foreign-key table)."""

    content_object = models.ForeignKey("relationships.Relationship", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "relationship permission of a group"
        verbose_name_plural = "relationship permissions of groups"
