"""Who may see and change which records — decided here and only here.

Every view and every 360 section gets its records through these functions:
`companies_visible_to(user)` / `relationships_visible_to(user)` (and the work objects'
helpers built on them) for lists, and `get_company_for(user, pk, action=...)` /
`get_relationship_for(...)` for one record, which answers 404 for a record the user may not
see (the same as one that does not exist) and 403 for an action the user may not do.

Internal users see every record; what they may do follows their groups' model permissions.
A partner user sees the records on which their partner's group holds the `view` object
permission — rows of the direct foreign-key tables CompanyGroupObjectPermission and
RelationshipGroupObjectPermission that partners.services keeps in step with `managed_by` —
joined in SQL, never as lists of ids. Nothing when the partner is inactive; no relationship
(nor work on one) when its data scope is companies only. What a partner user may do with a
record is their bundle's model permission AND their partner's object permission on it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Exists,
    Expression,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IsNull
from django.db.models.signals import post_migrate
from django.http import Http404

from companies.models import Company
from gainsight_lite import row_counts
from partners.models import (
    CompanyGroupObjectPermission,
    Partner,
    PartnerUser,
    RelationshipGroupObjectPermission,
)
from relationships.models import Relationship
from success.models import CTA, Activity, SuccessPlan

Action = Literal["view", "change", "delete"]
AnyUser = User | AnonymousUser
RecordModel = type[Company] | type[Relationship]


def partner_of(user: AnyUser) -> Partner | None:
    """The partner a user works for, or None for an internal user."""
    if not user.is_authenticated:
        return None
    # Cached on the user object: every access check of a request asks again.
    if not hasattr(user, "_partner_cache"):
        loaded, partner = _partner_loaded_with(user)
        if not loaded or (partner is not None and any(k not in _permission_ids for k in _LISTED)):
            partner = _partner_read(user)
        user._partner_cache = partner  # type: ignore[union-attr,attr-defined]
    cached: Partner | None = user._partner_cache  # type: ignore[union-attr,attr-defined]
    return cached


def _partner_read(user: User) -> Partner | None:
    """The user's partner, asked of the database (one query)."""
    partners = Partner.objects.filter(members__user=user)
    # While the view permissions' ids are unknown, they are read with the partner (the
    # same query): a partner user's lists then filter on the ids as constants.
    missing = [key for key in _LISTED if key not in _permission_ids]
    if missing:
        partners = partners.annotate(
            **{f"_permission_{number}": _permission_sql(*key) for number, key in enumerate(missing)}
        )
    partner = partners.first()
    if partner is not None:
        for number, key in enumerate(missing):
            found = getattr(partner, f"_permission_{number}")
            if found is not None:
                _permission_ids[key] = found
    return partner


def _partner_loaded_with(user: AnyUser) -> tuple[bool, Partner | None]:
    """Whether the user was read with their partner membership and partner (the sign-in
    backend's `get_user` joins them), and that partner (None: an internal user)."""
    membership_rel: Any = User.partner_membership.related  # type: ignore[attr-defined]
    if not membership_rel.is_cached(user):
        return False, None
    membership: PartnerUser | None = membership_rel.get_cached_value(user)
    if membership is None:
        return True, None
    if not PartnerUser.partner.field.is_cached(membership):
        return False, None
    partner: Partner = membership.partner
    return True, partner


def is_partner_user(user: AnyUser) -> bool:
    return partner_of(user) is not None


# The ids of the permissions partner users' lists filter on, by (model, action), kept for the
# process: a permission's row does not change while the application runs. Read along with a
# partner (`partner_of`), no query of their own; emptied whenever the tables are (re)built
# (post_migrate: migrate, and flush, which can give the permissions new ids).
_LISTED: list[tuple[RecordModel, str]] = [(Company, "view"), (Relationship, "view")]
_permission_ids: dict[tuple[RecordModel, str], int] = {}


def _forget_permission_ids(**kwargs: Any) -> None:
    _permission_ids.clear()


post_migrate.connect(_forget_permission_ids, dispatch_uid="partners.access.permission_ids")


def _permission_sql(model: RecordModel, action: str) -> RawSQL:
    """`_permission_query` as SQL written out: an internal user's partner lookup carries it
    until a partner user's has read the ids, so it costs no compiling of subqueries."""
    return RawSQL(
        _permission_id_sql(),
        (model._meta.app_label, f"{action}_{model._meta.model_name}"),
        output_field=IntegerField(),
    )


