"""The attributes section: its configuration, what it shows, and editing one field in place."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from companies.models import Company
from layouts.models import Layout, Section
from layouts.sections import REGISTRY, section_url
from layouts.sections.attributes import RELATIONSHIP_FIELDS
from relationships.models import Relationship, RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Kind = RelationshipTypeField.Kind
HTMX = {"HX-Request": "true"}
KIND = REGISTRY["attributes"]


def c360_section(fields: list[str] | None = None) -> Section:
    layout = LayoutFactory(target=Layout.Target.COMPANY)
    section = SectionFactory(layout=layout, kind="attributes")
    if fields is not None:
        section.config = {"fields": fields}
        section.save()
    return section


def r360_section(relationship_type, fields: list[str] | None = None) -> Section:
    layout = LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=relationship_type)
    section = SectionFactory(layout=layout, kind="attributes")
    if fields is not None:
        section.config = {"fields": fields}
        section.save()
    return section


def typed_relationship(**attributes):
    """A relationship whose type has one field of each kind that matters here."""
    kind = RelationshipTypeFactory(name="Analytics")
    specs = [
        ("seats", "Seats", Kind.NUMBER, False),
        ("adoption", "Adoption", Kind.PERCENT, False),
        ("tier", "Tier", Kind.CHOICE, False),
        ("go_live", "Go-live", Kind.DATE, False),
        ("auto_renews", "Auto renews", Kind.BOOLEAN, False),
        ("portal", "Portal", Kind.URL, False),
        ("notes", "Notes", Kind.LONG_TEXT, False),
    ]
    for order, (key, label, field_kind, required) in enumerate(specs):
        RelationshipTypeFieldFactory(
            relationship_type=kind,
            key=key,
            label=label,
            kind=field_kind,
            order=order,
            required=required,
            choices=["Gold", "Silver"] if field_kind == Kind.CHOICE else [],
        )
    return RelationshipFactory(relationship_type=kind, name="Insights", attributes=attributes)


def get_section(client, subject, section, **params):
    return client.get(section_url(subject, section), params, headers=HTMX)


def edit(client, subject, section, field):
    return client.get(section_url(subject, section, "edit"), {"field": field}, headers=HTMX)


def save(client, subject, section, field, value):
    return client.post(
        section_url(subject, section, "save"), {"field": field, "value": value}, headers=HTMX
    )


def html_of(response) -> str:
    """The answer's HTML without the whitespace between tags."""
    return re.sub(r">\s+<", "><", response.content.decode())


def error_of(html: str) -> list[str]:
    return re.findall(r'<p class="field__error"[^>]*>([^<]*)</p>', html)


def triggers(response) -> dict:
    return json.loads(response.headers.get("HX-Trigger", "{}"))


# Configuration --------------------------------------------------------------------------------


def test_c360_config_offers_company_fields_and_refuses_others():
    layout = LayoutFactory(target=Layout.Target.COMPANY)

    assert KIND.clean_config({"fields": ["arr", "name"]}, layout=layout) == {
        "fields": ["arr", "name"]
    }
    with pytest.raises(ValidationError) as refused:
        KIND.clean_config({"fields": ["name", "attr.seats"]}, layout=layout)
    assert "attr.seats is not one of the available choices" in str(refused.value)
    with pytest.raises(ValidationError):
        KIND.clean_config(["name"], layout=layout)


def test_r360_config_offers_the_types_own_fields_as_attr_keys():
    relationship = typed_relationship()
    layout = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    other_type_field = RelationshipTypeFieldFactory(key="elsewhere")

    config = KIND.clean_config({"fields": ["name", "attr.seats", "attr.tier"]}, layout=layout)

    assert config == {"fields": ["name", "attr.seats", "attr.tier"]}
    assert "attr.go_live" in KIND.default_config(layout)["fields"]
    with pytest.raises(ValidationError):
        KIND.clean_config({"fields": [f"attr.{other_type_field.key}"]}, layout=layout)


# Rendering ------------------------------------------------------------------------------------


