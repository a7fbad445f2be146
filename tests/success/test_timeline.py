"""The timeline: the 360 section, /timeline/, logging, author-only edits, visibility, pages."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from layouts.models import Layout, Section
from layouts.sections import REGISTRY, section_url
from partners.access import activities_visible_to
from partners.roles import CSM
from success.models import Activity, ActivityType
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CompanyPersonFactory,
    LayoutFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NOW = timezone.now().replace(microsecond=0)
TIMELINE = "/timeline/"


def kind(name: str) -> ActivityType:
    return ActivityType.objects.get(name=name)


def timeline_section(subject, **config) -> Section:
    """A layout for `subject`'s page whose one section is a timeline."""
    if hasattr(subject, "relationship_type"):
        layout = LayoutFactory(
            target=Layout.Target.RELATIONSHIP, relationship_type=subject.relationship_type
        )
    else:
        layout = LayoutFactory()
    section = SectionFactory(layout=layout, kind="timeline")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def get_section(client, subject, section, **params) -> str:
    response = client.get(section_url(subject, section), params, headers=HTMX)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def subjects(html: str) -> list[str]:
    """The activity subjects a timeline shows, top to bottom."""
    return re.findall(r'class="activity__subject"[^>]*>([^<]*)<', html)


MORE = r'<li class="timeline__more" hx-get="([^"]+)"'


def next_page_url(html: str) -> str:
    """The URL the "load more" row fetches when it scrolls into view."""
    found = re.search(MORE, html)
    assert found, "no load-more row"
    return found.group(1).replace("&amp;", "&")


