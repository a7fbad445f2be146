"""Search across the book: companies, relationships and people, grouped, scoped to the viewer.

Every group goes through `partners.access`: companies and relationships the viewer may see,
and people only through their place at a company the viewer may see. The whole search runs
in a fixed number of queries: one per group (its best hits and the count of every match),
two for the relationships' companies and types, one for the people's companies.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Concat
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from companies.models import CompanyPerson, Person
from partners.access import AnyUser, companies_visible_to, relationships_visible_to
from relationships.models import Relationship

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
DROPDOWN_LIMIT = 10
PAGE_LIMIT = 25


def clean_query(raw: Any, *, max_length: int = MAX_QUERY_LENGTH) -> str:
    """The query as searched: no control characters, single spaces, at most `max_length`
    (100) characters.

    Every text typed into a search or an as-you-type picker goes through it before it reaches
    a query: PostgreSQL refuses a NUL byte in a text parameter (a 500 otherwise).
    """
    text = str(raw or "")[: max_length * 4]
    # Control characters (a NUL byte is refused by PostgreSQL) never belong in a search.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\t\n")
    return " ".join(text.split())[:max_length].strip()


def highlight(text: str, query: str) -> SafeString:
    """`text`, escaped, with each occurrence of `query` (any case) marked."""
    if not query:
        return conditional_escape(text)
    pieces = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    return mark_safe(  # noqa: S308 - every piece is escaped here
        "".join(
            f"<mark>{conditional_escape(piece)}</mark>" if index % 2 else conditional_escape(piece)
            for index, piece in enumerate(pieces)
        )
    )


@dataclass
class Place:
    """Where a hit belongs: a company, linked when the viewer may open it, with a note."""

    name: str
    url: str = ""
    note: str = ""


@dataclass
class Hit:
    """One search result: what it is, where it opens, and the context that places it."""

    name: str
    url: str
    query: str
    detail: str = ""
    # The company of a relationship, the companies of a person.
    places: list[Place] = field(default_factory=list)
    record: Any = None

    @property
    def name_html(self) -> SafeString:
        return highlight(self.name, self.query)

    @property
    def detail_html(self) -> SafeString:
        return highlight(self.detail, self.query)


@dataclass
class Group:
    key: str
    label: str
    hits: list[Hit]
    count: int

    @property
    def more(self) -> int:
        return max(self.count - len(self.hits), 0)


@dataclass
class SearchResults:
    query: str
    groups: list[Group] = field(default_factory=list)
    # Why nothing was searched (a query too short), shown instead of results.
    hint: str = ""

    @property
    def searched(self) -> bool:
        return not self.hint and bool(self.query)

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)


def _rank(query: str, *fields: str) -> Case:
    """0 for an exact match of one of `fields`, 1 for a match at the start, 2 otherwise."""
    return Case(
        *[When(**{f"{name}__iexact": query}, then=Value(0)) for name in fields],
        *[When(**{f"{name}__istartswith": query}, then=Value(1)) for name in fields],
        default=Value(2),
        output_field=IntegerField(),
    )


def _total() -> Window:
    # Every match counted in the same pass that picks the best few: one scan, not two.
    return Window(Count("pk"))


def _at_visible_company(user: AnyUser) -> Exists:
    """Whether a row's company_id is a company `user` may see.

    Written as a lookup by primary key, not `company__in=...`: SQLite would otherwise walk
    every visible company for each candidate row.
    """
    return Exists(companies_visible_to(user).filter(pk=OuterRef("company_id")))


def _companies(user: AnyUser, query: str, limit: int) -> Group:
    shown = list(
        companies_visible_to(user)
        .filter(Q(name__icontains=query) | Q(external_id__icontains=query))
        .annotate(rank=_rank(query, "name", "external_id"), total=_total())
        .order_by("rank", "name", "pk")
        .only("id", "name", "external_id", "segment", "status", "industry")[:limit]
    )
    hits = []
    for company in shown:
        detail = " · ".join(
            part
            for part in (company.external_id or "", company.get_segment_display(), company.industry)
            if part
        )
        hits.append(
            Hit(
                name=company.name,
                url=company.get_absolute_url(),
                query=query,
                detail=detail,
                record=company,
            )
        )
    return Group("companies", "Companies", hits, shown[0].total if shown else 0)


def _relationships(user: AnyUser, query: str, limit: int) -> Group:
    # The access rule is checked per matching row (by primary key) and the shown rows'
    # companies and types come in two small queries: joined into the matching query, they
    # make SQLite walk every company before it looks at a single name.
    visible = relationships_visible_to(user).filter(pk=OuterRef("pk"))
    shown = list(
        Relationship.objects.filter(name__icontains=query)
        .filter(Exists(visible))
        .annotate(
            rank=_rank(query, "name"),
            total=_total(),
            # A partner may run a relationship at a company it does not manage: the
            # company is named but linked only when the viewer may open it.
            company_visible=_at_visible_company(user),
        )
        .order_by("rank", "name", "pk")
        .prefetch_related("company", "relationship_type")[:limit]
    )
    hits = []
    for relationship in shown:
        company = relationship.company
        company_url = company.get_absolute_url() if relationship.company_visible else ""
        hits.append(
            Hit(
                name=relationship.name,
                url=relationship.get_absolute_url(),
                query=query,
                detail=relationship.relationship_type.name,
                places=[Place(company.name, company_url)],
                record=relationship,
            )
        )
    return Group("relationships", "Relationships", hits, shown[0].total if shown else 0)


def _people(user: AnyUser, query: str, limit: int) -> Group:
    visible_places = CompanyPerson.objects.filter(_at_visible_company(user))
    full = Concat("first_name", Value(" "), "last_name")
    # Best first: a first name, last name or email starting with the query, then names
    # containing it, then people found by their email only. (Kept to two tests per row: each
    # is run on every match.)
    rank = Case(
        When(
            Q(first_name__istartswith=query)
            | Q(last_name__istartswith=query)
            | Q(email__istartswith=query),
            then=Value(0),
        ),
        When(full__icontains=query, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    shown = list(
        Person.objects.annotate(full=full)
        .filter(Q(full__icontains=query) | Q(email__icontains=query))
        # People are reached only through their place at a company the viewer may see.
        .filter(Exists(visible_places.filter(person=OuterRef("pk"))))
        .annotate(rank=rank, total=_total())
        .order_by("rank", "last_name", "first_name", "pk")
        .prefetch_related(
            Prefetch(
                "companies",
                queryset=visible_places.select_related("company").order_by("company__name", "pk"),
                to_attr="visible_places",
            )
        )[:limit]
    )
    hits = []
    for person in shown:
        places: list[CompanyPerson] = person.visible_places  # type: ignore[attr-defined]
        hits.append(
            Hit(
                name=person.full_name,
                # A person has no page of their own: they open at their (first) company.
                url=places[0].company.get_absolute_url() if places else "",
                query=query,
                detail=person.email,
                places=[
                    Place(
                        place.company.name,
                        place.company.get_absolute_url(),
                        place.title or place.get_role_display(),
                    )
                    for place in places
                ],
                record=person,
            )
        )
    return Group("people", "People", hits, shown[0].total if shown else 0)


def search(*, user: AnyUser, query: Any, limit: int = PAGE_LIMIT) -> SearchResults:
    """Companies, relationships and people matching `query` that `user` may see (6 queries).

    Each group holds at most `limit` hits, best matches first (exact, then starting with the
    query, then containing it), and the count of every match.
    """
    text = clean_query(query)
    if not text:
        return SearchResults(query="")
    if len(text) < MIN_QUERY_LENGTH:
        return SearchResults(
            query=text,
            hint=f"Type at least {MIN_QUERY_LENGTH} characters to search.",
        )
    groups = [
        _companies(user, text, limit),
        _relationships(user, text, limit),
        _people(user, text, limit),
    ]
    return SearchResults(query=text, groups=groups)