def test_section_shows_the_configured_fields_in_their_order(csm_client):
    company = CompanyFactory(name="Acme", arr=Decimal("120000"), industry="Retail")
    section = c360_section(["arr", "name"])

    html = html_of(get_section(csm_client, company, section))

    assert html.index("<dt>ARR</dt>") < html.index("<dt>Name</dt>")
    assert "<dd>$120,000</dd>" in html and "<dd>Acme</dd>" in html
    assert "Industry" not in html


def test_r360_section_shows_type_fields_by_kind_and_skips_removed_ones(csm_client):
    relationship = typed_relationship(seats=1500, adoption=42.5, go_live="2025-03-04")
    section = r360_section(
        relationship.relationship_type, ["attr.seats", "attr.adoption", "attr.go_live"]
    )
    RelationshipTypeField.objects.filter(key="adoption").delete()

    html = html_of(get_section(csm_client, relationship, section))

    assert "<dt>Seats</dt><dd>1,500</dd>" in html
    assert "<dt>Go-live</dt><dd>Mar 4, 2025</dd>" in html
    assert "Adoption" not in html


def test_no_fields_chosen_says_so(csm_client):
    section = c360_section([])
    html = html_of(get_section(csm_client, CompanyFactory(), section))
    assert "No fields chosen" in html


# Editing a company field ----------------------------------------------------------------------


def test_edit_swaps_the_row_into_a_form_with_the_current_value(csm_client):
    company = CompanyFactory(renewal_date=dt.date(2026, 2, 1))
    section = c360_section(["renewal_date"])

    response = edit(csm_client, company, section, "renewal_date")

    html = html_of(response)
    assert response.status_code == 200
    assert 'type="date"' in html and 'value="2026-02-01"' in html
    assert f'hx-post="{section_url(company, section, "save")}"' in html
    assert 'name="field" value="renewal_date"' in html
    assert "Cancel" in html


def test_csm_select_lists_active_internal_users_only(csm_client, csm_user):
    UserFactory(username="alex", first_name="Alex", last_name="Internal")
    UserFactory(username="gone", first_name="Gone", last_name="Away", is_active=False)
    partner_user = PartnerUserFactory(user__first_name="Pat", user__last_name="Partner").user
    company = CompanyFactory(csm=csm_user)
    section = c360_section(["csm"])

    html = html_of(edit(csm_client, company, section, "csm"))

    assert "Alex Internal" in html
    assert "Gone Away" not in html
    assert f'value="{partner_user.pk}"' not in html
    assert re.search(rf'<option value="{csm_user.pk}" selected>', html)


@pytest.mark.parametrize(
    ("field", "value", "stored", "shown"),
    [
        ("name", "Acme Europe", "Acme Europe", "Acme Europe"),
        ("arr", "$1,250,000", Decimal("1250000"), "$1,250,000"),
        ("segment", "smb", "smb", "SMB"),
        ("renewal_date", "2026-07-01", dt.date(2026, 7, 1), "Jul 1, 2026"),
        ("external_id", "", None, '<span class="empty-value">—</span>'),
    ],
)
def test_a_valid_value_is_saved_shown_and_announced(csm_client, field, value, stored, shown):
    company = CompanyFactory(name="Acme")
    section = c360_section([field])

    response = save(csm_client, company, section, field, value)

    assert response.status_code == 200
    company.refresh_from_db()
    assert getattr(company, field) == stored
    html = html_of(response)
    assert f"<dd>{shown}</dd>" in html
    assert "<form" not in html
    assert "subjectChanged" in triggers(response)


