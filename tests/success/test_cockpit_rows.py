"""The Cockpit's and the cockpit section's rows, built in Python (`success.selectors.cockpit.
CTARow`): each reads as the template filters drew it from the CTA itself — dates in the
viewer's time zone, days left, owner names, addresses — for the overdue, snoozed, closed,
unowned, undated CTAs and those without a relationship or with every task done."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from layouts.sections import section_url
from partners.access import require_permission
from success.models import CTA, CTAReason, CTAStatus, CTAType
from success.selectors.cockpit import CTARow, cockpit_section
from tests.factories import (
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    SectionFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

COCKPIT = reverse("success:cockpit")
HTMX = {"HX-Request": "true"}
# What the templates drew from the CTA before its rows were built in Python.
AS_THE_FILTERS_DREW_IT = Template(
    "{% load gs scores %}"
    '{{ cta.due_date|date:"M j, Y" }}|{{ cta.due_date|date:"M j" }}|{{ cta.due_date|days_left }}|'
    "{% if cta.owner %}{{ cta.owner|display_name }}{% endif %}|"
    '{% if cta.is_closed %}{{ cta.closed_at|date:"M j" }}{% endif %}|'
    '{% if cta.snoozed_until and cta.snoozed_until > today %}{{ cta.snoozed_until|date:"M j" }}'
    "{% endif %}|"
    "{{ cta.company.name }}|{{ cta.company.get_absolute_url }}|"
    "{% if cta.relationship %}{{ cta.relationship.name }}|{{ cta.relationship.get_absolute_url }}|"
    "{{ cta.relationship.relationship_type.name }}{% else %}||{% endif %}|"
    "{{ cta.status.name }}|{{ cta.reason.name|default:'' }}|{{ cta.cta_type.name }}|"
    "{{ cta.priority.name }}|{% url 'success:cta_detail' cta.pk %}|"
    "{% url 'success:cta_status' cta.pk %}|{% colour_dot cta.priority.colour %}|{{ cta.pk }}"
)


def as_drawn(row: CTARow) -> str:
    return (
        "|".join(
            escape(value)
            for value in (
                row["due_text"],
                row["due_short"],
                row["days_left"],
                row["owner_name"],
                row["closed_on"],
                row["snoozed_until"],
                row["company_name"],
                row["company_url"],
                row["relationship_name"],
                row["relationship_url"],
                row["relationship_type_name"],
                row["status_name"],
                row["reason_name"],
                row["type_name"],
                row["priority_name"],
                row["detail_url"],
                row["status_url"],
            )
        )
        + f"|{row['priority_dot']}|{row['pk']}"
    )


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


@pytest.fixture
def new_york(settings):
    # Far enough from UTC that a time late in a UTC day falls on the day before.
    settings.TIME_ZONE = "America/New_York"
    timezone.activate("America/New_York")
    yield
    timezone.deactivate()


@pytest.fixture
def book(csm_user):
    """One company's CTAs, one of each kind a row draws differently."""
    company = CompanyFactory(name="Initech & Sons")
    relationship = RelationshipFactory(
        company=company,
        name="Initech Cloud",
        relationship_type=RelationshipTypeFactory(name="SaaS"),
    )
    risk = CTAType.objects.get(name="Risk")
    overdue = CTAFactory(
        company=company,
        relationship=relationship,
        owner=csm_user,
        name="Overdue renewal",
        due_date=days(-3),
        reason=CTAReason.objects.create(cta_type=risk, name="Low usage"),
    )
    TaskFactory.create_batch(2, cta=overdue)
    TaskFactory(cta=overdue, done=True)
    snoozed = CTAFactory(
        company=company,
        owner=UserFactory(username="nameless", first_name="", last_name=""),
        name="Snoozed one",
        due_date=days(9),
        snoozed_until=days(4),
    )
    unowned = CTAFactory(company=company, owner=None, name="Nobody's <b>CTA</b>", due_date=None)
    closed = CTAFactory(
        company=company,
        relationship=relationship,
        owner=csm_user,
        name="Won already",
        status=CTAStatus.objects.get(name="Closed success"),
    )
    # 02:30 UTC on March 10th: still March 9th in New York.
    CTA.objects.filter(pk=closed.pk).update(
        closed_at=dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC)
    )
    TaskFactory.create_batch(2, cta=closed, done=True)
    return {
        "company": company,
        "overdue": overdue,
        "snoozed": snoozed,
        "unowned": unowned,
        "closed": closed,
    }


