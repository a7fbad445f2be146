"""The company tree under concurrent writes, and the check_tree command.

Tree writes take the hierarchy lock (a PostgreSQL advisory lock; SQLite's IMMEDIATE
transactions already let one writer in at a time), and check the cycle and five-level rules
under it. On PostgreSQL, two threads move subtrees at the same moment so that together they
would form a cycle or pass five levels: one move wins, the other is refused with the usual
sentence, and the tree stays sound. `check_tree` reports each problem of a deliberately
corrupted tree and exits 1; `--repair` rebuilds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections, connection, connections, transaction

import companies.models
from companies.management.commands.check_tree import tree_problems
from companies.models import Company
from companies.services import (
    HIERARCHY_LOCK_KEY,
    company_create,
    company_delete,
    company_move,
    company_update,
    hierarchy_lock,
)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="advisory locks and concurrent writers need PostgreSQL (SQLite has one writer)",
)


def chain(*names: str) -> list[Company]:
    """Companies each under the one before."""
    made: list[Company] = []
    for name in names:
        made.append(company_create(name=name, parent=made[-1] if made else None))
    return made


# ---------- the lock ----------


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own setting")
def test_sqlite_transactions_begin_immediate_so_writers_take_turns() -> None:
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_the_lock_refuses_to_run_outside_a_transaction(db) -> None:
    with transaction.atomic():
        hierarchy_lock()  # fine inside one
    with mock.patch.object(connection, "in_atomic_block", False), pytest.raises(RuntimeError):
        hierarchy_lock()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "write",
    [
        lambda top, leaf: company_create(name="New", parent=top),
        lambda top, leaf: company_create(name="New top"),
        lambda top, leaf: company_move(company=leaf, new_parent=None),
        lambda top, leaf: company_update(company=leaf, name="Renamed"),
        lambda top, leaf: company_delete(company=leaf),
    ],
    ids=["create under", "create at the top", "move", "update", "delete"],
)
def test_every_tree_write_takes_the_lock(write: Callable[[Company, Company], Any]) -> None:
    top, leaf = chain("Top", "Leaf")
    with mock.patch("companies.services.hierarchy_lock") as lock:
        write(top, leaf)
    lock.assert_called_once_with()


@pytest.mark.django_db
def test_a_stale_instance_does_not_write_old_tree_numbers_back() -> None:
    """An instance loaded before a move elsewhere in its tree keeps the tree sound on save."""
    top, middle, leaf = chain("Top", "Middle", "Leaf")
    stale = Company.objects.get(pk=leaf.pk)
    other = company_create(name="Aardvark", parent=top)  # sorted first: renumbers the others
    company_move(company=other, new_parent=middle)
    company_update(company=stale, industry="Retail")
    assert tree_problems() == []
    assert Company.objects.get(pk=leaf.pk).parent_id == middle.pk


@pytest.mark.django_db
def test_delete_refuses_a_company_with_companies_below() -> None:
    top, _ = chain("Top", "Leaf")
    with pytest.raises(ValidationError, match="has companies below it"):
        company_delete(company=top)
    assert Company.objects.count() == 2


# ---------- two moves at once (PostgreSQL) ----------


def _slow_checks() -> Any:
    """Widen the window between the rule check and the save, as a busy server would."""
    original = companies.models.check_company_parent

    def slowed(company: Company, parent: Company | None) -> None:
        original(company, parent)
        time.sleep(0.3)

    return mock.patch("companies.models.check_company_parent", slowed)


def _at_once(*moves: Callable[[], Any]) -> list[BaseException | None]:
    """Run the moves in threads released together; each one's error or None."""
    barrier = threading.Barrier(len(moves))
    results: list[BaseException | None] = [None] * len(moves)

    def run(index: int, move: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            move()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(moves)]
    with _slow_checks():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    close_old_connections()
    return results