@functools.cache
def _permission_id_sql() -> str:
    """The id of the permission (app label, codename): its two parameters."""
    quote = connection.ops.quote_name
    return (
        f"SELECT p.{quote('id')} FROM {quote(Permission._meta.db_table)} p"
        f" INNER JOIN {quote(ContentType._meta.db_table)} c"
        f" ON p.{quote('content_type_id')} = c.{quote('id')}"
        f" WHERE c.{quote('app_label')} = %s AND p.{quote('codename')} = %s"
    )


def _permission_query(model: RecordModel, action: str) -> QuerySet[Permission, Any]:
    return (
        Permission.objects.filter(
            content_type__app_label=model._meta.app_label,
            codename=f"{action}_{model._meta.model_name}",
        )
        .order_by()
        .values("pk")[:1]
    )


def _permission(model: RecordModel, action: str) -> Any:
    """The permission's id as a constant — the id when known, else a subquery (a lookup's
    value either way: `int | QuerySet`): no join to auth_permission per row."""
    known = _permission_ids.get((model, action))
    return known if known is not None else _permission_query(model, action)


def _joined(model: RecordModel, partner: Partner, action: str) -> Q:
    """A JOIN of the records to the rows granting `action` to the partner's group.

    For the lists of companies and relationships, counted and paged: SQLite walks the
    partner's rows in the unique (group, permission, record) index and looks each record up
    by its key, so a partner's list costs its own size, not the whole table's. The unique
    index makes one row per record: no duplicates.
    """
    related = (
        "companygroupobjectpermission" if model is Company else "relationshipgroupobjectpermission"
    )
    return Q(
        **{
            f"{related}__group_id": partner.group_id or 0,
            f"{related}__permission_id": _permission(model, action),
        }
    )


def _granted(model: RecordModel, partner: Partner, action: str, ref: str = "pk") -> Exists:
    """EXISTS a row granting `action` on the record at `ref` to the partner's group.

    For the work objects (activities, CTAs, plans), listed newest first a page at a time:
    SQLite walks their own index in order and probes the unique (group, permission,
    record) index once per row until the page is full.
    """
    table = CompanyGroupObjectPermission if model is Company else RelationshipGroupObjectPermission
    return Exists(
        table.objects.filter(
            group_id=partner.group_id or 0,
            permission_id=_permission(model, action),
            content_object_id=OuterRef(ref),
        )
    )


def _sees_records(partner: Partner) -> bool:
    return partner.active and partner.group_id is not None


def _sees_relationships(partner: Partner) -> bool:
    return _sees_records(partner) and partner.sees_relationships


def companies_visible_to(user: AnyUser) -> QuerySet[Company]:
    """The companies `user` may see."""
    if not user.is_authenticated:
        return Company.objects.none()
    partner = partner_of(user)
    if partner is None:
        return Company.objects.all()
    if not _sees_records(partner):
        return Company.objects.none()
    return Company.objects.filter(_joined(Company, partner, "view"))


def companies_visible_in_order_to(user: AnyUser) -> QuerySet[Company]:
    """The companies `user` may see, for walking an index in a list's order to fill one page.

    The same rows as `companies_visible_to`, asked per row (EXISTS a grant) instead of joined:
    SQLite walks the list's index and stops after a page, which for a partner holding a large
    share of the book costs a page, not the partner's size. (For a small share or a deep page
    the join is cheaper: see `companies_visible_count`.)
    """
    if not user.is_authenticated:
        return Company.objects.none()
    partner = partner_of(user)
    if partner is None:
        return Company.objects.all()
    if not _sees_records(partner):
        return Company.objects.none()
    return Company.objects.filter(_granted(Company, partner, "view"))


