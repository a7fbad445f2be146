"""The timeline's rows, built in Python (`success.selectors.timeline.ActivityRow`): each reads
as the template filters drew it from the Activity itself — dates in the viewer's time zone,
"ago", type, author, duration, company and relationship links, attendees, notes with links
and escaped HTML — and the controls follow the viewer (author, rights, partner)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import connection
from django.template import Context, Template
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from partners.access import activities_visible_to
from success.models import Activity, ActivityType
from success.selectors.timeline import ActivityRow, _ListClock, activities_page, draw_rows
from success.templatetags.timeline import ago, time_strings
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CompanyPersonFactory,
    LayoutFactory,
    PartnerUserFactory,
    PersonFactory,
    RelationshipFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TIMELINE = reverse("success:timeline")
# What timeline_rows.html drew from the Activity before its rows were built in Python.
AS_THE_FILTERS_DREW_IT = Template(
    "{% load gs notes timeline %}"
    "{{ a.occurred_at|date:'c' }}|{{ a.occurred_at|date:'l, F j, Y, H:i' }}|"
    "{{ a.occurred_at|ago }}|{{ a.activity_type.name }}|"
    "{% with name=a.activity_type.name|lower %}{% if name == 'update' or name == 'call' or "
    "name == 'meeting' or name == 'email' or name == 'milestone' %}{{ name }}{% else %}custom"
    "{% endif %}{% endwith %}|{{ a.author|display_name }}|"
    "{% if a.duration_minutes %}{{ a.duration_minutes|minutes }}{% endif %}|"
    "{{ a.company.name }}|{{ a.company.get_absolute_url }}|"
    "{% if a.relationship %}{{ a.relationship.name }}|{{ a.relationship.get_absolute_url }}"
    "{% else %}|{% endif %}|"
    "{% for m in a.attendees.all|dictsort:'person.first_name'|dictsort:'person.last_name' %}"
    "{{ m.person.full_name }};{% endfor %}|"
    "{% if a.notes %}{{ a.notes|notes }}{% endif %}|{% if a.notes|notes_long %}long{% endif %}|"
    "{% url 'success:activity_edit' a.pk %}|{% url 'success:activity_delete' a.pk %}|"
    "company={{ a.company_id }}{% if a.relationship_id %}&amp;relationship={{ a.relationship_id }}"
    "{% endif %}&amp;source_activity={{ a.pk }}"
)


def as_drawn(row: ActivityRow) -> str:
    plain = [
        row.when_iso,
        row.when_title,
        row.ago,
        row.type_name,
        row.type_key,
        row.author,
        row.duration,
        row.company_name,
        row.company_url,
        row.relationship_name,
        row.relationship_url,
    ]
    return "|".join(
        [
            *(escape(value) for value in plain),
            "".join(f"{escape(name)};" for name in row.attendees),
            row.notes,  # already HTML
            "long" if row.notes_long else "",
            escape(row.edit_url),
            escape(row.delete_url),
            escape(row.follow_up_query),
        ]
    )


def kind(name: str) -> ActivityType:
    return ActivityType.objects.get(name=name)


@pytest.fixture
def new_york(settings):
    # Far enough from UTC that a time early in a UTC day falls on the day before.
    settings.TIME_ZONE = "America/New_York"
    timezone.activate("America/New_York")
    yield
    timezone.deactivate()


@pytest.fixture
def book(csm_user):
    """One company's activities, one of each kind a row draws differently."""
    company = CompanyFactory(name="Initech & Sons")
    relationship = RelationshipFactory(company=company, name="Initech <Cloud>")
    people = [
        CompanyPersonFactory(
            company=company, person=PersonFactory(first_name=first, last_name=last)
        )
        for first, last in (("Zoe", "Adams"), ("Al", "Baker"), ("Bo", "Adams"), ("", "Solo"))
    ]
    custom = ActivityType.objects.create(name="Site visit", order=9)
    nameless = UserFactory(username="jdoe", first_name="", last_name="")
    now = timezone.now().replace(microsecond=0)
    made = [
        ActivityFactory(
            company=company,
            subject="Plain call",
            notes="",
            duration_minutes=None,
            author=csm_user,
            occurred_at=now - dt.timedelta(minutes=5),
        ),
        ActivityFactory(
            company=company,
            relationship=relationship,
            activity_type=kind("Meeting"),
            subject="QBR <b>bold</b>",
            notes='Deck https://docs.example/qbr?a=1&b=2.\n<img src=x onerror="alert(1)">',
            duration_minutes=90,
            occurred_at=now - dt.timedelta(days=3, hours=2),
        ),
        ActivityFactory(
            company=company,
            activity_type=custom,
            subject="Visit",
            notes="line\n" * 5 + "javascript:alert(1) ftp://x.example",
            duration_minutes=60,
            author=nameless,
            # 02:30 UTC: the evening before in New York.
            occurred_at=(now - dt.timedelta(days=40)).replace(hour=2, minute=30),
        ),
        ActivityFactory(
            company=company,
            activity_type=kind("Email"),
            subject="Future",
            notes="x" * 400,
            occurred_at=now + dt.timedelta(hours=5),
        ),
    ]
    made[1].attendees.set(people)
    made[3].attendees.set(people[:1])
    return company, made


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_rows_read_as_the_filters_drew_them(request, book, zone):
    if zone != "UTC":
        request.getfixturevalue("new_york")
    company, made = book
    page = activities_page(activities=Activity.objects.filter(company=company), size=10)

    assert [row.pk for row in page.rows] == [made[3].pk, made[0].pk, made[1].pk, made[2].pk]
    for row in page.rows:
        activity = Activity.objects.get(pk=row.pk)
        expected = AS_THE_FILTERS_DREW_IT.render(Context({"a": activity}))
        assert as_drawn(row) == expected, activity.subject
        assert row.key == str(activity.pk) and row.company_id == company.pk
    if zone != "UTC":
        visit = next(row for row in page.rows if row.subject == "Visit")
        assert visit.when_title.endswith(", 21:30") or visit.when_title.endswith(", 22:30")


