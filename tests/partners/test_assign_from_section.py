"""Admins hand a record to a partner from the attributes section ("Managed by"); nobody else
may, and the partner's object permissions follow at once."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission, User

from layouts.models import Layout
from layouts.sections import section_url
from partners.access import companies_visible_to, relationships_visible_to
from partners.management.commands.check_partner_permissions import find_drift
from partners.models import CompanyGroupObjectPermission
from partners.roles import CS_ADMIN
from partners.services import partner_update, partner_user_update
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    PartnerFactory,
    RelationshipFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def attributes_section(target: str = Layout.Target.COMPANY, relationship_type=None):
    layout = LayoutFactory(target=target, relationship_type=relationship_type)
    section = SectionFactory(layout=layout, kind="attributes")
    section.config = {"fields": ["name", "managed_by"]}
    section.save()
    return section


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def edit_buttons(html: str) -> list[str]:
    return re.findall(r'aria-label="Edit ([^"]+)"', html)


@pytest.fixture
def cs_admin_client(client):
    client.force_login(UserFactory(username="cs-admin", groups=[CS_ADMIN]))
    return client


def test_an_admin_assigns_a_company_to_a_partner_and_its_users_see_it(
    cs_admin_client, partner_a, partner_a_user
):
    company = CompanyFactory(name="Acme")
    section = attributes_section()

    shown = cs_admin_client.get(section_url(company, section), headers=HTMX).content.decode()
    form = cs_admin_client.get(
        section_url(company, section, "edit"), {"field": "managed_by"}, headers=HTMX
    ).content.decode()
    saved = cs_admin_client.post(
        section_url(company, section, "save"),
        {"field": "managed_by", "value": partner_a.pk},
        headers=HTMX,
    )

    assert edit_buttons(shown) == ["Name", "Managed by (partner)"]
    assert "No partner — run in house" in form and "Partner A" in form
    assert saved.status_code == 200
    assert "<dd>Partner A</dd>" in re.sub(r">\s+<", "><", saved.content.decode())
    company.refresh_from_db()
    assert company.managed_by == partner_a
    assert list(companies_visible_to(fresh(partner_a_user))) == [company]
    assert CompanyGroupObjectPermission.objects.filter(content_object=company).exists()
    assert find_drift() == []


def test_an_admin_takes_a_company_back_in_house(cs_admin_client, partner_a, partner_a_user):
    company = CompanyFactory(managed_by=partner_a)
    section = attributes_section()

    cs_admin_client.post(
        section_url(company, section, "save"), {"field": "managed_by", "value": ""}, headers=HTMX
    )

    company.refresh_from_db()
    assert company.managed_by is None
    assert not companies_visible_to(fresh(partner_a_user)).exists()
    assert not CompanyGroupObjectPermission.objects.filter(content_object=company).exists()
    assert find_drift() == []


def test_an_admin_assigns_a_relationship_of_an_unmanaged_company(
    cs_admin_client, partner_a, partner_a_user
):
    relationship = RelationshipFactory()
    section = attributes_section(Layout.Target.RELATIONSHIP, relationship.relationship_type)

    cs_admin_client.post(
        section_url(relationship, section, "save"),
        {"field": "managed_by", "value": partner_a.pk},
        headers=HTMX,
    )

    assert list(relationships_visible_to(fresh(partner_a_user))) == [relationship]
    assert find_drift() == []


def test_an_inactive_partner_is_no_choice(cs_admin_client):
    inactive = PartnerFactory(name="Dormant Partner")
    partner_update(partner=inactive, active=False)
    company = CompanyFactory()
    section = attributes_section()

    response = cs_admin_client.post(
        section_url(company, section, "save"),
        {"field": "managed_by", "value": inactive.pk},
        headers=HTMX,
    )

    assert "Choose an active partner from the list." in response.content.decode()
    company.refresh_from_db()
    assert company.managed_by is None


def test_a_csm_changes_fields_but_not_the_partner(csm_client, partner_a):
    company = CompanyFactory(name="Acme")
    section = attributes_section()

    shown = csm_client.get(section_url(company, section), headers=HTMX).content.decode()
    form = csm_client.get(
        section_url(company, section, "edit"), {"field": "managed_by"}, headers=HTMX
    )
    save = csm_client.post(
        section_url(company, section, "save"),
        {"field": "managed_by", "value": partner_a.pk},
        headers=HTMX,
    )

    assert edit_buttons(shown) == ["Name"]
    assert form.status_code == save.status_code == 403
    company.refresh_from_db()
    assert company.managed_by is None


def test_a_partner_user_who_may_change_companies_cannot_hand_one_elsewhere(
    client, partner_a, partner_a_user, partner_b
):
    bundle = Group.objects.create(name="Partner editors")
    bundle.permissions.add(
        *Permission.objects.filter(codename__in=["view_company", "change_company"])
    )
    partner_user_update(partner_user=partner_a_user.partner_membership, bundle=bundle)
    company = CompanyFactory(managed_by=partner_a)
    section = attributes_section()
    client.force_login(partner_a_user)

    shown = client.get(section_url(company, section), headers=HTMX).content.decode()
    save = client.post(
        section_url(company, section, "save"),
        {"field": "managed_by", "value": partner_b.pk},
        headers=HTMX,
    )

    assert edit_buttons(shown) == ["Name"]
    assert "<dd>Partner A</dd>" in re.sub(r">\s+<", "><", shown)
    assert save.status_code == 403
    company.refresh_from_db()
    assert company.managed_by == partner_a