def _by_name(name: str) -> Company:
    return Company.objects.get(name=name)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_moves_that_together_would_form_a_cycle() -> None:
    chain("East", "East branch")
    chain("West", "West branch")
    results = _at_once(
        lambda: company_move(company=_by_name("East"), new_parent=_by_name("West branch")),
        lambda: company_move(company=_by_name("West"), new_parent=_by_name("East branch")),
    )
    refused = [r for r in results if r is not None]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ValidationError)
    assert "one of its own descendants" in str(refused[0])
    assert tree_problems() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_moves_that_together_would_pass_five_levels() -> None:
    chain("A", "A1", "A2")  # levels 1-3 (as a CSM counts)
    chain("B", "B1")
    chain("D", "D1")
    results = _at_once(
        # B under A2: B1 at level 5, allowed on its own.
        lambda: company_move(company=_by_name("B"), new_parent=_by_name("A2")),
        # A under D1: A2 at level 5, allowed on its own; with the other, B1 would be at 7.
        lambda: company_move(company=_by_name("A"), new_parent=_by_name("D1")),
    )
    refused = [r for r in results if r is not None]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ValidationError)
    assert "at most five levels deep" in str(refused[0])
    assert tree_problems() == []
    assert max(Company.objects.values_list("level", flat=True)) <= 4


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_advisory_lock_is_held_until_the_transaction_ends() -> None:
    def other_session_gets_the_lock() -> bool:
        got: list[bool] = []

        def run() -> None:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [HIERARCHY_LOCK_KEY])
                got.append(cursor.fetchone()[0])
                cursor.execute("SELECT pg_advisory_unlock_all()")
            connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return got[0]

    with transaction.atomic():
        hierarchy_lock()
        assert not other_session_gets_the_lock()
    assert other_session_gets_the_lock()


# ---------- check_tree ----------


def _check_tree(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_tree", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.mark.django_db
def test_check_tree_passes_a_sound_tree() -> None:
    chain("Top", "Middle", "Leaf")
    code, out = _check_tree()
    assert code == 0
    assert "The company tree is sound (3 companies)." in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        ({"lft": 9}, "left 9 is not below right"),
        ({"level": 3}, "level 3, but it is 2 deep"),
        ({"rght": 40}, "its left/right numbers are not exactly 1 to 6"),
        ({"tree_id": 99}, "tree 99 starts at it, but its parent"),
    ],
)
def test_check_tree_reports_a_corrupted_row_and_repair_rebuilds(
    corrupt: dict[str, int], expected: str
) -> None:
    _, middle, leaf = chain("Top", "Middle", "Leaf")
    Company.objects.filter(pk=leaf.pk).update(**corrupt)

    code, out = _check_tree()
    assert code == 1
    assert expected in out
    assert "run check_tree --repair" in out

    code, out = _check_tree("--repair")
    assert code == 0, out
    assert "Repaired: rebuilt the tree fields of 3 companies." in out
    assert tree_problems() == []
    repaired = Company.objects.get(pk=leaf.pk)
    assert (repaired.parent_id, repaired.level) == (middle.pk, 2)


@pytest.mark.django_db
def test_check_tree_reports_a_circle_and_does_not_repair_it() -> None:
    top, middle, _ = chain("Top", "Middle", "Leaf")
    Company.objects.filter(pk=top.pk).update(parent=middle)

    code, out = _check_tree("--repair")
    assert code == 1
    assert "The parent links go round in a circle" in out
    assert "Cannot repair" in out
    # Nothing was rebuilt: the row is as the corruption left it.
    assert Company.objects.get(pk=top.pk).level == 0


@pytest.mark.django_db
def test_check_tree_reports_parent_links_deeper_than_five_levels() -> None:
    made = chain("L1", "L2", "L3", "L4", "L5")
    extra = company_create(name="L6")
    # Written around the services: its parent link puts it at level 6.
    Company.objects.filter(pk=extra.pk).update(parent=made[-1])

    code, out = _check_tree("--repair")
    assert code == 1
    assert "Company " + str(extra.pk) + " (L6): its parent links put it at level 6" in out
    assert "Cannot repair" in out


@pytest.mark.django_db
def test_a_company_import_takes_the_lock_before_it_writes_the_tree() -> None:
    from gainsight_lite.csvio.importers import run_import

    with mock.patch("gainsight_lite.csvio.importers.hierarchy_lock") as lock:
        report = run_import("companies", b"name,external_id\nImported Co,IMP-1\n")
    assert report.written, report.errors
    lock.assert_called_once_with()
