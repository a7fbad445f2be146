"""The related list section: its configuration checks, what it lists, scoping and limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from companies.models import Company
from layouts.models import Layout
from layouts.sections import REGISTRY, section_url
from relationships.models import Relationship, RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    LayoutFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

KIND = REGISTRY["related_list"]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def licence():
    kind = RelationshipTypeFactory(name="Licence")
    RelationshipTypeFieldFactory(
        relationship_type=kind,
        key="seats",
        label="Seats",
        kind=RelationshipTypeField.Kind.NUMBER,
    )
    return kind


@pytest.fixture
def services():
    kind = RelationshipTypeFactory(name="Services")
    RelationshipTypeFieldFactory(relationship_type=kind, key="go_live", label="Go-live")
    return kind


@pytest.fixture
def c360():
    return LayoutFactory(target=Layout.Target.COMPANY)


def _config(**overrides):
    config = {
        "source": "relationships",
        "relationship_type": None,
        "columns": ["name", "status", "arr"],
        "status": "",
        "sort": "name",
        "limit": 10,
    }
    return {**config, **overrides}


def _errors(config, layout):
    with pytest.raises(ValidationError) as caught:
        KIND.clean_config(config, layout=layout)
    return caught.value.message_dict["config"]


def _section(layout, **config):
    return SectionFactory(layout=layout, kind="related_list", title="Licences", config=config)


def _get(client, subject, section):
    return client.get(section_url(subject, section), headers=HTMX)


# Configuration ------------------------------------------------------------------------


def test_the_default_configuration_is_valid_on_both_pages(licence):
    r360 = LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=licence)
    for layout in (LayoutFactory(target=Layout.Target.COMPANY), r360):
        default = KIND.default_config(layout)
        assert KIND.clean_config(default, layout=layout) == default


def test_a_valid_configuration_keeps_the_type_as_its_id(c360, licence):
    config = _config(relationship_type=licence.pk, columns=["name", "attr.seats", "arr"])

    cleaned = KIND.clean_config(config, layout=c360)

    assert cleaned["relationship_type"] == licence.pk
    assert cleaned["columns"] == ["name", "attr.seats", "arr"]
    assert cleaned["limit"] == 10


def test_a_column_of_another_types_fields_is_refused_with_a_sentence(c360, licence, services):
    errors = _errors(_config(relationship_type=licence.pk, columns=["name", "attr.go_live"]), c360)

    assert errors == [
        "Columns: “Go-live” is not a field of the Licence type: choose one of its own fields."
    ]


def test_relationships_of_a_type_need_the_type(c360):
    errors = _errors(_config(relationship_type=None), c360)

    assert errors == ["Relationship type: Choose the relationship type to list."]


@pytest.mark.parametrize(
    ("limit", "message"),
    [(0, "Rows shown: Show at least 1 row."), (51, "Rows shown: Show at most 50 rows.")],
)
def test_a_limit_out_of_range_is_refused(c360, licence, limit, message):
    assert _errors(_config(relationship_type=licence.pk, limit=limit), c360) == [message]


def test_a_column_the_source_does_not_have_is_refused(c360):
    errors = _errors(_config(source="people", columns=["name", "arr"]), c360)

    assert errors == ["Columns: People have no “ARR” column: remove it or choose another list."]


def test_people_have_no_status_filter_and_no_arr_order(c360):
    errors = _errors(
        _config(source="people", columns=["name", "email"], status="active", sort="-arr"), c360
    )

    assert "Only with status: People have no status: leave the filter empty." in errors
    assert (
        "Order: People cannot be sorted by “ARR, highest first”: "
        "choose Name, A to Z or Newest first." in errors
    )


def test_a_status_the_records_cannot_have_is_refused(c360):
    errors = _errors(_config(source="children", columns=["name"], status="on_hold"), c360)

    assert errors == [
        "Only with status: Child companies have no status “On hold”: "
        "choose Active, At risk, Prospect or Churned."
    ]


def test_r360_offers_only_its_own_sources(licence):
    r360 = LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=licence)

    errors = _errors(_config(source="children", columns=["name"]), r360)

    assert errors[0].startswith("List: Select a valid choice.")


def test_a_type_from_another_source_is_dropped(c360, licence):
    cleaned = KIND.clean_config(
        _config(source="children", relationship_type=licence.pk, columns=["name"]), layout=c360
    )

    assert cleaned["relationship_type"] is None


def test_the_admin_saves_a_good_configuration_and_refuses_a_bad_one(admin_client, c360, licence):
    section = _section(c360, **_config(relationship_type=licence.pk))
    url = f"/admin/layouts/section/{section.pk}/change/"
    form = {
        "title": "Licences",
        "order": 1,
        "config_source": "relationships",
        "config_relationship_type": licence.pk,
        "config_columns": ["name", "attr.seats"],
        "config_status": "",
        "config_sort": "-arr",
        "config_limit": "5",
    }

    refused = admin_client.post(url, {**form, "config_limit": "80"})
    assert refused.status_code == 200
    assert "Show at most 50 rows." in refused.content.decode()
    section.refresh_from_db()
    assert section.config["limit"] == 10

    saved = admin_client.post(url, form)
    assert saved.status_code == 302
    section.refresh_from_db()
    assert section.config["columns"] == ["name", "attr.seats"]
    assert section.config["limit"] == 5


# Rendering --------------------------------------------------------------------------


def test_lists_the_companys_relationships_of_the_type_with_its_fields(csm_client, c360, licence):
    company = CompanyFactory(name="Acme")
    RelationshipFactory(
        company=company,
        relationship_type=licence,
        name="Acme Analytics",
        arr=Decimal("120000"),
        status=Relationship.Status.AT_RISK,
        attributes={"seats": 250},
    )
    RelationshipFactory(company=company, name="Acme Onboarding")  # another type
    RelationshipFactory(relationship_type=licence, name="Other Co Licence")  # another company
    section = _section(
        c360,
        **_config(relationship_type=licence.pk, columns=["name", "attr.seats", "status", "arr"]),
    )

    response = _get(csm_client, company, section)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme Analytics" in html and "Seats" in html and "250" in html
    assert "$120,000" in html and "At risk" in html
    assert "Acme Onboarding" not in html and "Other Co Licence" not in html


def test_child_companies_filtered_by_status_and_sorted_by_arr(csm_client, c360):
    parent = CompanyFactory(name="Acme Group")
    CompanyFactory(parent=parent, name="Acme Small", arr=Decimal("1000"))
    CompanyFactory(parent=parent, name="Acme Big", arr=Decimal("90000"))
    CompanyFactory(parent=parent, name="Acme Gone", status=Company.Status.CHURNED)
    section = _section(
        c360, **_config(source="children", columns=["name", "arr"], status="active", sort="-arr")
    )

    html = _get(csm_client, parent, section).content.decode()

    assert html.index("Acme Big") < html.index("Acme Small")
    assert "Acme Gone" not in html


def test_the_limit_cuts_the_list_and_says_how_many_more(csm_client, c360, licence):
    company = CompanyFactory()
    for number in range(7):
        RelationshipFactory(company=company, relationship_type=licence, name=f"Licence {number}")
    section = _section(c360, **_config(relationship_type=licence.pk, limit=3))

    html = _get(csm_client, company, section).content.decode()

    assert html.count("<tr>") == 4  # the heading and three rows
    assert "Licence 2" in html and "Licence 3" not in html
    assert "4 more not shown · 7 in all" in html


def test_company_people_with_their_roles_and_sponsor_flag(csm_client, c360):
    company = CompanyFactory()
    CompanyPersonFactory(
        company=company,
        person=PersonFactory(first_name="Dana", last_name="Scully", email="dana@acme.example"),
        role="champion",
        is_sponsor=True,
    )
    CompanyPersonFactory(person=PersonFactory(first_name="Fox", last_name="Mulder"))
    section = _section(
        c360, **_config(source="people", columns=["name", "email", "role", "sponsor"])
    )

    html = _get(csm_client, company, section).content.decode()

    assert "Dana Scully" in html and "mailto:dana@acme.example" in html
    assert "Champion" in html and "Sponsor" in html
    assert "Mulder" not in html


def test_r360_lists_the_other_relationships_and_its_people(csm_client, licence):
    company = CompanyFactory()
    subject = RelationshipFactory(company=company, relationship_type=licence, name="Main licence")
    RelationshipFactory(company=company, relationship_type=licence, name="Second licence")
    RelationshipFactory(name="Elsewhere licence", relationship_type=licence)
    RelationshipPersonFactory(
        relationship=subject,
        company_person__person__first_name="Walter",
        company_person__person__last_name="Skinner",
        role="admin",
    )
    r360 = LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=licence)
    others = SectionFactory(layout=r360, kind="related_list")
    people = _section(
        r360, **_config(source="relationship_people", columns=["name", "role"], sort="name")
    )

    others_html = _get(csm_client, subject, others).content.decode()
    people_html = _get(csm_client, subject, people).content.decode()

    assert "Second licence" in others_html
    assert "Main licence" not in others_html and "Elsewhere licence" not in others_html
    assert "Walter Skinner" in people_html and "Administrator" in people_html


def test_an_empty_list_says_what_would_appear(csm_client, c360):
    section = _section(c360, **_config(source="children", columns=["name"]))

    html = _get(csm_client, CompanyFactory(), section).content.decode()

    assert "No child companies to show" in html
    assert "Companies placed under this one in the hierarchy appear here." in html


def test_values_are_escaped(csm_client, c360):
    parent = CompanyFactory()
    CompanyFactory(parent=parent, name="<script>alert(1)</script>")
    section = _section(c360, **_config(source="children", columns=["name"]))

    html = _get(csm_client, parent, section).content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# Scoping ----------------------------------------------------------------------------


def test_a_partner_user_sees_only_their_own_rows(partner_a_user, partner_a, partner_b, licence):
    """Partner A's list of a company it manages leaves out what partner B runs there."""
    from django.test import RequestFactory

    from layouts.sections import SectionContext

    company = CompanyFactory(managed_by=partner_a)
    RelationshipFactory(company=company, relationship_type=licence, name="Ours")
    RelationshipFactory(
        company=company, relationship_type=licence, name="Theirs", managed_by=partner_b
    )
    CompanyFactory(parent=company, name="Our child", managed_by=partner_a)
    CompanyFactory(parent=company, name="Their child", managed_by=partner_b)
    layout = LayoutFactory(target=Layout.Target.COMPANY)
    request = RequestFactory().get("/")
    request.user = partner_a_user

    def names(config):
        section = _section(layout, **config)
        ctx = SectionContext(request=request, section=section, subject=company)
        return [row.cells[0].value for row in KIND.context(ctx)["rows"]]

    assert names(_config(relationship_type=licence.pk)) == ["Ours"]
    assert names(_config(source="children", columns=["name"])) == ["Our child"]