class _GrantRowProbe(Expression):
    """`_grant_probe`'s subquery as one expression over the outer row's column `ref`:
    (SELECT content_object_id FROM <grants> WHERE group_id = %s AND permission_id = %s AND
    content_object_id = <ref> LIMIT 1).

    A QuerySet inside a Subquery is cloned, relabelled and compiled again each time the query
    holding it is filtered or nested in another (the timeline's feed nests its probes in the
    author choices and in the page): ~2.5 ms of ORM work a feed for partner-a. This one
    carries only the column it compares.
    """

    output_field = IntegerField()

    def __init__(self, grants: type[Model], group_id: int, permission_id: int, ref: Any) -> None:
        super().__init__()
        self.grants, self.group_id, self.permission_id, self.ref = (
            grants,
            group_id,
            permission_id,
            ref,
        )

    def get_source_expressions(self) -> list[Any]:
        return [self.ref]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.ref,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        quote = connection.ops.quote_name
        ref_sql, ref_params = compiler.compile(self.ref)
        row, record = quote("grant_probe"), quote("content_object_id")
        sql = (
            f"(SELECT {row}.{record} FROM {quote(self.grants._meta.db_table)} {row}"
            f" WHERE {row}.{quote('group_id')} = %s AND {row}.{quote('permission_id')} = %s"
            f" AND {row}.{record} = {ref_sql} LIMIT 1)"
        )
        return sql, [self.group_id, self.permission_id, *ref_params]


def _grant_probe(model: RecordModel, partner: Partner, ref: str) -> Any:
    """The record id of the row granting `view` on the record at `ref` to the partner's
    group, or NULL: a scalar subquery with LIMIT 1 read from the unique (group, permission,
    record) index alone (an index-only probe: it selects the record id the index holds)."""
    table = CompanyGroupObjectPermission if model is Company else RelationshipGroupObjectPermission
    permission = _permission(model, "view")
    if isinstance(permission, int):
        return _GrantRowProbe(table, partner.group_id or 0, permission, F(ref))
    # The permission's id not read yet (no partner user's request in this process so far).
    grants = table.objects.filter(
        group_id=partner.group_id or 0,
        permission_id=permission,
        content_object_id=OuterRef(ref),
    )
    return Subquery(grants.order_by().values("content_object_id")[:1], output_field=IntegerField())


def _visible_probe(user: AnyUser, model: RecordModel, ref: str) -> Any:
    """The probe of `company_visible_probe` / `relationship_visible_probe` for `model`."""
    if not user.is_authenticated:
        return Value(None, output_field=IntegerField())
    partner = partner_of(user)
    if partner is None:
        return Value(1, output_field=IntegerField())
    sees = _sees_relationships(partner) if model is Relationship else _sees_records(partner)
    if not sees:
        return Value(None, output_field=IntegerField())
    return _grant_probe(model, partner, ref)


def company_visible_probe(user: AnyUser, ref: str) -> Any:
    """An expression, not NULL when `user` may see the company whose id is in the outer
    query's column `ref` (a list row's `parent_id`, a user's first company...).

    For a partner user, the company's id from its grant row, read per outer row by a scalar
    subquery with LIMIT 1: an index-only probe. (An EXISTS there would be the same on SQLite,
    but PostgreSQL turns it into a hashed subplan over all the partner's grants joined to the
    companies, 100+ ms.)
    Internal users: 1. Nobody signed in, or a partner that sees no record: NULL.
    """
    return _visible_probe(user, Company, ref)


def _visible_count(user: AnyUser, model: RecordModel) -> int:
    """`companies_visible_count` / `relationships_visible_count` for `model`: read from the
    running counts the database keeps (`gainsight_lite.row_counts`), a few rows whatever the
    book's size — the table's rows for an internal user, the partner's group's view grants
    for a partner user."""
    partner = partner_of(user)
    if partner is None:
        kind = row_counts.COMPANY if model is Company else row_counts.RELATIONSHIP
        return row_counts.table_total(kind) if user.is_authenticated else 0
    sees = _sees_relationships(partner) if model is Relationship else _sees_records(partner)
    if not sees:
        return 0
    grants = row_counts.COMPANY_GRANT if model is Company else row_counts.RELATIONSHIP_GRANT
    return row_counts.grant_total(
        grants, group_id=partner.group_id or 0, permission_id=_permission(model, "view")
    )


def companies_visible_count(user: AnyUser) -> int:
    """How many companies `user` may see, in one query that reads no company row.

    Read from the running counts kept by triggers (`gainsight_lite.row_counts`): every
    company for an internal user; a partner's, its group's view grants (each grant's
    foreign key guarantees its company exists).
    """
    return _visible_count(user, Company)


def relationships_visible_count(user: AnyUser) -> int:
    """How many relationships `user` may see, in one query that reads no relationship row.

    Read from the running counts, as `companies_visible_count`; none when the partner runs
    companies only.
    """
    return _visible_count(user, Relationship)


