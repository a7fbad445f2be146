"""The relationship page: who may open it, its typed fields by kind, people and budget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from relationships.models import Relationship, RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    PartnerFactory,
    PersonFactory,
    RelationshipFactory,
    RelationshipPersonFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
)
from tests.pages import open_360

pytestmark = pytest.mark.django_db

Kind = RelationshipTypeField.Kind


def page(relationship: Relationship) -> str:
    return reverse("layouts:relationship", args=[relationship.pk])


@pytest.mark.parametrize("persona", ["admin_client", "csm_client", "viewer_client"])
def test_internal_users_open_any_relationship(request, persona, partner_a):
    relationship = RelationshipFactory(name="Data Platform", managed_by=partner_a)

    response = request.getfixturevalue(persona).get(page(relationship))

    assert response.status_code == 200
    assert "Data Platform" in response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    relationship = RelationshipFactory()

    response = client.get(page(relationship))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_partner_user_opens_only_their_partners_relationships(
    partner_a, partner_b, partner_a_client
):
    own_company = CompanyFactory(managed_by=partner_a)
    inherited = RelationshipFactory(company=own_company)  # no partner of its own
    assigned = RelationshipFactory(managed_by=partner_a)  # on an in-house company
    other_partners = RelationshipFactory(company=own_company, managed_by=partner_b)
    in_house = RelationshipFactory()

    assert partner_a_client.get(page(inherited)).status_code == 200
    assert partner_a_client.get(page(assigned)).status_code == 200
    assert partner_a_client.get(page(other_partners)).status_code == 404
    assert partner_a_client.get(page(in_house)).status_code == 404


def test_companies_only_partner_opens_no_relationship(partner_b, partner_b_client):
    relationship = RelationshipFactory(company=CompanyFactory(managed_by=partner_b))

    assert partner_b_client.get(page(relationship)).status_code == 404


def test_a_relationship_that_does_not_exist_is_404(csm_client):
    assert csm_client.get("/relationships/424242/").status_code == 404


def test_header_shows_type_company_status_money_and_dates(csm_user, csm_client, partner_a):
    csm_user.first_name, csm_user.last_name = "Casey", "Morgan"
    csm_user.save()
    company = CompanyFactory(name="Acme Corp")
    relationship = RelationshipFactory(
        company=company,
        relationship_type=RelationshipTypeFactory(name="Analytics"),
        name="Analytics EMEA",
        status=Relationship.Status.ON_HOLD,
        stage=Relationship.Stage.ADOPTION,
        arr=Decimal("120000"),
        mrr=Decimal("10000"),
        start_date=dt.date(2024, 3, 4),
        renewal_date=dt.date.today() + dt.timedelta(days=10),
        csm=csm_user,
        managed_by=partner_a,
    )

    html = open_360(csm_client, page(relationship))

    for text in (
        '<h1 class="record-header__name">Analytics EMEA</h1>',
        "Analytics",
        f'<a href="{company.get_absolute_url()}">Acme Corp</a>',
        '<span class="badge badge--on_hold">On hold</span>',
        "Adoption",
        "$120,000",
        "$10,000",
        "Mar 4, 2024",
        "in 10 days",
        "Casey Morgan",
        "Partner A",
    ):
        assert text in html, text


def test_company_is_named_but_not_linked_when_the_partner_may_not_open_it(
    partner_a, partner_b, partner_a_client
):
    company = CompanyFactory(name="Bravo Managed", managed_by=partner_b)
    relationship = RelationshipFactory(company=company, managed_by=partner_a)

    html = open_360(partner_a_client, page(relationship))

    assert "Bravo Managed" in html
    assert company.get_absolute_url() not in html


def _typed_relationship(**attributes: object) -> Relationship:
    kind = RelationshipTypeFactory(name="Typed")
    fields = [
        ("amount", "Contract value", Kind.CURRENCY),
        ("adoption", "Adoption", Kind.PERCENT),
        ("seats", "Seats", Kind.NUMBER),
        ("renewed", "Auto renews", Kind.BOOLEAN),
        ("trial", "Trial", Kind.BOOLEAN),
        ("portal", "Portal", Kind.URL),
        ("owner", "Owner email", Kind.EMAIL),
        ("notes", "Notes", Kind.LONG_TEXT),
        ("go_live", "Go-live", Kind.DATE),
        ("tier", "Tier", Kind.CHOICE),
        ("region", "Region", Kind.TEXT),
    ]
    for order, (key, label, field_kind) in enumerate(fields):
        RelationshipTypeFieldFactory(
            relationship_type=kind,
            key=key,
            label=label,
            kind=field_kind,
            order=order,
            choices=["Gold", "Silver"] if field_kind == Kind.CHOICE else [],
        )
    return RelationshipFactory(relationship_type=kind, attributes=attributes)


def test_fields_are_formatted_by_their_kind(csm_client):
    relationship = _typed_relationship(
        amount=1234.5,
        adoption=12.5,
        seats=15000,
        renewed=True,
        trial=False,
        portal="https://portal.example.com/acme",
        owner="owner@acme.example",
        notes="First line\nSecond line",
        go_live="2025-03-04",
        tier="Gold",
    )

    html = re.sub(r">\s+<", "><", open_360(csm_client, page(relationship)))

    expected = {
        "Contract value": "$1,234.50",
        "Adoption": "12.5%",
        "Seats": "15,000",
        "Auto renews": "Yes",
        "Trial": "No",
        "Portal": '<a href="https://portal.example.com/acme" target="_blank" '
        'rel="noopener noreferrer">https://portal.example.com/acme</a>',
        "Owner email": '<a href="mailto:owner@acme.example">owner@acme.example</a>',
        "Notes": '<span class="long-text">First line<br>Second line</span>',
        "Go-live": "Mar 4, 2025",
        "Tier": "Gold",
        "Region": '<span class="empty-value">—</span>',
    }
    for label, value in expected.items():
        assert f"<dt>{label}</dt><dd>{value}</dd>" in html, label


def test_stored_values_are_escaped_and_never_become_script_links(csm_client):
    relationship = _typed_relationship(notes="<script>alert(1)</script>\nok")
    # Values written around the model's checks (an old import, say) must still be harmless.
    Relationship.objects.filter(pk=relationship.pk).update(
        attributes={
            "notes": "<script>alert(1)</script>\nok",
            "portal": "javascript:alert(1)",
            "region": '<img src=x onerror="alert(1)">',
        }
    )

    html = open_360(csm_client, page(relationship))

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>ok" in html
    assert 'href="javascript:' not in html
    assert "<img src=x" not in html


def test_a_type_without_fields_shows_the_standard_fields(csm_client):
    relationship = RelationshipFactory(
        relationship_type=RelationshipTypeFactory(name="Bare"), status="at_risk"
    )

    html = re.sub(r">\s+<", "><", open_360(csm_client, page(relationship)))

    assert "<dt>Status</dt><dd>At risk</dd>" in html
    assert "field-list__help" not in html


def test_people_are_listed_with_their_role_on_the_relationship(csm_client):
    relationship = RelationshipFactory()
    member = CompanyPersonFactory(
        company=relationship.company,
        person=PersonFactory(first_name="Omar", last_name="Champion"),
        title="Head of Data",
        sentiment="negative",
    )
    RelationshipPersonFactory(relationship=relationship, company_person=member, role="champion")

    html = open_360(csm_client, page(relationship))

    for text in ("Omar Champion", "Head of Data", ">Champion<", "Negative"):
        assert text in html, text


def test_no_people_has_an_empty_state(csm_client):
    html = open_360(csm_client, page(RelationshipFactory()))

    assert "No people on this relationship" in html


def _relationship_with(people: int, fields: int) -> Relationship:
    kind = RelationshipTypeFactory(name=f"Budget {people}")
    for number in range(fields):
        RelationshipTypeFieldFactory(relationship_type=kind, key=f"f{number}")
    relationship = RelationshipFactory(
        relationship_type=kind,
        company=CompanyFactory(managed_by=PartnerFactory(name="Partner A")),
        attributes={f"f{number}": f"value {number}" for number in range(fields)},
    )
    for _ in range(people):
        RelationshipPersonFactory(relationship=relationship)
    return relationship


@pytest.mark.parametrize("persona", ["csm_client", "partner_a_client"])
def test_relationship_page_queries_do_not_grow(request, persona, django_assert_max_num_queries):
    client = request.getfixturevalue(persona)
    counts = []
    for people, fields in ((1, 1), (30, 25)):
        relationship = _relationship_with(people, fields)
        open_360(client, page(relationship))  # the first visit creates the type's default layout
        with django_assert_max_num_queries(12) as captured:
            assert client.get(page(relationship)).status_code == 200
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
