"""The companies list's display-ready rows draw what the template drew from Company objects.

The rows are built from columns (`companies.selectors.company_rows`): each test renders the
row the old way — the template text below, from the Company, its CSM and parent — and
compares it with the row of the page.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.test.html import parse_html
from django.urls import reverse, set_script_prefix

from companies.forms import CompanyFilterForm
from companies.models import Company
from companies.services import company_create
from companies.templatetags.gs import days_left, id_urls, renewal_urgency, short_date
from gainsight_lite.forms import name_label, user_label
from tests.factories import CompanyFactory, RelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("companies:list")

# The row as templates/companies/list.html drew it from a Company (before the rows were
# built from columns).
OLD_ROW = Template(Path(__file__).with_name("old_list_row.html").read_text())


def old_row(company: Company, *, parent=None, indent=0, count=0, sees_relationships=True):
    row = {"indent": indent, "parent": parent, "relationship_count": count}
    context = Context({"company": company, "row": row, "sees_relationships": sees_relationships})
    return parse_html(OLD_ROW.render(context))


def page_rows(client, **params) -> list:
    """The `<tr>` of the list's body, parsed."""
    html = client.get(LIST, params).content.decode()
    body = re.search(r"<tbody>(.*)</tbody>", html, re.S)
    assert body is not None
    return [parse_html(tr) for tr in re.findall(r"<tr>.*?</tr>", body.group(1), re.S)]


def test_rows_draw_what_the_template_drew_from_companies(csm_client):
    today = dt.date.today()
    named = UserFactory(username="casey", first_name="Casey", last_name="<Morgan>")
    unnamed = UserFactory(username="nameless", first_name="", last_name="")
    top = company_create(name="Umbrella & Sons")
    full = company_create(
        name='Full "Co"',
        parent=top,
        external_id="CRM-1",
        segment=Company.Segment.MID_MARKET,
        stage=Company.Stage.RENEWAL,
        status=Company.Status.AT_RISK,
        arr=Decimal("1234567.50"),
        renewal_date=today + dt.timedelta(days=45),
        csm=named,
    )
    bare = CompanyFactory(
        name="Bare",
        external_id=None,
        segment="",
        stage="",
        arr=Decimal(0),
        renewal_date=None,
        csm=None,
    )
    past = CompanyFactory(name="Past", renewal_date=today - dt.timedelta(days=1), csm=unnamed)
    soon = CompanyFactory(name="Soon", renewal_date=today, status=Company.Status.CHURNED)
    later = CompanyFactory(name="Later", renewal_date=today + dt.timedelta(days=1500))
    RelationshipFactory.create_batch(3, company=full)

    # Searched by name order: no tree, every row names a parent when it has one.
    rows = page_rows(csm_client, sort="name")
    tree_rows = page_rows(csm_client)
    searched = page_rows(csm_client, q="full")

    companies: list[Company] = sorted(
        [top, full, bare, past, soon, later], key=lambda c: (c.name, c.pk)
    )
    counts = {full.pk: 3}
    assert rows == [old_row(c, parent=c.parent, count=counts.get(c.pk, 0)) for c in companies]
    # The default order: the tree, indented by level, without parents' names.
    in_tree = Company.objects.order_by("tree_id", "lft")
    assert tree_rows == [old_row(c, indent=c.level, count=counts.get(c.pk, 0)) for c in in_tree]
    assert searched == [old_row(full, parent=top, count=3)]


def test_a_partners_rows_name_only_parents_they_may_see(partner_a, partner_a_client):
    hidden = company_create(name="Secret Holding")
    shown = company_create(name="Alpha Group", managed_by=partner_a)
    under_hidden = company_create(name="Alpha Sub", parent=hidden, managed_by=partner_a)
    under_shown = company_create(name="Alpha Unit", parent=shown, managed_by=partner_a)
    RelationshipFactory(company=under_shown, managed_by=partner_a)

    rows = page_rows(partner_a_client, sort="name")

    assert rows == [
        old_row(shown),
        old_row(under_hidden),
        old_row(under_shown, parent=shown, count=1),
    ]


def test_a_companies_only_partner_has_no_relationship_column(partner_b, partner_b_client):
    company = company_create(name="Bravo One", managed_by=partner_b)

    assert page_rows(partner_b_client) == [old_row(company, sees_relationships=False)]


