"""CSV imports: one small class per kind, and `run_import`, which drives any of them.

An importer declares its columns (shared with its export), reads what its rows refer to in a
few bulk queries (`prepare`), checks each row without touching the database (`clean`), checks
the rows together (`check_together`: duplicates, the company hierarchy), decides what each
good row does (`plan`: create, update or nothing) and writes the good rows in bulk (`write`).

An import is one transaction: a file with any bad row writes nothing, unless `skip_invalid`,
which writes the good rows and reports the others. A dry run reports the same errors and counts
and writes nothing. The number of queries does not grow with the number of columns, nor with
the rows beyond a query per batch of rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from companies.models import MAX_LEVEL, Company, CompanyPerson, Person
from companies.services import hierarchy_lock
from gainsight_lite.csvio import cells
from gainsight_lite.csvio.bulk import (
    history_copy,
    insert_rows,
    model_defaults,
    reserve_ids,
    search_index_deferred,
    update_rows,
)
from gainsight_lite.csvio.reading import FileProblem, Problem, Row, read
from gainsight_lite.row_counts import COMPANY, row_counts_deferred
from partners.models import Partner, PartnerUser
from partners.services import partner_assign, partner_grants_sync, partner_unassign
from relationships.attributes import clean_attributes
from relationships.models import Relationship, RelationshipType, RelationshipTypeField
from success.models import (
    Activity,
    ActivityType,
    Measure,
    Score,
    Scorecard,
    ScoreSnapshot,
    UsageMetric,
    UsageValue,
)
from success.services import overall_score

# Rows per INSERT/UPDATE statement and ids per IN (…): well under SQLite's parameter limit.
BATCH = 500
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
# SQLite's page cache while an import writes, in KiB (negative: a size, not pages).
IMPORT_CACHE_KIB = -256 * 1024
# A progress callback: (what is being done, how far, out of how much).
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its name, whether the file must have it, what it holds.

    `source` is where its export reads the value (a `values_list` path; the name when empty)
    and `writes` how the value becomes a cell: the export and the import share the column.
    """

    name: str
    help: str
    required: bool = False
    source: str = ""
    writes: str = "text"

    @property
    def path(self) -> str:
        return self.source or self.name


@dataclass
class Report:
    """What an import did, or (dry run) would do."""

    kind: str
    label: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    skip_invalid: bool = False
    written: bool = False
    seconds: float = 0.0

    @property
    def bad_rows(self) -> int:
        return len({problem.line for problem in self.errors if problem.line > 1})

    @property
    def file_errors(self) -> list[Problem]:
        return [problem for problem in self.errors if problem.line <= 1]

    @property
    def skipped(self) -> int:
        """Rows not imported because they are wrong (with skip_invalid)."""
        return self.bad_rows if self.skip_invalid else 0

    @property
    def blocked(self) -> bool:
        """Whether nothing is (or would be) written because of errors."""
        return bool(self.file_errors) or (bool(self.errors) and not self.skip_invalid)

    def summary(self) -> str:
        verb = "would be" if self.dry_run or not self.written else "were"
        if self.blocked:
            return (
                f"Nothing was imported: {self.bad_rows or len(self.errors)} "
                f"{'row has' if self.bad_rows == 1 else 'rows have'} errors "
                f"in {self.rows} {'row' if self.rows == 1 else 'rows'}."
                if self.bad_rows
                else "Nothing was imported: the file cannot be imported as it is."
            )
        parts = [
            f"{self.created} {verb} created",
            f"{self.updated} {verb} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (errors)")
        return f"{self.label}, {self.rows} rows: " + ", ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [problem.as_dict() for problem in self.errors],
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "written": self.written,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        values = dict(data)
        values["errors"] = [Problem(**problem) for problem in data.get("errors", [])]
        return cls(**values)


