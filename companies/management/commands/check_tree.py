"""Check the company tree's mptt fields; `--repair` rebuilds them from the parent links.

Every problem is printed on its own line and the command exits with code 1 when there is any
(so a cron job or CI notices). The checks, tree by tree in left order: left below right, the
left/right numbers of a tree exactly 1..2n, each company nested inside its parent's numbers
and in no other, the level its depth, top-level companies at level 0 starting at 1, at most
five levels, and no parent link to a missing company or round in a circle.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from companies.models import MAX_LEVEL, Company
from companies.services import hierarchy_lock


@dataclass
class Row:
    pk: int
    name: str
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int

    def __str__(self) -> str:
        return f"Company {self.pk} ({self.name})"


def load_rows() -> dict[int, Row]:
    fields = ("pk", "name", "parent_id", "tree_id", "lft", "rght", "level")
    return {
        values[0]: Row(*values)
        for values in Company.objects.order_by().values_list(*fields).iterator(chunk_size=5000)
    }


def parent_link_problems(rows: dict[int, Row]) -> tuple[list[str], dict[int, int]]:
    """Missing parents and circles in the parent links; the depth of every reachable company."""
    problems = []
    depth: dict[int, int] = {}
    for row in rows.values():
        if row.parent_id is not None and row.parent_id not in rows:
            problems.append(f"{row}: its parent {row.parent_id} does not exist (an orphan).")
    for start in rows.values():
        path: list[int] = []
        seen: set[int] = set()
        pk: int | None = start.pk
        while pk is not None and pk not in depth and pk in rows:
            if pk in seen:
                cycle = path[path.index(pk) :]
                if min(cycle) == start.pk:  # report each circle once
                    names = " → ".join(str(rows[i]) for i in cycle)
                    problems.append(f"The parent links go round in a circle: {names}.")
                break
            seen.add(pk)
            path.append(pk)
            pk = rows[pk].parent_id
        else:
            base = -1 if pk is None or pk not in rows else depth[pk]
            for offset, node in enumerate(reversed(path), start=1):
                depth[node] = base + offset
    for pk, level in depth.items():
        if level > MAX_LEVEL:
            problems.append(
                f"{rows[pk]}: its parent links put it at level {level + 1}, "
                f"below the five levels a hierarchy may have."
            )
    return problems, depth


def tree_field_problems(rows: dict[int, Row]) -> list[str]:
    """The mptt fields against each other and against the parent links."""
    problems = []
    trees: dict[int, list[Row]] = defaultdict(list)
    for row in rows.values():
        trees[row.tree_id].append(row)
        if row.lft >= row.rght:
            problems.append(f"{row}: left {row.lft} is not below right {row.rght}.")
        if row.level > MAX_LEVEL:
            problems.append(f"{row}: level {row.level} is deeper than {MAX_LEVEL}.")
    for tree_id, members in sorted(trees.items()):
        numbers = sorted(n for row in members for n in (row.lft, row.rght))
        if numbers != list(range(1, 2 * len(members) + 1)):
            problems.append(
                f"Tree {tree_id}: its left/right numbers are not exactly 1 to "
                f"{2 * len(members)} (gaps, repeats or overlaps)."
            )
        stack: list[Row] = []
        for row in sorted(members, key=lambda r: r.lft):
            while stack and stack[-1].rght < row.lft:
                stack.pop()
            container = stack[-1] if stack else None
            if container is not None and row.rght > container.rght:
                problems.append(f"{row}: its numbers overlap those of {container}.")
            if container is None:
                if row.parent_id is not None:
                    parent = rows.get(row.parent_id)
                    where = f"in tree {parent.tree_id}" if parent else "missing"
                    problems.append(
                        f"{row}: tree {tree_id} starts at it, but its parent "
                        f"{row.parent_id} is {where}."
                    )
                elif row.lft != 1:
                    problems.append(f"{row}: a top-level company must start at 1, not {row.lft}.")
            elif row.parent_id != container.pk:
                problems.append(
                    f"{row}: its numbers place it under {container}, "
                    f"but its parent is {row.parent_id}."
                )
            if row.level != len(stack):
                problems.append(f"{row}: level {row.level}, but it is {len(stack)} deep.")
            stack.append(row)
        roots = [row for row in members if row.parent_id is None]
        if len(roots) > 1:
            names = ", ".join(str(row) for row in roots)
            problems.append(f"Tree {tree_id} has more than one top-level company: {names}.")
    return problems


def tree_problems() -> list[str]:
    """Every problem of the company tree, one sentence each (none when it is sound)."""
    rows = load_rows()
    links, _ = parent_link_problems(rows)
    return links + tree_field_problems(rows)


class Command(BaseCommand):
    help = "Check the company hierarchy's tree fields; --repair rebuilds them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild the tree fields from the parent links (when the links are sound).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            # No tree write may run between the reading and the repair.
            hierarchy_lock()
            problems = tree_problems()
            for problem in problems:
                self.stdout.write(problem)
            if not problems:
                count = Company.objects.count()
                self.stdout.write(f"The company tree is sound ({count} companies).")
                return
            if not options["repair"]:
                raise CommandError(
                    f"{len(problems)} problem(s) in the company tree; "
                    "run check_tree --repair to rebuild it.",
                    returncode=1,
                )
            links, _ = parent_link_problems(load_rows())
            if links:
                # A rebuild follows the parent links: it cannot mend the links themselves.
                raise CommandError(
                    f"Cannot repair: {len(links)} parent link(s) are wrong (see above); "
                    "fix those companies' parents in the admin first.",
                    returncode=1,
                )
            Company.objects.rebuild()
            left = tree_problems()
            for problem in left:
                self.stdout.write(f"After the repair: {problem}")
            if left:
                raise CommandError(f"{len(left)} problem(s) remain after the repair.", returncode=1)
            self.stdout.write(
                f"Repaired: rebuilt the tree fields of {Company.objects.count()} companies."
            )