def test_a_count_of_thousands_is_grouped_like_intcomma():
    from companies.selectors import company_rows

    values = {
        "pk": 7,
        "name": "Big",
        "external_id": None,
        "segment": "",
        "status": "active",
        "stage": "",
        "arr": Decimal("5"),
        "renewal_date": None,
        "level": 0,
        "csm__first_name": None,
        "csm__last_name": None,
        "csm__username": None,
        "parent__name": None,
    }
    [big] = company_rows([values], counts={7: 12345}, tree=False)
    [small] = company_rows([values], counts={7: 999}, tree=False)

    assert (big["relationships"], small["relationships"]) == ("12,345", "999")
    assert big["csm_name"] == "" and big["external_id"] == "—" and big["stage_label"] == "—"


def test_id_urls_writes_what_reverse_writes_under_any_script_prefix():
    try:
        for prefix in ("/", "/sub/path/"):
            set_script_prefix(prefix)
            url_of = id_urls("layouts:company")
            for pk in (1, 42, 7315942680, 99999999999):
                assert url_of(pk) == reverse("layouts:company", args=[pk])
    finally:
        set_script_prefix("/")


def test_date_and_days_text_match_the_filters():
    today = dt.date.today()
    every_month = [dt.date(987, month, 1 + month) for month in range(1, 13)]
    for day in (
        None,
        today,
        today + dt.timedelta(days=1),
        today - dt.timedelta(days=400),
        *every_month,
    ):
        old = Template('{{ d|date:"M j, Y" }}').render(Context({"d": day}))
        assert short_date(day) == old
        assert days_left(day) == Template("{% load gs %}{{ d|days_left }}").render(
            Context({"d": day})
        )
        assert renewal_urgency(day) in {"none", "past", "soon", "near", "later"}


@pytest.mark.parametrize(
    ("first", "last", "username", "label"),
    [("Ann", "Lee", "al", "Ann Lee"), ("", "", "al", "al"), ("Ann", "", "al", "Ann")],
)
def test_name_label_is_what_user_label_says_of_the_user(first, last, username, label):
    user = User(first_name=first, last_name=last, username=username)

    assert name_label(first, last, username) == user_label(user) == label


def test_csm_filter_draws_what_djangos_select_drew_from_users(csm_user):
    from django import forms

    from gainsight_lite.forms import user_label as label_of

    UserFactory(username="zed", first_name="", last_name="")
    UserFactory(username="amy", first_name="Amy", last_name='"A" <Lee>')
    for username in ("zed", "amy"):
        CompanyFactory(csm=User.objects.get(username=username))
    chosen = User.objects.get(username="amy")

    form = CompanyFilterForm({"csm": str(chosen.pk)}, user=csm_user)
    users = form.fields["csm"].queryset  # type: ignore[attr-defined]

    class Plain(forms.ModelChoiceField):
        def label_from_instance(self, obj):
            return label_of(obj)

    plain = Plain(queryset=users, required=False, empty_label="All CSMs")
    expected = plain.widget.render("csm", str(chosen.pk), {"id": "id_csm"})
    drawn = str(form["csm"])

    assert parse_html(drawn) == parse_html(expected)
    assert f'<option value="{chosen.pk}" selected>Amy &quot;A&quot; &lt;Lee&gt;</option>' in drawn
    assert form.filters().csm == chosen


def test_quick_select_escapes_values_and_labels_as_the_templates_do():
    from django import forms
    from django.utils.safestring import mark_safe

    from gainsight_lite.forms import QuickSelect

    choices = [
        (mark_safe("<b>"), mark_safe("<em>Safe</em>")),
        ("a'b", "<i>typed</i> & 'quoted'"),
        (None, "None is empty"),
        ("Group", [(None, "inside"), (7, "Seven")]),
    ]
    for value in (None, "a'b", "7", "<b>"):
        quick = QuickSelect(choices=choices).render("x", value, {"id": "id_x"})
        django = forms.Select(choices=choices).render("x", value, {"id": "id_x"})
        assert parse_html(quick) == parse_html(django)
    assert "<em>Safe</em>" in quick and "&lt;i&gt;typed&lt;/i&gt; &amp; &#x27;quoted&#x27;" in quick
    assert 'value="&lt;b&gt;" selected' in quick


def test_the_book_size_for_choosing_a_plan_counts_the_companies():
    from companies.selectors import _book_size

    CompanyFactory.create_batch(3)

    # SQLite counts; PostgreSQL's estimate stands in only once ANALYZE has made one.
    assert _book_size() == Company.objects.count() == 3
