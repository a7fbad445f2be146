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

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from companies.models import MAX_LEVEL, Company
from gainsight_lite.csvio import cells
from gainsight_lite.csvio.bulk import (
    history_rows,
    insert_rows,
    model_defaults,
    reserve_ids,
    update_rows,
)
from gainsight_lite.csvio.reading import FileProblem, Problem, Row, read
from partners.models import Partner, PartnerUser
from partners.services import partner_assign, partner_unassign

# Rows per INSERT/UPDATE statement and ids per IN (…): well under SQLite's parameter limit.
BATCH = 500
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
# A progress callback: (what is being done, how far, out of how much).
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its name, whether the file must have it, what it holds."""

    name: str
    help: str
    required: bool = False


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


def _user_label(user: User) -> str:
    return user.get_username()


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
            "parent_external_id", "the external ID of the parent company; empty for a top company."
        ),
        Column("industry", "free text, at most 80 characters."),
        Column("segment", "enterprise, mid_market or smb."),
        Column("stage", "onboarding, adoption, expansion or renewal."),
        Column("status", "active, at_risk, prospect or churned."),
        Column("arr", "annual recurring revenue, e.g. 120000.00."),
        Column("mrr", "monthly recurring revenue, e.g. 10000.00."),
        Column("renewal_date", "YYYY-MM-DD."),
        Column("original_contract_date", "YYYY-MM-DD."),
        Column("csm", "the username of the company's CSM (an internal user)."),
        Column("partner", "the name of the partner that manages the company; empty for none."),
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
        for name in ("arr", "mrr"):
            if self.has(name):
                value = self.cell(row, name, cells.decimal)
                data[name] = Decimal("0.00") if value is None else value
        for name in ("renewal_date", "original_contract_date"):
            if self.has(name):
                data[name] = self.cell(row, name, cells.date)
        if self.has("csm"):
            user = self.cell(row, "csm", lambda v: self.lookups.user(v, internal=True))
            data["csm"] = user.pk if user is not None else None
        if self.has("partner"):
            data["partner"] = self.cell(row, "partner", self.lookups.partner)

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
        forest = self.forest
        self._number(forest)
        now = timezone.now()
        total = len(rows)
        new_nodes = [node for node in forest.values() if node.key < 0]
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
        for batch in chunks(created):
            insert_rows(Company, columns, ([record[name] for name in columns] for record in batch))
            history_rows(Company, batch, by=self.by, history_type="+", reason=REASON, when=now)
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
            history_rows(Company, batch, by=self.by, history_type="~", reason=REASON, when=now)
            done += len(batch)
            progress("Writing", min(done, total), total)
        # Tree numbers alone are not history: the audit trail leaves them out.
        update_rows(Company, PLACE_FIELDS, moved)
        self._partners(rows)
        progress("Writing", total, total)

    def _partners(self, rows: list[Row]) -> None:
        """Partner changes go through partners.services, which keeps the grants in step."""
        if not self.has("partner"):
            return
        assign: dict[int, list[int]] = defaultdict(list)
        unassign: list[int] = []
        partners: dict[int, Partner] = {}
        for row in rows:
            record = row.target
            partner = row.data.get("partner")
            current = None if row.action == CREATE else record["managed_by_id"]
            wanted = partner.pk if partner is not None else None
            if wanted == current:
                continue
            if partner is None:
                unassign.append(record["id"])
            else:
                partners[partner.pk] = partner
                assign[partner.pk].append(record["id"])
        for partner_id, ids in assign.items():
            partner_assign(
                records=Company.objects.filter(pk__in=ids), partner=partners[partner_id], by=self.by
            )
        if unassign:
            partner_unassign(records=Company.objects.filter(pk__in=unassign), by=self.by)


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
    started = timezone.now()
    progress = progress or _no_progress
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
        with transaction.atomic():
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


def _nothing_written(report: Report, started: dt.datetime) -> Report:
    report.created = report.updated = 0
    report.skip_invalid = False  # the errors block the whole file now
    return _finish(report, started)


def _finish(report: Report, started: dt.datetime) -> Report:
    report.seconds = round((timezone.now() - started).total_seconds(), 3)
    return report


KINDS: dict[str, type[Importer]] = {
    CompanyImporter.kind: CompanyImporter,
}