def triggers(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"]))


def log_data(**fields) -> dict:
    data = {
        "activity_type": str(kind("Call").pk),
        "subject": "Renewal call",
        "notes": "",
        "occurred_at": "2025-03-14T09:30",
        "duration_minutes": "30",
        "relationship": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def csm_user(db):
    return UserFactory(username="csm", first_name="Casey", last_name="Morgan", groups=[CSM])


@pytest.fixture
def northwind():
    return CompanyFactory(name="Northwind Traders")


# ---------- visibility ----------


@pytest.fixture
def book(partner_a, partner_b):
    """Activities on companies and relationships of partner A, partner B and nobody."""
    a_company = CompanyFactory(name="Alpha Co", managed_by=partner_a)
    a_relationship = RelationshipFactory(company=a_company, name="Alpha Analytics")
    # On A's company, but run by partner B: A may not see it (nor its activities).
    b_run = RelationshipFactory(company=a_company, name="Alpha Support", managed_by=partner_b)
    b_company = CompanyFactory(name="Beta Co", managed_by=partner_b)
    b_relationship = RelationshipFactory(company=b_company, name="Beta Analytics")
    internal = CompanyFactory(name="Gamma Co")
    made = {
        "a company": ActivityFactory(company=a_company, subject="A company call"),
        "a relationship": ActivityFactory(
            company=a_company, relationship=a_relationship, subject="A relationship call"
        ),
        "a company, b relationship": ActivityFactory(
            company=a_company, relationship=b_run, subject="A company B relationship call"
        ),
        "b company": ActivityFactory(company=b_company, subject="B company call"),
        "b relationship": ActivityFactory(
            company=b_company, relationship=b_relationship, subject="B relationship call"
        ),
        "internal": ActivityFactory(company=internal, subject="Internal call"),
    }
    return {key: activity.pk for key, activity in made.items()} | {
        "a_company": a_company,
        "b_company": b_company,
    }


def test_partner_a_sees_only_activities_of_its_companies_and_relationships(book, partner_a_user):
    seen = set(activities_visible_to(partner_a_user).values_list("pk", flat=True))
    assert seen == {book["a company"], book["a relationship"]}


def test_companies_only_partner_sees_no_activity_on_a_relationship(book, partner_b_user):
    seen = set(activities_visible_to(partner_b_user).values_list("pk", flat=True))
    assert seen == {book["b company"]}


def test_internal_users_see_every_activity(book, csm_user):
    assert activities_visible_to(csm_user).count() == 6


def test_an_inactive_partner_sees_nothing(book, partner_a, partner_a_user):
    partner_a.active = False
    partner_a.save()
    assert not activities_visible_to(partner_a_user).exists()


def test_timeline_page_lists_only_what_the_partner_may_see(
    book, partner_a_client, partner_b_client
):
    a_html = partner_a_client.get(TIMELINE).content.decode()
    assert sorted(subjects(a_html)) == ["A company call", "A relationship call"]
    b_html = partner_b_client.get(TIMELINE).content.decode()
    assert subjects(b_html) == ["B company call"]


def test_c360_section_of_a_partner_hides_relationships_it_may_not_see(book, partner_a_client):
    section = timeline_section(book["a_company"])
    html = get_section(partner_a_client, book["a_company"], section)
    assert sorted(subjects(html)) == ["A company call", "A relationship call"]
    assert "Alpha Support" not in html


def test_companies_only_partner_c360_timeline_shows_company_activities_only(book, partner_b_client):
    section = timeline_section(book["b_company"])
    html = get_section(partner_b_client, book["b_company"], section)
    assert subjects(html) == ["B company call"]


def test_editing_an_activity_the_user_cannot_see_is_not_found(book, partner_a_client):
    url = reverse("success:activity_edit", args=[book["b company"]])
    assert partner_a_client.get(url).status_code == 404
    assert partner_a_client.post(url, log_data()).status_code == 404


# ---------- the section: what it shows, its settings ----------


def test_section_shows_activities_newest_first_with_their_details(csm_client, northwind):
    member = CompanyPersonFactory(
        company=northwind, person=PersonFactory(first_name="Maria", last_name="Anders")
    )
    author = UserFactory(first_name="Dana", last_name="Scully")
    old = ActivityFactory(
        company=northwind,
        subject="Kick-off",
        occurred_at=NOW - dt.timedelta(days=3),
        author=author,
        activity_type=kind("Meeting"),
        duration_minutes=90,
        notes="Agenda\nhttps://docs.example/kickoff",
    )
    old.attendees.add(member)
    ActivityFactory(company=northwind, subject="Follow-up email", activity_type=kind("Email"))
    section = timeline_section(northwind)

    html = get_section(csm_client, northwind, section).replace("\xa0", " ")

    assert subjects(html) == ["Follow-up email", "Kick-off"]
    assert "by Dana Scully" in html and "1 h 30 min" in html and "3 days ago" in html
    assert "Maria Anders" in html
    assert (
        'Agenda<br><a href="https://docs.example/kickoff" rel="noopener noreferrer nofollow"'
        in html
    )
    assert f'datetime="{timezone.localtime(old.occurred_at).isoformat()}"' in html


def test_what_users_typed_is_never_rendered_as_html(csm_client, northwind):
    ActivityFactory(
        company=northwind,
        subject="<script>alert('subject')</script>",
        notes='<img src=x onerror="alert(1)">\nhttps://ok.example/"><script>alert(2)</script>',
    )
    html = get_section(csm_client, northwind, timeline_section(northwind))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt;" in html
    assert '<a href="https://ok.example/" rel="noopener noreferrer nofollow"' in html


def test_c360_section_includes_relationship_activities_unless_configured_not_to(
    csm_client, northwind
):
    relationship = RelationshipFactory(company=northwind, name="Analytics Cloud")
    ActivityFactory(company=northwind, subject="Company QBR")
    ActivityFactory(company=northwind, relationship=relationship, subject="Analytics check-in")

    included = get_section(csm_client, northwind, timeline_section(northwind))
    assert sorted(subjects(included)) == ["Analytics check-in", "Company QBR"]
    assert ">Analytics Cloud</a>" in included  # the relationship is named on the C360

    alone = get_section(
        csm_client, northwind, timeline_section(northwind, include_relationships=False)
    )
    assert subjects(alone) == ["Company QBR"]


def test_r360_section_shows_only_that_relationships_activities(csm_client, northwind):
    relationship = RelationshipFactory(company=northwind)
    other = RelationshipFactory(company=northwind)
    ActivityFactory(company=northwind, subject="Company QBR")
    ActivityFactory(company=northwind, relationship=relationship, subject="Mine")
    ActivityFactory(company=northwind, relationship=other, subject="Theirs")

    html = get_section(csm_client, relationship, timeline_section(relationship))

    assert subjects(html) == ["Mine"]


def test_section_shows_only_the_configured_types(csm_client, northwind):
    ActivityFactory(company=northwind, subject="A call", activity_type=kind("Call"))
    ActivityFactory(company=northwind, subject="A milestone", activity_type=kind("Milestone"))
    section = timeline_section(northwind, types=[kind("Milestone").pk])

    html = get_section(csm_client, northwind, section)

    assert subjects(html) == ["A milestone"]


def test_config_checks_page_size_and_knows_the_c360_only_option():
    timeline = REGISTRY["timeline"]
    c360 = LayoutFactory()
    r360 = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=RelationshipTypeFactory()
    )
    assert timeline.default_config(c360) == {
        "include_relationships": True,
        "page_size": 20,
        "types": [],
    }
    assert "include_relationships" not in timeline.default_config(r360)
    assert timeline.clean_config({"page_size": "12", "types": [str(kind("Call").pk)]}, layout=c360)[
        "types"
    ] == [kind("Call").pk]
    for size in (9, 51, "many"):
        with pytest.raises(Exception, match="Activities per page"):
            timeline.clean_config({"page_size": size}, layout=c360)


def test_empty_section_says_what_will_appear_and_offers_logging(
    csm_client, viewer_client, northwind
):
    section = timeline_section(northwind)
    html = get_section(csm_client, northwind, section)
    assert "Nothing logged yet" in html and "Log activity" in html
    read_only = get_section(viewer_client, northwind, section)
    assert "Nothing logged yet" in read_only and "Log activity" not in read_only


# ---------- filters ----------


@pytest.fixture
def filtered(northwind):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Scully")
    fox = UserFactory(username="fox", first_name="Fox", last_name="Mulder")
    ActivityFactory(
        company=northwind,
        subject="Dana call March",
        author=dana,
        activity_type=kind("Call"),
        occurred_at=dt.datetime(2025, 3, 10, 15, tzinfo=dt.UTC),
    )
    ActivityFactory(
        company=northwind,
        subject="Fox meeting March",
        author=fox,
        activity_type=kind("Meeting"),
        occurred_at=dt.datetime(2025, 3, 12, 23, 59, tzinfo=dt.UTC),
    )
    ActivityFactory(
        company=northwind,
        subject="Dana meeting April",
        author=dana,
        activity_type=kind("Meeting"),
        occurred_at=dt.datetime(2025, 4, 2, 9, tzinfo=dt.UTC),
    )
    return {"dana": dana, "fox": fox, "section": timeline_section(northwind)}


def test_section_filters_by_type_author_and_dates(csm_client, northwind, filtered):
    section = filtered["section"]

    def shown(**params):
        return subjects(get_section(csm_client, northwind, section, **params))

    assert shown(type=kind("Meeting").pk) == ["Dana meeting April", "Fox meeting March"]
    assert shown(author=filtered["dana"].pk) == ["Dana meeting April", "Dana call March"]
    # Both ends of the range are whole days.
    assert shown(date_from="2025-03-10", date_to="2025-03-12") == [
        "Fox meeting March",
        "Dana call March",
    ]
    assert shown(type=kind("Meeting").pk, author=filtered["dana"].pk) == ["Dana meeting April"]
    assert shown(type=kind("Email").pk) == []


def test_section_filters_keep_the_refresh_url_and_offer_clearing(csm_client, northwind, filtered):
    section = filtered["section"]
    html = get_section(csm_client, northwind, section, type=kind("Meeting").pk)
    base = section_url(northwind, section)
    # The frame reloads (after a log) from its URL with the filters kept.
    assert f'hx-get="{base}?type={kind("Meeting").pk}"' in html
    assert "Clear filters" in html
    assert "No activities match these filters" in get_section(
        csm_client, northwind, section, type=kind("Email").pk
    )


@pytest.mark.parametrize(
    "params",
    [
        {"type": "abc"},
        {"type": "999999"},
        {"author": "-1"},
        {"author": "999999"},
        {"date_from": "yesterday"},
        {"date_to": "2025-02-30"},
        {"after": "garbage"},
        {"after": "99999999999999999999999-1"},
        {"after": "1-"},
        {"type": "1.5", "date_from": "2025-13-01"},
        {"company": "abc"},
        {"company": "999999"},
    ],
)
def test_bad_filter_values_are_ignored(csm_client, northwind, filtered, params):
    html = get_section(csm_client, northwind, filtered["section"], **params)
    assert len(subjects(html)) == 3
    page = csm_client.get(TIMELINE, params)
    assert page.status_code == 200
    assert len(subjects(page.content.decode())) == 3


def test_timeline_page_filters_by_company_type_author_and_dates(csm_client, northwind, filtered):
    other = CompanyFactory(name="Other Co")
    ActivityFactory(company=other, subject="Other call", activity_type=kind("Call"))

    def shown(**params):
        response = csm_client.get(TIMELINE, params, headers=HTMX)
        assert response.status_code == 200
        return subjects(response.content.decode())

    assert len(shown()) == 4
    assert shown(company=other.pk) == ["Other call"]
    assert shown(company=northwind.pk, type=kind("Call").pk) == ["Dana call March"]
    assert shown(author=filtered["fox"].pk) == ["Fox meeting March"]
    assert shown(date_from="2025-04-01") == ["Other call", "Dana meeting April"]


def test_timeline_page_ignores_a_company_the_partner_may_not_see(book, partner_a_client):
    response = partner_a_client.get(TIMELINE, {"company": book["b_company"].pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert sorted(subjects(html)) == ["A company call", "A relationship call"]
    assert "Beta Co" not in html


def test_company_suggestions_list_only_visible_companies(book, partner_a_client, csm_client):
    url = reverse("success:timeline_companies")
    assert "Beta Co" not in partner_a_client.get(url, {"company_q": "a co"}).content.decode()
    assert "Alpha Co" in partner_a_client.get(url, {"company_q": "a co"}).content.decode()
    both = csm_client.get(url, {"company_q": "a co", "for": "filter", "type": "3"}).content.decode()
    assert "Alpha Co" in both and "Beta Co" in both
    # In the filter a suggestion keeps the other filters.
    assert f"type=3&amp;company={book['a_company'].pk}" in both
    assert (
        "No company you can see matches"
        in csm_client.get(url, {"company_q": "zz"}).content.decode()
    )


# ---------- "load more": keyset pages ----------


def _walk(client, first_url: str, first_params: dict) -> list[str]:
    """Every subject a reader sees scrolling to the end: the first page, then each next one."""
    html = client.get(first_url, first_params, headers=HTMX).content.decode()
    seen = subjects(html)
    pages = 1
    while True:
        found = re.search(MORE, html)
        if not found:
            return seen
        html = client.get(found.group(1).replace("&amp;", "&"), headers=HTMX).content.decode()
        seen += subjects(html)
        pages += 1
        assert pages < 20


def _same_time_book(company) -> list[str]:
    """25 activities, most sharing one of a few timestamps, in the order they must be shown."""
    stamps = [NOW - dt.timedelta(hours=hour) for hour in (1, 1, 1, 2, 2)]
    made = []
    for index in range(25):
        made.append(
            ActivityFactory(
                company=company, subject=f"Activity {index:02d}", occurred_at=stamps[index % 5]
            )
        )
    made.sort(key=lambda a: (a.occurred_at, a.pk), reverse=True)
    return [a.subject for a in made]


def test_section_load_more_pages_have_no_duplicates_and_no_gaps(csm_client, northwind):
    expected = _same_time_book(northwind)
    section = timeline_section(northwind, page_size=10)

    first = get_section(csm_client, northwind, section)
    assert len(subjects(first)) == 10
    assert 'hx-trigger="revealed"' in first

    seen = _walk(
        csm_client,
        section_url(northwind, section),
        {},
    )
    assert seen == expected


def test_load_more_keeps_the_filters(csm_client, northwind):
    for index in range(12):
        ActivityFactory(company=northwind, subject=f"Call {index}", activity_type=kind("Call"))
        ActivityFactory(company=northwind, subject=f"Email {index}", activity_type=kind("Email"))
    section = timeline_section(northwind, page_size=10)

    seen = _walk(
        csm_client,
        section_url(northwind, section),
        {"type": kind("Email").pk},
    )
    assert sorted(seen) == sorted(f"Email {index}" for index in range(12))


def test_timeline_page_load_more_has_no_duplicates_and_no_gaps(csm_client, northwind):
    expected = _same_time_book(northwind) + _same_time_book(CompanyFactory())
    expected_sorted = [
        a.subject
        for a in sorted(Activity.objects.all(), key=lambda a: (a.occurred_at, a.pk), reverse=True)
    ]
    assert sorted(expected) == sorted(expected_sorted)

    seen = _walk(csm_client, TIMELINE, {})

    assert seen == expected_sorted


def test_an_activity_logged_meanwhile_does_not_shift_the_next_page(csm_client, northwind):
    for index in range(15):
        ActivityFactory(
            company=northwind,
            subject=f"Old {index:02d}",
            occurred_at=NOW - dt.timedelta(days=index + 1),
        )
    section = timeline_section(northwind, page_size=10)
    first = get_section(csm_client, northwind, section)
    more = next_page_url(first)

    ActivityFactory(company=northwind, subject="Brand new")
    rest = subjects(csm_client.get(more, headers=HTMX).content.decode())

    assert rest == [f"Old {index:02d}" for index in range(10, 15)]


def test_without_htmx_the_next_page_is_a_plain_link(csm_client, northwind):
    for index in range(30):
        ActivityFactory(
            company=northwind,
            subject=f"Old {index:02d}",
            occurred_at=NOW - dt.timedelta(days=index),
        )
    html = csm_client.get(TIMELINE, {"type": kind("Call").pk}).content.decode()
    found = re.search(r'class="timeline__more"[^>]*>\s*<a [^>]*href="([^"]+)"', html)
    assert found
    href = found.group(1)
    assert href.startswith(f"{TIMELINE}?type={kind('Call').pk}&amp;after=")

    rest = csm_client.get(href.replace("&amp;", "&"))
    assert rest.status_code == 200
    html = rest.content.decode()
    assert subjects(html) == [f"Old {index:02d}" for index in range(25, 30)]
    assert "Showing older activities" in html


# ---------- logging an activity ----------


def test_log_dialog_on_c360_offers_global_types_and_the_companys_relationships(
    csm_client, northwind
):
    implementation = RelationshipTypeFactory(name="Implementation")
    go_live = ActivityType.objects.create(name="Go-live check", order=9)
    go_live.relationship_types.add(implementation)
    RelationshipFactory(company=northwind, name="Rollout", relationship_type=implementation)
    RelationshipFactory(name="Elsewhere")
    CompanyPersonFactory(company=northwind, person=PersonFactory(first_name="Maria"))
    section = timeline_section(northwind)

    html = csm_client.get(section_url(northwind, section, "log"), headers=HTMX).content.decode()

    for name in ("Update", "Call", "Meeting", "Email", "Milestone"):
        assert f">{name}</option>" in html
    assert "Go-live check" not in html
    assert "Rollout (Implementation)" in html and "Elsewhere" not in html
    assert "Maria" in html
    assert 'type="datetime-local"' in html

    # Choosing the relationship redraws the type list with the types of its relationship type.
    rollout = northwind.relationships.get(name="Rollout")
    redrawn = csm_client.get(
        section_url(northwind, section, "log"), {"relationship": rollout.pk}, headers=HTMX
    ).content.decode()
    assert ">Go-live check</option>" in redrawn


def test_types_limited_to_relationship_types_are_offered_only_there(csm_client, northwind):
    implementation = RelationshipTypeFactory(name="Implementation")
    support = RelationshipTypeFactory(name="Support")
    go_live = ActivityType.objects.create(name="Go-live check")
    go_live.relationship_types.add(implementation)
    retired = ActivityType.objects.create(name="Fax", active=False)
    rollout = RelationshipFactory(company=northwind, relationship_type=implementation)
    helpdesk = RelationshipFactory(company=northwind, relationship_type=support)

    def offered(relationship) -> str:
        section = timeline_section(relationship)
        return csm_client.get(
            section_url(relationship, section, "log"), headers=HTMX
        ).content.decode()

    assert ">Go-live check</option>" in offered(rollout)
    assert "Go-live check" not in offered(helpdesk)
    assert retired.name not in offered(rollout)

    # Posting it where it is not offered is an error next to the field; nothing is saved.
    section = timeline_section(northwind)
    response = csm_client.post(
        section_url(northwind, section, "log"),
        log_data(activity_type=str(go_live.pk)),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "This type cannot be logged here" in response.content.decode()
    assert not Activity.objects.exists()


def test_logging_on_the_c360_saves_and_refreshes_the_timeline(csm_client, csm_user, northwind):
    maria = CompanyPersonFactory(company=northwind)
    relationship = RelationshipFactory(company=northwind)
    section = timeline_section(northwind)

    response = csm_client.post(
        section_url(northwind, section, "log"),
        {**log_data(relationship=str(relationship.pk)), "attendees": [str(maria.pk)]},
        headers=HTMX,
    )

    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "activityLogged"}
    activity = Activity.objects.get()
    assert activity.author == csm_user
    assert activity.company == northwind and activity.relationship == relationship
    assert activity.occurred_at == dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
    assert list(activity.attendees.all()) == [maria]
    # The section listens to the event the answer sent.
    assert 'hx-trigger="activityLogged from:body"' in get_section(csm_client, northwind, section)


def test_logging_on_the_r360_fixes_the_relationship(csm_client, northwind):
    relationship = RelationshipFactory(company=northwind, name="Analytics Cloud")
    other = RelationshipFactory(company=northwind)
    section = timeline_section(relationship)
    form = csm_client.get(section_url(relationship, section, "log"), headers=HTMX).content.decode()
    assert 'name="relationship"' not in form and "Analytics Cloud" in form

    response = csm_client.post(
        section_url(relationship, section, "log"),
        log_data(relationship=str(other.pk)),  # ignored: the page's relationship is the one
        headers=HTMX,
    )

    assert response.status_code == 204
    assert Activity.objects.get().relationship == relationship


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"subject": ""}, "subject", "Give the activity a subject"),
        ({"subject": "x" * 201}, "subject", "Keep the subject under 200 characters"),
        ({"duration_minutes": "-5"}, "duration_minutes", "The duration cannot be negative."),
        ({"duration_minutes": "2000"}, "duration_minutes", "An activity lasts at most 24 hours"),
        ({"duration_minutes": "half"}, "duration_minutes", "whole number of minutes"),
        ({"occurred_at": ""}, "occurred_at", "Say when it happened."),
        ({"occurred_at": "soon"}, "occurred_at", "Enter a date and time"),
        ({"activity_type": "999999"}, "activity_type", "This type cannot be logged here"),
        ({"relationship": "999999"}, "relationship", "Choose one of this company"),
    ],
)
def test_log_form_errors_sit_next_to_their_field_and_nothing_is_saved(
    csm_client, northwind, fields, field, message
):
    section = timeline_section(northwind)
    response = csm_client.post(
        section_url(northwind, section, "log"), log_data(**fields), headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        rf'<p class="field__error" id="id_{field}_error">[^<]*{re.escape(message)}', html
    )
    assert not Activity.objects.exists()
    assert "HX-Trigger" not in response


