"""Related list: a configured table of records related to the subject.

On a C360 it lists the company's relationships of one type, its child companies or its
people; on an R360 the company's other relationships or the people on this relationship.
The admin picks the columns, an optional status filter, the order and how many rows show;
every list goes through `partners.access`, so a viewer never sees a row they may not open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import F, OrderBy, QuerySet

from companies.models import Company, CompanyPerson
from gainsight_lite.forms import user_label
from layouts.sections.base import COMPANY, RELATIONSHIP, SectionContext, SectionKind, register
from partners.access import companies_visible_to, relationships_visible_to
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)

# Sources: what a list shows. C360 sources first, then R360 ones.
TYPED_RELATIONSHIPS = "relationships"
CHILD_COMPANIES = "children"
COMPANY_PEOPLE = "people"
OTHER_RELATIONSHIPS = "other_relationships"
RELATIONSHIP_PEOPLE = "relationship_people"

SOURCES: dict[str, dict[str, str]] = {
    COMPANY: {
        TYPED_RELATIONSHIPS: "Relationships of a type",
        CHILD_COMPANIES: "Child companies",
        COMPANY_PEOPLE: "People",
    },
    RELATIONSHIP: {
        OTHER_RELATIONSHIPS: "Other relationships of the same company",
        RELATIONSHIP_PEOPLE: "People on this relationship",
    },
}
DEFAULT_SOURCE = {COMPANY: CHILD_COMPANIES, RELATIONSHIP: OTHER_RELATIONSHIPS}
RELATIONSHIP_SOURCES = {TYPED_RELATIONSHIPS, OTHER_RELATIONSHIPS}
PEOPLE_SOURCES = {COMPANY_PEOPLE, RELATIONSHIP_PEOPLE}

# What each source's records are called in sentences ("Child companies have no …").
NOUNS = {
    TYPED_RELATIONSHIPS: "Relationships",
    OTHER_RELATIONSHIPS: "Relationships",
    CHILD_COMPANIES: "Child companies",
    COMPANY_PEOPLE: "People",
    RELATIONSHIP_PEOPLE: "People",
}
# What an empty list says, so a CSM knows what would appear.
EMPTY_TEXTS = {
    TYPED_RELATIONSHIPS: "This company's relationships of the chosen type appear here.",
    CHILD_COMPANIES: "Companies placed under this one in the hierarchy appear here.",
    COMPANY_PEOPLE: "People at this company appear here.",
    OTHER_RELATIONSHIPS: "The company's other relationships appear here.",
    RELATIONSHIP_PEOPLE: "People of the company who work on this relationship appear here.",
}

_RELATIONSHIPS = frozenset(RELATIONSHIP_SOURCES)
_COMPANIES = frozenset({CHILD_COMPANIES})
_PEOPLE = frozenset(PEOPLE_SOURCES)

# Columns: key → (label, the sources that have it). Type fields are "attr.KEY" on top.
COLUMNS: dict[str, tuple[str, frozenset[str]]] = {
    "name": ("Name", _RELATIONSHIPS | _COMPANIES | _PEOPLE),
    "type": ("Relationship type", _RELATIONSHIPS),
    "external_id": ("External ID", _COMPANIES),
    "segment": ("Segment", _COMPANIES),
    "industry": ("Industry", _COMPANIES),
    "status": ("Status", _RELATIONSHIPS | _COMPANIES),
    "stage": ("Stage", _RELATIONSHIPS | _COMPANIES),
    "csm": ("CSM", _RELATIONSHIPS | _COMPANIES),
    "arr": ("ARR", _RELATIONSHIPS | _COMPANIES),
    "mrr": ("MRR", _RELATIONSHIPS | _COMPANIES),
    "start_date": ("Start date", _RELATIONSHIPS),
    "renewal_date": ("Renewal date", _RELATIONSHIPS | _COMPANIES),
    "email": ("Email", _PEOPLE),
    "title": ("Title", _PEOPLE),
    "role": ("Role", _PEOPLE),
    "sponsor": ("Sponsor", frozenset({COMPANY_PEOPLE})),
    "sentiment": ("Sentiment", _PEOPLE),
}
NUMERIC_COLUMNS = {"arr", "mrr"}
DEFAULT_COLUMNS = {
    COMPANY: ["name", "status", "arr", "renewal_date"],
    RELATIONSHIP: ["name", "type", "status", "arr"],
}

# Orders: key → (label, sources that can be sorted so).
SORTS: dict[str, tuple[str, frozenset[str]]] = {
    "name": ("Name, A to Z", _RELATIONSHIPS | _COMPANIES | _PEOPLE),
    "-arr": ("ARR, highest first", _RELATIONSHIPS | _COMPANIES),
    "renewal_date": ("Renewal, soonest first", _RELATIONSHIPS | _COMPANIES),
    "status": ("Status", _RELATIONSHIPS | _COMPANIES),
    "-created_at": ("Newest first", _RELATIONSHIPS | _COMPANIES | _PEOPLE),
}
ORDERINGS: dict[str, dict[str, list[OrderBy]]] = {
    "record": {
        "name": [F("name").asc(), F("pk").asc()],
        "-arr": [F("arr").desc(), F("name").asc(), F("pk").asc()],
        "renewal_date": [F("renewal_date").asc(nulls_last=True), F("name").asc(), F("pk").asc()],
        "status": [F("status").asc(), F("name").asc(), F("pk").asc()],
        "-created_at": [F("created_at").desc(), F("pk").desc()],
    },
    "company_person": {
        "name": [F("person__last_name").asc(), F("person__first_name").asc(), F("pk").asc()],
        "-created_at": [F("created_at").desc(), F("pk").desc()],
    },
    "relationship_person": {
        "name": [
            F("company_person__person__last_name").asc(),
            F("company_person__person__first_name").asc(),
            F("pk").asc(),
        ],
        "-created_at": [F("created_at").desc(), F("pk").desc()],
    },
}

STATUS_LABELS = {**dict(Company.Status.choices), **dict(Relationship.Status.choices)}
MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 50, 10


def _targets_of(layout: Any) -> str:
    return RELATIONSHIP if layout is not None and layout.target == RELATIONSHIP else COMPANY


def _sentence_list(labels: list[str]) -> str:
    """ "A", "A or B", "A, B or C"."""
    if len(labels) < 2:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def _column_choices(target: str) -> tuple[list[tuple[str, Any]], dict[str, str]]:
    """The columns of `target`'s lists grouped by the lists that have them, and their labels.

    Each relationship type's own fields come last, one group per type, as attr.KEY (a key
    shared by several types is offered once, under the first).
    """
    sources = SOURCES[target]
    groups: dict[frozenset[str], list[tuple[str, str]]] = {}
    for key, (label, has) in COLUMNS.items():
        mine = has & frozenset(sources)
        if mine:
            groups.setdefault(mine, []).append((key, label))
    choices: list[tuple[str, Any]] = []
    for group_sources, columns in groups.items():
        if group_sources == frozenset(sources):
            title = "Every list"
        else:
            title = ", ".join(label for key, label in sources.items() if key in group_sources)
        choices.append((title, columns))
    labels = {key: label for _, columns in choices for key, label in columns}
    by_type: dict[str, list[tuple[str, str]]] = {}
    for type_field in RelationshipTypeField.objects.select_related("relationship_type").order_by(
        "relationship_type__order", "relationship_type__name", "order", "pk"
    ):
        key = f"attr.{type_field.key}"
        if key not in labels:
            labels[key] = type_field.label
            by_type.setdefault(type_field.relationship_type.name, []).append(
                (key, type_field.label)
            )
    choices += [(f"{name} fields", columns) for name, columns in by_type.items()]
    return choices, labels


class RelatedListConfigBase(forms.Form):
    """The checks shared by C360 and R360 related lists; fields are set per layout."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source = cleaned.get("source")
        if not source:
            return cleaned
        noun = NOUNS[source]
        kind: RelationshipType | None = cleaned.get("relationship_type")
        if source == TYPED_RELATIONSHIPS and kind is None:
            self.add_error("relationship_type", "Choose the relationship type to list.")
        if source not in RELATIONSHIP_SOURCES:
            # Only relationship lists have a type: forget one left over from another source.
            cleaned["relationship_type"] = None
            kind = None

        own_keys: set[str] = set()
        if kind is not None:
            own_keys = set(kind.fields.values_list("key", flat=True))
        for column in cleaned.get("columns") or []:
            if column.startswith("attr."):
                key = column.removeprefix("attr.")
                if source not in RELATIONSHIP_SOURCES:
                    self.add_error(
                        "columns",
                        f"{noun} have no relationship type fields: remove the column "
                        f"“{self._column_label(column)}”.",
                    )
                elif kind is None:
                    self.add_error(
                        "columns",
                        f"The column “{self._column_label(column)}” is a relationship type "
                        "field: choose that relationship type, or remove the column.",
                    )
                elif key not in own_keys:
                    self.add_error(
                        "columns",
                        f"“{self._column_label(column)}” is not a field of the {kind.name} "
                        f"type: choose one of its own fields.",
                    )
            elif source not in COLUMNS[column][1]:
                self.add_error(
                    "columns",
                    f"{noun} have no “{COLUMNS[column][0]}” column: remove it or choose "
                    "another list.",
                )

        status = cleaned.get("status")
        if status:
            if source in PEOPLE_SOURCES:
                self.add_error("status", "People have no status: leave the filter empty.")
            else:
                allowed = Company.Status if source == CHILD_COMPANIES else Relationship.Status
                if status not in allowed.values:
                    self.add_error(
                        "status",
                        f"{noun} have no status “{STATUS_LABELS[status]}”: choose "
                        f"{_sentence_list([str(label) for label in allowed.labels])}.",
                    )

        sort = cleaned.get("sort")
        if sort and source not in SORTS[sort][1]:
            possible = [label for label, sources in SORTS.values() if source in sources]
            self.add_error(
                "sort",
                f"{noun} cannot be sorted by “{SORTS[sort][0]}”: choose "
                f"{_sentence_list(possible)}.",
            )
        return cleaned

    column_labels: dict[str, str] = {}

    def _column_label(self, column: str) -> str:
        return self.column_labels.get(column, column)