def section_rows(user, company) -> dict[str, CTARow]:
    section = cockpit_section(
        user=user,
        subject=company,
        include_relationships=True,
        include_closed=True,
        limit=50,
        today=timezone.localdate(),
    )
    return {row["name"]: row for row in section.rows}


def test_each_row_reads_as_the_filters_drew_it(new_york, csm_user, book):
    rows = section_rows(csm_user, book["company"])
    assert len(rows) == 4
    today = timezone.localdate()
    for name, row in rows.items():
        cta = CTA.objects.get(name=name)
        drawn = AS_THE_FILTERS_DREW_IT.render(Context({"cta": cta, "today": today}))
        assert as_drawn(row) == drawn, name


def test_the_rows_overdue_snoozed_closed_and_task_counts(new_york, csm_user, book):
    rows = section_rows(csm_user, book["company"])
    overdue, snoozed = rows["Overdue renewal"], rows["Snoozed one"]
    unowned, closed = rows["Nobody's <b>CTA</b>"], rows["Won already"]
    assert (
        overdue["overdue"],
        overdue["days_left"],
        overdue["tasks_done"],
        overdue["tasks_total"],
    ) == (
        True,
        "3 days ago",
        1,
        3,
    )
    assert (overdue["reason_name"], overdue["relationship_type_name"]) == ("Low usage", "SaaS")
    assert (
        snoozed["snoozed_until"] and not snoozed["overdue"] and snoozed["owner_name"] == "nameless"
    )
    assert snoozed["relationship_url"] == "" and snoozed["relationship_name"] == ""
    assert (unowned["owner_name"], unowned["due_text"], unowned["days_left"]) == ("", "", "")
    assert not unowned["overdue"] and unowned["tasks_total"] == 0
    assert closed["is_closed"] and closed["closed_on"] == "Mar 9"
    assert (closed["tasks_done"], closed["tasks_total"]) == (2, 2)
    assert (closed["tasks"], closed["tasks_all_done"]) == ("2/2", True)
    assert (overdue["tasks"], overdue["tasks_all_done"]) == ("1/3", False)
    assert (unowned["tasks"], unowned["tasks_all_done"]) == ("", False)


def test_a_closed_ctas_past_due_date_is_not_overdue(csm_user):
    company = CompanyFactory()
    CTAFactory(
        company=company,
        owner=csm_user,
        name="Closed late",
        due_date=days(-10),
        status=CTAStatus.objects.get(name="Closed lost"),
    )
    row = section_rows(csm_user, company)["Closed late"]
    assert row["is_closed"] and not row["overdue"]


def cockpit_row(html: str, name: str) -> str:
    """The <tr> of the Cockpit's table whose CTA is `name` (as the page escapes it)."""
    for row in re.findall(r'<tr class="cockpit-row.*?</tr>', html, re.S):
        if f">{escape(name)}</a>" in row:
            return row
    raise AssertionError(f"{name} is not on the page")


def test_the_cockpit_draws_each_kind_of_row(csm_client, csm_user, book):
    html = csm_client.get(COCKPIT, {"owner": "anyone", "snoozed": "on"}).content.decode()
    overdue = cockpit_row(html, "Overdue renewal")
    cta = book["overdue"]
    assert 'class="cockpit-row is-overdue"' in overdue
    assert "Overdue · 3 days ago" in overdue
    assert f'href="{reverse("success:cta_detail", args=[cta.pk])}"' in overdue
    assert f'hx-get="{reverse("success:cta_status", args=[cta.pk])}?after=close"' in overdue
    assert f'<a href="{book["company"].get_absolute_url()}">Initech &amp; Sons</a>' in overdue
    assert f'<a href="{cta.relationship.get_absolute_url()}">Initech Cloud</a>' in overdue
    assert f" · {cta.reason.name}</span>" in overdue
    assert '<span class="tasks-count">1/3</span>' in overdue
    assert csm_user.get_full_name() in overdue

    snoozed = cockpit_row(html, "Snoozed one")
    assert f"snoozed until {days(4).strftime('%b')} {days(4).day}" in snoozed
    assert "is-overdue" not in snoozed and "nameless" in snoozed
    assert '<span class="muted">—</span>' in snoozed  # no relationship

    unowned = cockpit_row(html, "Nobody's <b>CTA</b>")
    assert "<b>CTA</b>" not in unowned  # a name is text, never markup
    assert '<span class="muted">No due date</span>' in unowned
    assert '<span class="muted">Nobody</span>' in unowned
    assert 'aria-label="Select Nobody&#x27;s &lt;b&gt;CTA&lt;/b&gt;"' in unowned

    html = csm_client.get(COCKPIT, {"owner": "anyone", "status": "closed"}).content.decode()
    closed = cockpit_row(html, "Won already")
    assert 'class="cockpit-row is-closed"' in closed
    assert '<span class="tasks-count tasks-count--done">2/2</span>' in closed
    assert "?after=close" not in closed  # nothing to close


