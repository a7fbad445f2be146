"""The throughput functions `make bench` calls, at a tiny scale: figures, and nothing kept."""

from __future__ import annotations

import pytest

from companies.models import Company
from gainsight_lite.csvio import bench_export, bench_import
from gainsight_lite.csvio.bench import companies_csv
from gainsight_lite.csvio.importers import run_import
from tests.csvio.helpers import assert_valid_tree

pytestmark = pytest.mark.django_db


def test_bench_import_measures_and_rolls_back():
    figures = bench_import(rows=300)
    assert figures["rows"] == 300 and figures["created"] == 300 and figures["errors"] == 0
    assert figures["rows_per_second"] > 0 and figures["cpu_rows_per_second"] > 0
    assert not Company.objects.exists()


def test_the_generated_book_is_a_valid_five_level_forest():
    report = run_import("companies", companies_csv(500))
    assert report.errors == [] and report.created == 500
    assert_valid_tree()
    assert Company.objects.filter(level=4).exists()


def test_bench_export_streams_the_rows_it_asks_for(admin_user):
    figures = bench_export(rows=120)
    assert figures["rows"] == 120 and figures["bytes"] > 0 and figures["queries"] <= 3
    assert not Company.objects.exists()
