"""Writes to partners, their users and the records they manage.

`managed_by` on a company or a relationship is only ever changed here: `partner_assign`
and `partner_unassign` (the admin's field and bulk actions, imports, the demo), and
`partner_grants_sync` after a record is created or moved to another company (the company
and relationship services call it). Each of them brings the guardian object permissions of
the partner's own group in step in the same transaction, in bulk:

- a company managed by a partner: the partner's group holds view and change on it;
- a relationship managed by a partner, or with no partner of its own and a company managed
  by one: that partner's group holds view and change on it, unless the partner's data scope
  is companies only (then no relationship permission at all);
- nothing else: no other row exists in the two permission tables.

A CTA's `partner` (whose users see it: the Cockpit reads a partner's CTAs by it) follows the
same `managed_by`: its company's partner, when its relationship (if any) has no partner of
its own or the same one. The same functions rewrite it for the records' CTAs
(`work_partner_id` for one CTA being saved).

`check_partner_permissions` reports (and repairs) any difference from these rules.

A partner user is in exactly two groups, kept here: the partner's group (which records) and
their permission bundle (which model permissions: what they may do with those records).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from companies.models import Company
from partners.models import (
    CompanyGroupObjectPermission,
    Partner,
    PartnerUser,
    RelationshipGroupObjectPermission,
    default_bundle,
)
from relationships.models import Relationship
from success.models import CTA

# What a partner's group may do with each record it manages.
GRANTED_ACTIONS = ("view", "change")
# Ids per statement: well under SQLite's limit on query parameters.
BATCH = 500

Records = QuerySet[Company] | QuerySet[Relationship] | Iterable[Company] | Iterable[Relationship]
RecordModel = type[Company] | type[Relationship]
# Who made the change: the admin passes request.user.
By = AbstractBaseUser | AnonymousUser | None
PERMISSION_MODELS: dict[RecordModel, type[models.Model]] = {
    Company: CompanyGroupObjectPermission,
    Relationship: RelationshipGroupObjectPermission,
}


# ---------- managed_by and the object permissions ----------


def partner_assign(*, records: Records, partner: Partner, by: By = None) -> int:
    """Make `partner` manage `records` (companies or relationships) and grant its group.

    Returns how many records were assigned. Reassigning from another partner revokes that
    partner's permissions; a company's relationships without a partner of their own follow it.
    """
    model, ids = _record_ids(records)
    if model is None:
        return 0
    with transaction.atomic():
        partner_group_ensure(partner=partner)
        _managed_by_set(model, ids, partner, by)
    return len(ids)


def partner_unassign(*, records: Records, by: By = None) -> int:
    """Take `records` away from their partner and revoke the permissions that went with it.

    A relationship left without a partner follows its company's partner again. Returns how
    many records were unassigned.
    """
    model, ids = _record_ids(records)
    if model is None:
        return 0
    with transaction.atomic():
        _managed_by_set(model, ids, None, by)
    return len(ids)


def partner_grants_sync(*, records: Records) -> None:
    """Bring the permissions on `records` in step with their `managed_by` as saved.

    For the services that create a record with its partner, or move a relationship to another
    company (whose partner it may follow); for companies, their following relationships too.
    """
    model, ids = _record_ids(records)
    if model is None:
        return
    with transaction.atomic():
        if model is Company:
            _companies_sync(ids)
        else:
            _relationships_sync(ids)


def _managed_by_set(
    model: RecordModel, ids: Sequence[int], partner: Partner | None, by: By
) -> None:
    user = by if isinstance(by, User) else None
    for chunk in _chunks(ids):
        rows = model.objects.filter(pk__in=chunk)
        moving = list(rows.exclude(managed_by=partner).values_list("pk", flat=True))
        # updated_at by hand: update() skips auto_now.
        rows.update(managed_by=partner, updated_at=timezone.now())
        # update() writes no audit rows either: one "changed" row per record whose partner
        # changed (a record saved with it already has its row), by `by` or the request's user.
        changed: list[Any] = list(model.objects.filter(pk__in=moving))
        model.history.bulk_history_create(changed, update=True, default_user=user)
    if model is Company:
        _companies_sync(ids)
    else:
        _relationships_sync(ids)


def _companies_sync(ids: Sequence[int]) -> None:
    """Rewrite the permission rows of these companies and of the relationships following them."""
    if not ids:
        return
    permissions = _permissions(Company)
    for chunk in _chunks(ids):
        CompanyGroupObjectPermission.objects.filter(content_object_id__in=chunk).delete()
        managed = Company.objects.filter(pk__in=chunk, managed_by__group__isnull=False)
        grants = [
            CompanyGroupObjectPermission(
                content_object_id=pk, group_id=group_id, permission=permission
            )
            for pk, group_id in managed.values_list("pk", "managed_by__group_id")
            for permission in permissions
        ]
        # ignore_conflicts: a concurrent sync of the same records may have written them.
        CompanyGroupObjectPermission.objects.bulk_create(grants, ignore_conflicts=True)
        ctas_partner_sync(Q(company_id__in=chunk))
        following = Relationship.objects.filter(company_id__in=chunk, managed_by__isnull=True)
        _relationships_sync(list(following.values_list("pk", flat=True)))


def _relationships_sync(ids: Sequence[int]) -> None:
    """Rewrite the permission rows of these relationships from their own or company's partner."""
    if not ids:
        return
    permissions = _permissions(Relationship)
    for chunk in _chunks(ids):
        RelationshipGroupObjectPermission.objects.filter(content_object_id__in=chunk).delete()
        rows = Relationship.objects.filter(pk__in=chunk).values_list(
            "pk",
            "managed_by_id",
            "managed_by__group_id",
            "managed_by__data_scope",
            "company__managed_by__group_id",
            "company__managed_by__data_scope",
        )
        rel_grants: list[RelationshipGroupObjectPermission] = []
        for pk, own, own_group, own_scope, company_group, company_scope in rows:
            group_id, scope = (
                (own_group, own_scope) if own is not None else (company_group, company_scope)
            )
            if group_id is not None and scope == Partner.DataScope.COMPANIES_AND_RELATIONSHIPS:
                rel_grants.extend(
                    RelationshipGroupObjectPermission(
                        content_object_id=pk, group_id=group_id, permission=permission
                    )
                    for permission in permissions
                )
        RelationshipGroupObjectPermission.objects.bulk_create(rel_grants, ignore_conflicts=True)
        ctas_partner_sync(Q(relationship_id__in=chunk))


