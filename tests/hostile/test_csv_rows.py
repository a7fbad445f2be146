"""CSV import rows under hostile input: every kind answers with a report, never an exception.

For each kind of import, files of rows whose cells are hostile text (NUL bytes, huge and
non-finite numbers, impossible dates, markup, formula-looking cells, ids of nothing) are run
through `run_import` — the one entry of the command and the admin page. The answer is a
report: either the rows were written, or every bad row is reported with its line and column
and nothing at all was written. Raw bytes that are not a CSV file at all get a file error.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db.models import Max
from hypothesis import example, given, settings
from hypothesis import strategies as st

from companies.models import Company, CompanyPerson, Person
from gainsight_lite.csvio.importers import KINDS, run_import
from relationships.models import Relationship
from success.models import Activity, Score, UsageValue
from tests.factories import (
    CompanyFactory,
    MeasureFactory,
    PartnerFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    ScorecardFactory,
    UsageMetricFactory,
)
from tests.hostile.strategies import NASTY_STRINGS, hostile_text

pytestmark = pytest.mark.django_db

WATCHED = (Company, Relationship, Person, CompanyPerson, Activity, UsageValue, Score)
# Cells that name records which exist, mixed in so that some rows get past the lookups.
KNOWN = ["ACC-1", "ACC-2", "Platform", "Partner One", "Adoption", "Logins", "Call", "2026-01-05"]


def fingerprint() -> dict[str, Any]:
    state: dict[str, Any] = {model.__name__: model.objects.count() for model in WATCHED}
    for model in (Company, Relationship):
        state[f"{model.__name__} changed"] = model.objects.aggregate(at=Max("updated_at"))["at"]
    state["attributes"] = list(Relationship.objects.order_by("pk").values_list("attributes"))
    return state


@pytest.fixture
def book(db) -> None:
    top = CompanyFactory(name="One", external_id="ACC-1")
    CompanyFactory(name="Two", external_id="ACC-2", parent=top)
    platform = RelationshipTypeFactory(name="Platform")
    RelationshipTypeFieldFactory(relationship_type=platform, key="seats", kind="number")
    RelationshipTypeFieldFactory(relationship_type=platform, key="go_live", kind="date")
    RelationshipFactory(company=top, relationship_type=platform, name="Platform One")
    PartnerFactory(name="Partner One")
    MeasureFactory(scorecard=ScorecardFactory(name="Health"), name="Adoption")
    UsageMetricFactory(name="Logins")


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


def cells(width: int) -> st.SearchStrategy[list[str]]:
    cell = st.one_of(hostile_text, st.sampled_from(KNOWN + NASTY_STRINGS[:20]), st.just(""))
    return st.lists(cell, min_size=width, max_size=width)


def _check(kind: str, data: bytes, skip_invalid: bool) -> None:
    before = fingerprint()
    report = run_import(kind, data, skip_invalid=skip_invalid)
    for problem in report.errors:
        assert str(problem.message).strip(), f"{kind}: an error without a sentence"
    if not report.written:
        assert fingerprint() == before, f"{kind}: nothing imported, yet something was written"
    else:
        assert skip_invalid or not report.errors, f"{kind}: written despite {report.errors[:3]}"


@pytest.mark.parametrize("kind", sorted(KINDS))
@given(data=st.data(), skip_invalid=st.booleans())
@settings(max_examples=max(10, settings().max_examples // 2))
def test_hostile_rows_are_reported_or_imported_never_half(
    book: None, kind: str, data: st.DataObject, skip_invalid: bool
) -> None:
    header = KINDS[kind].column_names()
    if kind == "relationships":
        header = [*header, "seats", "go_live"]
    rows = data.draw(st.lists(cells(len(header)), min_size=1, max_size=4))
    _check(kind, _csv(header, rows), skip_invalid)


@pytest.mark.parametrize("kind", sorted(KINDS))
@given(raw=st.binary(max_size=300))
@example(raw=b"\xff\xfe\x00n\x00a\x00m\x00e")
@example(raw=b"name,external_id\n\x00,\x00\n")
@example(raw=b'"unterminated,quote\n')
@settings(max_examples=max(10, settings().max_examples // 5))
def test_bytes_that_are_not_a_csv_file_are_refused_with_a_reason(
    book: None, kind: str, raw: bytes
) -> None:
    _check(kind, raw, skip_invalid=False)


def test_the_harness_imports_a_good_row(book: None) -> None:
    """The check above sees real writes too: a good row of the same shape is imported."""
    header = KINDS["companies"].column_names()
    row = dict.fromkeys(header, "") | {"name": "New <b>Co</b>", "external_id": "ACC-9"}
    report = run_import("companies", _csv(header, [[row[name] for name in header]]))
    assert report.written and not report.errors
    assert Company.objects.get(external_id="ACC-9").name == "New <b>Co</b>"