def related_list_config_form(layout: Any) -> type[forms.Form]:
    """The configuration form of a related list on `layout` (C360 or R360)."""
    target = _targets_of(layout)
    sources = SOURCES[target]
    column_choices, labels = _column_choices(target)
    sort_choices = [(key, label) for key, (label, has) in SORTS.items() if has & set(sources)]
    type_help = (
        "For “Relationships of a type”: the type listed; its own fields become columns."
        if target == COMPANY
        else "Only relationships of this type; empty for every type. "
        "Needed to show a type's own fields."
    )

    class RelatedListConfig(RelatedListConfigBase):
        column_labels = labels
        source = forms.ChoiceField(
            label="List",
            choices=list(sources.items()),
            initial=DEFAULT_SOURCE[target],
            help_text="What the section lists.",
        )
        relationship_type = forms.ModelChoiceField(
            queryset=RelationshipType.objects.order_by("order", "name"),
            required=False,
            empty_label="Any type" if target == RELATIONSHIP else "—",
            help_text=type_help,
        )
        columns = forms.MultipleChoiceField(
            choices=column_choices,
            initial=DEFAULT_COLUMNS[target],
            widget=forms.CheckboxSelectMultiple,
            help_text="The columns shown, in this order, grouped by the lists that have them; "
            "a type's fields need that type.",
            error_messages={"required": "Choose at least one column."},
        )
        status = forms.ChoiceField(
            label="Only with status",
            choices=[("", "Any status"), *STATUS_LABELS.items()],
            initial="",
            required=False,
            help_text="Optional: list only records with this status (not for people).",
        )
        sort = forms.ChoiceField(label="Order", choices=sort_choices, initial="name")
        limit = forms.IntegerField(
            label="Rows shown",
            min_value=MIN_LIMIT,
            max_value=MAX_LIMIT,
            initial=DEFAULT_LIMIT,
            help_text=f"Between {MIN_LIMIT} and {MAX_LIMIT}; a note says how many more there are.",
            error_messages={
                "min_value": f"Show at least {MIN_LIMIT} row.",
                "max_value": f"Show at most {MAX_LIMIT} rows.",
                "invalid": "Enter the number of rows as a whole number.",
            },
        )

    return RelatedListConfig