def work_partner(
    company_partner: int | None, own_partner: int | None, *, on_relationship: bool
) -> int | None:
    """The partner whose users see a CTA (`CTA.partner`), from its company's partner and its
    relationship's own: the company's, unless the relationship has another partner of its own
    (then neither partner sees it: one holds no permission on the company, the other none on
    the relationship). `work_partner_expression` is the same rule in SQL."""
    if not on_relationship or own_partner is None or own_partner == company_partner:
        return company_partner
    return None


def work_partner_id(*, company_id: int | None, relationship_id: int | None) -> int | None:
    """`work_partner` of a CTA about to be saved on these records (one query)."""
    if company_id is None:
        return None
    own: Any = Value(None, output_field=models.IntegerField())
    if relationship_id is not None:
        own = Subquery(Relationship.objects.filter(pk=relationship_id).values("managed_by_id")[:1])
    found = (
        Company.objects.filter(pk=company_id)
        .annotate(own_partner=own)
        .values_list("managed_by_id", "own_partner")
        .first()
    )
    if found is None:
        return None
    return work_partner(found[0], found[1], on_relationship=relationship_id is not None)


def work_partner_expression() -> Case:
    """`work_partner` for each row of a CTA query, in SQL."""
    company = Subquery(
        Company.objects.filter(pk=OuterRef("company_id")).values("managed_by_id")[:1]
    )
    own = Subquery(
        Relationship.objects.filter(pk=OuterRef("relationship_id")).values("managed_by_id")[:1]
    )
    return Case(
        When(relationship__isnull=True, then=company),
        When(Exact(Coalesce(own, company), company), then=company),
        default=None,
        output_field=models.IntegerField(),
    )