def test_choosing_a_csm_saves_the_user(csm_client):
    casey = UserFactory(first_name="Casey", last_name="Morgan")
    company = CompanyFactory(csm=None)
    section = c360_section(["csm"])

    response = save(csm_client, company, section, "csm", str(casey.pk))

    company.refresh_from_db()
    assert company.csm == casey
    assert "<dd>Casey Morgan</dd>" in html_of(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("arr", "-5", "Enter an amount of zero or more."),
        ("mrr", "lots", "Enter an amount, such as 120000 or $120,000.50."),
        ("name", "  ", "This field is required."),
        ("renewal_date", "31/12/2026", "Enter a date as YYYY-MM-DD."),
        (
            "segment",
            "galactic",
            "Select a valid choice. galactic is not one of the available choices.",
        ),
    ],
)
def test_an_invalid_value_is_shown_next_to_the_field_and_nothing_is_saved(
    csm_client, field, value, message
):
    company = CompanyFactory(name="Acme", arr=Decimal("1000"), mrr=Decimal("80"))
    before = Company.objects.filter(pk=company.pk).values().get()
    section = c360_section([field])

    response = save(csm_client, company, section, field, value)

    assert response.status_code == 200
    html = html_of(response)
    assert error_of(html) == [message]
    assert 'aria-invalid="true"' in html
    if field != "segment":  # the typed text comes back as typed, to be corrected
        assert f'value="{value}"' in html
    assert "HX-Trigger" not in response.headers
    assert Company.objects.filter(pk=company.pk).values().get() == before


def test_a_partner_user_cannot_be_made_csm(csm_client):
    partner_user = PartnerUserFactory().user
    company = CompanyFactory(csm=None)
    section = c360_section(["csm"])

    response = save(csm_client, company, section, "csm", str(partner_user.pk))

    assert error_of(html_of(response)) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    company.refresh_from_db()
    assert company.csm is None


def test_an_external_id_in_use_is_refused_with_a_sentence(csm_client):
    CompanyFactory(external_id="CRM-1")
    company = CompanyFactory(external_id="CRM-2")
    section = c360_section(["external_id"])

    response = save(csm_client, company, section, "external_id", "CRM-1")

    assert error_of(html_of(response)) == ["Another company already has the external ID “CRM-1”."]
    company.refresh_from_db()
    assert company.external_id == "CRM-2"


def test_cancel_puts_the_row_back_as_stored(csm_client):
    company = CompanyFactory(industry="Retail")
    section = c360_section(["industry"])

    response = csm_client.get(
        section_url(company, section, "row"), {"field": "industry"}, headers=HTMX
    )

    html = html_of(response)
    assert response.status_code == 200
    assert "<dt>Industry</dt><dd>Retail</dd>" in html
    assert "<form" not in html
    assert "field-list__edit" in html


# Editing a relationship field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "stored", "shown"),
    [
        ("attr.seats", "1,500", 1500, "1,500"),
        ("attr.adoption", "42.5", 42.5, "42.5%"),
        ("attr.tier", "Gold", "Gold", "Gold"),
        ("attr.go_live", "2025-03-04", "2025-03-04", "Mar 4, 2025"),
        ("attr.auto_renews", "no", False, "No"),
        ("attr.portal", "https://portal.example.com", "https://portal.example.com", None),
    ],
)
def test_a_type_field_is_saved_by_its_kind(csm_client, field, value, stored, shown):
    relationship = typed_relationship(tier="Silver", seats=10)
    section = r360_section(relationship.relationship_type, [field])

    response = save(csm_client, relationship, section, field, value.replace(",", ""))

    assert response.status_code == 200, response.content
    relationship.refresh_from_db()
    assert relationship.attributes[field.removeprefix("attr.")] == stored
    assert relationship.attributes.get("tier") in ("Silver", "Gold")  # others kept
    if shown is not None:
        assert f"<dd>{shown}</dd>" in html_of(response)
    assert "subjectChanged" in triggers(response)