@dataclass
class Column:
    key: str
    label: str
    numeric: bool = False
    type_field: RelationshipTypeField | None = None


@dataclass
class Cell:
    """One value of a row and how the template shows it."""

    format: str  # text, strong, link, badge, money, date, email, sentiment, yes, attribute
    value: Any = None
    url: str = ""
    modifier: str = ""
    type_field: RelationshipTypeField | None = None
    numeric: bool = False


@dataclass
class Row:
    cells: list[Cell] = field(default_factory=list)


def _csm_name(user: Any) -> str:
    return user_label(user) if user is not None else ""


def _record_row(record: Company | Relationship, columns: list[Column]) -> Row:
    return Row([_aligned(_record_cell(record, column), column) for column in columns])


def _person_row(
    member: CompanyPerson, link: RelationshipPerson | None, columns: list[Column]
) -> Row:
    return Row([_aligned(_person_cell(member, link, column), column) for column in columns])


def _aligned(cell: Cell, column: Column) -> Cell:
    cell.numeric = column.numeric
    return cell


def _record_cell(record: Company | Relationship, column: Column) -> Cell:
    key = column.key
    if column.type_field is not None:
        value = record.attributes.get(column.type_field.key)  # type: ignore[union-attr]
        return Cell("attribute", value, type_field=column.type_field)
    if key == "name":
        return Cell("link", record.name, url=record.get_absolute_url())
    if key == "type":
        return Cell("text", record.relationship_type.name)  # type: ignore[union-attr]
    if key in {"status", "segment"}:
        raw = getattr(record, key)
        return Cell("badge", getattr(record, f"get_{key}_display")(), modifier=raw)
    if key == "stage":
        return Cell("text", record.get_stage_display())
    if key == "csm":
        return Cell("text", _csm_name(record.csm))
    if key in NUMERIC_COLUMNS:
        return Cell("money", getattr(record, key))
    if key in {"start_date", "renewal_date"}:
        return Cell("date", getattr(record, key))
    return Cell("text", getattr(record, key, ""))


