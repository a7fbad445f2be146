"""`manage.py check_partner_permissions [--repair]`: compare the permissions with `managed_by`.

The rules are partners.services': a partner's group holds view and change on each company
the partner manages, and on each relationship it manages or that follows its company's
partner (no partner of its own), unless the partner's scope is companies only; nothing else is
in the two tables. Each CTA's `partner` follows its company's and relationship's
(`partners.services.work_partner`). Each partner has its own group; each partner user is in
exactly their partner's group and their bundle, and nobody else is in a partner's group.

Every difference is reported with a count and a few examples; the exit status is 1 when any
was found, unless `--repair` fixed them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, When

from companies.models import Company
from partners.models import (
    CompanyGroupObjectPermission,
    Partner,
    PartnerUser,
    RelationshipGroupObjectPermission,
)
from partners.services import (
    GRANTED_ACTIONS,
    ctas_partner_sync,
    partner_group_ensure,
    partner_user_save,
    work_partner_expression,
)
from relationships.models import Relationship
from success.models import CTA

EXAMPLES = 5
BOTH = Partner.DataScope.COMPANIES_AND_RELATIONSHIPS


@dataclass
class Drift:
    """One kind of difference: what it is, how many, and a few examples."""

    label: str
    count: int
    examples: list[str] = field(default_factory=list)


def _permissions(model: type[Company] | type[Relationship]) -> dict[str, Permission]:
    content_type = ContentType.objects.get_for_model(model)
    codenames = {f"{action}_{model._meta.model_name}": action for action in GRANTED_ACTIONS}
    found = {
        codenames[p.codename]: p
        for p in Permission.objects.filter(content_type=content_type, codename__in=codenames)
    }
    return {action: found[action] for action in GRANTED_ACTIONS if action in found}


def _companies_expected() -> QuerySet[Company]:
    """Companies that should be granted, with the group as `expected_group`."""
    return Company.objects.filter(managed_by__group__isnull=False).annotate(
        expected_group=F("managed_by__group_id")
    )


def _relationships_expected() -> QuerySet[Relationship]:
    """Relationships that should be granted: own partner first, else the company's; scope."""
    expected = Case(
        When(
            managed_by__isnull=False,
            managed_by__data_scope=BOTH,
            then=F("managed_by__group_id"),
        ),
        When(
            managed_by__isnull=True,
            company__managed_by__data_scope=BOTH,
            then=F("company__managed_by__group_id"),
        ),
        default=None,
    )
    return Relationship.objects.annotate(expected_group=expected).filter(
        expected_group__isnull=False
    )


def _record_drift(
    model: type[Company] | type[Relationship],
) -> tuple[dict[str, QuerySet[Any]], QuerySet[Any]]:
    """Per action, the records missing their grant; and the rows that should not exist."""
    if model is Company:
        table: Any = CompanyGroupObjectPermission
        expected: QuerySet[Any] = _companies_expected()
    else:
        table = RelationshipGroupObjectPermission
        expected = _relationships_expected()
    permissions = _permissions(model)
    missing = {
        action: expected.exclude(
            Exists(
                table.objects.filter(
                    content_object_id=OuterRef("pk"),
                    group_id=OuterRef("expected_group"),
                    permission=permission,
                )
            )
        )
        for action, permission in permissions.items()
    }
    rightful = expected.filter(
        pk=OuterRef("content_object_id"), expected_group=OuterRef("group_id")
    )
    extra = table.objects.filter(
        ~Q(Exists(rightful)) | ~Q(permission__in=list(permissions.values()))
    )
    return missing, extra


def _record_label(record: Any) -> str:
    return f"{record} (#{record.pk})"


def _partner_users_off() -> QuerySet[PartnerUser]:
    """Partner users not in exactly their partner's group and their bundle."""
    return (
        PartnerUser.objects.select_related("user", "partner", "bundle")
        .annotate(group_total=Count("user__groups", distinct=True))
        .filter(
            Q(partner__group__isnull=True)
            | ~Q(
                Exists(
                    User.groups.through.objects.filter(
                        user_id=OuterRef("user_id"), group_id=OuterRef("partner__group_id")
                    )
                )
            )
            | ~Q(
                Exists(
                    User.groups.through.objects.filter(
                        user_id=OuterRef("user_id"), group_id=OuterRef("bundle_id")
                    )
                )
            )
            | ~Q(group_total=2)
        )
    )


