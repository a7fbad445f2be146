"""Search across the book: companies, relationships and people, grouped, scoped to the viewer.

Every group goes through `partners.access`: companies and relationships the viewer may see,
and people only through their place at a company the viewer may see. Matching goes through
the trigram index of `gainsight_lite.search_index` (names starting with the query for one or two
characters). The whole search runs in a fixed number of queries: one per group (its best hits
and the count of every match) — one more per rank tier for a group with more than COUNT_CAP
matches —, two for the relationships' companies and types, one for the people's companies.
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
    QuerySet,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from companies.models import Company, CompanyPerson, Person
from companies.templatetags.gs import id_urls
from gainsight_lite.search_index import TRIGRAM_LENGTH, contains
from partners.access import AnyUser, companies_visible_to, relationships_visible_to

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
DROPDOWN_LIMIT = 10
PAGE_LIMIT = 25
# A group counts and ranks its matches up to this many ("500+" beyond): ranking every match
# of a common word in a 100k book would cost its number of rows.
COUNT_CAP = 500


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
    # More than `count` (COUNT_CAP) match: shown as "1,000+".
    capped: bool = False

    @property
    def more(self) -> int:
        return max(self.count - len(self.hits), 0)

    @property
    def count_text(self) -> str:
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


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

    @property
    def count_text(self) -> str:
        capped = any(group.capped for group in self.groups)
        return f"{self.count:,}+" if capped else f"{self.count:,}"


def _tiered(
    queryset: QuerySet[Any], tiers: list[Q], order: list[str], limit: int
) -> tuple[list[Any], int, bool]:
    """The best `limit` matches in `queryset`, the count of matches, whether it is capped.

    `tiers` are the match conditions, best first, each holding the ones before it (an exact
    name, then names starting with the query, then names containing it): the last is every
    match. A row ranks by its first tier, then by `order`.

    Most queries match at most COUNT_CAP rows: one query ranks and counts them all. When more
    match, ranking them all would cost their number (a common word matches thousands): the
    count stops at the cap ("500+") and each tier in turn gives rows it adds until the page is
    full — the best tiers first, each query stopping after a page; within a tier the page is in
    `order`, but it is not the first of that tier's rows in `order` (typing more narrows it).
    """
    candidates = queryset.filter(tiers[-1]).order_by().values("pk")[: COUNT_CAP + 1]
    rank = Case(
        *[When(condition, then=Value(index)) for index, condition in enumerate(tiers[:-1])],
        default=Value(len(tiers) - 1),
        output_field=IntegerField(),
    )
    ranked = list(
        queryset.model._default_manager.filter(pk__in=candidates)
        .annotate(rank=rank, total=Window(Count("pk")))
        .order_by("rank", *order)[:limit]
    )
    total = ranked[0].total if ranked else 0
    if total <= COUNT_CAP:
        return ranked, total, False
    found: list[Any] = []
    earlier = Q()
    for condition in tiers:
        if len(found) >= limit:
            break
        narrowed = condition & ~earlier if earlier else condition
        # No ORDER BY: sorting a tier of thousands is what the cap avoids.
        page = list(queryset.filter(narrowed).order_by()[: limit - len(found)])
        found += sorted(page, key=lambda row: tuple(getattr(row, name) for name in order))
        earlier |= condition
    return found, COUNT_CAP, True


def _name_tiers(key: str, query: str, fields: tuple[str, ...]) -> list[Q]:
    """An exact `fields` match, then one starting with the query, then one containing it."""
    exact = Q()
    start = Q()
    for name in fields:
        exact |= Q(**{f"{name}__iexact": query})
        start |= Q(**{f"{name}__istartswith": query})
    if len(query) < TRIGRAM_LENGTH:
        # No trigram in one or two characters: names starting with them, from an index.
        return [exact, start]
    return [exact, start, contains(key, query)]


def _at_visible_company(user: AnyUser) -> Exists:
    """Whether a row's company_id is a company `user` may see.

    Written as a lookup by primary key, not `company__in=...`: SQLite would otherwise walk
    every visible company for each candidate row.
    """
    return Exists(companies_visible_to(user).filter(pk=OuterRef("company_id")))


def _companies(user: AnyUser, query: str, limit: int) -> Group:
    shown, total, capped = _tiered(
        companies_visible_to(user).only(
            "id", "name", "external_id", "segment", "status", "industry"
        ),
        _name_tiers("company", query, ("name", "external_id")),
        ["name", "pk"],
        limit,
    )
    # One reverse() for the list, not one per hit.
    company_url = id_urls("layouts:company")
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
                url=company_url(company.pk),
                query=query,
                detail=detail,
                record=company,
            )
        )
    return Group("companies", "Companies", hits, total, capped)


def _relationships(user: AnyUser, query: str, limit: int) -> Group:
    # The access rule is checked per matching row (by primary key) and the shown rows'
    # companies and types come in two small queries: joined into the matching query, they
    # make SQLite walk every company before it looks at a single name.
    shown, total, capped = _tiered(
        relationships_visible_to(user),
        _name_tiers("relationship", query, ("name",)),
        ["name", "pk"],
        limit,
    )
    # A partner may run a relationship at a company it does not manage: the company is named
    # but linked only when the viewer may open it (asked of the shown companies only).
    companies = Company.objects.annotate(
        visible=Exists(companies_visible_to(user).filter(pk=OuterRef("pk")))
    )
    prefetch_related_objects(shown, Prefetch("company", queryset=companies), "relationship_type")
    company_url, relationship_url = id_urls("layouts:company"), id_urls("layouts:relationship")
    hits = []
    for relationship in shown:
        company = relationship.company
        hits.append(
            Hit(
                name=relationship.name,
                url=relationship_url(relationship.pk),
                query=query,
                detail=relationship.relationship_type.name,
                places=[Place(company.name, company_url(company.pk) if company.visible else "")],
                record=relationship,
            )
        )
    return Group("relationships", "Relationships", hits, total, capped)


def _people(user: AnyUser, query: str, limit: int) -> Group:
    visible_places = CompanyPerson.objects.filter(_at_visible_company(user))

    # Best first: a first name, last name or email starting with the query, then names
    # containing it, then people found by their email only.
    tiers = [
        Q(first_name__istartswith=query)
        | Q(last_name__istartswith=query)
        | Q(email__istartswith=query)
    ]
    if len(query) >= TRIGRAM_LENGTH:
        tiers += [contains("person", query, column="full_name"), contains("person", query)]
    shown, total, capped = _tiered(
        # People are reached only through their place at a company the viewer may see.
        Person.objects.filter(Exists(visible_places.filter(person=OuterRef("pk")))),
        tiers,
        ["last_name", "first_name", "pk"],
        limit,
    )
    places = _places_of([person.pk for person in shown], visible_places)
    hits = []
    for person in shown:
        found = places.get(person.pk, [])
        hits.append(
            Hit(
                name=person.full_name,
                # A person has no page of their own: they open at their (first) company.
                url=found[0].url if found else "",
                query=query,
                detail=person.email,
                places=found,
                record=person,
            )
        )
    return Group("people", "People", hits, total, capped)


ROLE_LABELS = {value: str(label) for value, label in CompanyPerson.Role.choices}


def _places_of(
    person_ids: list[int], visible_places: QuerySet[CompanyPerson]
) -> dict[int, list[Place]]:
    """Each person's places among `visible_places`, by company name (one query, none for no
    person): their company, linked, with their title or else their role.

    Read as values: a place is three strings, not a CompanyPerson and its Company built per
    row (the company's tree fields and all).
    """
    if not person_ids:
        return {}
    rows = (
        visible_places.filter(person_id__in=person_ids)
        .order_by("company__name", "pk")
        .values_list("person_id", "company_id", "company__name", "title", "role")
    )
    company_url = id_urls("layouts:company")
    places: dict[int, list[Place]] = {}
    for person_id, company_id, company_name, title, role in rows:
        note = title or ROLE_LABELS.get(role, role)
        places.setdefault(person_id, []).append(Place(company_name, company_url(company_id), note))
    return places


def search(*, user: AnyUser, query: Any, limit: int = PAGE_LIMIT) -> SearchResults:
    """Companies, relationships and people matching `query` that `user` may see (6 queries).

    Each group holds at most `limit` hits, best matches first (exact, then starting with the
    query, then containing it), and the count of every match up to COUNT_CAP (then up to 3
    more queries a group).
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