def test_a_row_draws_links_only_for_web_addresses_and_escapes_the_rest(book):
    company, made = book
    rows = {
        row.subject: row
        for row in activities_page(activities=Activity.objects.filter(company=company)).rows
    }
    meeting, visit = rows["QBR <b>bold</b>"], rows["Visit"]
    assert meeting.notes == (
        'Deck <a href="https://docs.example/qbr?a=1&amp;b=2" rel="noopener noreferrer nofollow" '
        'target="_blank">https://docs.example/qbr?a=1&amp;b=2</a>.<br>'
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    )
    assert "<a" not in visit.notes and visit.notes_long
    assert meeting.attendees == ("Bo Adams", "Zoe Adams", "Al Baker", "Solo")
    assert meeting.relationship_name == "Initech <Cloud>" and visit.relationship_url == ""
    assert visit.author == "jdoe" and visit.type_key == "custom" and visit.duration == "1 h"
    assert rows["Plain call"].notes == "" and rows["Plain call"].duration == ""


def test_the_list_escapes_what_users_typed_and_shows_the_relationship(csm_client, book):
    company, made = book
    html = csm_client.get(TIMELINE, headers=HTMX).content.decode()
    assert "QBR &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold" not in html
    assert "<img" not in html and "&lt;img src=x" in html
    relationship = made[1].relationship
    assert (
        f'<a class="activity__where activity__where--relationship" '
        f'href="{relationship.get_absolute_url()}">Initech &lt;Cloud&gt;</a>'
    ) in html
    assert (
        f'<a class="activity__where" href="{company.get_absolute_url()}">Initech &amp; Sons</a>'
    ) in html
    assert 'class="activity-icon activity-icon--custom"' in html
    assert '<span class="activity-type activity-type--meeting">Meeting</span>' in html


def test_edit_and_delete_only_on_the_viewers_own_activities(csm_client, book):
    _, made = book
    html = csm_client.get(TIMELINE, headers=HTMX).content.decode()
    mine, others = made[0], made[1:]
    assert f'hx-get="{reverse("success:activity_edit", args=[mine.pk])}"' in html
    assert f'hx-get="{reverse("success:activity_delete", args=[mine.pk])}"' in html
    for activity in others:
        assert reverse("success:activity_edit", args=[activity.pk]) not in html
        assert reverse("success:activity_delete", args=[activity.pk]) not in html
    assert html.count(">Edit</button>") == 1 and html.count(">Delete</button>") == 1