def test_clearing_a_type_field_removes_its_value(csm_client):
    relationship = typed_relationship(tier="Gold", seats=10)
    section = r360_section(relationship.relationship_type, ["attr.tier"])

    save(csm_client, relationship, section, "attr.tier", "")

    relationship.refresh_from_db()
    assert relationship.attributes == {"seats": 10}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("attr.seats", "many", "Enter a number."),
        ("attr.adoption", "150", "Enter a percentage from 0 to 100."),
        ("attr.tier", "Bronze", "Choose one of: Gold, Silver."),
        ("attr.go_live", "next week", "Enter a date as YYYY-MM-DD."),
        (
            "attr.portal",
            "ftp://files",
            "Enter a valid web address starting with http:// or https://.",
        ),
        ("arr", "-1", "Enter an amount of zero or more."),
        ("status", "lost", "Select a valid choice. lost is not one of the available choices."),
    ],
)
def test_an_invalid_relationship_value_is_refused_and_nothing_saved(
    csm_client, field, value, message
):
    relationship = typed_relationship(seats=10, tier="Silver")
    before = Relationship.objects.filter(pk=relationship.pk).values().get()
    section = r360_section(relationship.relationship_type, [field])

    response = save(csm_client, relationship, section, field, value)

    assert response.status_code == 200
    assert error_of(html_of(response)) == [message]
    assert "HX-Trigger" not in response.headers
    assert Relationship.objects.filter(pk=relationship.pk).values().get() == before


def test_a_relationship_name_already_used_for_the_type_is_refused(csm_client):
    relationship = typed_relationship()
    RelationshipFactory(
        company=relationship.company,
        relationship_type=relationship.relationship_type,
        name="Taken",
    )
    section = r360_section(relationship.relationship_type, ["name"])

    response = save(csm_client, relationship, section, "name", "Taken")

    assert error_of(html_of(response)) == [
        "This company already has a relationship of this type with this name."
    ]
    relationship.refresh_from_db()
    assert relationship.name == "Insights"


def test_a_required_field_left_empty_elsewhere_is_named_in_the_error(csm_client):
    relationship = typed_relationship(seats=10)
    RelationshipTypeFieldFactory(
        relationship_type=relationship.relationship_type,
        key="region",
        label="Region",
        required=True,
    )
    section = r360_section(relationship.relationship_type, ["attr.seats"])

    response = save(csm_client, relationship, section, "attr.seats", "20")

    assert error_of(html_of(response)) == ["Region: This field is required."]
    relationship.refresh_from_db()
    assert relationship.attributes == {"seats": 10}


def test_edit_form_of_a_type_field_is_typed(csm_client):
    relationship = typed_relationship(tier="Gold", auto_renews=True, go_live="2025-03-04")
    section = r360_section(
        relationship.relationship_type, ["attr.tier", "attr.auto_renews", "attr.go_live"]
    )

    tier = html_of(edit(csm_client, relationship, section, "attr.tier"))
    renews = html_of(edit(csm_client, relationship, section, "attr.auto_renews"))
    go_live = html_of(edit(csm_client, relationship, section, "attr.go_live"))

    assert '<option value="Gold" selected>Gold</option>' in tier
    assert '<option value="yes" selected>Yes</option>' in renews
    assert 'type="date"' in go_live and 'value="2025-03-04"' in go_live


# Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["edit", "save", "row"])
def test_a_field_the_section_does_not_show_is_a_400_with_a_reason(csm_client, action):
    company = CompanyFactory(name="Acme")
    section = c360_section(["name"])
    url = section_url(company, section, action)

    if action == "save":
        response = csm_client.post(url, {"field": "arr", "value": "1"}, headers=HTMX)
    else:
        response = csm_client.get(url, {"field": "arr"}, headers=HTMX)

    assert response.status_code == 400
    assert "This section does not show the field “arr”." in html_of(response)
    company.refresh_from_db()
    assert company.name == "Acme"


def test_a_missing_or_removed_field_is_a_400(csm_client):
    relationship = typed_relationship()
    section = r360_section(relationship.relationship_type, ["attr.seats"])
    RelationshipTypeField.objects.filter(key="seats").delete()

    missing = csm_client.get(section_url(relationship, section, "edit"), headers=HTMX)
    removed = edit(csm_client, relationship, section, "attr.seats")

    assert missing.status_code == 400
    assert removed.status_code == 400
    assert "no longer a field" in html_of(removed)