def _ctas_off() -> QuerySet[CTA]:
    """CTAs whose `partner` is not the one their company and relationship give."""
    ctas = CTA.objects.alias(expected=work_partner_expression())
    return ctas.filter(
        Q(partner__isnull=True, expected__isnull=False)
        | Q(partner__isnull=False, expected__isnull=True)
        | (Q(partner__isnull=False, expected__isnull=False) & ~Q(partner_id=F("expected")))
    )


def _outsiders() -> QuerySet[Any]:
    """Memberships of a partner's group held by someone who is not that partner's user."""
    memberships = User.groups.through.objects.filter(group__partner__isnull=False)
    return memberships.exclude(
        Exists(
            PartnerUser.objects.filter(
                user_id=OuterRef("user_id"), partner__group_id=OuterRef("group_id")
            )
        )
    ).select_related("user", "group")


def find_drift() -> list[Drift]:
    """Every difference between the rules and the database, the empty list when none."""
    drifts: list[Drift] = []
    partners = Partner.objects.filter(group__isnull=True)
    if partners.exists():
        drifts.append(
            Drift(
                "partners without their own group",
                partners.count(),
                [str(p) for p in partners[:EXAMPLES]],
            )
        )
    for model in (Company, Relationship):
        noun = model._meta.verbose_name_plural
        missing, extra = _record_drift(model)
        for action, records in missing.items():
            count = records.count()
            if count:
                shown = list(records.order_by("pk")[:EXAMPLES])
                groups = Group.objects.in_bulk([r.expected_group for r in shown])
                examples = [f"{_record_label(r)} for {groups[r.expected_group]}" for r in shown]
                drifts.append(Drift(f"missing {action} grants on {noun}", count, examples))
        count = extra.count()
        if count:
            rows = extra.select_related("content_object", "group", "permission").order_by("pk")
            examples = [
                f"{row.permission.codename} on {_record_label(row.content_object)} "
                f"for {row.group.name}"
                for row in rows[:EXAMPLES]
            ]
            drifts.append(Drift(f"extra grants on {noun}", count, examples))
    stray = _ctas_off()
    count = stray.count()
    if count:
        drifts.append(
            Drift(
                "CTAs whose partner is not their company's and relationship's",
                count,
                [
                    f"{_record_label(cta)} of {cta.company}"
                    for cta in stray.select_related("company").order_by("pk")[:EXAMPLES]
                ],
            )
        )
    users = _partner_users_off()
    count = users.count()
    if count:
        drifts.append(
            Drift(
                "partner users not in exactly their partner's group and their bundle",
                count,
                [str(m) for m in users[:EXAMPLES]],
            )
        )
    outsiders = _outsiders()
    count = outsiders.count()
    if count:
        drifts.append(
            Drift(
                "users in a partner's group who are not that partner's users",
                count,
                [f"{m.user} in {m.group}" for m in outsiders[:EXAMPLES]],
            )
        )
    return drifts


@transaction.atomic
def repair_drift() -> None:
    """Make the database follow the rules: groups, memberships, then the permission rows."""
    for partner in Partner.objects.filter(group__isnull=True):
        partner_group_ensure(partner=partner)
    _outsiders().delete()
    for membership in _partner_users_off():
        partner_user_save(partner_user=membership)
    for model in (Company, Relationship):
        missing, extra = _record_drift(model)
        extra.delete()
        table: Any = (
            CompanyGroupObjectPermission
            if model is Company
            else (RelationshipGroupObjectPermission)
        )
        permissions = _permissions(model)
        for action, records in missing.items():
            table.objects.bulk_create(
                (
                    table(content_object_id=pk, group_id=group_id, permission=permissions[action])
                    for pk, group_id in records.values_list("pk", "expected_group").iterator()
                ),
                batch_size=1000,
            )
    ctas_partner_sync(Q(pk__in=list(_ctas_off().values_list("pk", flat=True))))


class Command(BaseCommand):
    help = (
        "Report every difference between the partners' object permissions and managed_by "
        "(exit status 1 when there is any); --repair fixes them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair", action="store_true", help="Fix every difference that is found."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        drifts = find_drift()
        for drift in drifts:
            self.stdout.write(f"{drift.count} {drift.label}, e.g.:")
            for example in drift.examples:
                self.stdout.write(f"  - {example}")
        if not drifts:
            self.stdout.write(self.style.SUCCESS("No drift: the permissions follow managed_by."))
            return
        total = sum(drift.count for drift in drifts)
        if not options["repair"]:
            raise CommandError(
                f"{total} differences found. Run with --repair to fix them.", returncode=1
            )
        repair_drift()
        left = find_drift()
        if left:
            raise CommandError(
                f"{sum(d.count for d in left)} differences are left after the repair.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"Repaired {total} differences."))