def test_a_partner_user_sees_its_rows_with_controls_on_its_own(partner_a, partner_a_user):
    from django.test import Client

    company = CompanyFactory(name="Alpha Co", managed_by=partner_a)
    hidden = CompanyFactory(name="Gamma Co")
    own = ActivityFactory(company=company, subject="Partner call", author=partner_a_user)
    ActivityFactory(company=company, subject="CSM call")
    ActivityFactory(company=hidden, subject="Hidden call")
    client = Client()
    client.force_login(partner_a_user)

    html = client.get(TIMELINE, headers=HTMX).content.decode()
    assert "Partner call" in html and "CSM call" in html and "Hidden call" not in html
    assert "Gamma Co" not in html
    can_change = partner_a_user.has_perm("success.change_activity")
    assert (reverse("success:activity_edit", args=[own.pk]) in html) == can_change
    assert html.count(">Edit</button>") == (1 if can_change else 0)
    rows = activities_page(activities=activities_visible_to(partner_a_user)).rows
    assert [row.subject for row in rows] == ["CSM call", "Partner call"]


def test_section_rows_on_a_relationship_name_no_relationship(csm_client, book):
    company, made = book
    relationship = made[1].relationship
    from layouts.models import Layout
    from layouts.sections import section_url

    layout = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    section = SectionFactory(layout=layout, kind="timeline")
    html = csm_client.get(section_url(relationship, section), headers=HTMX).content.decode()
    assert "QBR &lt;b&gt;bold&lt;/b&gt;" in html and "Plain call" not in html
    assert "activity__where--relationship" not in html
    assert "Bo Adams" in html and "1 h 30 min" in html


def test_a_page_joins_names_to_its_own_rows_only(csm_client, book):
    """The page's ids are chosen from the activities alone, then names joined to them: one
    SELECT joining users, companies and types while walking the keyset's OR let SQLite sort
    the whole book by the users' table (seconds for the feed's second page at scale)."""
    first = csm_client.get(TIMELINE, {"type": ""}, headers=HTMX).content.decode()
    assert "Plain call" in first
    cursor = f"{(timezone.now() - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).days * 86400}000000-1"
    with CaptureQueriesContext(connection) as captured:
        response = csm_client.get(TIMELINE, {"after": cursor}, headers=HTMX)
    assert response.status_code == 200
    page = [q["sql"] for q in captured.captured_queries if "activity_type__name" in q["sql"]]
    assert len(page) == 1
    # PostgreSQL reads the ids as an array (planned as one value, not as a join).
    ids = "= ANY\\(ARRAY\\(" if connection.vendor == "postgresql" else "IN \\("
    assert re.search(rf'WHERE "success_activity"\."id" {ids}SELECT U0\."id"', page[0]), page[0]


def _walk_rows(client, url: str, params: dict) -> list[str]:
    """Every subject of a timeline list, its first page then each "load more" fragment."""
    html = client.get(url, params, headers=HTMX).content.decode()
    seen = re.findall(r'class="activity__subject"[^>]*>([^<]*)<', html)
    while found := re.search(r'<li class="timeline__more" hx-get="([^"]+)"', html):
        html = client.get(found.group(1).replace("&amp;", "&"), headers=HTMX).content.decode()
        assert "<form" not in html  # rows only
        seen += re.findall(r'class="activity__subject"[^>]*>([^<]*)<', html)
    return seen


