"""The people section: C360 list, add (found by email) and edit; R360 add and remove."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from companies.models import CompanyPerson, Person
from layouts.models import Layout, Section
from layouts.sections import REGISTRY, section_url
from relationships.models import RelationshipPerson
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    LayoutFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    SectionFactory,
)
from tests.pages import open_360

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def people_section(subject, **config) -> Section:
    """A layout for `subject`'s page whose one section is a people section."""
    if hasattr(subject, "relationship_type"):
        layout = LayoutFactory(
            target=Layout.Target.RELATIONSHIP, relationship_type=subject.relationship_type
        )
    else:
        layout = LayoutFactory()
    section = SectionFactory(layout=layout, kind="people")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def get_section(client, subject, section) -> str:
    response = client.get(section_url(subject, section), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def triggers(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"]))


def person_at(company, first, last, **fields) -> CompanyPerson:
    email = f"{first}.{last}@{company.pk}.example".lower()
    return CompanyPersonFactory(
        company=company,
        person=PersonFactory(first_name=first, last_name=last, email=email),
        **fields,
    )


def add_data(**fields) -> dict[str, str]:
    data = {
        "email": "",
        "first_name": "",
        "last_name": "",
        "phone": "",
        "title": "",
        "role": "user",
        "sentiment": "unknown",
        "manager": "",
    }
    data.update(fields)
    return data


def edit_data(member: CompanyPerson, **fields) -> dict[str, str]:
    data = {
        "first_name": member.person.first_name,
        "last_name": member.person.last_name,
        "phone": member.person.phone,
        "title": member.title,
        "role": member.role,
        "sentiment": member.sentiment,
        "manager": str(member.manager_id or ""),
    }
    if member.is_sponsor:
        data["is_sponsor"] = "on"
    data.update(fields)
    return data


# ---------- C360: the list and its configuration ----------


@pytest.fixture
def alfreds():
    company = CompanyFactory(name="Alfreds Futterkiste")
    boss = person_at(
        company,
        "Maria",
        "Anders",
        title="CEO",
        role="executive_sponsor",
        is_sponsor=True,
        sentiment="positive",
    )
    person_at(
        company,
        "Hanna",
        "Moos",
        title="Buyer",
        role="decision_maker",
        sentiment="negative",
        manager=boss,
    )
    return company


def test_people_list_shows_role_sponsor_sentiment_and_manager(csm_client, alfreds):
    section = people_section(alfreds)

    html = get_section(csm_client, alfreds, section)

    assert html.index("Maria Anders") < html.index("Hanna Moos")  # sponsors first
    for text in ("CEO", "Executive sponsor", ">Sponsor<", "Positive", "Negative", "Buyer"):
        assert text in html, text
    assert "Reports to Maria Anders" in html
    assert "2 people" in html


def test_config_can_hide_sentiment_and_show_only_sponsors(csm_client, alfreds):
    section = people_section(alfreds, show_sentiment=False, sponsors_only=True)

    html = get_section(csm_client, alfreds, section)

    assert "Maria Anders" in html and "Hanna Moos" not in html
    assert "Sentiment" not in html and "Positive" not in html
    assert "1 sponsor" in html


def test_config_form_is_checked_and_only_c360_has_the_sponsor_option():
    kind = REGISTRY["people"]
    c360 = LayoutFactory()
    r360 = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=RelationshipFactory().relationship_type
    )

    assert kind.default_config(c360) == {"show_sentiment": True, "sponsors_only": False}
    assert kind.default_config(r360) == {"show_sentiment": True}
    assert kind.clean_config({"show_sentiment": False}, layout=c360) == {
        "show_sentiment": False,
        "sponsors_only": False,
    }
    with pytest.raises(ValidationError):
        kind.clean_config(["not", "a", "mapping"], layout=c360)


# ---------- C360: add a person ----------


def test_add_dialog_asks_for_the_email_first(csm_client, alfreds):
    section = people_section(alfreds)

    response = csm_client.get(section_url(alfreds, section, "add"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Add a person to Alfreds Futterkiste" in html
    assert html.index('name="email"') < html.index('name="first_name"')
    # The manager select offers this company's people only.
    assert "Maria Anders · CEO" in html


def test_adding_a_new_person_creates_them_and_refreshes_the_section(csm_client, alfreds):
    section = people_section(alfreds)
    boss = CompanyPerson.objects.get(person__last_name="Anders")

    response = csm_client.post(
        section_url(alfreds, section, "add"),
        add_data(
            email="Thomas.Hardy@Around-The-Horn.example",
            first_name="Thomas",
            last_name="Hardy",
            phone="+44 171 555 7788",
            title="Sales Representative",
            role="champion",
            is_sponsor="on",
            sentiment="positive",
            manager=str(boss.pk),
        ),
        headers=HTMX,
    )

    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "subjectChanged"}
    added = CompanyPerson.objects.select_related("person").get(person__last_name="Hardy")
    assert added.company == alfreds
    assert added.person.email == "thomas.hardy@around-the-horn.example"
    assert (added.title, added.role, added.is_sponsor, added.sentiment) == (
        "Sales Representative",
        "champion",
        True,
        "positive",
    )
    assert added.manager == boss
    assert "Thomas Hardy" in get_section(csm_client, alfreds, section)


def test_an_existing_email_reuses_the_person_ignoring_case(csm_client, alfreds):
    other = CompanyFactory(name="Ernst Handel")
    known = person_at(other, "Roland", "Mendel", title="Sales Manager").person
    section = people_section(alfreds)
    people_before = Person.objects.count()

    lookup = csm_client.get(
        section_url(alfreds, section, "lookup"),
        {"email": known.email.upper(), "first_name": "Rol"},
        headers=HTMX,
    ).content.decode()
    response = csm_client.post(
        section_url(alfreds, section, "add"),
        add_data(email=f"  {known.email.title()} ", first_name="Someone", last_name="Else"),
        headers=HTMX,
    )

    assert "Found <strong>Roland Mendel</strong> — Roland will be added to this company." in lookup
    assert 'name="first_name"' not in lookup
    assert response.status_code == 204
    assert Person.objects.count() == people_before
    known.refresh_from_db()
    assert (known.first_name, known.last_name) == ("Roland", "Mendel")
    assert set(known.companies.values_list("company__name", flat=True)) == {
        "Ernst Handel",
        "Alfreds Futterkiste",
    }


def test_a_new_email_in_the_lookup_keeps_the_typed_name_fields(csm_client, alfreds):
    section = people_section(alfreds)

    html = csm_client.get(
        section_url(alfreds, section, "lookup"),
        {"email": "nobody@new.example", "first_name": "Ana", "last_name": "Trujillo"},
        headers=HTMX,
    ).content.decode()

    assert "Found" not in html
    assert 'value="Ana"' in html and 'value="Trujillo"' in html
    assert "This field is required" not in html


def test_a_person_already_at_the_company_gets_the_unique_message(csm_client, alfreds):
    section = people_section(alfreds)
    maria = Person.objects.get(last_name="Anders")
    links_before = CompanyPerson.objects.count()

    response = csm_client.post(
        section_url(alfreds, section, "add"),
        add_data(email=maria.email.upper(), title="Again"),
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<p class="field__error" id="id_email_error">This person is already at this company.'
        in (html)
    )
    assert "is already at Alfreds Futterkiste" in html
    assert CompanyPerson.objects.count() == links_before


def test_a_new_person_needs_a_first_name_and_a_valid_email(csm_client, alfreds):
    section = people_section(alfreds)
    people_before = Person.objects.count()

    no_name = csm_client.post(
        section_url(alfreds, section, "add"), add_data(email="new@person.example"), headers=HTMX
    ).content.decode()
    bad_email = csm_client.post(
        section_url(alfreds, section, "add"),
        add_data(email="not-an-email", first_name="Ana"),
        headers=HTMX,
    ).content.decode()

    assert 'id="id_first_name_error">Enter the person&#x27;s first name.' in no_name
    assert 'id="id_email_error">Enter a valid email address.' in bad_email
    assert 'value="not-an-email"' in bad_email
    assert Person.objects.count() == people_before


def test_a_manager_from_another_company_is_refused_when_adding(csm_client, alfreds):
    stranger = person_at(CompanyFactory(), "Yang", "Wang")
    section = people_section(alfreds)
    people_before = Person.objects.count()

    html = csm_client.post(
        section_url(alfreds, section, "add"),
        add_data(email="new@person.example", first_name="Ana", manager=str(stranger.pk)),
        headers=HTMX,
    ).content.decode()

    assert "The manager must be a person at the same company." in html
    assert Person.objects.count() == people_before


# ---------- C360: edit a person ----------


def test_editing_changes_the_person_and_their_place_at_the_company(csm_client, alfreds):
    section = people_section(alfreds)
    hanna = CompanyPerson.objects.get(person__last_name="Moos")
    url = f"{section_url(alfreds, section, 'edit')}?member={hanna.pk}"

    dialog = csm_client.get(url, headers=HTMX).content.decode()
    response = csm_client.post(
        url,
        edit_data(
            hanna,
            first_name="Hanna",
            last_name="Moos-Weber",
            phone="0621-08460",
            title="Head of Purchasing",
            role="champion",
            is_sponsor="on",
            sentiment="neutral",
            manager="",
        ),
        headers=HTMX,
    )

    assert "Edit Hanna Moos" in dialog and 'value="Buyer"' in dialog
    # Nobody is offered as their own manager.
    assert f'value="{hanna.pk}"' not in dialog
    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "subjectChanged"}
    hanna.refresh_from_db()
    hanna.person.refresh_from_db()
    assert (hanna.person.last_name, hanna.person.phone) == ("Moos-Weber", "0621-08460")
    assert (hanna.title, hanna.role, hanna.is_sponsor, hanna.sentiment) == (
        "Head of Purchasing",
        "champion",
        True,
        "neutral",
    )
    assert hanna.manager is None


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("stranger", "The manager must be a person at the same company."),
        ("self", "A person cannot be their own manager."),
    ],
)
def test_editing_with_a_bad_manager_shows_the_error_and_saves_nothing(
    csm_client, alfreds, who, message
):
    section = people_section(alfreds)
    hanna = CompanyPerson.objects.get(person__last_name="Moos")
    manager_before = hanna.manager_id
    stranger = person_at(CompanyFactory(), "Yang", "Wang")
    manager = stranger if who == "stranger" else hanna
    url = f"{section_url(alfreds, section, 'edit')}?member={hanna.pk}"

    response = csm_client.post(
        url,
        edit_data(hanna, first_name="Changed", title="Changed too", manager=str(manager.pk)),
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<p class="field__error" id="id_manager_error">{message}</p>' in html
    hanna.refresh_from_db()
    hanna.person.refresh_from_db()
    assert (hanna.title, hanna.manager_id, hanna.person.first_name) == (
        "Buyer",
        manager_before,
        "Hanna",
    )


def test_editing_someone_of_another_company_is_not_found(csm_client, alfreds):
    section = people_section(alfreds)
    stranger = person_at(CompanyFactory(), "Yang", "Wang")

    url = f"{section_url(alfreds, section, 'edit')}?member={stranger.pk}"

    assert csm_client.get(url, headers=HTMX).status_code == 404
    assert csm_client.post(url, edit_data(stranger), headers=HTMX).status_code == 404


# ---------- R360: the relationship's people ----------


@pytest.fixture
def analytics(alfreds):
    relationship = RelationshipFactory(company=alfreds, name="Analytics EU")
    maria = CompanyPerson.objects.get(person__last_name="Anders")
    RelationshipPersonFactory(relationship=relationship, company_person=maria, role="champion")
    return relationship


def test_relationship_people_show_their_role_on_it(csm_client, analytics):
    section = people_section(analytics)

    html = get_section(csm_client, analytics, section)

    assert "Maria Anders" in html and "Champion" in html
    assert "Hanna Moos" not in html
    assert "1 person on Analytics EU" in html


def test_adding_a_company_person_to_the_relationship(csm_client, analytics):
    section = people_section(analytics)
    hanna = CompanyPerson.objects.get(person__last_name="Moos")
    stranger = person_at(CompanyFactory(), "Yang", "Wang")

    dialog = csm_client.get(section_url(analytics, section, "add"), headers=HTMX)
    response = csm_client.post(
        section_url(analytics, section, "add"),
        {"company_person": str(hanna.pk), "role": "admin"},
        headers=HTMX,
    )

    html = dialog.content.decode()
    # Offered: the company's people not yet on it — not Maria (on it), not other companies'.
    assert "Hanna Moos · Buyer" in html
    assert "Maria Anders" not in html and "Yang Wang" not in html
    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "subjectChanged"}
    assert RelationshipPerson.objects.get(relationship=analytics, company_person=hanna).role == (
        "admin"
    )
    assert stranger.relationships.count() == 0


