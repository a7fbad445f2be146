"""Reads of relationships for the pages, always through the access rules of `partners.access`.

Each function answers in a fixed number of queries whatever the size of the book.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.safestring import SafeString

from companies.models import Company, CompanyPerson
from companies.templatetags.gs import format_attribute, id_urls
from gainsight_lite.forms import name_label
from partners.access import (
    AnyUser,
    companies_visible_to,
    is_partner_user,
    relationships_visible_to,
)
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)


@dataclass(frozen=True)
class TypeOption:
    """A relationship type as the section's filter offers it."""

    pk: int
    name: str


@dataclass
class RelationshipCard:
    """One relationship as its card shows it (read as values: no model instance)."""

    pk: int
    name: str
    url: str
    status: str
    status_label: str
    stage_label: str
    arr: Decimal
    renewal_date: dt.date | None
    # The CSM's name, or "" when unassigned.
    csm_name: str
    # The type's fields marked "shown in lists": (label, this relationship's value as shown).
    fields: list[tuple[str, SafeString]]


@dataclass
class RelationshipGroup:
    relationship_type: TypeOption
    cards: list[RelationshipCard] = field(default_factory=list)

    @property
    def arr(self) -> Decimal:
        return sum((card.arr for card in self.cards), Decimal(0))


_STATUS_LABELS = dict(Relationship.Status.choices)
_STAGE_LABELS = dict(Relationship.Stage.choices)
_CARD_COLUMNS = (
    "pk",
    "name",
    "status",
    "stage",
    "arr",
    "renewal_date",
    "attributes",
    "relationship_type_id",
    "relationship_type__name",
    "csm__first_name",
    "csm__last_name",
    "csm__username",
)


def relationship_cards_section(
    *,
    user: AnyUser,
    company: Company,
    type_ids: Collection[int] | None = None,
    show_churned: bool = True,
    type_filter: Any = None,
    status_filter: Any = None,
) -> dict[str, Any]:
    """The company's relationships `user` may see, grouped by type, as cards (two queries:
    the cards' values, then the list fields of the types they are of — none without cards).

    `type_ids` (empty: every type) and `show_churned` are the section's configuration;
    `type_filter` and `status_filter` are what the CSM picked in the section's filters, as
    typed in the URL: a value that is not one of the offered options is ignored.
    """
    relationships = (
        relationships_visible_to(user)
        .filter(company=company)
        .order_by("relationship_type__order", "relationship_type__name", "name", "pk")
    )
    if type_ids:
        relationships = relationships.filter(relationship_type_id__in=list(type_ids))
    if not show_churned:
        relationships = relationships.exclude(status=Relationship.Status.CHURNED)
    every = list(relationships.values_list(*_CARD_COLUMNS))

    # The filters offer the types the company has, and the statuses the section may show;
    # they are applied here rather than in SQL so the options stay the unfiltered ones.
    type_options: list[TypeOption] = []
    for row in every:
        if not type_options or type_options[-1].pk != row[7]:
            type_options.append(TypeOption(pk=row[7], name=row[8]))
    status_options = [
        (value, label)
        for value, label in Relationship.Status.choices
        if show_churned or value != Relationship.Status.CHURNED
    ]
    chosen_type = next((t for t in type_options if str(t.pk) == str(type_filter)), None)
    chosen_status = next((v for v, _ in status_options if v == status_filter), None)

    list_fields: dict[int, list[tuple[str, str, str]]] = {}
    if every:
        for type_id, key, label, kind in (
            RelationshipTypeField.objects.filter(
                shown_in_lists=True, relationship_type_id__in=[t.pk for t in type_options]
            )
            .order_by("order", "pk")
            .values_list("relationship_type_id", "key", "label", "kind")
        ):
            list_fields.setdefault(type_id, []).append((key, label, kind))

    groups: list[RelationshipGroup] = []
    options = {option.pk: option for option in type_options}
    url_of = id_urls("layouts:relationship")
    for pk, name, status, stage, arr, renewal, attributes, type_id, _, first, last, login in every:
        if chosen_type is not None and type_id != chosen_type.pk:
            continue
        if chosen_status is not None and status != chosen_status:
            continue
        if not groups or groups[-1].relationship_type.pk != type_id:
            groups.append(RelationshipGroup(relationship_type=options[type_id]))
        values = attributes or {}
        groups[-1].cards.append(
            RelationshipCard(
                pk=pk,
                name=name,
                url=url_of(pk),
                status=status,
                status_label=_STATUS_LABELS.get(status, status),
                stage_label=_STAGE_LABELS.get(stage, stage) if stage else "",
                arr=arr,
                renewal_date=renewal,
                csm_name=name_label(first, last, login) if login is not None else "",
                fields=[
                    (label, format_attribute(kind, values.get(key)))
                    for key, label, kind in list_fields.get(type_id, [])
                ],
            )
        )
    return {
        "groups": groups,
        "count": sum(len(g.cards) for g in groups),
        "total": len(every),
        "type_options": type_options,
        "status_options": status_options,
        "type_filter": chosen_type,
        "status_filter": chosen_status,
        "status_filter_label": dict(status_options).get(chosen_status or "", ""),
    }


def relationship_company_visible(*, user: AnyUser, relationship: Relationship) -> bool:
    """Whether `user` may open the relationship's company (a partner may manage only one)."""
    if user.is_authenticated and not is_partner_user(user):
        return True  # internal users see every company: no query
    return companies_visible_to(user).filter(pk=relationship.company_id).exists()


def relationship_fields_section(*, relationship: Relationship) -> dict[str, Any]:
    """The type's fields with this relationship's values, in the type's order (one query)."""
    rows = relationship.attribute_rows()
    return {"rows": rows, "filled": sum(1 for _, value in rows if value not in (None, ""))}


def relationship_people_section(*, relationship: Relationship) -> dict[str, Any]:
    """The people on the relationship with their roles and company facts (one query)."""
    people = list(
        RelationshipPerson.objects.filter(relationship=relationship)
        .select_related("company_person__person")
        .order_by("company_person__person__last_name", "company_person__person__first_name", "pk")
    )
    return {"people": people, "count": len(people)}


def relationship_people_addable(*, relationship: Relationship) -> QuerySet[CompanyPerson]:
    """The people of the relationship's company who are not on it yet, in name order."""
    return (
        CompanyPerson.objects.filter(company_id=relationship.company_id)
        .exclude(relationships__relationship=relationship)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "pk")
    )


def relationship_person_of(*, relationship: Relationship, pk: Any) -> RelationshipPerson | None:
    """The relationship's member `pk` with their person, or None when not on it."""
    try:
        return (
            RelationshipPerson.objects.select_related("company_person__person")
            .filter(relationship=relationship)
            .get(pk=pk)
        )
    except (RelationshipPerson.DoesNotExist, ValueError, TypeError):
        return None


def relationship_types_addable(
    *, type_ids: Collection[int] | None = None
) -> QuerySet[RelationshipType]:
    """The active relationship types a new relationship may have (limited to `type_ids`)."""
    types = RelationshipType.objects.filter(active=True).order_by("order", "name")
    if type_ids:
        types = types.filter(pk__in=list(type_ids))
    return types