def ctas_partner_sync(ctas: Q) -> None:
    """Rewrite `partner` of the CTAs selected by `ctas` from their records (one UPDATE)."""
    CTA.objects.filter(ctas).update(partner=work_partner_expression())


def partner_relationship_ids(partner: Partner) -> list[int]:
    """The relationships whose permissions follow `partner`: its own and its companies' others."""
    return list(
        Relationship.objects.filter(
            Q(managed_by=partner) | Q(managed_by__isnull=True, company__managed_by=partner)
        ).values_list("pk", flat=True)
    )


def _permissions(model: RecordModel) -> list[Permission]:
    content_type = ContentType.objects.get_for_model(model)
    codenames = [f"{action}_{model._meta.model_name}" for action in GRANTED_ACTIONS]
    return list(Permission.objects.filter(content_type=content_type, codename__in=codenames))


def _record_ids(records: Records) -> tuple[RecordModel | None, list[int]]:
    """The records' model and ids, read once: the update may change what a queryset selects."""
    model: Any
    if isinstance(records, QuerySet):
        model = records.model
        ids = list(records.order_by().values_list("pk", flat=True))
    else:
        items: list[Any] = list(records)
        kinds = {type(item) for item in items}
        if len(kinds) > 1:
            raise TypeError("Assign companies and relationships in separate calls.")
        model = kinds.pop() if kinds else None
        ids = [item.pk for item in items]
    if model is not None and model not in PERMISSION_MODELS:
        raise TypeError(f"Partners manage companies and relationships, not {model.__name__}.")
    if not ids:
        return None, []
    return model, ids


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


# ---------- partners and their groups ----------


@transaction.atomic
def partner_create(*, by: By = None, **fields: Any) -> Partner:
    """Create a partner with its own group (named "Partner: <name>")."""
    return partner_save(partner=Partner(**fields), by=by)


@transaction.atomic
def partner_update(*, partner: Partner, by: By = None, **fields: Any) -> Partner:
    """Change a partner: its group follows a new name, its permissions a new data scope.

    Deactivating (`active=False`) keeps the permissions: the access checks refuse every record
    of an inactive partner, and reactivating gives its users their records back.
    """
    for name, value in fields.items():
        setattr(partner, name, value)
    return partner_save(partner=partner, by=by)


@transaction.atomic
def partner_save(*, partner: Partner, by: By = None) -> Partner:
    """Save a new or changed partner as it stands (the admin's form), with its group in step."""
    stored_scope = (
        Partner.objects.filter(pk=partner.pk).values_list("data_scope", flat=True).first()
        if partner.pk is not None
        else None
    )
    partner.full_clean()
    _group_name_check(partner)
    partner.save()
    partner_group_ensure(partner=partner)
    if stored_scope is not None and stored_scope != partner.data_scope:
        _relationships_sync(partner_relationship_ids(partner))
    return partner


@transaction.atomic
def partner_delete(*, partner: Partner, by: By = None) -> None:
    """Delete a partner: its records go back in house, its users out of its groups, its group."""
    for membership in partner.members.select_related("user", "bundle"):
        partner_user_remove(partner_user=membership)
    partner_unassign(records=Relationship.objects.filter(managed_by=partner), by=by)
    partner_unassign(records=Company.objects.filter(managed_by=partner), by=by)
    group = partner.group
    partner.delete()
    if group is not None:
        group.delete()


def partner_group_ensure(*, partner: Partner) -> Group:
    """The partner's own group, created or renamed to "Partner: <name>" when needed."""
    group = partner.group
    if group is None:
        group = Group.objects.filter(name=partner.group_name).first()
        if group is None:
            group = Group.objects.create(name=partner.group_name)
        else:
            _group_name_check(partner)
            # Left behind by a partner deleted outside these services: start it afresh.
            CompanyGroupObjectPermission.objects.filter(group=group).delete()
            RelationshipGroupObjectPermission.objects.filter(group=group).delete()
            group.permissions.clear()
            group.user_set.clear()
        partner.group = group
        Partner.objects.filter(pk=partner.pk).update(group=group)
    elif group.name != partner.group_name:
        group.name = partner.group_name
        group.save(update_fields=["name"])
    return group