@pytest.mark.parametrize("who", ["stranger", "maria", "nobody"])
def test_adding_someone_not_offered_is_refused_with_a_sentence(csm_client, analytics, who):
    section = people_section(analytics)
    chosen = {
        "stranger": lambda: str(person_at(CompanyFactory(), "Yang", "Wang").pk),
        "maria": lambda: str(CompanyPerson.objects.get(person__last_name="Anders").pk),
        "nobody": lambda: "",
    }[who]()
    links_before = RelationshipPerson.objects.count()

    response = csm_client.post(
        section_url(analytics, section, "add"),
        {"company_person": chosen, "role": "user"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Choose a person from the list." in response.content.decode()
    assert RelationshipPerson.objects.count() == links_before


def test_a_relationship_with_everyone_on_it_says_nobody_is_left(csm_client, analytics):
    hanna = CompanyPerson.objects.get(person__last_name="Moos")
    RelationshipPersonFactory(relationship=analytics, company_person=hanna)
    section = people_section(analytics)

    html = csm_client.get(section_url(analytics, section, "add"), headers=HTMX).content.decode()

    assert "Nobody left to add" in html
    assert "Everyone at Alfreds Futterkiste is already on Analytics EU." in html


def test_removing_a_person_from_the_relationship_asks_then_removes(csm_client, analytics):
    section = people_section(analytics)
    link = RelationshipPerson.objects.get(relationship=analytics)
    url = f"{section_url(analytics, section, 'remove')}?member={link.pk}"

    confirm = csm_client.get(url, headers=HTMX).content.decode()
    assert RelationshipPerson.objects.filter(pk=link.pk).exists()
    response = csm_client.post(url, headers=HTMX)

    assert "Remove Maria Anders?" in confirm
    assert "They stay at Alfreds Futterkiste" in confirm
    assert response.status_code == 204
    assert triggers(response) == {"closeModal", "subjectChanged"}
    assert not RelationshipPerson.objects.filter(pk=link.pk).exists()
    assert CompanyPerson.objects.filter(pk=link.company_person_id).exists()
    assert "No people on this relationship" in get_section(csm_client, analytics, section)


def test_removing_someone_of_another_relationship_is_not_found(csm_client, analytics):
    section = people_section(analytics)
    elsewhere = RelationshipPersonFactory()

    url = f"{section_url(analytics, section, 'remove')}?member={elsewhere.pk}"

    assert csm_client.post(url, headers=HTMX).status_code == 404
    assert RelationshipPerson.objects.filter(pk=elsewhere.pk).exists()


def test_company_actions_do_not_exist_on_a_relationship_and_the_reverse(
    csm_client, alfreds, analytics
):
    c360 = people_section(alfreds)
    r360 = people_section(analytics)

    assert csm_client.get(section_url(analytics, r360, "edit"), headers=HTMX).status_code == 404
    assert csm_client.get(section_url(analytics, r360, "lookup"), headers=HTMX).status_code == 404
    assert csm_client.get(section_url(alfreds, c360, "remove"), headers=HTMX).status_code == 404


# ---------- who may change people ----------


def test_the_csm_sees_the_controls(csm_client, alfreds, analytics):
    c360 = get_section(csm_client, alfreds, people_section(alfreds))
    r360 = get_section(csm_client, analytics, people_section(analytics))

    assert ">Add person</button>" in c360 and ">Edit</button>" in c360
    assert ">Add person to relationship</button>" in r360 and ">Remove</button>" in r360
    # Dialogs fill the modal: the section frame's own outerHTML swap must not be inherited.
    for html in (c360, r360):
        assert html.count('hx-target="#modal"') == html.count(
            'hx-target="#modal" hx-swap="innerHTML"'
        )


def test_a_read_only_user_sees_no_controls_and_cannot_post(viewer_client, alfreds, analytics):
    c360 = people_section(alfreds)
    r360 = people_section(analytics)
    hanna = CompanyPerson.objects.get(person__last_name="Moos")
    link = RelationshipPerson.objects.get(relationship=analytics)
    people_before = (Person.objects.count(), CompanyPerson.objects.count())

    c360_html = get_section(viewer_client, alfreds, c360)
    r360_html = get_section(viewer_client, analytics, r360)
    posts = [
        viewer_client.post(
            section_url(alfreds, c360, "add"),
            add_data(email="new@person.example", first_name="Ana"),
            headers=HTMX,
        ),
        viewer_client.post(
            f"{section_url(alfreds, c360, 'edit')}?member={hanna.pk}",
            edit_data(hanna, title="Changed"),
            headers=HTMX,
        ),
        viewer_client.post(
            section_url(analytics, r360, "add"),
            {"company_person": str(hanna.pk), "role": "user"},
            headers=HTMX,
        ),
        viewer_client.post(
            f"{section_url(analytics, r360, 'remove')}?member={link.pk}", headers=HTMX
        ),
    ]
    dialog = viewer_client.get(section_url(alfreds, c360, "add"), headers=HTMX)

    assert "Maria Anders" in c360_html and "Maria Anders" in r360_html
    for html in (c360_html, r360_html):
        assert "hx-get" not in html.split(">", 1)[1]  # only the frame's own refresh
        assert "Add person" not in html and ">Edit<" not in html and ">Remove<" not in html
    assert [response.status_code for response in posts] == [403, 403, 403, 403]
    assert dialog.status_code == 403
    assert (Person.objects.count(), CompanyPerson.objects.count()) == people_before
    hanna.refresh_from_db()
    assert hanna.title == "Buyer"
    assert RelationshipPerson.objects.filter(pk=link.pk).exists()


def test_the_default_c360_page_loads_the_people_section_for_every_internal_persona(
    request, alfreds
):
    for persona in ("admin_client", "csm_client", "viewer_client"):
        html = open_360(request.getfixturevalue(persona), alfreds.get_absolute_url())
        assert "Hanna Moos" in html


# ---------- query budgets ----------


def _section_queries(client, subject, section, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(10) as captured:
        get_section(client, subject, section)
    return len(captured.captured_queries)


def test_c360_people_queries_do_not_grow_with_the_people(csm_client, django_assert_max_num_queries):
    company = CompanyFactory()
    section = people_section(company)
    boss = CompanyPersonFactory(company=company)
    CompanyPersonFactory.create_batch(2, company=company, manager=boss)
    small = _section_queries(csm_client, company, section, django_assert_max_num_queries)

    CompanyPersonFactory.create_batch(30, company=company, manager=boss, is_sponsor=True)
    large = _section_queries(csm_client, company, section, django_assert_max_num_queries)

    assert small == large


def test_r360_people_queries_do_not_grow_with_the_people(csm_client, django_assert_max_num_queries):
    relationship = RelationshipFactory()
    section = people_section(relationship)
    RelationshipPersonFactory.create_batch(2, relationship=relationship)
    small = _section_queries(csm_client, relationship, section, django_assert_max_num_queries)

    RelationshipPersonFactory.create_batch(30, relationship=relationship)
    large = _section_queries(csm_client, relationship, section, django_assert_max_num_queries)

    assert small == large