def test_viewer_sees_no_edit_controls_and_is_refused_a_save(viewer_client):
    company = CompanyFactory(name="Acme")
    section = c360_section(["name", "arr"])

    html = html_of(get_section(viewer_client, company, section))
    edit_form = edit(viewer_client, company, section, "name")
    response = save(viewer_client, company, section, "name", "Hijacked")

    assert "<dd>Acme</dd>" in html
    assert "field-list__edit" not in html
    assert section_url(company, section, "edit") not in html
    assert edit_form.status_code == 403
    assert response.status_code == 403
    company.refresh_from_db()
    assert company.name == "Acme"


def test_viewer_cannot_save_a_relationship_field(viewer_client):
    relationship = typed_relationship(seats=10)
    section = r360_section(relationship.relationship_type, ["attr.seats"])

    html = html_of(get_section(viewer_client, relationship, section))
    response = save(viewer_client, relationship, section, "attr.seats", "99")

    assert "field-list__edit" not in html
    assert response.status_code == 403
    relationship.refresh_from_db()
    assert relationship.attributes == {"seats": 10}


def test_csm_sees_an_edit_control_per_field(csm_client):
    company = CompanyFactory()
    section = c360_section(["name", "arr", "csm"])

    html = html_of(get_section(csm_client, company, section))

    assert html.count('class="icon-button field-list__edit"') == 3
    assert 'aria-label="Edit ARR"' in html


def test_partner_user_reads_their_company_but_may_not_save(partner_a, partner_a_client):
    company = CompanyFactory(managed_by=partner_a, name="Acme")
    section = c360_section(["name"])

    html = html_of(get_section(partner_a_client, company, section))
    response = save(partner_a_client, company, section, "name", "Renamed")

    assert "<dd>Acme</dd>" in html and "field-list__edit" not in html
    assert response.status_code == 403
    company.refresh_from_db()
    assert company.name == "Acme"


def test_partner_user_gets_404_for_a_company_they_may_not_see(partner_a_client, partner_b):
    company = CompanyFactory(managed_by=partner_b)
    section = c360_section(["name"])

    assert get_section(partner_a_client, company, section).status_code == 404
    assert edit(partner_a_client, company, section, "name").status_code == 404
    assert save(partner_a_client, company, section, "name", "x").status_code == 404


def test_save_answers_only_post_and_edit_only_get(csm_client):
    company = CompanyFactory()
    section = c360_section(["name"])

    assert (
        csm_client.get(section_url(company, section, "save"), {"field": "name"}).status_code == 405
    )
    assert (
        csm_client.post(section_url(company, section, "edit"), {"field": "name"}).status_code == 405
    )


def test_the_section_reloads_on_other_sections_writes_not_on_its_own(csm_client):
    section = c360_section(["name"])
    html = html_of(get_section(csm_client, CompanyFactory(), section))
    # No hx-trigger filter (the Content-Security-Policy allows no eval): app.js cancels a
    # reload whose event came from inside a section marked data-skip-own-events.
    assert 'hx-trigger="subjectChanged from:body"' in html
    assert "data-skip-own-events" in html


# Query budget ---------------------------------------------------------------------------------


def _r360_with_fields(count: int):
    kind = RelationshipTypeFactory()
    for order in range(count):
        RelationshipTypeFieldFactory(relationship_type=kind, key=f"f{order}", order=order)
    relationship = RelationshipFactory(
        relationship_type=kind,
        csm=UserFactory(),
        attributes={f"f{order}": f"value {order}" for order in range(count)},
    )
    return relationship, r360_section(kind)


@pytest.mark.parametrize("persona", ["csm_client", "viewer_client"])
def test_section_queries_do_not_grow_with_the_number_of_fields(
    request, persona, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    counts = []
    for size in (2, 30):
        relationship, section = _r360_with_fields(size)
        with django_assert_max_num_queries(10) as captured:
            response = get_section(client, relationship, section)
        assert response.status_code == 200
        # The type's fields and every standard field of a relationship.
        assert html_of(response).count("<dt>") == size + len(RELATIONSHIP_FIELDS)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