# The Cockpit's row loop as templates/success/cockpit.html drew it before its rows were drawn
# in Python (success.views.cockpit._row_html).
AS_THE_ROW_LOOP_DREW_IT = Template(
    """{% load scores %}
{% for row in group.rows %}
<tr class="cockpit-row{% if row.overdue %} is-overdue{% endif %}{% if row.is_closed %} is-closed{% endif %}">
{% if can_change %}
<td class="cockpit-check"><input type="checkbox" name="cta" value="{{ row.pk }}" aria-label="Select {{ row.name }}"></td>
{% endif %}
<td class="cell-name">
<a class="strong-link" href="{{ row.detail_url }}" hx-get="{{ row.detail_url }}" hx-target="#modal" hx-swap="innerHTML">{{ row.name }}</a>
<span class="cell-sub">{{ row.status_name }}{% if row.reason_name %} · {{ row.reason_name }}{% endif %}{% if row.snoozed_until %} · snoozed until {{ row.snoozed_until }}{% endif %}</span>
</td>
<td><a href="{{ row.company_url }}">{{ row.company_name }}</a></td>
<td>
{% if row.relationship_url %}
<a href="{{ row.relationship_url }}">{{ row.relationship_name }}</a>
<span class="cell-sub">{{ row.relationship_type_name }}</span>
{% else %}<span class="muted">—</span>{% endif %}
</td>
<td><span class="chip">{{ row.type_name }}</span></td>
<td><span class="priority">{{ row.priority_dot }}{{ row.priority_name }}</span></td>
<td class="nowrap">
{% if row.due_date %}
{{ row.due_text }}
<span class="days days--block{% if row.overdue %} days--overdue{% endif %}">{% if row.overdue %}Overdue · {% endif %}{{ row.days_left }}</span>
{% else %}<span class="muted">No due date</span>{% endif %}
</td>
<td class="nowrap">{% if row.owner_name %}{{ row.owner_name }}{% else %}<span class="muted">Nobody</span>{% endif %}</td>
<td class="num">
{% if row.tasks %}<span class="tasks-count{% if row.tasks_all_done %} tasks-count--done{% endif %}">{{ row.tasks }}</span>{% else %}<span class="muted">—</span>{% endif %}
</td>
{% if can_change %}
<td class="table__actions">
{% if not row.is_closed %}
<button type="button" class="button button--quiet button--small"
hx-get="{{ row.status_url }}?after=close" hx-target="#modal" hx-swap="innerHTML"
aria-label="Close {{ row.name }}">Close</button>
{% endif %}
</td>
{% endif %}
</tr>
{% endfor %}
"""  # noqa: E501
)


def same_markup(html: str) -> str:
    return " ".join(html.split())


@pytest.mark.parametrize("can_change", [True, False])
def test_the_cockpit_rows_are_the_markup_the_row_loop_drew(new_york, csm_user, book, can_change):
    from success.views.cockpit import _row_html

    rows = list(section_rows(csm_user, book["company"]).values())
    assert len(rows) == 4
    for row in rows:
        drawn = AS_THE_ROW_LOOP_DREW_IT.render(
            Context({"group": {"rows": [row]}, "can_change": can_change})
        )
        assert same_markup(_row_html(row, can_change=can_change)) == same_markup(drawn), row["name"]


def test_the_section_draws_each_kind_of_row(new_york, csm_client, book):
    company = book["company"]
    section = SectionFactory(
        layout=LayoutFactory(), kind="cockpit", config={"include_closed": True, "limit": 10}
    )
    html = csm_client.get(section_url(company, section), headers=HTMX).content.decode()
    items = {}
    for item in re.findall(r'<li class="cta-list__item.*?</li>', html, re.S):
        name = re.search(r'hx-swap="innerHTML">(.*?)</a>', item)
        assert name is not None
        items[name.group(1)] = item
    assert '<span class="muted">Closed Mar 9</span>' in items["Won already"]
    assert "2/2 tasks" in items["Won already"] and "?after=close" not in items["Won already"]
    assert (
        "Overdue · " in items["Overdue renewal"] and "· Initech Cloud" in items["Overdue renewal"]
    )
    assert "3 days ago" in items["Overdue renewal"]
    unowned = items[escape("Nobody's <b>CTA</b>")]
    assert "nobody yet" in unowned and "No due date" in unowned and "No tasks" in unowned


