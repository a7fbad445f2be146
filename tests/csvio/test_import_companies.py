"""Importing companies: upsert by external ID, the hierarchy in any order, every error class."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from companies.models import Company
from gainsight_lite.csvio.bulk import history_copy
from gainsight_lite.csvio.importers import CompanyImporter, run_import
from partners.models import CompanyGroupObjectPermission
from tests.csvio.helpers import assert_valid_tree, csv_bytes
from tests.factories import CompanyFactory, PartnerUserFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["external_id", "name", "parent_external_id"]


def messages(report) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.message) for p in report.errors]


def test_rows_in_any_order_build_a_valid_five_level_tree():
    data = csv_bytes(
        HEADER,
        ["L5", "Level five", "L4"],
        ["L4", "Level four", "L3"],
        ["L3", "Level three", "L2"],
        ["L2b", "Another level two", "L1"],
        ["L2", "Level two", "L1"],
        ["L1", "Level one", ""],
        ["TOP", "Other top", ""],
    )
    report = run_import("companies", data)
    assert report.errors == []
    assert (report.created, report.updated, report.written) == (7, 0, True)
    assert_valid_tree()
    deepest = Company.objects.get(external_id="L5")
    assert deepest.level == 4
    assert [c.external_id for c in deepest.get_ancestors()] == ["L1", "L2", "L3", "L4"]
    assert Company.objects.get(external_id="L1").get_descendant_count() == 5


def test_upsert_updates_moves_and_adds_under_existing_companies():
    top = CompanyFactory(name="Acme", external_id="ACME")
    child = CompanyFactory(name="Acme Europe", external_id="ACME-EU", parent=top)
    grandchild = CompanyFactory(name="Acme France", external_id="ACME-FR", parent=child)
    other = CompanyFactory(name="Zenith", external_id="ZEN")
    data = csv_bytes(
        [*HEADER, "arr", "status"],
        # Europe moves (with France) under Zenith, a new company goes under Acme.
        ["ACME-EU", "Acme Europe", "ZEN", "1000.50", "at_risk"],
        ["ACME-DE", "Acme Germany", "ACME", "0", ""],
    )
    report = run_import("companies", data)
    assert report.errors == []
    assert (report.created, report.updated) == (1, 1)
    assert_valid_tree()
    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert child.parent_id == other.pk and child.arr == Decimal("1000.50")
    assert child.status == Company.Status.AT_RISK
    assert grandchild.get_ancestors().first() == other
    assert Company.objects.get(external_id="ACME-DE").parent_id == top.pk
    # Columns the file does not have are left as they were.
    assert child.segment != "" or child.industry != ""


def test_reimporting_the_same_file_changes_nothing():
    data = csv_bytes(
        [*HEADER, "renewal_date"], ["A", "Alpha", ""], ["B", "Beta", "A", "2027-01-31"]
    )
    run_import("companies", data)
    report = run_import("companies", data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)


def test_dry_run_counts_and_writes_nothing():
    CompanyFactory(external_id="OLD", name="Old name")
    data = csv_bytes(HEADER, ["OLD", "New name", ""], ["NEW", "Brand new", "OLD"])
    report = run_import("companies", data, dry_run=True)
    assert (report.created, report.updated, report.written) == (1, 1, False)
    assert Company.objects.get(external_id="OLD").name == "Old name"
    assert not Company.objects.filter(external_id="NEW").exists()


@pytest.mark.parametrize(
    ("rows", "line", "column", "message"),
    [
        ([["A", "", ""]], 2, "name", "This column needs a value."),
        ([["", "Nameless", ""]], 2, "external_id", "Give the company an external ID"),
        ([["A", "Alpha", ""], ["A", "Again", ""]], 3, "external_id", "is also on line 2"),
        (
            [["A", "Alpha", "NOPE"]],
            2,
            "parent_external_id",
            "No company has the external ID “NOPE”",
        ),
        ([["A", "Alpha", "B"], ["B", "Beta", "A"]], 2, "parent_external_id", "make a cycle"),
        ([["A", "Alpha", "A"]], 2, "parent_external_id", "make a cycle"),
        (
            [
                ["1", "One", ""],
                ["2", "Two", "1"],
                ["3", "Three", "2"],
                ["4", "Four", "3"],
                ["5", "Five", "4"],
                ["6", "Six", "5"],
            ],
            7,
            "parent_external_id",
            "at most five levels deep: Six would be at level 6",
        ),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(rows, line, column, message):
    report = run_import("companies", csv_bytes(HEADER, *rows))
    assert report.blocked and not report.written
    assert any(n == line and c == column and message in m for n, c, m in messages(report)), (
        messages(report)
    )
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("arr", "12,5x", "is not a number"),
        ("arr", "-5", "at least 0"),
        ("arr", "1.234", "at most 2 decimal places"),
        ("arr", "1e20", "Enter a number below"),
        ("renewal_date", "31/01/2027", "is not a date: write it as YYYY-MM-DD"),
        ("segment", "huge", "is not one of: enterprise, mid_market, smb"),
        ("csm", "nobody", "No user has the username “nobody”"),
        ("partner", "Nobody Inc", "No partner is called “Nobody Inc”"),
        ("industry", "x" * 81, "at most 80 characters"),
    ],
)
def test_bad_cells_name_their_column(column, value, message):
    report = run_import("companies", csv_bytes([*HEADER, column], ["A", "Alpha", "", value]))
    assert [(n, c) for n, c, _ in messages(report)] == [(2, column)]
    assert message in report.errors[0].message
    assert not Company.objects.exists()


def test_a_partner_user_cannot_be_a_csm(partner_a):
    partner_user = PartnerUserFactory(partner=partner_a, user__username="pu").user
    report = run_import("companies", csv_bytes(["external_id", "name", "csm"], ["A", "A", "pu"]))
    assert "is a partner user" in report.errors[0].message
    assert partner_user.csm_companies.count() == 0


def test_a_sixth_level_through_a_moved_subtree_is_refused():
    """Moving a company whose own subtree is three deep under a level-2 company: level 6."""
    top = CompanyFactory(name="Top", external_id="TOP")
    middle = CompanyFactory(name="Middle", external_id="MID", parent=top)
    mover = CompanyFactory(name="Mover", external_id="MOVER")
    below = CompanyFactory(name="Below", external_id="BELOW", parent=mover)
    deeper = CompanyFactory(name="Deeper", external_id="DEEPER", parent=below)
    CompanyFactory(name="Deepest", external_id="DEEPEST", parent=deeper)
    report = run_import("companies", csv_bytes(HEADER, ["MOVER", "Mover", "MID"]))
    assert report.blocked
    assert "the deepest company below Mover (Deepest) would be at level 6" in (
        report.errors[0].message
    )
    mover.refresh_from_db()
    assert mover.parent_id is None and middle.get_descendant_count() == 0


def test_a_cycle_through_the_book_is_refused():
    top = CompanyFactory(name="Top", external_id="TOP")
    CompanyFactory(name="Child", external_id="CHILD", parent=top)
    report = run_import("companies", csv_bytes(HEADER, ["TOP", "Top", "CHILD"]))
    assert "make a cycle" in report.errors[0].message
    top.refresh_from_db()
    assert top.parent_id is None


def test_skip_invalid_imports_the_good_rows_and_reports_the_rest():
    data = csv_bytes(
        [*HEADER, "arr"],
        ["GOOD", "Good", "", "10"],
        ["BAD", "Bad", "", "ten"],
        ["ORPHAN", "Child of bad", "BAD", "1"],
        ["KID", "Child of good", "GOOD", "1"],
    )
    report = run_import("companies", data, skip_invalid=True)
    assert report.written
    assert (report.created, report.skipped) == (2, 2)
    assert {p.line for p in report.errors} == {3, 4}
    assert set(Company.objects.values_list("external_id", flat=True)) == {"GOOD", "KID"}
    assert_valid_tree()


def test_file_errors_write_nothing():
    assert (
        "not UTF-8"
        in run_import("companies", "external_id,name\nA,Caf\xe9\n".encode("latin-1"))
        .errors[0]
        .message
    )
    missing = run_import("companies", csv_bytes(["external_id", "title"], ["A", "x"]))
    assert missing.errors[0].column == "name" and "no “name” column" in missing.errors[0].message
    assert "no rows" in run_import("companies", b"external_id,name\n").errors[0].message
    assert "empty" in run_import("companies", b"").errors[0].message
    assert "twice" in run_import("companies", b"external_id,name,name\nA,B,C\n").errors[0].message
    too_wide = run_import("companies", b"external_id,name\nA,B,C\n")
    assert "has 3 cells" in too_wide.errors[0].message
    assert not Company.objects.exists()


def test_a_byte_order_mark_and_header_spelling_are_accepted():
    data = csv_bytes(["External ID", "Name", "Parent External ID"], ["A", "Alpha", ""], bom=True)
    report = run_import("companies", data)
    assert report.errors == [] and report.created == 1


def test_unknown_columns_are_ignored_with_a_warning():
    report = run_import("companies", csv_bytes([*HEADER, "colour"], ["A", "Alpha", "", "red"]))
    assert report.created == 1
    assert report.warnings == ["Not companies columns, ignored: colour."]


def test_formula_looking_cells_import_as_text_and_the_export_guard_is_removed():
    data = csv_bytes(HEADER, ["A", "=HYPERLINK(1)", ""], ["B", "'@SUM(1)", ""])
    run_import("companies", data)
    assert Company.objects.get(external_id="A").name == "=HYPERLINK(1)"
    assert Company.objects.get(external_id="B").name == "@SUM(1)"


def test_partner_and_csm_columns_go_through_the_services(partner_a):
    csm = UserFactory(username="Jane.CSM")
    data = csv_bytes(
        ["external_id", "name", "csm", "partner"],
        ["A", "Alpha", "jane.csm", "partner a"],
        ["B", "Beta", "", ""],
    )
    report = run_import("companies", data)
    assert report.errors == []
    alpha = Company.objects.get(external_id="A")
    assert alpha.csm == csm and alpha.managed_by == partner_a
    assert (
        CompanyGroupObjectPermission.objects.filter(
            content_object=alpha, group=partner_a.group
        ).count()
        == 2
    )
    # Taking the partner away revokes its grants.
    run_import("companies", csv_bytes(["external_id", "name", "partner"], ["A", "Alpha", ""]))
    assert not CompanyGroupObjectPermission.objects.filter(content_object=alpha).exists()


def test_imports_leave_an_audit_trail():
    if not hasattr(Company, "history"):
        pytest.skip("companies keep no history")
    importer = UserFactory(username="importer")
    run_import("companies", csv_bytes(HEADER, ["A", "Alpha", ""]), by=importer)
    run_import("companies", csv_bytes(HEADER, ["A", "Alpha 2", ""]), by=importer)
    history = list(Company.history.filter(external_id="A").order_by("history_id"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[1].name == "Alpha 2" and history[1].history_user == importer
    # Each history row holds every field of the company as written, the who, when and why.
    header = ["external_id", "name", "parent_external_id", "segment", "arr", "renewal_date"]
    run_import(
        "companies",
        csv_bytes(header, ["B", "Beta", "A", "smb", "1200.50", "2027-03-01"], ["C", "Gamma", "B"]),
        by=importer,
    )
    historical = Company.history.model._meta.concrete_fields
    fields = [f.attname for f in historical if not f.attname.startswith("history_")]
    assert {"name", "arr", "parent_id", "segment", "renewal_date", "created_at"} <= set(fields)
    for company in Company.objects.filter(external_id__in=["B", "C"]):
        (row,) = Company.history.filter(id=company.pk)
        assert {name: getattr(row, name) for name in fields} == {
            name: getattr(company, name) for name in fields
        }
        assert (row.history_type, row.history_user, row.history_change_reason) == (
            "+",
            importer,
            "CSV import",
        )
        assert row.history_date == company.created_at
    beta = Company.objects.get(external_id="B")
    assert (beta.arr, str(beta.renewal_date), beta.parent.external_id) == (
        Decimal("1200.50"),
        "2027-03-01",
        "A",
    )


def test_queries_do_not_grow_with_rows_or_columns():
    def count(rows: int, header: list[str], prefix: str) -> int:
        filler = {
            "industry": "Software",
            "segment": "smb",
            "arr": "1",
            "renewal_date": "2027-01-01",
        }
        data = csv_bytes(
            header,
            *[
                [f"{prefix}{i}", f"Company {i}", "" if i < 3 else f"{prefix}{i % 3}"]
                + [filler[c] for c in header[3:]]
                for i in range(rows)
            ],
        )
        with CaptureQueriesContext(connection) as queries:
            report = run_import("companies", data)
        assert report.written
        return len(queries)

    small = count(10, HEADER, "A")
    assert count(300, HEADER, "B") == small
    assert count(300, [*HEADER, "industry", "segment", "arr", "renewal_date"], "C") == small


def test_the_command_prints_errors_and_fails(tmp_path, capsys):
    path = tmp_path / "companies.csv"
    path.write_bytes(csv_bytes(HEADER, ["A", "Alpha", "NOPE"]))
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_csv", "companies", str(path))
    assert "line 2, parent_external_id: No company" in capsys.readouterr().err
    assert not Company.objects.exists()


def test_the_command_imports_with_a_progress_bar(tmp_path, capsys):
    path = tmp_path / "companies.csv"
    path.write_bytes(csv_bytes(HEADER, *[[f"C{i}", f"Company {i}", ""] for i in range(2500)]))
    call_command("import_csv", "companies", str(path), "--dry-run")
    captured = capsys.readouterr()
    assert "Dry run, nothing written. Companies, 2500 rows: 2500 would be created" in captured.out
    assert "Checking  [" in captured.err and "100%" in captured.err
    assert not Company.objects.exists()
    call_command("import_csv", "companies", str(path))
    assert Company.objects.count() == 2500
    assert_valid_tree()


def test_the_columns_start_with_the_key_and_the_parent():
    assert CompanyImporter.column_names()[:3] == HEADER


def test_imported_companies_are_in_the_search_index():
    search_index = pytest.importorskip("gainsight_lite.search_index")
    CompanyFactory(name="Already here", external_id="OLD")
    data = csv_bytes(HEADER, ["NEW1", "Quokka Holdings", ""], ["NEW2", "Wombat Labs", "NEW1"])
    assert run_import("companies", data).written
    renamed = csv_bytes(HEADER, ["NEW2", "Wombat Research", "NEW1"])
    assert run_import("companies", renamed).written
    assert search_index.search_index_check() == []
    # The insert trigger is back for the next writer.
    CompanyFactory(name="Platypus Partners", external_id="LATER")
    assert search_index.search_index_check() == []


def _tree_shape() -> dict[int, tuple[int, int, int, int]]:
    """Each company's (root, left, right, level): the tree numbers, whatever the tree ids."""
    rows = list(Company.objects.values_list("pk", "tree_id", "lft", "rght", "level", "parent_id"))
    root_of_tree = {tree_id: pk for pk, tree_id, _l, _r, _lv, parent in rows if parent is None}
    return {
        pk: (root_of_tree[tree_id], lft, rght, level) for pk, tree_id, lft, rght, level, _ in rows
    }