def test_an_attendee_from_another_company_is_refused(csm_client, northwind):
    stranger = CompanyPersonFactory()
    section = timeline_section(northwind)
    response = csm_client.post(
        section_url(northwind, section, "log"),
        {**log_data(), "attendees": [str(stranger.pk)]},
        headers=HTMX,
    )
    assert "Attendees must be people of this company." in response.content.decode()
    assert not Activity.objects.exists()


def test_users_without_the_add_permission_cannot_log(viewer_client, northwind):
    section = timeline_section(northwind)
    url = section_url(northwind, section, "log")
    assert viewer_client.get(url, headers=HTMX).status_code == 403
    assert viewer_client.post(url, log_data(), headers=HTMX).status_code == 403
    assert viewer_client.post(reverse("success:timeline_log"), log_data()).status_code == 403
    assert not Activity.objects.exists()
    assert "Log activity" not in viewer_client.get(TIMELINE).content.decode()


def test_logging_from_the_timeline_page_picks_a_company_first(csm_client, northwind):
    url = reverse("success:timeline_log")
    start = csm_client.get(url, headers=HTMX).content.decode()
    assert 'name="company_q"' in start and "once a company is chosen" in start

    # Choosing a company redraws the dialog for it, keeping what was typed.
    picked = csm_client.get(
        url, {"company": northwind.pk, "subject": "Typed before"}, headers=HTMX
    ).content.decode()
    assert f'name="company" value="{northwind.pk}"' in picked
    assert 'value="Typed before"' in picked and 'name="relationship"' in picked

    missing = csm_client.post(url, log_data(), headers=HTMX)
    assert "Choose the company this activity is about." in missing.content.decode()
    assert not Activity.objects.exists()

    saved = csm_client.post(url, {**log_data(), "company": str(northwind.pk)}, headers=HTMX)
    assert saved.status_code == 204
    assert triggers(saved) == {"closeModal", "activityLogged"}
    assert Activity.objects.get().company == northwind