def test_the_bulk_bar_offers_the_colleagues_who_may_work_ctas(csm_client, csm_user, viewer_user):
    colleague = UserFactory(username="kim", first_name="Kim", last_name="Wexler")
    colleague.groups.set(csm_user.groups.all())
    CTAFactory(owner=csm_user)
    html = csm_client.get(COCKPIT).content.decode()
    select = re.search(
        r'<select name="owner" class="bulkbar__select" id="bulk-owner">.*?</select>', html, re.S
    )
    assert select is not None
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select.group(0))
    assert options[0] == ("", "Choose an owner…")
    assert (str(colleague.pk), "Kim Wexler") in options
    assert (str(csm_user.pk), csm_user.get_full_name()) in options
    assert str(viewer_user.pk) not in dict(options)  # read-only: may not work a CTA


def test_require_permission_refuses_a_role_without_it(csm_user, viewer_user):
    require_permission(csm_user, "success.change_cta")
    with pytest.raises(PermissionDenied, match="Your role does not allow this change."):
        require_permission(viewer_user, "success.change_cta")


def test_the_cta_dialogs_task_owner_select_and_its_queries(
    csm_client, csm_user, viewer_user, django_assert_max_num_queries
):
    cta = CTAFactory(owner=csm_user)
    url = reverse("success:cta_detail", args=[cta.pk])

    def dialog() -> tuple[str, int]:
        with django_assert_max_num_queries(20) as captured:
            html = csm_client.get(url, headers=HTMX).content.decode()
        return html, len(captured.captured_queries)

    html, small = dialog()
    select = re.search(r'<select name="owner" id="task-owner">(.*?)</select>', html, re.S)
    assert select is not None
    options = re.findall(r'<option value="(\d*)"( selected)?>([^<]*)</option>', select.group(1))
    assert options[0] == ("", "", "Nobody yet")
    # The CTA's owner is the new task's owner unless changed.
    assert (str(csm_user.pk), " selected", csm_user.get_full_name()) in options
    assert str(viewer_user.pk) not in {value for value, _, _ in options}  # read-only

    for n in range(5):
        UserFactory(username=f"colleague{n}").groups.set(csm_user.groups.all())
    TaskFactory.create_batch(4, cta=cta)
    html, large = dialog()
    assert html.count('<li class="cta-task') == 4
    select = re.search(r'<select name="owner" id="task-owner">(.*?)</select>', html, re.S)
    assert select is not None and select.group(1).count("<option ") == len(options) + 5
    assert large == small


@pytest.mark.parametrize("dialog", ["success:cta_edit", "success:cta_create"])
def test_the_cta_form_reads_each_list_of_choices_once(
    dialog, csm_client, csm_user, django_assert_max_num_queries
):
    cta = CTAFactory(owner=csm_user)
    url = (
        reverse(dialog, args=[cta.pk])
        if dialog == "success:cta_edit"
        else f"{reverse(dialog)}?company={cta.company_id}"
    )
    with django_assert_max_num_queries(20) as captured:
        html = csm_client.get(url, headers=HTMX).content.decode()
    # A new CTA's default type, priority and status are read first (one query each).
    once = 1 if dialog == "success:cta_edit" else 2
    for table in ("success_ctatype", "success_ctapriority", "success_ctastatus"):
        # On PostgreSQL a form's choices come through a server-side cursor ("DECLARE … FOR SELECT").
        reads = [q for q in captured.captured_queries if f'SELECT "{table}"."id"' in q["sql"]]
        assert len(reads) == once, table
    for name in ("cta_type", "priority", "status"):
        select = re.search(rf'<select name="{name}"[^>]*>', html)
        assert select is not None, name
        # The first option has a value: `required` would be invalid HTML on it.
        assert " required" not in select.group(0)
    assert 'hx-get="/cockpit/ctas/options/"' in re.search(  # type: ignore[union-attr]
        r'<select name="cta_type"[^>]*>', html
    ).group(0)


def test_a_colleagues_name_is_text_in_both_owner_selects(csm_client, csm_user):
    colleague = UserFactory(username="amp", first_name="Ann <b>&", last_name="Co")
    colleague.groups.set(csm_user.groups.all())
    CTAFactory(owner=csm_user)
    html = csm_client.get(COCKPIT).content.decode()
    option = f'<option value="{colleague.pk}">Ann &lt;b&gt;&amp; Co</option>'
    assert html.count(option) == 2  # the owner filter and the bulk bar's "Give to"
    assert "Ann <b>" not in html