@pytest.mark.parametrize("seed", range(6))
def test_random_imports_number_the_trees_exactly_as_mptt_rebuilds_them(seed):
    """Upserts that add, rename and move companies across trees, in random order."""
    import random

    rng = random.Random(seed)
    ids = [f"R{n}" for n in range(40)]
    parents: dict[str, str] = {}
    for rounds in range(3):
        rows = []
        for external_id in rng.sample(ids, 25):
            # A parent among the companies placed so far (or the file), never making a cycle
            # or a sixth level: those are refused, tested above.
            candidates = [p for p in ids if p != external_id and _depth(p, parents) < 4]
            parent = rng.choice(candidates) if candidates and rng.random() < 0.7 else ""
            if parent and _below(parent, external_id, parents):
                parent = ""
            parents[external_id] = parent
            rows.append([external_id, f"Company {rng.randrange(10_000):05d} {external_id}", parent])
        report = run_import("companies", csv_bytes(HEADER, *rows), skip_invalid=True)
        assert report.written or report.rows == report.skipped
        assert_valid_tree()
        mine = _tree_shape()
        Company.objects.rebuild()
        assert _tree_shape() == mine, f"round {rounds}"


def _depth(node: str, parents: dict[str, str]) -> int:
    depth = 0
    while parents.get(node):
        node = parents[node]
        depth += 1
        if depth > 6:
            break
    return depth


def _below(node: str, ancestor: str, parents: dict[str, str]) -> bool:
    seen = 0
    while node and seen < 50:
        if node == ancestor:
            return True
        node = parents.get(node, "")
        seen += 1
    return False


def test_history_copy_takes_more_ids_than_one_statement_may_have():
    """history_copy splits its ids to stay within the database's limit of parameters."""
    if not hasattr(Company, "history"):
        pytest.skip("companies keep no history")
    count = 1_100  # over SQLite's 999 parameters
    run_import(
        "companies",
        csv_bytes(["external_id", "name"], *([f"H{n}", f"H {n}"] for n in range(count))),
    )
    ids = list(Company.objects.filter(external_id__startswith="H").values_list("pk", flat=True))
    assert len(ids) == count
    when = timezone.now()
    assert history_copy(Company, ids, by=None, history_type="~", reason="test", when=when) == count
    copied = Company.history.filter(history_type="~", history_change_reason="test")
    assert sorted(copied.values_list("id", flat=True)) == sorted(ids)
    assert set(copied.values_list("history_date", flat=True)) == {when}