def relationships_visible_to(user: AnyUser) -> QuerySet[Relationship]:
    """The relationships `user` may see."""
    if not user.is_authenticated:
        return Relationship.objects.none()
    partner = partner_of(user)
    if partner is None:
        return Relationship.objects.all()
    if not _sees_relationships(partner):
        return Relationship.objects.none()
    return Relationship.objects.filter(_joined(Relationship, partner, "view"))


def sees_relationships(user: AnyUser) -> bool:
    """Whether `user` may see relationships at all: internal users do; a partner user when
    their partner is active and runs relationships (not "companies only")."""
    if not user.is_authenticated:
        return False
    partner = partner_of(user)
    return partner is None or _sees_relationships(partner)


def relationship_visible_probe(user: AnyUser, ref: str) -> Any:
    """An expression, not NULL when `user` may see the relationship whose id is in the outer
    query's column `ref` (a CTA's `relationship_id`...): `company_visible_probe`'s contract.

    For a partner user, the relationship's id from its grant row (`_grant_probe`). Internal
    users: 1. Nobody signed in, or a partner that sees no relationship (inactive, or running
    companies only): NULL. (A NULL `ref` finds no grant: NULL.)
    """
    return _visible_probe(user, Relationship, ref)


W = TypeVar("W", Activity, CTA, SuccessPlan)


def work_visible_by_probe(user: AnyUser, work: QuerySet[W]) -> QuerySet[W]:
    """The rows of `work` (activities, CTAs or plans) that `user` may see — the rows of
    `activities_/ctas_/success_plans_visible_to` — decided per row by the grant probes.

    For a read of work rows picked by their own index (the timeline's): PostgreSQL reads
    the EXISTS of `_work_visible` as hash joins over all the partner's grants (tens of
    thousands), the probes as one unique-index lookup per row.
    """
    if not user.is_authenticated:
        return work.none()
    partner = partner_of(user)
    if partner is None:
        return work
    if not _sees_records(partner):
        return work.none()
    work = work.alias(_company_probe=company_visible_probe(user, "company_id")).filter(
        _company_probe__isnull=False
    )
    if not _sees_relationships(partner):
        return work.filter(relationship__isnull=True)
    return work.alias(
        _relationship_probe=relationship_visible_probe(user, "relationship_id")
    ).filter(Q(relationship__isnull=True) | Q(_relationship_probe__isnull=False))


def _work_visible(partner: Partner) -> Q:
    """Work on a visible company, and on a visible relationship when it names one."""
    company = Q(_granted(Company, partner, "view", "company_id"))
    if not _sees_relationships(partner):
        return company & Q(relationship__isnull=True)
    return company & (
        Q(relationship__isnull=True) | Q(_granted(Relationship, partner, "view", "relationship_id"))
    )


def activities_visible_to(user: AnyUser) -> QuerySet[Activity]:
    """The activities `user` may see: their company visible, their relationship (if any) too."""
    if not user.is_authenticated:
        return Activity.objects.none()
    partner = partner_of(user)
    if partner is None:
        return Activity.objects.all()
    if not _sees_records(partner):
        return Activity.objects.none()
    return Activity.objects.filter(_work_visible(partner))


def ctas_visible_to(user: AnyUser) -> QuerySet[CTA]:
    """The CTAs `user` may see: their company visible, their relationship (if any) too.

    A partner user's are those of their partner (`CTA.partner`, kept by partners.services
    from the same `managed_by` as the permission rows, so the same CTAs as their company and
    relationship permissions give): an equality on the CTAs' own column, read by the
    partner-first indexes, not a probe of the grants per CTA.
    """
    if not user.is_authenticated:
        return CTA.objects.none()
    partner = partner_of(user)
    if partner is None:
        return CTA.objects.all()
    if not _sees_records(partner):
        return CTA.objects.none()
    ctas = CTA.objects.filter(partner=partner)
    if not _sees_relationships(partner):
        return ctas.filter(relationship__isnull=True)
    return ctas


def ctas_visible_where(user: AnyUser) -> tuple[str, list[Any]] | None:
    """`ctas_visible_to` as a WHERE condition on the CTA table's own columns, for a query
    whose SQL is written out: (condition, parameters), or None when `user` sees no CTA."""
    if not user.is_authenticated:
        return None
    partner = partner_of(user)
    if partner is None:
        return "1 = 1", []
    if not _sees_records(partner):
        return None
    quote = connection.ops.quote_name
    condition = f"{quote('partner_id')} = %s"
    if not _sees_relationships(partner):
        condition += f" AND {quote('relationship_id')} IS NULL"
    return condition, [partner.pk]