def _person_cell(member: CompanyPerson, link: RelationshipPerson | None, column: Column) -> Cell:
    person = member.person
    key = column.key
    if key == "name":
        return Cell("strong", person.full_name)
    if key == "email":
        return Cell("email", person.email)
    if key == "title":
        return Cell("text", member.title)
    if key == "role":
        role = link.get_role_display() if link is not None else member.get_role_display()
        return Cell("badge", role, modifier="role")
    if key == "sponsor":
        return Cell("yes", member.is_sponsor)
    if key == "sentiment":
        return Cell("sentiment", member.get_sentiment_display(), modifier=member.sentiment)
    return Cell("text", "")


def _columns(config: dict[str, Any], source: str, kind_id: Any) -> list[Column]:
    """The configured columns this source has, with the type's fields (one query if any)."""
    wanted = [c for c in config.get("columns") or [] if isinstance(c, str)]
    type_fields: dict[str, RelationshipTypeField] = {}
    if kind_id and source in RELATIONSHIP_SOURCES and any(c.startswith("attr.") for c in wanted):
        type_fields = {
            f.key: f for f in RelationshipTypeField.objects.filter(relationship_type_id=kind_id)
        }
    columns: list[Column] = []
    for key in wanted:
        if key.startswith("attr."):
            type_field = type_fields.get(key.removeprefix("attr."))
            # A field removed from the type since the section was configured is left out.
            if type_field is not None:
                numeric = type_field.kind in {"number", "currency", "percent"}
                columns.append(Column(key, type_field.label, numeric, type_field))
        elif key in COLUMNS and source in COLUMNS[key][1]:
            columns.append(Column(key, COLUMNS[key][0], key in NUMERIC_COLUMNS))
    return columns or [Column("name", "Name")]


