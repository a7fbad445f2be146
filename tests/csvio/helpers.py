"""Helpers of the CSV tests: files from rows, and the mptt tree rules checked directly."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence

from companies.models import Company


def csv_bytes(header: Sequence[str], *rows: Sequence[object], bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    return (("\ufeff" + text) if bom else text).encode()


def assert_valid_tree() -> None:
    """Every company's tree fields are what mptt's rebuild would give (bar tree id order).

    Within each tree: left/right numbers 1..2n each used once, a node's interval inside its
    parent's, its level one more than its parent's, children in name order, and the roots
    are the companies without a parent, one per tree id.
    """
    rows = list(
        Company.objects.values_list("pk", "parent_id", "name", "tree_id", "lft", "rght", "level")
    )
    by_pk = {row[0]: row for row in rows}
    trees: dict[int, list[tuple]] = defaultdict(list)
    children: dict[int | None, list[tuple]] = defaultdict(list)
    for row in rows:
        trees[row[3]].append(row)
        children[row[1]].append(row)
    for tree_id, members in trees.items():
        numbers = sorted(n for row in members for n in (row[4], row[5]))
        assert numbers == list(range(1, 2 * len(members) + 1)), f"tree {tree_id} numbering"
        roots = [row for row in members if row[1] is None]
        assert len(roots) == 1, f"tree {tree_id} has {len(roots)} roots"
        assert roots[0][4] == 1 and roots[0][6] == 0
    for pk, parent_id, _name, tree_id, lft, rght, level in rows:
        assert lft < rght
        if parent_id is None:
            continue
        parent = by_pk[parent_id]
        assert parent[3] == tree_id, f"{pk} not in its parent's tree"
        assert parent[4] < lft and rght < parent[5], f"{pk} outside its parent"
        assert level == parent[6] + 1, f"{pk} level"
    for parent_id, siblings in children.items():
        if parent_id is None:
            continue  # roots: one tree each, in tree-id order (new trees come after the rest)
        in_order = sorted(siblings, key=lambda row: row[4])
        names = [row[2] for row in in_order]
        assert names == sorted(names), f"children in name order: {in_order}"