def test_load_more_checks_the_author_filter_alone(csm_client, partner_a, partner_a_client):
    from layouts.sections import section_url

    # Authors a partner user may pick: the company's CSM and one of the partner's users.
    dana = UserFactory(first_name="Dana")
    fox = PartnerUserFactory(partner=partner_a, user__first_name="Fox").user
    company = CompanyFactory(managed_by=partner_a, csm=dana)
    hidden_author = UserFactory(first_name="Hidden")
    for index in range(30):
        ActivityFactory(company=company, author=dana, subject=f"Dana {index:02d}")
        ActivityFactory(company=company, author=fox, subject=f"Fox {index:02d}")
    ActivityFactory(company=CompanyFactory(), author=hidden_author, subject="Hidden")
    section = SectionFactory(layout=LayoutFactory(), kind="timeline")
    dana_subjects = sorted(f"Dana {index:02d}" for index in range(30))

    for url in (TIMELINE, section_url(company, section)):
        for client in (csm_client, partner_a_client):
            assert sorted(_walk_rows(client, url, {"author": dana.pk})) == dana_subjects
    # An author the partner sees nothing of is no filter, on the first page as on the next.
    everything = _walk_rows(partner_a_client, TIMELINE, {"author": hidden_author.pk})
    assert len(everything) == 60 and "Hidden" not in everything
    more = f"{TIMELINE}?author={hidden_author.pk}&after=9999999999999999-1"
    rows = partner_a_client.get(more, headers=HTMX).content.decode()
    assert "Hidden" not in rows and rows.count('class="activity"') == 25
    assert f"author={hidden_author.pk}" not in rows


def _author_options(html: str) -> set[str]:
    select = re.search(r'<select name="author"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    return set(re.findall(r'<option value="(\d+)"', select.group(1)))


def test_a_partner_picks_among_its_users_and_the_csms_of_its_records(
    csm_client, partner_a, partner_b, partner_a_client
):
    from layouts.sections import section_url

    company_csm, relationship_csm = UserFactory(first_name="Cora"), UserFactory(first_name="Rex")
    colleague = PartnerUserFactory(partner=partner_a, user__first_name="Pat").user
    # An internal colleague who is no CSM of A's records, and a CSM of B's only.
    visitor, b_csm = UserFactory(first_name="Vic"), UserFactory(first_name="Bea")
    company = CompanyFactory(managed_by=partner_a, csm=company_csm)
    relationship = RelationshipFactory(company=company, csm=relationship_csm)
    b_company = CompanyFactory(managed_by=partner_b, csm=b_csm)
    ActivityFactory(company=company, author=company_csm, subject="Cora call")
    ActivityFactory(
        company=company, relationship=relationship, author=relationship_csm, subject="Rex call"
    )
    ActivityFactory(company=company, author=colleague, subject="Pat call")
    ActivityFactory(company=company, author=visitor, subject="Vic call")
    ActivityFactory(company=company, author=b_csm, subject="Bea call on A")
    ActivityFactory(company=b_company, author=b_csm, subject="Bea call on B")
    # The CSM of a record the partner may see, but with nothing of theirs it may see: no author.
    CompanyFactory(managed_by=partner_a, csm=UserFactory(first_name="Quiet"))
    picked = {str(user.pk) for user in (company_csm, relationship_csm, colleague)}
    section = SectionFactory(layout=LayoutFactory(), kind="timeline")

    for url in (TIMELINE, section_url(company, section)):
        html = partner_a_client.get(url, headers=HTMX).content.decode()
        assert _author_options(html) == picked
        # Everyone's activities still show; the others' authors are no filter.
        assert {"Vic call", "Bea call on A"} <= set(_walk_rows(partner_a_client, url, {}))
        everything = _walk_rows(partner_a_client, url, {"author": visitor.pk})
        assert len(everything) == 5 and "Bea call on B" not in everything
        assert _walk_rows(partner_a_client, url, {"author": colleague.pk}) == ["Pat call"]
        # Internal users pick every author of what they see.
        internal = _author_options(csm_client.get(url, headers=HTMX).content.decode())
        assert {str(visitor.pk), str(b_csm.pk)} | picked <= internal


def test_ago_with_a_lists_shared_unit_strings_reads_as_the_filter_alone():
    now = timezone.now()
    strings = time_strings()
    deltas = [
        dt.timedelta(seconds=20),
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=2),
        dt.timedelta(hours=1),
        dt.timedelta(hours=5),
        dt.timedelta(days=1),
        dt.timedelta(days=9),
        dt.timedelta(days=40),
        dt.timedelta(days=400),
        dt.timedelta(days=900),
        -dt.timedelta(hours=3),
        -dt.timedelta(days=1),
    ]
    # Twice through: the second pass answers from the strings the first one translated.
    for _ in range(2):
        for delta in deltas:
            when = now - delta
            assert ago(when, now=now, strings=strings) == ago(when, now=now)
    assert ago(now - dt.timedelta(days=1), now=now, strings=strings) == "1\xa0day ago"
    assert ago(now - dt.timedelta(days=2), now=now, strings=strings) == "2\xa0days ago"