def test_a_partner_cannot_log_on_a_company_it_may_not_see(book, partner_a_user, partner_a_client):
    partner_a_user.groups.add(Group.objects.get(name=CSM))
    response = partner_a_client.post(
        reverse("success:timeline_log"),
        {**log_data(), "company": str(book["b_company"].pk)},
        headers=HTMX,
    )
    assert "Choose the company this activity is about." in response.content.decode()
    assert Activity.objects.count() == 6
    # The suggestions of the dialog never offer it either.
    suggestions = partner_a_client.get(reverse("success:timeline_companies"), {"company_q": "Beta"})
    assert "Beta Co" not in suggestions.content.decode()


# ---------- author-only edit and delete ----------


@pytest.fixture
def own_and_other(northwind, csm_user):
    mine = ActivityFactory(company=northwind, subject="My call", author=csm_user)
    theirs = ActivityFactory(company=northwind, subject="Their call")
    return mine, theirs


def test_only_the_author_sees_edit_and_delete(csm_client, northwind, own_and_other):
    mine, theirs = own_and_other
    html = get_section(csm_client, northwind, timeline_section(northwind))
    assert reverse("success:activity_edit", args=[mine.pk]) in html
    assert reverse("success:activity_delete", args=[mine.pk]) in html
    assert reverse("success:activity_edit", args=[theirs.pk]) not in html
    assert reverse("success:activity_delete", args=[theirs.pk]) not in html


