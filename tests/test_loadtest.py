"""The load and soak test, kept from rotting: a few seconds of it against the live server."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from gainsight_lite.loadtest import (
    Report,
    Written,
    check_local,
    forms_of,
    included,
    run_load,
    verify_writes,
)
from gainsight_lite.management.commands.soak import soak_logins
from layouts.services import layout_default_ensure
from success.models import CTA, Activity
from tests.factories import CompanyFactory, MeasureFactory, PartnerFactory, ScorecardFactory


@pytest.fixture
def book(transactional_db):
    """A small book: companies, some managed by a partner, a company scorecard, the C360."""
    partner = PartnerFactory(name="Soak Partner")
    for number in range(6):
        CompanyFactory(name=f"Soak Company {number}", managed_by=partner if number < 3 else None)
    scorecard = ScorecardFactory(name="Company health")
    MeasureFactory(scorecard=scorecard, name="Adoption")
    MeasureFactory(scorecard=scorecard, name="Sentiment")
    layout_default_ensure()
    return partner


@pytest.mark.django_db(transaction=True)
def test_a_short_run_makes_every_kind_of_write_without_errors_or_losses(book, live_server):
    logins = soak_logins(csms=2, partner_users=1)

    # One round: each user does each of its actions once (a few seconds; 60 s at the most),
    # taking turns: the live server's in-memory SQLite is one connection for all its threads.
    report, _ = run_load(
        base_url=live_server.url,
        logins=logins,
        seconds=60,
        max_requests=600,
        rounds=1,
        concurrency=1,
    )
    lost = verify_writes(report)

    assert report.errors == 0, report.error_samples
    assert lost == []
    written = report.written
    assert written.activities and written.ctas and written.industries and written.scores
    assert report.requests > 20
    assert report.percentiles["p95"] > 0
    assert Activity.objects.filter(subject__in=written.activities).count() == len(
        written.activities
    )
    assert CTA.objects.filter(name__in=written.ctas).count() == len(written.ctas)
    assert any(line.startswith("writes: ") and line.endswith("0 lost") for line in report.lines())


@pytest.mark.django_db
def test_a_write_missing_from_the_database_is_reported_lost(book):
    report = Report(
        run_id="feedbeef",
        seconds=1.0,
        requests=10,
        errors=0,
        error_samples=[],
        percentiles={"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0},
        by_label={},
        written=Written(
            activities=["Soak feedbeef 0-1 activity"],
            ctas=["Soak feedbeef 0-2 CTA"],
            industries=[(1, "Soak feedbeef 0-3 industry")],
            scores=[(1, "Soak feedbeef 0-4 score")],
        ),
    )

    lost = verify_writes(report)

    assert len(lost) == 4 and not report.ok
    assert "activity 'Soak feedbeef 0-1 activity'" in lost


@pytest.mark.parametrize(
    "url", ["http://example.com:8000", "https://127.0.0.1:8000", "http://10.0.0.1/", "ftp://x"]
)
def test_the_load_only_goes_to_this_machine(url):
    with pytest.raises(ValueError, match="only runs against"):
        check_local(url)
    with pytest.raises(CommandError):
        call_command("soak", "--url", url, "--seconds", "1")


def test_forms_are_read_as_a_browser_posts_them():
    html = """
    <form hx-post="/save/">
      <input type="hidden" name="field" value="industry">
      <input name="value" value="Retail &amp; trade">
      <input type="checkbox" name="flag"><input type="checkbox" name="on" checked>
      <input type="submit" name="go" value="Save">
      <select name="kind">
        <option value="">—</option><option value="2" selected>Call</option>
      </select>
      <select name="first"><option value="7">A</option><option value="8">B</option></select>
      <textarea name="notes">
Line</textarea>
    </form>
    """

    (form,) = forms_of(html)

    assert form.target == "/save/"
    assert form.fields == [
        ("field", "industry"),
        ("value", "Retail & trade"),
        ("on", "on"),
        ("kind", "2"),
        ("first", "7"),
        ("notes", "Line"),
    ]
    assert form.first_choice("kind") == "2"
    assert form.values(value="New")[-1] == ("value", "New")


def test_a_form_posts_the_inputs_its_hx_include_names():
    page = '<div><input type="hidden" name="version" value="v7" id="attr-version-3"></div>'
    (form,) = forms_of(
        '<form hx-post="/s/" hx-include="#attr-version-3, #missing, closest div">'
        '<input name="value" value="x"></form>'
    )

    assert included(form, page) == [("version", "v7")]
