"""Who may see and change which records — decided here and only here.

Every view and every 360 section gets its records through these functions:
`companies_visible_to(user)` / `relationships_visible_to(user)` for lists and
`get_company_for(user, pk, action=...)` / `get_relationship_for(...)` for one record,
which answers 404 for a record the user may not see (the same as one that does not exist)
and 403 for an action the user's role does not allow.

Internal users see every record. A partner user sees a company its partner manages, and a
relationship its partner manages (or that has no partner of its own and whose company the
partner manages), unless the partner's data scope is companies only.
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from companies.models import Company
from partners.models import Partner
from relationships.models import Relationship
from success.models import CTA, Activity, SuccessPlan

Action = Literal["view", "change", "delete"]
AnyUser = User | AnonymousUser


def partner_of(user: AnyUser) -> Partner | None:
    """The partner a user works for, or None for an internal user."""
    if not user.is_authenticated:
        return None
    # Cached on the user object: every access check of a request asks again.
    if not hasattr(user, "_partner_cache"):
        user._partner_cache = Partner.objects.filter(members__user=user).first()  # type: ignore[union-attr,attr-defined]
    partner: Partner | None = user._partner_cache  # type: ignore[union-attr,attr-defined]
    return partner


def is_partner_user(user: AnyUser) -> bool:
    return partner_of(user) is not None


def companies_visible_to(user: AnyUser) -> QuerySet[Company]:
    """The companies `user` may see."""
    if not user.is_authenticated:
        return Company.objects.none()
    partner = partner_of(user)
    if partner is None:
        return Company.objects.all()
    if not partner.active:
        return Company.objects.none()
    return Company.objects.filter(managed_by=partner)


def relationships_visible_to(user: AnyUser) -> QuerySet[Relationship]:
    """The relationships `user` may see."""
    if not user.is_authenticated:
        return Relationship.objects.none()
    partner = partner_of(user)
    if partner is None:
        return Relationship.objects.all()
    if not partner.active or not partner.sees_relationships:
        return Relationship.objects.none()
    return Relationship.objects.filter(
        Q(managed_by=partner) | Q(managed_by__isnull=True, company__managed_by=partner)
    )


def activities_visible_to(user: AnyUser) -> QuerySet[Activity]:
    """The activities `user` may see: their company visible, their relationship (if any) too."""
    if not user.is_authenticated:
        return Activity.objects.none()
    if partner_of(user) is None:
        return Activity.objects.all()
    # Subqueries, not lists of ids: the same rules as the companies' and relationships' own.
    return Activity.objects.filter(company__in=companies_visible_to(user)).filter(
        Q(relationship__isnull=True) | Q(relationship__in=relationships_visible_to(user))
    )


def ctas_visible_to(user: AnyUser) -> QuerySet[CTA]:
    """The CTAs `user` may see: their company visible, their relationship (if any) too."""
    if not user.is_authenticated:
        return CTA.objects.none()
    if partner_of(user) is None:
        return CTA.objects.all()
    # Subqueries, not lists of ids: the same rules as the companies' and relationships' own.
    return CTA.objects.filter(company__in=companies_visible_to(user)).filter(
        Q(relationship__isnull=True) | Q(relationship__in=relationships_visible_to(user))
    )


def success_plans_visible_to(user: AnyUser) -> QuerySet[SuccessPlan]:
    """The success plans `user` may see: their company visible, their relationship (if any) too."""
    if not user.is_authenticated:
        return SuccessPlan.objects.none()
    if partner_of(user) is None:
        return SuccessPlan.objects.all()
    # Subqueries, not lists of ids: the same rules as the companies' and relationships' own.
    return SuccessPlan.objects.filter(company__in=companies_visible_to(user)).filter(
        Q(relationship__isnull=True) | Q(relationship__in=relationships_visible_to(user))
    )


def _check_action(user: AnyUser, model: type[Company] | type[Relationship], action: Action) -> None:
    if action == "view":
        return
    codename = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
    if not user.has_perm(codename):
        raise PermissionDenied(f"You may not {action} this {model._meta.verbose_name}.")


def can(user: AnyUser, action: Action, model: type[Company] | type[Relationship]) -> bool:
    """Whether the user's role allows `action` on records of `model` they can see."""
    try:
        _check_action(user, model, action)
    except PermissionDenied:
        return False
    return True


def get_company_for(user: AnyUser, pk: int | str, *, action: Action = "view") -> Company:
    """The company `pk` if `user` may see it (else 404) and may do `action` on it (else 403)."""
    try:
        company = companies_visible_to(user).select_related("csm", "managed_by").get(pk=pk)
    except (Company.DoesNotExist, ValueError, TypeError):
        raise Http404("No such company.") from None
    _check_action(user, Company, action)
    return company


def get_relationship_for(user: AnyUser, pk: int | str, *, action: Action = "view") -> Relationship:
    """The relationship `pk` if `user` may see it (else 404) and may do `action` (else 403)."""
    try:
        relationship = (
            relationships_visible_to(user)
            .select_related("company", "relationship_type", "csm", "managed_by")
            .get(pk=pk)
        )
    except (Relationship.DoesNotExist, ValueError, TypeError):
        raise Http404("No such relationship.") from None
    _check_action(user, Relationship, action)
    return relationship