def test_someone_elses_activity_cannot_be_edited_or_deleted(csm_client, own_and_other):
    _, theirs = own_and_other
    edit = reverse("success:activity_edit", args=[theirs.pk])
    delete = reverse("success:activity_delete", args=[theirs.pk])
    assert csm_client.get(edit, headers=HTMX).status_code == 403
    assert csm_client.post(edit, log_data(subject="Hijacked"), headers=HTMX).status_code == 403
    assert csm_client.post(delete, headers=HTMX).status_code == 403
    theirs.refresh_from_db()
    assert theirs.subject == "Their call"


def test_the_author_edits_and_deletes_their_activity(csm_client, own_and_other):
    mine, _ = own_and_other
    edit = reverse("success:activity_edit", args=[mine.pk])
    form = csm_client.get(edit, headers=HTMX).content.decode()
    assert 'value="My call"' in form and "Save changes" in form

    response = csm_client.post(edit, log_data(subject="My call, notes added"), headers=HTMX)
    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "activityLogged"}
    mine.refresh_from_db()
    assert mine.subject == "My call, notes added"

    invalid = csm_client.post(edit, log_data(subject=""), headers=HTMX)
    assert "Give the activity a subject" in invalid.content.decode()
    mine.refresh_from_db()
    assert mine.subject == "My call, notes added"

    delete = reverse("success:activity_delete", args=[mine.pk])
    assert "This cannot be undone." in csm_client.get(delete, headers=HTMX).content.decode()
    response = csm_client.post(delete, headers=HTMX)
    assert response.status_code == 204
    assert "activityLogged" in triggers(response)
    assert not Activity.objects.filter(pk=mine.pk).exists()