def success_plans_visible_to(user: AnyUser) -> QuerySet[SuccessPlan]:
    """The success plans `user` may see: their company visible, their relationship (if any) too."""
    if not user.is_authenticated:
        return SuccessPlan.objects.none()
    partner = partner_of(user)
    if partner is None:
        return SuccessPlan.objects.all()
    if not _sees_records(partner):
        return SuccessPlan.objects.none()
    return SuccessPlan.objects.filter(_work_visible(partner))


def _check_action(
    user: AnyUser, model: RecordModel, action: Action, obj: Model | None = None
) -> None:
    """Raise PermissionDenied unless `user` may do `action` on `model` (and on `obj`)."""
    if action == "view":
        return
    refused = PermissionDenied(f"You may not {action} this {model._meta.verbose_name}.")
    codename = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
    # Model permissions come from the user's groups: a partner user's bundle.
    if not user.has_perm(codename):
        raise refused
    partner = partner_of(user)
    if partner is None:
        return
    if not (_sees_relationships(partner) if model is Relationship else _sees_records(partner)):
        raise refused
    if (
        obj is not None
        and not model.objects.filter(_granted(model, partner, action), pk=obj.pk).exists()
    ):
        raise refused


def can(
    user: AnyUser,
    action: Action,
    model: RecordModel,
    obj: Company | Relationship | None = None,
) -> bool:
    """Whether `user` may do `action` on records of `model` they can see (on `obj` if given).

    Internal users: their groups' model permission. Partner users: their bundle's model
    permission and, for `obj`, their partner's object permission on it.
    """
    try:
        _check_action(user, model, action, obj)
    except PermissionDenied:
        return False
    return True


def require_permission(user: AnyUser, permission: str) -> None:
    """Raise PermissionDenied (a 403) unless `user` holds `permission` ("app.codename"),
    through a group, their own permissions or as a superuser: the check before a write that
    is not on a company or relationship (a CTA, a task, a success plan)."""
    if not user.has_perm(permission):
        raise PermissionDenied("Your role does not allow this change.")


def get_company_for(user: AnyUser, pk: int | str, *, action: Action = "view") -> Company:
    """The company `pk` if `user` may see it (else 404) and may do `action` on it (else 403)."""
    try:
        company = companies_visible_to(user).select_related("csm", "managed_by").get(pk=pk)
    except (Company.DoesNotExist, ValueError, TypeError):
        raise Http404("No such company.") from None
    _check_action(user, Company, action, company)
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
    _check_action(user, Relationship, action, relationship)
    return relationship


# ---------- who may be picked in a user field ----------


def users_choosable_by(
    user: AnyUser | None,
    *,
    company_id: Any = None,
    relationship_id: Any = None,
    current_id: Any = None,
    permission: str | None = None,
    any_record: bool = False,
) -> QuerySet[User]:
    """The people `user` may pick in any user field — a record's CSM, a CTA's, task's or
    plan's owner — by name.

    Internal users (and no user) get the active internal users. A partner user gets their
    partner's active users and the current CSM of the record (`company_id` or
    `relationship_id`, through the visibility rules: a record they may not see adds nobody),
    never the rest of the internal staff. `current_id` (the field's value now) stays a choice,
    so an edit does not fail on a value the user did not touch.

    `permission` ("app.codename") narrows the internal users to those who hold it — through a
    group, their own permissions, or as superusers: a CTA goes to someone who may work it,
    never to a read-only user. The partner rules stay as they are.

    `any_record` (a filter's choices, such as the timeline's authors): a partner user also
    gets the CSMs of every company and relationship they may see — each user asked by a scalar
    subquery (LIMIT 1) at their first such record by the CSM index, not by collecting the CSM
    of all the partner's records. Each record's grant is read by the visibility probe (a
    scalar subquery on the unique grant index), never joined: a prepared statement's generic
    plan, not knowing the group, hashed all the partner's grants for the join (20,000 for
    partner-a: 3.7 -> 21.6 ms on PostgreSQL).
    """
    partner = partner_of(user) if user is not None else None
    if user is None or partner is None:
        allowed = Q(partner_membership__isnull=True)
        if permission is not None:
            allowed &= _holders_of(permission)
    else:
        allowed = Q(partner_membership__partner=partner)
        # Subqueries through the visibility rules: a record they may not see adds nobody.
        if company_id is not None:
            companies = companies_visible_to(user).filter(pk=company_id)
            allowed |= Q(pk__in=companies.values("csm_id"))
        if relationship_id is not None:
            relationships = relationships_visible_to(user).filter(pk=relationship_id)
            allowed |= Q(pk__in=relationships.values("csm_id"))
        if any_record:
            probes = ((Company, company_visible_probe), (Relationship, relationship_visible_probe))
            for model, probe in probes:
                records = (
                    model.objects.filter(csm=OuterRef("pk"))
                    .alias(_grant=probe(user, "pk"))
                    .filter(_grant__isnull=False)
                )
                first = records.order_by().values("pk")[:1]
                allowed |= Q(IsNull(Subquery(first), False))
    chosen = Q(is_active=True) & allowed
    if current_id is not None:
        chosen |= Q(pk=current_id)
    return User.objects.filter(chosen).order_by("first_name", "last_name", "username")