def test_a_row_answers_the_templates_key_lookup_and_refuses_an_unknown_key(csm_user):
    ActivityFactory(subject="Quarterly review")
    row = activities_page(activities=activities_visible_to(csm_user)).rows[0]

    assert row["subject"] == row.subject == "Quarterly review"
    with pytest.raises(KeyError):
        row["no_such_value"]


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 31, 0, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC),
    ],
)
def test_a_lists_clock_reads_as_the_ago_filter(now):
    """The rows' "ago" is timesince's arithmetic done once per unit: the same words as the
    filter at every size and across month and year ends, a time ahead of the clock too."""
    clock = _ListClock(now)
    seconds = [0, 30, 59, 60, 61, 3599, 3600, 86399, 86400, 86401, 604799, 604800]
    days = [1, 6, 7, 13, 27, 28, 29, 30, 31, 32, 58, 59, 60, 61, 89, 180, 364, 365, 366, 400]
    deltas = [dt.timedelta(seconds=value) for value in seconds]
    deltas += [dt.timedelta(days=value, minutes=extra) for value in days for extra in (-1, 0, 1)]
    deltas += [dt.timedelta(days=365 * 3 + 1), -dt.timedelta(minutes=5), -dt.timedelta(days=2)]
    # Twice through: the second pass answers from the words the first one built.
    for _ in range(2):
        for delta in deltas:
            assert clock.ago(now - delta) == ago(now - delta, now=now), delta


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_lists_clock_draws_days_as_the_date_filter(language):
    clock = _ListClock()
    start = dt.date(2026, 1, 1)
    with translation.override(language):
        for offset in range(0, 400, 3):
            day = start + dt.timedelta(days=offset)
            assert clock.day(day) == date_filter(day, "l, F j, Y")
    assert _ListClock().day(dt.date(2026, 11, 22)) == "Sunday, November 22, 2026"


# What timeline_rows.html drew for each row before `draw_rows` drew them: the template kept.
TEMPLATE_ROWS = Template(
    (Path(__file__).parent / "timeline_rows_as_a_template.html").read_text(encoding="utf-8")
)


def _same_html(first: str, second: str) -> bool:
    # Whitespace runs count as one space (as the browser reads them), their presence kept.
    return re.sub(r"\s+", " ", first).strip() == re.sub(r"\s+", " ", second).strip()


@pytest.mark.parametrize("prefix", ["feed", "s12"])
@pytest.mark.parametrize("follow_up_url", [None, "/cockpit/ctas/new/"])
@pytest.mark.parametrize(
    ("can_change", "can_delete"), [(True, True), (True, False), (False, True), (False, False)]
)
@pytest.mark.parametrize(("show_company", "show_relationship"), [(True, True), (False, False)])
@pytest.mark.parametrize("viewer", [0, 1])
def test_rows_are_drawn_as_the_row_template_drew_them(
    book, prefix, follow_up_url, can_change, can_delete, show_company, show_relationship, viewer
):
    company, made = book
    # The author of "Plain call", or of "QBR <b>bold</b>" (its subject in the buttons' labels).
    author_id = made[viewer].author_id
    page = activities_page(activities=Activity.objects.filter(company=company), size=10)
    options = {
        "id_prefix": prefix,
        "show_company": show_company,
        "show_relationship": show_relationship,
        "viewer_id": author_id,
        "can_change": can_change,
        "can_delete": can_delete,
        "follow_up_url": follow_up_url,
    }
    drawn = draw_rows(page.rows, **options)
    expected = TEMPLATE_ROWS.render(
        Context({"page": page, "can_change_own": can_change or can_delete, **options})
    )
    assert _same_html(drawn, expected)
    assert drawn.count('<li class="activity"') == len(made)
    assert ("Create follow-up CTA" in drawn) == bool(follow_up_url)
    own = sum(activity.author_id == author_id for activity in made)
    assert drawn.count(">Edit</button>") == (own if can_change else 0)