def _group_name_check(partner: Partner) -> None:
    taken = Group.objects.filter(name=partner.group_name)
    if partner.group_id is not None:
        taken = taken.exclude(pk=partner.group_id)
    if partner.pk is not None:
        taken = taken.exclude(partner=partner)
    # A group of another partner, or one an admin made (a bundle): never take it over.
    others = taken.filter(
        Q(partner__isnull=False) | Q(partner_users__isnull=False) | Q(permissions__isnull=False)
    )
    if others.exists():
        raise ValidationError(
            {
                "name": f"The group {partner.group_name} already exists and belongs to someone "
                "else: choose another partner name or rename that group."
            }
        )


# ---------- partner users ----------


@transaction.atomic
def partner_user_add(
    *,
    partner: Partner,
    user: User,
    bundle: Group | None = None,
    by: By = None,
) -> PartnerUser:
    """Make `user` a user of `partner` with a permission bundle (the default one when None)."""
    membership = PartnerUser(partner=partner, user=user)
    if bundle is not None:
        membership.bundle = bundle
    return partner_user_save(partner_user=membership, by=by)


@transaction.atomic
def partner_user_update(*, partner_user: PartnerUser, by: By = None, **fields: Any) -> PartnerUser:
    """Move a partner user to another partner or bundle; their two groups follow."""
    for name, value in fields.items():
        setattr(partner_user, name, value)
    return partner_user_save(partner_user=partner_user, by=by)


@transaction.atomic
def partner_user_save(*, partner_user: PartnerUser, by: By = None) -> PartnerUser:
    """Save a new or changed membership as it stands (the admin's forms), groups in step.

    The user ends up in exactly two groups: the partner's and the bundle. A user replaced on
    a membership is taken off it as `partner_user_remove` does.
    """
    stored = (
        PartnerUser.objects.select_related("user", "partner__group", "bundle")
        .filter(pk=partner_user.pk)
        .first()
        if partner_user.pk is not None
        else None
    )
    _membership_check(partner_user)
    partner_user.save()
    if stored is not None and stored.user_id != partner_user.user_id:
        _user_off_partner(stored)
    # Setting the two groups drops any other: an old partner's group, an old bundle.
    group = partner_group_ensure(partner=partner_user.partner)
    partner_user.user.groups.set([group.pk, partner_user.bundle_id or default_bundle()])
    return partner_user


@transaction.atomic
def partner_user_remove(*, partner_user: PartnerUser, by: By = None) -> None:
    """Take a user off their partner: out of its group and their bundle, and deactivated.

    Deactivated because a user with no partner is an internal user, who sees every record:
    an admin who means that turns them active again, with an internal role.
    """
    _user_off_partner(partner_user)
    partner_user.delete()


def _user_off_partner(membership: PartnerUser) -> None:
    user = membership.user
    user.groups.remove(*[group for group in (membership.partner.group, membership.bundle) if group])
    user.is_active = False
    user.save(update_fields=["is_active"])


def _membership_check(membership: PartnerUser) -> None:
    membership.full_clean(validate_unique=False)
    other = (
        PartnerUser.objects.filter(user_id=membership.user_id)
        .exclude(pk=membership.pk)
        .select_related("partner")
        .first()
    )
    if other is not None:
        raise ValidationError({"user": membership_taken_message(membership.user, other.partner)})
    bundle_id = membership.bundle_id
    if bundle_id is not None and Partner.objects.filter(group_id=bundle_id).exists():
        raise ValidationError(
            {"bundle": "A partner's own group is not a permission bundle: choose a bundle."}
        )


def membership_taken_message(user: Any, partner: Partner) -> str:
    """The sentence for a user who already belongs to `partner`."""
    return (
        f"{user} already belongs to the partner {partner}. A user belongs to "
        f"at most one partner: remove them from {partner} first."
    )
