"""The benchmark's smoke test: every page answers on a tiny large book; figures are reported."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gainsight_lite import bench, demo_large
from tests.factories import UserFactory


@pytest.fixture
def tiny_book(db):
    return demo_large.large_book_build(companies=demo_large.MIN_LARGE_COMPANIES, seed=3)


@pytest.mark.django_db
def test_every_page_and_section_answers_and_is_reported(tiny_book, tmp_path):
    report = bench.run_bench(
        requests=2,
        warmup=0,
        load_seconds=0,
        export_rows=0,
        import_rows=0,
        collect_static=False,
    )
    names = [figure.name for figure in report.figures]
    for expected in (
        "C360 header",
        "R360 header",
        "Cockpit",
        "Cockpit, anyone",
        "Partner's Cockpit",
        "Companies list",
        "Search",
        "Partner's companies list",
        "Timeline feed",
        "Partner's timeline feed",
        "Partner's home",
    ):
        assert expected in names
    kinds = {name.split(": ")[1] for name in names if name.startswith("C360 section")}
    # The default C360 of the demo: every kind of section.
    assert {"summary", "timeline", "cockpit", "hierarchy", "scorecard", "usage"} <= kinds
    assert any(name.startswith("R360 section") for name in names)
    for figure in report.figures:
        assert figure.status == 200, figure
        assert figure.queries > 0 and figure.bytes > 0
        assert figure.p95_ms >= figure.median_ms > 0 and figure.cpu_ms > 0
    assert report.book["companies"] == demo_large.MIN_LARGE_COMPANIES
    speed = report.extras["reference_loop"]
    assert speed["before_ms"] > 0 and speed["after_ms"] > 0

    json_path, md_path = bench.write_results(report, tmp_path)
    data = json.loads(json_path.read_text())
    assert len(data["figures"]) == len(report.figures)
    text = md_path.read_text()
    assert "| C360 header | csm |" in text
    assert f"took {speed['before_ms']:g} ms before the pages" in text
    assert (tmp_path / f"latest-{json_path.name.split('-')[1]}.md").exists()


@pytest.mark.django_db
def test_only_times_the_pages_whose_name_contains_the_text(tiny_book):
    report = bench.run_bench(
        requests=1, warmup=0, load_seconds=0, export_rows=0, import_rows=0,
        collect_static=False, only="cockpit",
    )  # fmt: skip
    assert [figure.name for figure in report.figures] == [
        "C360 section: cockpit",
        "R360 section: cockpit",
        "Cockpit",
        "Cockpit, anyone",
        "Partner's Cockpit",
    ]
    with pytest.raises(bench.BenchError, match="No page"):
        bench.run_bench(load_seconds=0, collect_static=False, only="nothing like it")


def test_the_reference_loop_costs_more_for_more_work():
    assert bench.reference_loop_ms(2_000_000) > bench.reference_loop_ms(20_000)


def test_a_figure_over_budget_is_marked_in_the_report():
    over = bench.Figure("Cockpit", "/cockpit/", "csm", 200, 55.0, 70.0, 50.0, 9, 1000, 40, True)
    within = bench.Figure("Home", "/", "csm", 200, 5.0, 7.0, 4.0, 4, 800, 40, False)
    report = bench.Report("now", "SQLite", "2 CPUs", {"companies": 1}, figures=[over, within])
    text = bench.markdown(report)
    assert "**55 OVER**" in text
    assert "| Home | csm | 5 |" in text
    assert report.over == ["Cockpit"]
    assert "Over budget: 1 of 2 figures" in text


def test_p95_is_the_nearest_rank():
    assert bench.p95([float(n) for n in range(1, 101)]) == 95.0
    assert bench.p95([3.0]) == 3.0


@pytest.mark.django_db
def test_bench_on_an_empty_database_says_how_to_seed():
    UserFactory(username="csm")
    with pytest.raises(CommandError, match="seed_demo --scale large"):
        call_command("bench", "--load-seconds", "0", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_bench_refuses_debug_mode(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="DEBUG is on"):
        call_command("bench", "--load-seconds", "0", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_floor_view_needs_a_signed_in_user(client, csm_user):
    response = client.get("/healthz/auth", secure=True)
    assert response.status_code == 302
    client.force_login(csm_user)
    response = client.get("/healthz/auth", secure=True)
    assert response.status_code == 200
    assert response.content == b"ok: signed in\n"