def _holders_of(permission: str) -> Q:
    """Users holding `permission` ("app.codename"): superusers, and those granted it directly
    or through a group (a subquery: no duplicate rows). Its SQL is written out: the ORM's
    three nested subqueries cost ~2 ms of Python to build on every page with a user select."""
    app_label, _, codename = permission.partition(".")
    held = RawSQL(_holders_sql(), (app_label, codename, app_label, codename))
    return Q(is_superuser=True) | Q(pk__in=held)


@functools.cache
def _holders_sql() -> str:
    """The ids of the users granted a permission (app label, codename; twice) directly or
    through one of their groups."""
    quote = connection.ops.quote_name
    user_id, group_id, permission_id = quote("user_id"), quote("group_id"), quote("permission_id")
    permission = _permission_id_sql()
    direct = quote(User.user_permissions.through._meta.db_table)
    user_groups = quote(User.groups.through._meta.db_table)
    group_permissions = quote(Group.permissions.through._meta.db_table)
    return (
        f"SELECT {user_id} FROM {direct} WHERE {permission_id} IN ({permission})"
        f" UNION SELECT ug.{user_id} FROM {user_groups} ug INNER JOIN {group_permissions} gp"
        f" ON gp.{group_id} = ug.{group_id} WHERE gp.{permission_id} IN ({permission})"
    )


# ---------- 360 sections and viewing as a partner user ----------


def section_kind_allowed(user: AnyUser, kind: object) -> bool:
    """Whether `user` may see sections of `kind` (a layouts section kind) on a 360 page.

    Internal users see every kind; partner users only the kinds marked `partner_visible`,
    whatever the layout holds. A kind may narrow that with `allowed_for(user)` (the History
    section: internal users with the view permission of what it shows).
    """
    allowed_for = getattr(kind, "allowed_for", None)
    if allowed_for is not None and not allowed_for(user):
        return False
    if not is_partner_user(user):
        return True
    return bool(getattr(kind, "partner_visible", False))


def group_names(user: AnyUser) -> frozenset[str]:
    """The names of `user`'s groups, read once per request (kept on the user object): the
    layout criteria and the user menu's role both ask. Read with the user's permissions, in
    the one query of the sign-in backend (`gainsight_lite.auth`), which the page asks for too."""
    from gainsight_lite.auth import read_permissions_and_groups

    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_group_names", None)
    if cached is None:
        if user.is_active:
            read_permissions_and_groups(user)  # keeps them as `_group_names`
        else:
            user._group_names = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[union-attr,attr-defined]
        cached = user._group_names  # type: ignore[union-attr,attr-defined]
    return cached


def is_cs_admin(user: AnyUser) -> bool:
    """Superusers and members of the CS admin group (never a partner user)."""
    from partners.roles import CS_ADMIN

    if not user.is_authenticated or not user.is_active or is_partner_user(user):
        return False
    # The group names come with the user's permissions (one query a request, often read already).
    return user.is_superuser or CS_ADMIN in group_names(user)


def may_view_as(user: AnyUser, target: User) -> bool:
    """Whether `user` may open the application as `target` sees it: admins, partner users only."""
    return (
        is_cs_admin(user)
        and target.is_active
        and target.pk != user.pk
        and partner_of(target) is not None
    )