class RowsRejected(Exception):
    """Raised inside the transaction when writing meets a rule the checks could not see."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


# ---------- the importer base ----------


class Importer:
    """One kind of import. Subclasses declare `kind`, `label`, `columns` and the steps."""

    kind: ClassVar[str]
    label: ClassVar[str]
    help: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]

    def __init__(self, *, header: list[str], by: User | None, skip_invalid: bool) -> None:
        self.header = header
        self.present = set(header)
        self.by = by
        self.skip_invalid = skip_invalid
        self.warnings: list[str] = []

    # Columns -------------------------------------------------------------

    @classmethod
    def column_names(cls) -> list[str]:
        return [column.name for column in cls.columns]

    def extra_columns(self) -> set[str]:
        """Columns of the file this kind also understands (e.g. a type's fields)."""
        return set()

    def header_problems(self) -> list[Problem]:
        known = set(self.column_names()) | self.extra_columns()
        problems = [
            Problem(1, column.name, f"The file has no “{column.name}” column: {column.help}")
            for column in self.columns
            if column.required and column.name not in self.present
        ]
        ignored = [name for name in self.header if name not in known]
        if ignored:
            self.warnings.append(
                f"Not {self.label.lower()} columns, ignored: {', '.join(ignored)}."
            )
        return problems

    def has(self, column: str) -> bool:
        return column in self.present

    # Steps ---------------------------------------------------------------

    def prepare(self, rows: list[Row]) -> None:
        """Read what the rows refer to, in bulk."""

    def clean(self, row: Row) -> None:
        """Check one row's cells into `row.data`, adding a problem per wrong cell."""
        raise NotImplementedError

    def check_together(self, rows: list[Row]) -> None:
        """Rules across rows (duplicates...), on the rows that are still good."""

    def plan(self, rows: list[Row]) -> None:
        """Set each good row's `action` (create, update, unchanged)."""
        raise NotImplementedError

    def write(self, rows: list[Row], progress: Progress) -> None:
        """Write the good rows that change something; called inside the transaction."""
        raise NotImplementedError

    def after_write(self) -> None:
        """Work that follows a committed import (e.g. rebuilding a search index)."""

    # Helpers for the subclasses -------------------------------------------

    def cell(self, row: Row, column: str, parse: Callable[[str], Any]) -> Any:
        """`parse` the row's cell of `column`; a CellError becomes the row's problem (→ None)."""
        try:
            return parse(row.get(column))
        except cells.CellError as error:
            row.error(column, str(error))
            return None

    def required_text(self, row: Row, column: str, max_length: int) -> str:
        value = self.cell(row, column, lambda v: cells.text(v, max_length=max_length))
        if value == "":
            row.error(column, "This column needs a value.")
        return value or ""

    def account_cells(
        self, row: Row, data: dict[str, Any], lookups: Lookups, *, dates: tuple[str, ...]
    ) -> None:
        """The cells companies and relationships share: ARR and MRR (empty = 0), `dates`, the
        CSM (an internal user) and the managing partner, each read when the file has it."""
        for name in ("arr", "mrr"):
            if self.has(name):
                value = self.cell(row, name, cells.decimal)
                data[name] = Decimal("0.00") if value is None else value
        for name in dates:
            if self.has(name):
                data[name] = self.cell(row, name, cells.date)
        if self.has("csm"):
            user = self.cell(row, "csm", lambda v: lookups.user(v, internal=True))
            data["csm"] = user.pk if user is not None else None
        if self.has("partner"):
            data["partner"] = self.cell(row, "partner", lookups.partner)


class Lookups:
    """Bulk reads the importers share: companies by external ID, users, partners, types."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.partner_user_ids: set[int] = set()
        self.partners: dict[str, Partner] = {}

    def load_users(self, names: Iterable[str]) -> None:
        wanted = sorted({name.strip().lower() for name in names if name.strip()})
        for chunk in chunks(wanted):
            users = User.objects.filter(username__in=chunk).annotate(
                is_partner=Exists(PartnerUser.objects.filter(user_id=OuterRef("pk")))
            )
            for user in users:
                self.users[user.username.lower()] = user
                if user.is_partner:  # type: ignore[attr-defined]
                    self.partner_user_ids.add(user.pk)
        # Usernames are case-sensitive in Django; match exactly first, then ignoring case.
        missing = [name for name in wanted if name not in self.users]
        for chunk in chunks(missing):
            query = models.Q()
            for name in chunk:
                query |= models.Q(username__iexact=name)
            for other in User.objects.filter(query).annotate(
                is_partner=Exists(PartnerUser.objects.filter(user_id=OuterRef("pk")))
            ):
                self.users.setdefault(other.username.lower(), other)
                if other.is_partner:  # type: ignore[attr-defined]
                    self.partner_user_ids.add(other.pk)

    def user(self, value: str, *, internal: bool = False) -> User | None:
        name = value.strip()
        if not name:
            return None
        user = self.users.get(name.lower())
        if user is None:
            raise cells.CellError(f"No user has the username “{name}”.")
        if internal and user.pk in self.partner_user_ids:
            raise cells.CellError(f"{name} is a partner user: choose an internal user.")
        return user

    def load_partners(self) -> None:
        self.partners = {partner.name.lower(): partner for partner in Partner.objects.all()}

    def partner(self, value: str) -> Partner | None:
        name = value.strip()
        if not name:
            return None
        partner = self.partners.get(name.lower())
        if partner is None:
            raise cells.CellError(f"No partner is called “{name}”.")
        return partner


def companies_by_external_id(external_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The companies with these external IDs as {attname: value}, by external ID.

    Plain values, not model instances: an import of 50,000 rows reads them fast (one query
    per 500 ids).
    """
    wanted = sorted({value for value in external_ids if value})
    names = [field.attname for field in Company._meta.concrete_fields]
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(wanted):
        for company in Company.objects.filter(external_id__in=chunk).values(*names):
            found[company["external_id"]] = company
    return found


# ---------- companies ----------


COMPANY_CHOICES = {
    "segment": cells.Choices(Company.Segment.choices),
    "stage": cells.Choices(Company.Stage.choices),
    "status": cells.Choices(Company.Status.choices, blank=Company.Status.ACTIVE),
}
# The data columns of a company, in file order, and the model field each one sets.
COMPANY_FIELDS = {
    "name": "name",
    "industry": "industry",
    "segment": "segment",
    "stage": "stage",
    "status": "status",
    "arr": "arr",
    "mrr": "mrr",
    "renewal_date": "renewal_date",
    "original_contract_date": "original_contract_date",
    "csm": "csm_id",
}
PLACE_FIELDS = ["parent_id", "tree_id", "lft", "rght", "level"]
REASON = "CSV import"


@dataclass
class Node:
    """A company in the hierarchy as it will be after the import."""

    key: int  # the company's id, or a negative number for a company the import creates
    name: str
    parent: int | None
    row: Row | None = None  # the file row that sets this company, if any
    parent_was: int | None = None
    old_tree: int | None = None
    old_lft: int | None = None
    old_rght: int | None = None
    old_level: int | None = None
    was_root: bool = False
    tree_id: int = 0
    lft: int = 0
    rght: int = 0
    level: int = 0
    children: list[Node] = field(default_factory=list)


class CompanyImporter(Importer):
    kind = "companies"
    label = "Companies"
    help = (
        "Companies by external ID: new ones are created, the others updated. The parent is "
        "the parent's external ID (in the file or already in the book), in any row order."
    )
    columns = (
        Column("external_id", "the company's ID in your CRM; companies are matched on it.", True),
        Column("name", "the company's name.", True),
        Column(
            "parent_external_id",
            "the external ID of the parent company; empty for a top company.",
            source="parent__external_id",
        ),
        Column("industry", "free text, at most 80 characters."),
        Column("segment", "enterprise, mid_market or smb."),
        Column("stage", "onboarding, adoption, expansion or renewal."),
        Column("status", "active, at_risk, prospect or churned."),
        Column("arr", "annual recurring revenue, e.g. 120000.00.", writes="decimal"),
        Column("mrr", "monthly recurring revenue, e.g. 10000.00.", writes="decimal"),
        Column("renewal_date", "YYYY-MM-DD.", writes="date"),
        Column("original_contract_date", "YYYY-MM-DD.", writes="date"),
        Column(
            "csm", "the username of the company's CSM (an internal user).", source="csm__username"
        ),
        Column(
            "partner",
            "the name of the partner that manages the company; empty for none.",
            source="managed_by__name",
        ),
    )

    def prepare(self, rows: list[Row]) -> None:
        self.lookups = Lookups()
        ids = [row.get("external_id").strip() for row in rows]
        parents = [row.get("parent_external_id").strip() for row in rows]
        self.existing = companies_by_external_id([*ids, *parents])
        if self.has("csm"):
            self.lookups.load_users(row.get("csm") for row in rows)
        if self.has("partner"):
            self.lookups.load_partners()

    def clean(self, row: Row) -> None:
        data = row.data
        external_id = self.cell(row, "external_id", lambda v: cells.text(v, max_length=64))
        if external_id == "":
            row.error("external_id", "Give the company an external ID: imports match on it.")
        data["external_id"] = external_id
        data["name"] = self.required_text(row, "name", 200)
        if self.has("parent_external_id"):
            data["parent_external_id"] = self.cell(
                row, "parent_external_id", lambda v: cells.text(v, max_length=64)
            )
        if self.has("industry"):
            data["industry"] = self.cell(row, "industry", lambda v: cells.text(v, max_length=80))
        for name, parse in COMPANY_CHOICES.items():
            if self.has(name):
                data[name] = self.cell(row, name, parse)
        self.account_cells(
            row, data, self.lookups, dates=("renewal_date", "original_contract_date")
        )

    # The hierarchy ---------------------------------------------------------

    def check_together(self, rows: list[Row]) -> None:
        seen: dict[str, Row] = {}
        for row in rows:
            external_id = row.data.get("external_id")
            if not external_id:
                continue
            first = seen.get(external_id)
            if first is not None:
                row.error(
                    "external_id",
                    f"The external ID “{external_id}” is also on line {first.line}: "
                    "each company is on one line.",
                )
            else:
                seen[external_id] = row
        self._hierarchy(rows)

    def _hierarchy(self, rows: list[Row]) -> None:
        """Place every row's company in the hierarchy after the import and check its rules.

        The parent is a row of the file or a company of the book; the companies of every tree
        the import touches are read (one query per 500 trees), so a cycle or a sixth level
        through companies that are not in the file is found too. With `skip_invalid` the check
        runs again without the rows it refused, until every remaining row is placeable.
        """
        candidates = [
            row for row in rows if row.data.get("external_id") and (row.ok or not self.skip_invalid)
        ]
        while True:
            self.forest = self._place(candidates)
            if not self.skip_invalid or all(row.ok for row in candidates):
                return
            candidates = [row for row in candidates if row.ok]

    def _place(self, rows: list[Row]) -> dict[int, Node]:
        by_external: dict[str, Row] = {}
        for row in rows:
            by_external.setdefault(row.data["external_id"], row)
        # The trees of the book this import touches: the rows' own companies and parents.
        touched_trees = set()
        for row in rows:
            company = self.existing.get(row.data["external_id"])
            if company is not None:
                touched_trees.add(company["tree_id"])
            parent_id = row.data.get("parent_external_id")
            parent = self.existing.get(parent_id) if parent_id else None
            if parent is not None:
                touched_trees.add(parent["tree_id"])
        nodes: dict[int, Node] = {}
        for chunk in chunks(sorted(touched_trees)):
            for pk, parent_id, name, tree_id, lft, rght, level in Company.objects.filter(
                tree_id__in=chunk
            ).values_list("pk", "parent_id", "name", "tree_id", "lft", "rght", "level"):
                nodes[pk] = Node(
                    key=pk,
                    name=name,
                    parent=parent_id,
                    parent_was=parent_id,
                    old_tree=tree_id,
                    old_lft=lft,
                    old_rght=rght,
                    old_level=level,
                    was_root=parent_id is None,
                )
        # The file's rows: existing companies take their new name and parent, new ones a key.
        keys: dict[str, int] = {}
        for index, row in enumerate(rows):
            external_id = row.data["external_id"]
            if external_id in keys:
                continue
            company = self.existing.get(external_id)
            if company is not None:
                node = nodes[company["id"]]
            else:
                node = Node(key=-(index + 1), name="", parent=None)
                nodes[node.key] = node
            node.name = row.data.get("name") or node.name
            node.row = row
            keys[external_id] = node.key
        for row in rows:
            node = nodes[keys[row.data["external_id"]]]
            if node.row is not row or "parent_external_id" not in row.data:
                continue  # without the column, a company keeps its parent
            parent_external = row.data["parent_external_id"]
            if parent_external is None:
                continue  # a wrong cell, already reported
            if not parent_external:
                node.parent = None
            elif parent_external in keys:
                node.parent = keys[parent_external]
            elif parent_external in self.existing:
                node.parent = self.existing[parent_external]["id"]
            else:
                row.error(
                    "parent_external_id",
                    f"No company has the external ID “{parent_external}”, in this file or "
                    "in the book.",
                )
                node.parent = None
        self._levels(nodes)
        return nodes

    def _levels(self, nodes: dict[int, Node]) -> None:
        """Each node's level; a cycle or a level past the fifth is an error on a file row."""
        levels: dict[int, int] = {}
        for start in nodes.values():
            path: list[Node] = []
            on_path: set[int] = set()
            node: Node | None = start
            base = -1
            while node is not None:
                if node.key in levels:
                    base = levels[node.key]
                    break
                if node.key in on_path:
                    self._cycle(path[path.index(node) :])
                    for member in path:
                        levels[member.key] = 0
                    path = []
                    break
                path.append(node)
                on_path.add(node.key)
                node = nodes.get(node.parent) if node.parent is not None else None
            for depth, member in enumerate(reversed(path), start=1):
                levels[member.key] = base + depth
        for node in nodes.values():
            node.level = levels[node.key]
        too_deep = [node for node in nodes.values() if node.level > MAX_LEVEL]
        flagged: set[int] = set()
        for node in sorted(too_deep, key=lambda n: -n.level):
            self._too_deep(node, nodes, flagged)

    def _cycle(self, members: list[Node]) -> None:
        names = " → ".join([member.name for member in reversed(members)] + [members[-1].name])
        for member in members:
            if member.row is not None:
                member.row.error(
                    "parent_external_id",
                    f"The parents make a cycle ({names}): a company cannot be below itself.",
                )

    def _too_deep(self, node: Node, nodes: dict[int, Node], flagged: set[int]) -> None:
        if node.row is not None:
            if node.key not in flagged:
                flagged.add(node.key)
                node.row.error(
                    "parent_external_id",
                    "A company hierarchy is at most five levels deep: "
                    f"{node.name} would be at level {node.level + 1}.",
                )
            return
        # A company of the book pushed down by a row that moved one of its ancestors.
        ancestor = nodes.get(node.parent) if node.parent is not None else None
        while ancestor is not None and ancestor.row is None:
            ancestor = nodes.get(ancestor.parent) if ancestor.parent is not None else None
        if ancestor is not None and ancestor.row is not None and ancestor.key not in flagged:
            flagged.add(ancestor.key)
            ancestor.row.error(
                "parent_external_id",
                "A company hierarchy is at most five levels deep: the deepest company below "
                f"{ancestor.name} ({node.name}) would be at level {node.level + 1}.",
            )

    # Planning and writing ----------------------------------------------------

    def _values(self, row: Row) -> dict[str, Any]:
        return {
            field_name: row.data[column]
            for column, field_name in COMPANY_FIELDS.items()
            if column in row.data
        }

    def plan(self, rows: list[Row]) -> None:
        nodes_of_rows = {id(node.row): node for node in self.forest.values() if node.row}
        for row in rows:
            if not row.ok:
                continue
            company = self.existing.get(row.data["external_id"])
            row.target = company
            if company is None:
                row.action = CREATE
                continue
            node = nodes_of_rows[id(row)]
            changed = node.parent != company["parent_id"] or any(
                company[name] != value for name, value in self._values(row).items()
            )
            if "partner" in row.data:
                partner = row.data["partner"]
                changed = changed or (partner.pk if partner else None) != company["managed_by_id"]
            row.action = UPDATE if changed else UNCHANGED

    def _number(self, forest: dict[int, Node]) -> None:
        """Tree ids and left/right numbers of every tree the import touches, as mptt has them.

        Children are in name order (the model's `order_insertion_by`); a root that was a root
        keeps its tree id, every other root gets a new one after the highest in use.
        """
        roots: list[Node] = []
        for node in forest.values():
            node.children = []
        for node in forest.values():
            if node.parent is None:
                roots.append(node)
            else:
                forest[node.parent].children.append(node)
        next_tree = (Company.objects.aggregate(top=models.Max("tree_id"))["top"] or 0) + 1
        used = set()
        last = 1 << 62
        for root in sorted(roots, key=lambda n: (n.name, n.key)):
            if root.was_root and root.old_tree is not None and root.old_tree not in used:
                root.tree_id = root.old_tree
            else:
                root.tree_id = next_tree
                next_tree += 1
            used.add(root.tree_id)
            counter = 1
            # Depth-first without recursion: (node, entering).
            stack: list[tuple[Node, bool]] = [(root, True)]
            while stack:
                node, entering = stack.pop()
                if entering:
                    node.tree_id = root.tree_id
                    node.lft = counter
                    counter += 1
                    stack.append((node, False))
                    ordered = sorted(
                        node.children,
                        key=lambda n: (n.name, n.old_lft if n.old_lft is not None else last, n.key),
                    )
                    stack.extend((child, True) for child in reversed(ordered))
                else:
                    node.rght = counter
                    counter += 1

    def write(self, rows: list[Row], progress: Progress) -> None:
        # The company services' tree writes hold this lock from their reads to their writes:
        # taking it first, the import waits for one under way instead of landing between.
        hierarchy_lock()
        if connection.vendor == "postgresql":
            # Tree ids and numbers are computed from what is stored: no other writer of
            # companies until this import commits (SQLite's write lock does the same).
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE companies_company IN SHARE ROW EXCLUSIVE MODE")
        forest = self.forest
        self._number(forest)
        now = timezone.now()
        total = len(rows)
        # In external-ID order: the unique index on it (and its copies) fill in key order.
        new_nodes = sorted(
            (node for node in forest.values() if node.key < 0),
            key=lambda node: node.row.data["external_id"] if node.row else "",
        )
        ids = iter(reserve_ids(Company, len(new_nodes)))
        pk_of = {node.key: next(ids) for node in new_nodes}

        def parent_pk(node: Node) -> int | None:
            if node.parent is None:
                return None
            return pk_of[node.parent] if node.parent < 0 else node.parent

        defaults = model_defaults(Company)
        columns = ["id", *defaults]
        created: list[dict[str, Any]] = []
        for node in new_nodes:
            assert node.row is not None
            record = {
                **defaults,
                **self._values(node.row),
                "id": pk_of[node.key],
                "external_id": node.row.data["external_id"],
                "parent_id": parent_pk(node),
                "tree_id": node.tree_id,
                "lft": node.lft,
                "rght": node.rght,
                "level": node.level,
                "created_at": now,
                "updated_at": now,
            }
            node.row.target = record
            created.append(record)
        done = 0
        inserted = list(pk_of.values())
        # Both kept by row triggers: counted and indexed once per chunk instead (SQLite).
        with search_index_deferred("company", inserted), row_counts_deferred(COMPANY, inserted):
            for batch in chunks(created):
                rows_of = ([record[name] for name in columns] for record in batch)
                insert_rows(Company, columns, rows_of)
                history_copy(
                    Company,
                    [record["id"] for record in batch],
                    by=self.by,
                    history_type="+",
                    reason=REASON,
                    when=now,
                )
                done += len(batch)
                progress("Writing", done, total)
        # Companies of the book: the rows' new values, and tree numbers wherever they moved.
        changed: list[dict[str, Any]] = []
        moved: list[tuple[Any, ...]] = []
        for node in forest.values():
            if node.key < 0:
                continue
            place = (parent_pk(node), node.tree_id, node.lft, node.rght, node.level)
            row = node.row
            if row is not None and row.action == UPDATE:
                record = row.target
                record.update(self._values(row))
                record.update(zip(PLACE_FIELDS, place, strict=True), updated_at=now)
                changed.append(record)
            elif place != (
                node.parent_was,
                node.old_tree,
                node.old_lft,
                node.old_rght,
                node.old_level,
            ):
                moved.append((*place, node.key))
        fields = [*COMPANY_FIELDS.values(), *PLACE_FIELDS, "updated_at"]
        for batch in chunks(changed):
            update_rows(
                Company,
                fields,
                ([record[name] for name in fields] + [record["id"]] for record in batch),
            )
            history_copy(
                Company,
                [record["id"] for record in batch],
                by=self.by,
                history_type="~",
                reason=REASON,
                when=now,
            )
            done += len(batch)
            progress("Writing", min(done, total), total)
        # Tree numbers alone are not history: the audit trail leaves them out.
        update_rows(Company, PLACE_FIELDS, moved)
        _partner_changes(Company, rows, by=self.by, has_column=self.has("partner"))
        progress("Writing", total, total)


def orm_history(
    model: type[models.Model], objects: Sequence[models.Model], *, by: User | None, update: bool
) -> None:
    """Audit-trail rows for records the ORM wrote in bulk, when the model keeps a history."""
    manager = getattr(model, "history", None)
    if manager is None or not objects:
        return
    manager.bulk_history_create(
        list(objects), update=update, default_user=by, default_change_reason=REASON
    )


# ---------- records about a company or one of its relationships ----------

SUBJECT_COLUMNS = (
    Column(
        "company_external_id",
        "the external ID of the company.",
        True,
        source="company__external_id",
    ),
    Column(
        "relationship_type",
        "with relationship_name: the type of the relationship; empty for the company itself.",
        source="relationship__relationship_type__name",
    ),
    Column(
        "relationship_name",
        "the name of the company's relationship of that type; empty for the company itself.",
        source="relationship__name",
    ),
)


class SubjectImporter(Importer):
    """An importer whose rows name a company and, optionally, one of its relationships."""

    subject_required_relationship: ClassVar[bool] = False

    def prepare_subjects(self, rows: list[Row]) -> None:
        self.companies = companies_by_external_id(
            row.get("company_external_id").strip() for row in rows
        )
        self.types = {kind.name.lower(): kind for kind in RelationshipType.objects.all()}
        self.relationships: dict[tuple[int, int, str], Relationship] = {}
        if not (self.has("relationship_type") or self.has("relationship_name")):
            return
        company_ids = sorted(
            {
                self.companies[row.get("company_external_id").strip()]["id"]
                for row in rows
                if row.get("relationship_name").strip()
                and row.get("company_external_id").strip() in self.companies
            }
        )
        for chunk in chunks(company_ids):
            for relationship in Relationship.objects.filter(company_id__in=chunk).select_related(
                "relationship_type", "company"
            ):
                key = (
                    relationship.company_id,
                    relationship.relationship_type_id,
                    relationship.name,
                )
                self.relationships[key] = relationship

    def subject(self, row: Row) -> tuple[dict[str, Any] | None, Relationship | None]:
        """The row's company (as values) and relationship; problems on their columns."""
        external_id = row.get("company_external_id").strip()
        company = self.companies.get(external_id)
        if not external_id:
            row.error("company_external_id", "This column needs a value.")
        elif company is None:
            row.error("company_external_id", f"No company has the external ID “{external_id}”.")
        type_name = row.get("relationship_type").strip()
        name = row.get("relationship_name").strip()
        if not type_name and not name:
            return company, None
        if not type_name or not name:
            missing = "relationship_type" if not type_name else "relationship_name"
            row.error(missing, "Give both the relationship's type and its name, or neither.")
            return company, None
        kind = self.types.get(type_name.lower())
        if kind is None:
            row.error("relationship_type", f"No relationship type is called “{type_name}”.")
            return company, None
        if company is None:
            return None, None
        relationship = self.relationships.get((company["id"], kind.pk, name))
        if relationship is None:
            row.error(
                "relationship_name",
                f"{company['name']} has no {kind.name} relationship called “{name}”.",
            )
        return company, relationship


# ---------- relationships ----------

RELATIONSHIP_CHOICES = {
    "status": cells.Choices(Relationship.Status.choices, blank=Relationship.Status.ACTIVE),
    "stage": cells.Choices(Relationship.Stage.choices),
}
RELATIONSHIP_FIELDS = {
    "status": "status",
    "stage": "stage",
    "arr": "arr",
    "mrr": "mrr",
    "start_date": "start_date",
    "renewal_date": "renewal_date",
    "csm": "csm_id",
}


def field_column(key: str, reserved: Iterable[str]) -> str:
    """The column of a type's field: its key, or "field:key" when a base column has that name."""
    return f"field:{key}" if key in set(reserved) else key


class RelationshipImporter(Importer):
    kind = "relationships"
    label = "Relationships"
    help = (
        "Relationships by company external ID, type and name: new ones are created, the others "
        "updated. The type's own fields are columns named by their key."
    )
    columns = (
        Column(
            "company_external_id",
            "the external ID of the relationship's company.",
            True,
            source="company__external_id",
        ),
        Column("type", "the relationship type's name.", True, source="relationship_type__name"),
        Column("name", "the relationship's name (unique per company and type).", True),
        Column("status", "active, at_risk, on_hold or churned."),
        Column("stage", "onboarding, adoption, expansion or renewal."),
        Column("csm", "the username of the relationship's CSM.", source="csm__username"),
        Column("arr", "annual recurring revenue.", writes="decimal"),
        Column("mrr", "monthly recurring revenue.", writes="decimal"),
        Column("start_date", "YYYY-MM-DD.", writes="date"),
        Column("renewal_date", "YYYY-MM-DD.", writes="date"),
        Column(
            "partner",
            "the partner that manages the relationship; empty: its company's partner.",
            source="managed_by__name",
        ),
    )

    def __init__(self, *, header: list[str], by: User | None, skip_invalid: bool) -> None:
        super().__init__(header=header, by=by, skip_invalid=skip_invalid)
        self.fields_by_type: dict[int, list[RelationshipTypeField]] = defaultdict(list)
        self.field_columns: dict[str, str] = {}  # column → key
        base = self.column_names()
        for field_ in RelationshipTypeField.objects.order_by("relationship_type_id", "order", "pk"):
            self.fields_by_type[field_.relationship_type_id].append(field_)
            self.field_columns[field_column(field_.key, base)] = field_.key
            self.field_columns.setdefault(f"field:{field_.key}", field_.key)

    def extra_columns(self) -> set[str]:
        return set(self.field_columns)

    def prepare(self, rows: list[Row]) -> None:
        self.lookups = Lookups()
        self.companies = companies_by_external_id(
            row.get("company_external_id").strip() for row in rows
        )
        self.types = {kind.name.lower(): kind for kind in RelationshipType.objects.all()}
        self.existing: dict[tuple[int, int, str], Relationship] = {}
        company_ids = sorted({company["id"] for company in self.companies.values()})
        for chunk in chunks(company_ids):
            for relationship in Relationship.objects.filter(company_id__in=chunk):
                key = (
                    relationship.company_id,
                    relationship.relationship_type_id,
                    relationship.name,
                )
                self.existing[key] = relationship
        if self.has("csm"):
            self.lookups.load_users(row.get("csm") for row in rows)
        if self.has("partner"):
            self.lookups.load_partners()
        self.present_fields = [column for column in self.header if column in self.field_columns]

    def clean(self, row: Row) -> None:
        data = row.data
        external_id = row.get("company_external_id").strip()
        company = self.companies.get(external_id)
        if company is None:
            row.error(
                "company_external_id",
                f"No company has the external ID “{external_id}”."
                if external_id
                else "This column needs a value.",
            )
        type_name = row.get("type").strip()
        kind = self.types.get(type_name.lower())
        if kind is None:
            row.error(
                "type",
                f"No relationship type is called “{type_name}”."
                if type_name
                else "This column needs a value.",
            )
        data["name"] = self.required_text(row, "name", 200)
        for name, parse in RELATIONSHIP_CHOICES.items():
            if self.has(name):
                data[name] = self.cell(row, name, parse)
        self.account_cells(row, data, self.lookups, dates=("start_date", "renewal_date"))
        if company is None or kind is None:
            return
        data["company_id"] = company["id"]
        data["type"] = kind
        existing = self.existing.get((company["id"], kind.pk, data["name"]))
        row.target = existing
        if existing is None and not kind.active:
            row.error("type", f"The type {kind.name} is no longer in use: no new relationships.")
        self._attributes(row, kind, existing)

    def _attributes(self, row: Row, kind: RelationshipType, existing: Relationship | None) -> None:
        """The type's fields: given cells over the stored values, checked by clean_attributes."""
        fields = self.fields_by_type.get(kind.pk, [])
        keys = {field_.key for field_ in fields}
        stored = existing.attributes if existing is not None else {}
        attributes = {key: value for key, value in (stored or {}).items() if key in keys}
        column_of: dict[str, str] = {}
        for column in self.present_fields:
            key = self.field_columns[column]
            value = row.get(column)
            if key not in keys:
                if value.strip():
                    row.error(column, f"“{key}” is not a field of {kind.name} relationships.")
                continue
            column_of[key] = column
            if value.strip():
                attributes[key] = value
            else:
                attributes.pop(key, None)
        cleaned, errors = clean_attributes(fields, attributes)
        for key, message in errors.items():
            row.error(column_of.get(key, key), message)
        row.data["attributes"] = cleaned

    def check_together(self, rows: list[Row]) -> None:
        seen: dict[tuple[int, int, str], Row] = {}
        for row in rows:
            if "type" not in row.data or not row.data.get("name"):
                continue
            key = (row.data["company_id"], row.data["type"].pk, row.data["name"])
            if key in seen:
                row.error(
                    "name",
                    f"This relationship is also on line {seen[key].line}: each is on one line.",
                )
            else:
                seen[key] = row

    def _values(self, row: Row) -> dict[str, Any]:
        values = {
            field_name: row.data[column]
            for column, field_name in RELATIONSHIP_FIELDS.items()
            if column in row.data
        }
        values["attributes"] = row.data["attributes"]
        return values

    def plan(self, rows: list[Row]) -> None:
        for row in rows:
            relationship = row.target
            if relationship is None:
                row.action = CREATE
                continue
            changed = any(
                getattr(relationship, name) != value for name, value in self._values(row).items()
            )
            if "partner" in row.data:
                partner = row.data["partner"]
                changed = changed or (partner.pk if partner else None) != relationship.managed_by_id
            row.action = UPDATE if changed else UNCHANGED

    def write(self, rows: list[Row], progress: Progress) -> None:
        now = timezone.now()
        created: list[Relationship] = []
        changed: list[Relationship] = []
        for row in rows:
            if row.action == CREATE:
                relationship = Relationship(
                    company_id=row.data["company_id"],
                    relationship_type=row.data["type"],
                    name=row.data["name"],
                    created_at=now,
                    updated_at=now,
                    **self._values(row),
                )
                row.target = relationship
                created.append(relationship)
            elif row.action == UPDATE:
                relationship = row.target
                for name, value in self._values(row).items():
                    setattr(relationship, name, value)
                relationship.updated_at = now
                changed.append(relationship)
        done = 0
        for batch in chunks(created):
            Relationship.objects.bulk_create(batch)
            orm_history(Relationship, batch, by=self.by, update=False)
            done += len(batch)
            progress("Writing", done, len(rows))
        fields = [*RELATIONSHIP_FIELDS.values(), "attributes", "updated_at"]
        for batch in chunks(changed):
            Relationship.objects.bulk_update(batch, fields)
            orm_history(Relationship, batch, by=self.by, update=True)
            done += len(batch)
            progress("Writing", done, len(rows))
        _partner_changes(Relationship, rows, by=self.by, has_column=self.has("partner"))
        # New relationships without a partner of their own follow their company's.
        following = [
            row.target
            for row in rows
            if row.action == CREATE and not (self.has("partner") and row.data.get("partner"))
        ]
        for batch in chunks(following):
            partner_grants_sync(records=batch)


def _partner_changes(
    model: type[Company] | type[Relationship], rows: list[Row], *, by: User | None, has_column: bool
) -> None:
    """Assign and unassign partners through partners.services, grouped per partner."""
    if not has_column:
        return
    assign: dict[int, list[int]] = defaultdict(list)
    partners: dict[int, Partner] = {}
    unassign: list[int] = []
    for row in rows:
        if row.action == UNCHANGED or "partner" not in row.data:
            continue
        record = row.target
        partner = row.data["partner"]
        current = None if row.action == CREATE else _managed_by(record)
        wanted = partner.pk if partner is not None else None
        if wanted == current:
            continue
        pk = record["id"] if isinstance(record, dict) else record.pk
        if partner is None:
            unassign.append(pk)
        else:
            partners[partner.pk] = partner
            assign[partner.pk].append(pk)
    for partner_id, ids in assign.items():
        partner_assign(
            records=model.objects.filter(pk__in=ids), partner=partners[partner_id], by=by
        )
    if unassign:
        partner_unassign(records=model.objects.filter(pk__in=unassign), by=by)


def _managed_by(record: Any) -> int | None:
    return record["managed_by_id"] if isinstance(record, dict) else record.managed_by_id


# ---------- people ----------

PERSON_CHOICES = {
    "role": cells.Choices(CompanyPerson.Role.choices, blank=CompanyPerson.Role.USER),
    "sentiment": cells.Choices(
        CompanyPerson.Sentiment.choices, blank=CompanyPerson.Sentiment.UNKNOWN
    ),
}
PERSON_TEXT = {"first_name": 80, "last_name": 80, "phone": 40}


class PeopleImporter(Importer):
    kind = "people"
    label = "People"
    help = (
        "People by email (one person per email address) and their place at a company: title, "
        "role, sponsor, sentiment and manager (another person at the same company)."
    )
    columns = (
        Column(
            "email",
            "the person's email address; people are matched on it.",
            True,
            source="person__email",
        ),
        Column("first_name", "needed for a new person.", source="person__first_name"),
        Column("last_name", "the person's last name.", source="person__last_name"),
        Column("phone", "their phone number.", source="person__phone"),
        Column(
            "company_external_id",
            "the external ID of the person's company.",
            True,
            source="company__external_id",
        ),
        Column("title", "their job title."),
        Column("role", "champion, decision_maker, executive_sponsor, user or other."),
        Column("sponsor", "yes or no.", source="is_sponsor", writes="boolean"),
        Column("sentiment", "positive, neutral, negative or unknown."),
        Column(
            "manager_email",
            "the email of their manager at the same company.",
            source="manager__person__email",
        ),
    )

    def prepare(self, rows: list[Row]) -> None:
        self.companies = companies_by_external_id(
            row.get("company_external_id").strip() for row in rows
        )
        emails = {row.get("email").strip().lower() for row in rows}
        emails |= {row.get("manager_email").strip().lower() for row in rows}
        emails.discard("")
        self.people: dict[str, Person] = {}
        for chunk in chunks(sorted(emails)):
            for person in Person.objects.filter(email__in=chunk):
                self.people[person.email.lower()] = person
        self.places: dict[tuple[int, int], CompanyPerson] = {}
        company_ids = sorted({company["id"] for company in self.companies.values()})
        for chunk in chunks(company_ids):
            for place in CompanyPerson.objects.filter(company_id__in=chunk).select_related(
                "manager__person"
            ):
                self.places[(place.company_id, place.person_id)] = place

    def clean(self, row: Row) -> None:
        data = row.data
        email = self.cell(row, "email", _email)
        if email == "":
            row.error("email", "This column needs a value.")
        data["email"] = email
        external_id = row.get("company_external_id").strip()
        company = self.companies.get(external_id)
        if company is None:
            row.error(
                "company_external_id",
                f"No company has the external ID “{external_id}”."
                if external_id
                else "This column needs a value.",
            )
        else:
            data["company_id"] = company["id"]
        # A person works at several companies: an empty name or phone leaves theirs as it is.
        for name, limit in PERSON_TEXT.items():
            if self.has(name) and row.get(name).strip():
                data[name] = self.cell(row, name, partial(cells.text, max_length=limit))
        if email and email not in self.people and not data.get("first_name"):
            row.error("first_name", "A new person needs a first name.")
        if self.has("title"):
            data["title"] = self.cell(row, "title", lambda v: cells.text(v, max_length=120))
        for name, parse in PERSON_CHOICES.items():
            if self.has(name):
                data[name] = self.cell(row, name, parse)
        if self.has("sponsor"):
            data["is_sponsor"] = self.cell(row, "sponsor", cells.boolean)
        if self.has("manager_email"):
            manager = self.cell(row, "manager_email", _email)
            if manager and manager == email:
                row.error("manager_email", "A person cannot be their own manager.")
            data["manager_email"] = manager

    def check_together(self, rows: list[Row]) -> None:
        seen: dict[tuple[int, str], Row] = {}
        names: dict[str, Row] = {}
        for row in rows:
            email, company_id = row.data.get("email"), row.data.get("company_id")
            if not email or company_id is None:
                continue
            if (company_id, email) in seen:
                row.error(
                    "email",
                    f"This person at this company is also on line {seen[company_id, email].line}.",
                )
                continue
            seen[company_id, email] = row
            first = names.setdefault(email, row)
            for name in PERSON_TEXT:
                if name in row.data and name in first.data and row.data[name] != first.data[name]:
                    row.error(name, f"Line {first.line} gives this person another {name}.")
        for row in rows:
            manager = row.data.get("manager_email")
            company_id = row.data.get("company_id")
            if not manager or company_id is None:
                continue
            person = self.people.get(manager)
            at_company = (company_id, manager) in seen or (
                person is not None and (company_id, person.pk) in self.places
            )
            if not at_company:
                row.error(
                    "manager_email",
                    f"{manager} is not a person at this company (in the file or the book).",
                )

    def plan(self, rows: list[Row]) -> None:
        for row in rows:
            person = self.people.get(row.data["email"])
            place = (
                self.places.get((row.data["company_id"], person.pk)) if person is not None else None
            )
            row.target = place
            if place is None:
                row.action = CREATE
                continue
            changed = any(
                getattr(person, name) != row.data[name] for name in PERSON_TEXT if name in row.data
            ) or any(
                getattr(place, name) != row.data[name]
                for name in ("title", "role", "sentiment", "is_sponsor")
                if name in row.data
            )
            if "manager_email" in row.data:
                manager = place.manager
                current = manager.person.email if manager is not None else ""
                changed = changed or current != (row.data["manager_email"] or "")
            row.action = UPDATE if changed else UNCHANGED

    def write(self, rows: list[Row], progress: Progress) -> None:
        now = timezone.now()
        new_people: dict[str, Person] = {}
        changed_people: dict[str, Person] = {}
        for row in rows:
            email = row.data["email"]
            person = self.people.get(email) or new_people.get(email)
            values = {name: row.data[name] for name in PERSON_TEXT if name in row.data}
            if person is None:
                person = Person(email=email, created_at=now, **values)
                new_people[email] = person
            elif person.pk is not None and any(
                getattr(person, name) != value for name, value in values.items()
            ):
                for name, value in values.items():
                    setattr(person, name, value)
                changed_people[email] = person
        for batch in chunks(list(new_people.values())):
            Person.objects.bulk_create(batch)
        for batch in chunks(list(changed_people.values())):
            Person.objects.bulk_update(batch, list(PERSON_TEXT))
        self.people.update(new_people)
        place_fields = ["title", "role", "sentiment", "is_sponsor"]
        created: list[CompanyPerson] = []
        changed: list[CompanyPerson] = []
        for row in rows:
            values = {name: row.data[name] for name in place_fields if name in row.data}
            if row.action == CREATE:
                place = CompanyPerson(
                    company_id=row.data["company_id"],
                    person=self.people[row.data["email"]],
                    created_at=now,
                    **values,
                )
                row.target = place
                created.append(place)
            elif row.action == UPDATE:
                for name, value in values.items():
                    setattr(row.target, name, value)
                changed.append(row.target)
        for batch in chunks(created):
            CompanyPerson.objects.bulk_create(batch)
        for batch in chunks(changed):
            CompanyPerson.objects.bulk_update(batch, place_fields)
        for place in created:
            self.places[(place.company_id, place.person_id)] = place
        # Managers last: they may be people this file has just placed at the company.
        managed: list[CompanyPerson] = []
        for row in rows:
            if "manager_email" not in row.data or row.action == UNCHANGED:
                continue
            email = row.data["manager_email"]
            manager = (
                self.places[(row.data["company_id"], self.people[email].pk)] if email else None
            )
            row.target.manager = manager
            managed.append(row.target)
        for batch in chunks(managed):
            CompanyPerson.objects.bulk_update(batch, ["manager"])
        progress("Writing", len(rows), len(rows))


def _email(value: str) -> str:
    email = value.strip().lower()
    if not email:
        return ""
    try:
        EmailValidator()(email)
    except ValidationError:
        raise cells.CellError(f"“{value.strip()}” is not an email address.") from None
    if len(email) > 254:
        raise cells.CellError("Enter an email address of at most 254 characters.")
    return email


# ---------- timeline activities ----------


class ActivityImporter(SubjectImporter):
    kind = "activities"
    label = "Activities"
    help = (
        "Timeline activities on companies (and relationships). A row with the same company, "
        "relationship, type, subject and time as an activity already logged updates it."
    )
    columns = (
        *SUBJECT_COLUMNS,
        Column(
            "type",
            "the activity type: Update, Call, Meeting, Email, Milestone…",
            True,
            source="activity_type__name",
        ),
        Column("subject", "what it was about, at most 200 characters.", True),
        Column(
            "occurred_at",
            "YYYY-MM-DD HH:MM (the site's time zone) or YYYY-MM-DD.",
            True,
            writes="datetime",
        ),
        Column("notes", "plain text."),
        Column("duration_minutes", "0 to 1440."),
        Column("author", "the username of who logged it.", True, source="author__username"),
    )

    def prepare(self, rows: list[Row]) -> None:
        self.prepare_subjects(rows)
        self.lookups = Lookups()
        self.lookups.load_users(row.get("author") for row in rows)
        self.activity_types = {
            kind.name.lower(): kind
            for kind in ActivityType.objects.prefetch_related("relationship_types")
        }
        company_ids = sorted({company["id"] for company in self.companies.values()})
        self.existing: dict[tuple[Any, ...], Activity] = {}
        for chunk in chunks(company_ids):
            for activity in Activity.objects.filter(company_id__in=chunk):
                self.existing[
                    self._key(
                        activity.company_id,
                        activity.relationship_id,
                        activity.activity_type_id,
                        activity.subject,
                        activity.occurred_at,
                    )
                ] = activity

    @staticmethod
    def _key(*parts: Any) -> tuple[Any, ...]:
        return parts

    def clean(self, row: Row) -> None:
        data = row.data
        company, relationship = self.subject(row)
        name = row.get("type").strip()
        kind = self.activity_types.get(name.lower())
        if kind is None:
            row.error(
                "type",
                f"No activity type is called “{name}”." if name else "This column needs a value.",
            )
        elif not kind.active:
            row.error("type", f"The activity type {kind.name} is no longer in use.")
        else:
            allowed = {t.pk for t in kind.relationship_types.all()}
            if allowed and (
                relationship is None or relationship.relationship_type_id not in allowed
            ):
                row.error(
                    "type",
                    f"{kind.name} activities are logged only on relationships of certain types.",
                )
        data["subject"] = self.required_text(row, "subject", 200)
        occurred = self.cell(row, "occurred_at", cells.datetime)
        if occurred is None and not any(p.column == "occurred_at" for p in row.problems):
            row.error("occurred_at", "This column needs a value.")
        if self.has("notes"):
            notes = row.get("notes")
            if len(notes) > 20_000:
                row.error("notes", f"Enter at most 20000 characters (it has {len(notes)}).")
            data["notes"] = notes
        if self.has("duration_minutes"):
            data["duration_minutes"] = self.cell(
                row, "duration_minutes", lambda v: cells.integer(v, minimum=0, maximum=24 * 60)
            )
        author = self.cell(row, "author", self.lookups.user)
        if author is None and not any(p.column == "author" for p in row.problems):
            row.error("author", "This column needs a value.")
        if row.problems or company is None or kind is None:
            return
        data.update(
            company_id=company["id"],
            relationship=relationship,
            activity_type=kind,
            occurred_at=occurred,
            author=author,
        )
        row.data["key"] = self._key(
            company["id"],
            relationship.pk if relationship else None,
            kind.pk,
            data["subject"],
            occurred,
        )

    def check_together(self, rows: list[Row]) -> None:
        _duplicates(rows, "subject", "This activity (same subject, type and time)")

    def plan(self, rows: list[Row]) -> None:
        for row in rows:
            activity = self.existing.get(row.data["key"])
            row.target = activity
            if activity is None:
                row.action = CREATE
                continue
            changed = activity.author_id != row.data["author"].pk or any(
                getattr(activity, name) != row.data[name]
                for name in ("notes", "duration_minutes")
                if name in row.data
            )
            row.action = UPDATE if changed else UNCHANGED

    def write(self, rows: list[Row], progress: Progress) -> None:
        now = timezone.now()
        created: list[Activity] = []
        changed: list[Activity] = []
        for row in rows:
            values = {
                name: row.data[name] for name in ("notes", "duration_minutes") if name in row.data
            }
            if row.action == CREATE:
                created.append(
                    Activity(
                        company_id=row.data["company_id"],
                        relationship=row.data["relationship"],
                        activity_type=row.data["activity_type"],
                        subject=row.data["subject"],
                        occurred_at=row.data["occurred_at"],
                        author=row.data["author"],
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
            elif row.action == UPDATE:
                activity = row.target
                for name, value in values.items():
                    setattr(activity, name, value)
                activity.author = row.data["author"]
                activity.updated_at = now
                changed.append(activity)
        for batch in chunks(created):
            Activity.objects.bulk_create(batch)
        for batch in chunks(changed):
            Activity.objects.bulk_update(
                batch, ["notes", "duration_minutes", "author", "updated_at"]
            )
        progress("Writing", len(rows), len(rows))


def _duplicates(rows: list[Row], column: str, what: str) -> None:
    seen: dict[Any, Row] = {}
    for row in rows:
        key = row.data.get("key")
        if key is None:
            continue
        if key in seen:
            row.error(column, f"{what} is also on line {seen[key].line}.")
        else:
            seen[key] = row


# ---------- usage ----------


class UsageImporter(SubjectImporter):
    kind = "usage"
    label = "Usage values"
    help = "A usage metric's value for a company (or relationship) in a week starting on Monday."
    columns = (
        *SUBJECT_COLUMNS,
        Column("metric", "the usage metric's name.", True, source="metric__name"),
        Column("week", "the Monday the week starts on, YYYY-MM-DD.", True, writes="date"),
        Column("value", "a number with at most 2 decimal places.", True, writes="decimal"),
    )

    def prepare(self, rows: list[Row]) -> None:
        self.prepare_subjects(rows)
        self.metrics = {metric.name.lower(): metric for metric in UsageMetric.objects.all()}
        company_ids = sorted({company["id"] for company in self.companies.values()})
        self.existing: dict[tuple[Any, ...], UsageValue] = {}
        for chunk in chunks(company_ids):
            for value in UsageValue.objects.filter(company_id__in=chunk):
                key = (value.metric_id, value.company_id, value.relationship_id, value.week)
                self.existing[key] = value

    def clean(self, row: Row) -> None:
        company, relationship = self.subject(row)
        name = row.get("metric").strip()
        metric = self.metrics.get(name.lower())
        if metric is None:
            row.error(
                "metric",
                f"No usage metric is called “{name}”." if name else "This column needs a value.",
            )
        week = self.cell(row, "week", cells.date)
        if week is not None and week.weekday() != 0:
            row.error("week", f"{week.isoformat()} is not a Monday: a usage week starts on one.")
        elif week is None and not any(p.column == "week" for p in row.problems):
            row.error("week", "This column needs a value.")
        value = self.cell(row, "value", lambda v: cells.decimal(v, minimum=None))
        if value is None and not any(p.column == "value" for p in row.problems):
            row.error("value", "This column needs a value.")
        if row.problems or company is None or metric is None:
            return
        row.data.update(
            company_id=company["id"],
            relationship=relationship,
            metric=metric,
            week=week,
            value=value,
        )
        row.data["key"] = (
            metric.pk,
            company["id"],
            relationship.pk if relationship else None,
            week,
        )

    def check_together(self, rows: list[Row]) -> None:
        _duplicates(rows, "week", "This metric's value for this week")

    def plan(self, rows: list[Row]) -> None:
        for row in rows:
            existing = self.existing.get(row.data["key"])
            row.target = existing
            if existing is None:
                row.action = CREATE
            else:
                row.action = UNCHANGED if existing.value == row.data["value"] else UPDATE

    def write(self, rows: list[Row], progress: Progress) -> None:
        created = [
            UsageValue(
                company_id=row.data["company_id"],
                relationship=row.data["relationship"],
                metric=row.data["metric"],
                week=row.data["week"],
                value=row.data["value"],
            )
            for row in rows
            if row.action == CREATE
        ]
        changed = []
        for row in rows:
            if row.action == UPDATE:
                row.target.value = row.data["value"]
                changed.append(row.target)
        for batch in chunks(created):
            UsageValue.objects.bulk_create(batch)
        for batch in chunks(changed):
            UsageValue.objects.bulk_update(batch, ["value"])
        progress("Writing", len(rows), len(rows))


# ---------- measure scores ----------


class ScoreImporter(SubjectImporter):
    kind = "scores"
    label = "Measure scores"
    help = (
        "The score (0 to 100) of a measure of the company scorecard, or of the relationship "
        "type's scorecard, with a comment; an empty score clears it. The day's snapshot and "
        "the health score follow."
    )
    columns = (
        *SUBJECT_COLUMNS,
        Column(
            "measure",
            "the measure's name on the subject's scorecard.",
            True,
            source="measure__name",
        ),
        Column("score", "0 to 100; empty clears the score.", True, source="value"),
        Column("comment", "at most 500 characters."),
    )

    def prepare(self, rows: list[Row]) -> None:
        self.prepare_subjects(rows)
        self.measures: dict[tuple[int | None, str], Measure] = {}
        for scorecard in Scorecard.objects.prefetch_related("measures"):
            for measure in scorecard.measures.all():
                self.measures[(scorecard.relationship_type_id, measure.name.lower())] = measure
        company_ids = sorted({company["id"] for company in self.companies.values()})
        self.existing: dict[tuple[int, int, int | None], Score] = {}
        for chunk in chunks(company_ids):
            for score in Score.objects.filter(company_id__in=chunk):
                self.existing[(score.measure_id, score.company_id, score.relationship_id)] = score

    def clean(self, row: Row) -> None:
        company, relationship = self.subject(row)
        name = row.get("measure").strip()
        type_id = relationship.relationship_type_id if relationship is not None else None
        measure = self.measures.get((type_id, name.lower()))
        if not name:
            row.error("measure", "This column needs a value.")
        elif measure is None:
            scorecard = (
                f"the {relationship.relationship_type.name} scorecard"
                if relationship is not None
                else "the company scorecard"
            )
            row.error("measure", f"“{name}” is not a measure of {scorecard}.")
        elif not measure.active:
            row.error("measure", f"The measure {measure.name} is no longer in use.")
        value = self.cell(row, "score", lambda v: cells.integer(v, minimum=0, maximum=100))
        comment = ""
        if self.has("comment"):
            comment = self.cell(row, "comment", lambda v: cells.text(v, max_length=500)) or ""
        if row.problems or company is None or measure is None:
            return
        row.data.update(
            company_id=company["id"],
            relationship=relationship,
            measure=measure,
            value=value,
            comment=comment,
        )
        row.data["key"] = (measure.pk, company["id"], relationship.pk if relationship else None)

    def check_together(self, rows: list[Row]) -> None:
        _duplicates(rows, "measure", "This measure's score for this subject")

    def plan(self, rows: list[Row]) -> None:
        for row in rows:
            existing = self.existing.get(row.data["key"])
            row.target = existing
            value = row.data["value"]
            if existing is None:
                row.action = UNCHANGED if value is None else CREATE
            elif value is None:
                row.action = UPDATE
            else:
                same = existing.value == value and (
                    not self.has("comment") or existing.comment == row.data["comment"]
                )
                row.action = UNCHANGED if same else UPDATE

    def write(self, rows: list[Row], progress: Progress) -> None:
        created: list[Score] = []
        changed: list[Score] = []
        cleared: list[Score] = []
        for row in rows:
            if row.action == CREATE:
                created.append(
                    Score(
                        company_id=row.data["company_id"],
                        relationship=row.data["relationship"],
                        measure=row.data["measure"],
                        value=row.data["value"],
                        comment=row.data["comment"],
                        updated_by=self.by,
                    )
                )
            elif row.action == UPDATE and row.data["value"] is None:
                cleared.append(row.target)
            elif row.action == UPDATE:
                score = row.target
                score.value = row.data["value"]
                if self.has("comment"):
                    score.comment = row.data["comment"]
                score.updated_by = self.by
                score.updated_at = timezone.now()
                changed.append(score)
        for batch in chunks(created):
            Score.objects.bulk_create(batch)
            orm_history(Score, batch, by=self.by, update=False)
        for batch in chunks(changed):
            Score.objects.bulk_update(batch, ["value", "comment", "updated_by", "updated_at"])
            orm_history(Score, batch, by=self.by, update=True)
        for batch in chunks(cleared):
            Score.objects.filter(pk__in=[score.pk for score in batch]).delete()
        subjects = {
            (
                row.data["company_id"],
                row.data["relationship"].pk if row.data["relationship"] else None,
            )
            for row in rows
            if row.action != UNCHANGED
        }
        snapshots_take(subjects)
        progress("Writing", len(rows), len(rows))


def snapshots_take(subjects: set[tuple[int, int | None]], day: dt.date | None = None) -> None:
    """Today's snapshot and the health score of each (company, relationship) subject, in bulk.

    The same figures as success.services.snapshot_take gives one subject at a time.
    """
    day = day or timezone.localdate()
    company_ids = sorted({company for company, relationship in subjects if relationship is None})
    relationship_ids = sorted({r for _, r in subjects if r is not None})
    pairs: dict[tuple[int, int | None], list[tuple[int, int]]] = defaultdict(list)
    for chunk in chunks(company_ids):
        for company_id, weight, value in Score.objects.filter(
            company_id__in=chunk,
            relationship__isnull=True,
            measure__active=True,
            measure__scorecard__relationship_type__isnull=True,
        ).values_list("company_id", "measure__weight", "value"):
            pairs[(company_id, None)].append((weight, value))
    for chunk in chunks(relationship_ids):
        # Only the scorecard of the relationship's type now counts (as subject_overall).
        for company_id, relationship_id, weight, value in Score.objects.filter(
            relationship_id__in=chunk,
            measure__active=True,
            measure__scorecard__relationship_type_id=F("relationship__relationship_type_id"),
        ).values_list("company_id", "relationship_id", "measure__weight", "value"):
            pairs[(company_id, relationship_id)].append((weight, value))
    overall = {subject: overall_score(pairs.get(subject, [])) for subject in subjects}
    for chunk in chunks(company_ids):
        ScoreSnapshot.objects.filter(
            company_id__in=chunk, relationship__isnull=True, day=day
        ).delete()
    for chunk in chunks(relationship_ids):
        ScoreSnapshot.objects.filter(relationship_id__in=chunk, day=day).delete()
    snapshots = [
        ScoreSnapshot(
            company_id=company_id,
            relationship_id=relationship_id,
            day=day,
            overall=overall[(company_id, relationship_id)],
        )
        for company_id, relationship_id in sorted(subjects, key=lambda s: (s[0], s[1] or 0))
    ]
    for batch in chunks(snapshots):
        ScoreSnapshot.objects.bulk_create(batch)
    update_rows(Company, ["health_score"], [(overall[(c, None)], c) for c in company_ids])
    update_rows(
        Relationship, ["health_score"], [(overall[(c, r)], r) for c, r in subjects if r is not None]
    )


# ---------- partner assignments ----------


class PartnerAssignmentImporter(SubjectImporter):
    kind = "partner_assignments"
    label = "Partner assignments"
    help = (
        "Which partner manages a company, or one of its relationships (give its type and "
        "name); an empty partner takes the record back in house. The partner's permissions "
        "follow."
    )
    columns = (
        *SUBJECT_COLUMNS,
        Column("partner", "the partner's name; empty for none.", True, source="managed_by__name"),
    )

    def prepare(self, rows: list[Row]) -> None:
        self.prepare_subjects(rows)
        self.lookups = Lookups()
        self.lookups.load_partners()

    def clean(self, row: Row) -> None:
        company, relationship = self.subject(row)
        partner = self.cell(row, "partner", self.lookups.partner)
        if row.problems or company is None:
            return
        row.data["partner"] = partner
        if relationship is not None:
            row.data["model"] = Relationship
            row.target = relationship
            row.data["key"] = ("relationship", relationship.pk)
        else:
            row.data["model"] = Company
            row.target = company
            row.data["key"] = ("company", company["id"])

    def check_together(self, rows: list[Row]) -> None:
        _duplicates(rows, "company_external_id", "This record")

    def plan(self, rows: list[Row]) -> None:
        for row in rows:
            partner = row.data["partner"]
            wanted = partner.pk if partner is not None else None
            row.action = UNCHANGED if wanted == _managed_by(row.target) else UPDATE

    def write(self, rows: list[Row], progress: Progress) -> None:
        for model in (Company, Relationship):
            _partner_changes(
                model,
                [row for row in rows if row.data["model"] is model],
                by=self.by,
                has_column=True,
            )
        progress("Writing", len(rows), len(rows))


# ---------- running an import ----------


def importer_for(kind: str) -> type[Importer]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(
            f"“{kind}” is not a kind of import: choose one of {', '.join(KINDS)}."
        ) from None


def run_import(
    kind: str,
    data: bytes,
    *,
    by: User | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Check a CSV file of `kind` and, unless `dry_run` or it has errors, import it.

    One transaction: nothing is written when any row is wrong, unless `skip_invalid`, which
    writes the good rows and reports the others. `progress` is called as the rows are
    checked and written.
    """
    with _collector_paused():
        return _run_import(kind, data, by, dry_run, skip_invalid, progress or _no_progress)


def _run_import(
    kind: str,
    data: bytes,
    by: User | None,
    dry_run: bool,
    skip_invalid: bool,
    progress: Progress,
) -> Report:
    started = timezone.now()
    importer_class = importer_for(kind)
    report = Report(
        kind=kind, label=importer_class.label, dry_run=dry_run, skip_invalid=skip_invalid
    )
    try:
        header, rows = read(data)
    except FileProblem as problem:
        report.errors.append(problem.problem)
        return _finish(report, started)
    report.rows = len(rows)
    importer = importer_class(header=header, by=by, skip_invalid=skip_invalid)
    report.errors.extend(importer.header_problems())
    report.warnings = importer.warnings
    if report.errors:
        return _finish(report, started)
    if not rows:
        report.errors.append(Problem(0, "", "The file has a header but no rows."))
        return _finish(report, started)
    total = len(rows)
    progress("Checking", 0, total)
    importer.prepare(rows)
    for done, row in enumerate(rows, start=1):
        importer.clean(row)
        if done % 1000 == 0:
            progress("Checking", done, total)
    importer.check_together(rows)
    progress("Checking", total, total)
    good = [row for row in rows if row.ok]
    importer.plan(good)
    report.created = sum(row.action == CREATE for row in good)
    report.updated = sum(row.action == UPDATE for row in good)
    report.unchanged = sum(row.action == UNCHANGED for row in good)
    report.errors.extend(problem for row in rows for problem in row.problems)
    report.errors.sort(key=lambda problem: problem.line)
    if dry_run or report.blocked:
        return _finish(report, started)
    try:
        with transaction.atomic(), _page_cache():
            importer.write(good, progress)
    except RowsRejected as rejected:
        report.errors.extend(rejected.problems)
        return _nothing_written(report, started)
    except (IntegrityError, ValidationError, DatabaseError) as error:
        message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        report.errors.append(
            Problem(0, "", f"Nothing was imported: the database refused a row ({message}).")
        )
        return _nothing_written(report, started)
    report.written = True
    importer.after_write()
    return _finish(report, started)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import runs.

    An import holds hundreds of thousands of small objects (rows, cells, records) and makes
    no reference cycles of its own: the collector would walk them again and again for nothing
    (about a tenth of a 50,000-row import's time). Everything is still freed by reference
    counting; the collector is back on, as it was, when the import ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _page_cache() -> Iterator[None]:
    """A larger SQLite page cache while an import writes.

    Every company row also goes into a dozen indexes and the search index: with SQLite's
    default 2 MB cache, pages spill to the write-ahead log again and again during one
    transaction. The connection's own setting comes back afterwards.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _nothing_written(report: Report, started: dt.datetime) -> Report:
    report.created = report.updated = 0
    report.skip_invalid = False  # the errors block the whole file now
    return _finish(report, started)


def _finish(report: Report, started: dt.datetime) -> Report:
    report.seconds = round((timezone.now() - started).total_seconds(), 3)
    return report


KINDS: dict[str, type[Importer]] = {
    importer.kind: importer
    for importer in (
        CompanyImporter,
        RelationshipImporter,
        PeopleImporter,
        ActivityImporter,
        UsageImporter,
        ScoreImporter,
        PartnerAssignmentImporter,
    )
}