def test_a_read_only_author_gets_no_controls(viewer_user, viewer_client, northwind):
    mine = ActivityFactory(company=northwind, author=viewer_user)
    html = get_section(viewer_client, northwind, timeline_section(northwind))
    assert reverse("success:activity_edit", args=[mine.pk]) not in html
    url = reverse("success:activity_edit", args=[mine.pk])
    assert viewer_client.post(url, log_data(), headers=HTMX).status_code == 403


# ---------- follow-up CTA ----------


def test_follow_up_link_carries_company_relationship_and_source(csm_client, northwind, monkeypatch):
    relationship = RelationshipFactory(company=northwind)
    activity = ActivityFactory(company=northwind, relationship=relationship)
    section = timeline_section(northwind)
    monkeypatch.setattr("success.selectors.timeline.follow_up_url_base", lambda: "/cockpit/new/")

    html = get_section(csm_client, northwind, section)

    assert (
        f'href="/cockpit/new/?company={northwind.pk}&amp;relationship={relationship.pk}'
        f'&amp;source_activity={activity.pk}"'
    ) in html


def test_no_follow_up_link_without_the_cta_form_or_the_right(
    csm_client, viewer_client, northwind, monkeypatch
):
    ActivityFactory(company=northwind)
    section = timeline_section(northwind)
    monkeypatch.setattr("success.selectors.timeline.follow_up_url_base", lambda: None)
    assert "Create follow-up CTA" not in get_section(csm_client, northwind, section)
    monkeypatch.setattr("success.selectors.timeline.follow_up_url_base", lambda: "/cockpit/new/")
    assert "Create follow-up CTA" not in get_section(viewer_client, northwind, section)