def _limit(value: Any) -> int:
    try:
        return min(max(int(value), MIN_LIMIT), MAX_LIMIT)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT


@register
class RelatedList(SectionKind):
    key = "related_list"
    label = "Related list"
    template = "layouts/sections/related_list.html"
    skeleton_height = 240

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        return related_list_config_form(layout)

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        """The configured rows and how many more there are (two or three queries)."""
        config = ctx.config
        source = str(config.get("source") or "")
        if source not in SOURCES[ctx.target]:
            source = DEFAULT_SOURCE[ctx.target]
        kind_id = config.get("relationship_type") if source in RELATIONSHIP_SOURCES else None
        columns = _columns(config, source, kind_id)
        status = config.get("status") or ""
        sort = str(config.get("sort") or "name")
        if sort not in SORTS or source not in SORTS[sort][1]:
            sort = "name"
        limit = _limit(config.get("limit", DEFAULT_LIMIT))

        rows: list[Row]
        total: int
        if source in PEOPLE_SOURCES:
            rows, total = self._people(ctx, source, columns, sort, limit)
        else:
            records = self._records(ctx, source, kind_id, status)
            shown = list(records.order_by(*ORDERINGS["record"][sort])[:limit])
            total = records.count()
            rows = [_record_row(record, columns) for record in shown]
        return {
            "columns": columns,
            "rows": rows,
            "total": total,
            "more": max(total - len(rows), 0),
            "source": source,
            "source_label": SOURCES[ctx.target][source],
            "empty_title": f"No {NOUNS[source].lower()} to show",
            "empty_text": EMPTY_TEXTS[source],
            "filtered": bool(status and source not in PEOPLE_SOURCES),
        }

    def _records(
        self, ctx: SectionContext, source: str, kind_id: Any, status: str
    ) -> QuerySet[Any]:
        records: QuerySet[Any]
        if source == CHILD_COMPANIES:
            records = (
                companies_visible_to(ctx.user).filter(parent=ctx.company).select_related("csm")
            )
        else:
            records = (
                relationships_visible_to(ctx.user)
                .filter(company=ctx.company)
                .select_related("relationship_type", "csm")
            )
            if source == OTHER_RELATIONSHIPS:
                records = records.exclude(pk=ctx.subject.pk)
            if kind_id:
                records = records.filter(relationship_type_id=kind_id)
            elif source == TYPED_RELATIONSHIPS:
                # A list of "relationships of a type" with no type chosen lists nothing.
                records = records.none()
        if status:
            records = records.filter(status=status)
        return records

    def _people(
        self, ctx: SectionContext, source: str, columns: list[Column], sort: str, limit: int
    ) -> tuple[list[Row], int]:
        if source == COMPANY_PEOPLE:
            members = CompanyPerson.objects.filter(
                company=ctx.company, company__in=companies_visible_to(ctx.user)
            ).select_related("person")
            shown = list(members.order_by(*ORDERINGS["company_person"][sort])[:limit])
            rows = [_person_row(member, None, columns) for member in shown]
            return rows, members.count()
        links = RelationshipPerson.objects.filter(
            relationship=ctx.subject, relationship__in=relationships_visible_to(ctx.user)
        ).select_related("company_person__person")
        shown_links = list(links.order_by(*ORDERINGS["relationship_person"][sort])[:limit])
        rows = [_person_row(link.company_person, link, columns) for link in shown_links]
        return rows, links.count()