def test_partner_b_never_sees_partner_as_records_through_the_section(
    partner_b_client, partner_a, partner_b, licence
):
    company = CompanyFactory(managed_by=partner_a)
    RelationshipFactory(company=company, relationship_type=licence, name="Partner A deal")
    own = CompanyFactory(managed_by=partner_b)
    CompanyFactory(parent=own, name="Partner A child", managed_by=partner_a)
    layout = LayoutFactory(target=Layout.Target.COMPANY)
    children = _section(layout, **_config(source="children", columns=["name"]))
    deals = _section(layout, **_config(relationship_type=licence.pk))

    assert _get(partner_b_client, company, deals).status_code == 404
    response = _get(partner_b_client, own, children)
    assert "Partner A child" not in response.content.decode()


# Budget -----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["relationships", "children", "people"])
def test_the_section_reads_in_a_fixed_number_of_queries(
    csm_client, c360, licence, django_assert_max_num_queries, source
):
    company = CompanyFactory()
    columns = {
        "relationships": ["name", "attr.seats", "status", "csm", "arr"],
        "children": ["name", "segment", "csm", "arr", "renewal_date"],
        "people": ["name", "email", "role", "sentiment"],
    }[source]
    section = _section(
        c360,
        **_config(
            source=source,
            relationship_type=licence.pk if source == "relationships" else None,
            columns=columns,
            limit=20,
        ),
    )

    def grow(size):
        for _ in range(size):
            RelationshipFactory(company=company, relationship_type=licence)
            CompanyFactory(parent=company)
            CompanyPersonFactory(company=company)

    counts = []
    for size in (3, 30):
        grow(size)
        with django_assert_max_num_queries(10) as captured:
            response = _get(csm_client, company, section)
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