# ---------- the page ----------


def test_timeline_page_empty_states_and_navigation(csm_client, northwind):
    html = csm_client.get(TIMELINE).content.decode()
    assert "Nothing logged yet" in html
    assert f'<a href="{TIMELINE}" aria-current="page">Timeline</a>' in html
    narrowed = csm_client.get(TIMELINE, {"type": kind("Call").pk}).content.decode()
    assert "No activities match these filters" in narrowed


def test_timeline_page_needs_a_login(client):
    response = client.get(TIMELINE)
    assert response.status_code == 302


# ---------- query budgets ----------


def _grow(company, count: int) -> None:
    relationship = RelationshipFactory(company=company)
    people = CompanyPersonFactory.create_batch(3, company=company)
    for index in range(count):
        activity = ActivityFactory(
            company=company,
            relationship=relationship if index % 2 else None,
            occurred_at=NOW - dt.timedelta(minutes=index),
        )
        activity.attendees.set(people[: index % 3 + 1])


@pytest.mark.parametrize("client_name", ["csm_client", "partner_a_client"])
def test_section_queries_do_not_grow_with_the_activities(
    request, client_name, partner_a, django_assert_max_num_queries
):
    client = request.getfixturevalue(client_name)
    company = CompanyFactory(managed_by=partner_a)
    section = timeline_section(company, page_size=10)
    params = {"type": "", "author": ""}

    def count() -> int:
        with django_assert_max_num_queries(15) as captured:
            get_section(client, company, section, **params)
        return len(captured.captured_queries)

    _grow(company, 3)
    # Warmed first: what the process reads once (layouts, permission ids) is not the rows'.
    get_section(client, company, section, **params)
    small = count()
    _grow(company, 40)
    large = count()
    assert small == large


@pytest.mark.parametrize("client_name", ["csm_client", "partner_a_client"])
def test_timeline_page_queries_do_not_grow_with_the_activities(
    request, client_name, partner_a, django_assert_max_num_queries
):
    client = request.getfixturevalue(client_name)

    def count() -> int:
        with django_assert_max_num_queries(16) as captured:
            assert client.get(TIMELINE).status_code == 200
        return len(captured.captured_queries)

    _grow(CompanyFactory(managed_by=partner_a), 3)
    client.get(TIMELINE)  # warmed first, as the section's count
    small = count()
    for _ in range(3):
        _grow(CompanyFactory(managed_by=partner_a), 15)
        _grow(CompanyFactory(), 5)
    large = count()
    assert small == large


def test_load_more_queries_do_not_grow_with_the_activities(
    csm_client, django_assert_max_num_queries
):
    company = CompanyFactory()
    section = timeline_section(company, page_size=10)

    def count() -> int:
        html = get_section(csm_client, company, section)
        more = next_page_url(html)
        with django_assert_max_num_queries(15) as captured:
            csm_client.get(more, headers=HTMX)
        return len(captured.captured_queries)

    _grow(company, 25)
    small = count()
    _grow(company, 60)
    large = count()
    assert small == large
