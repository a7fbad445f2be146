"""Who a user may pick in a user field: `partners.access.users_choosable_by`, used by every one.

A partner user sees only their partner's users and the record's current CSM in any user
choice (a record's CSM, a CTA's, task's or plan's owner), never the internal staff list;
internal users get the active internal staff.
"""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib.auth.models import Group, Permission, User

from layouts.models import Layout
from layouts.sections import section_url
from partners.access import users_choosable_by
from partners.services import partner_update, partner_user_update
from success.forms.plans import ObjectiveForm, SuccessPlanForm
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    PartnerUserFactory,
    RelationshipFactory,
    SectionFactory,
    SuccessPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def staff(csm_user) -> dict[str, User]:
    """The record's CSM and two other internal users, one of them gone."""
    return {
        "csm": csm_user,
        "colleague": UserFactory(username="casey", first_name="Casey", last_name="Internal"),
        "gone": UserFactory(username="gone", first_name="Gone", last_name="Away", is_active=False),
    }


@pytest.fixture
def partner_a_colleague(partner_a) -> User:
    return PartnerUserFactory(
        partner=partner_a, user__username="pat", user__first_name="Pat", user__last_name="Partner"
    ).user


@pytest.fixture
def editing_partner_a_user(partner_a_user) -> User:
    """partner-a with a bundle that may change companies and relationships."""
    bundle = Group.objects.create(name="Partner editors")
    bundle.permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_company",
                "change_company",
                "view_relationship",
                "change_relationship",
            ]
        )
    )
    partner_user_update(partner_user=partner_a_user.partner_membership, bundle=bundle)
    return User.objects.get(pk=partner_a_user.pk)


def usernames(queryset) -> set[str]:
    return {user.get_username() for user in queryset}


def owner_usernames(form: forms.Form) -> set[str]:
    field = form.fields["owner"]
    assert isinstance(field, forms.ModelChoiceField)
    return usernames(field.queryset)


# ---------- the helper ----------


def test_internal_users_choose_among_the_active_internal_staff(
    staff, partner_a_user, partner_a_colleague
):
    chosen = usernames(users_choosable_by(staff["csm"]))

    assert {"csm", "casey"} <= chosen
    assert not chosen & {"gone", "partner-a", "pat"}
    assert usernames(users_choosable_by(None)) == chosen


def test_a_partner_user_chooses_their_colleagues_and_the_records_csm_only(
    staff, partner_a, partner_a_user, partner_a_colleague, partner_b_user
):
    company = CompanyFactory(managed_by=partner_a, csm=staff["csm"])
    relationship = RelationshipFactory(company=company, csm=staff["colleague"])

    assert usernames(users_choosable_by(partner_a_user)) == {"partner-a", "pat"}
    assert usernames(users_choosable_by(partner_a_user, company_id=company.pk)) == {
        "partner-a",
        "pat",
        "csm",
    }
    assert usernames(users_choosable_by(partner_a_user, relationship_id=relationship.pk)) == {
        "partner-a",
        "pat",
        "casey",
    }


def test_a_record_the_partner_user_may_not_see_adds_nobody(
    staff, partner_a_user, partner_b, partner_a_colleague
):
    foreign = CompanyFactory(managed_by=partner_b, csm=staff["csm"])
    house = CompanyFactory(csm=staff["colleague"])

    assert usernames(users_choosable_by(partner_a_user, company_id=foreign.pk)) == {
        "partner-a",
        "pat",
    }
    assert usernames(users_choosable_by(partner_a_user, company_id=house.pk)) == {
        "partner-a",
        "pat",
    }


def test_any_record_adds_the_csms_of_the_records_the_partner_user_sees(
    staff, partner_a, partner_a_user, partner_b, partner_a_colleague
):
    cora, rex, bea = (UserFactory(username=name) for name in ("cora", "rex", "bea"))
    company = CompanyFactory(managed_by=partner_a, csm=cora)
    # Run by partner A at a house company: its CSM counts, the company's does not.
    RelationshipFactory(
        company=CompanyFactory(csm=staff["colleague"]), csm=rex, managed_by=partner_a
    )
    CompanyFactory(managed_by=partner_b, csm=bea)
    RelationshipFactory(company=company, csm=bea, managed_by=partner_b)

    chosen = users_choosable_by(partner_a_user, any_record=True)

    assert usernames(chosen) == {"partner-a", "pat", "cora", "rex"}
    # Each record's grant is read by a probe per record, never joined: a prepared statement's
    # generic plan hashed every grant of the partner for such a join.
    sql = str(chosen.query)
    for grants in ("companygroupobjectpermission", "relationshipgroupobjectpermission"):
        assert f'JOIN "partners_{grants}"' not in sql
        assert f'FROM "partners_{grants}"' in sql
    partner_update(partner=partner_a, data_scope=partner_a.DataScope.COMPANIES_ONLY)
    companies_only = User.objects.get(pk=partner_a_user.pk)
    assert usernames(users_choosable_by(companies_only, any_record=True)) == {
        "partner-a",
        "pat",
        "cora",
    }


def test_the_fields_current_value_stays_a_choice(staff, partner_a_user):
    chosen = users_choosable_by(partner_a_user, current_id=staff["gone"].pk)

    assert usernames(chosen) == {"partner-a", "gone"}


def test_a_deactivated_colleague_is_no_choice(partner_a_user, partner_a_colleague):
    partner_a_colleague.is_active = False
    partner_a_colleague.save()

    assert usernames(users_choosable_by(partner_a_user)) == {"partner-a"}


# ---------- the CSM in the attributes section ----------


def attributes_section(subject_target: str, relationship_type=None):
    layout = LayoutFactory(target=subject_target, relationship_type=relationship_type)
    section = SectionFactory(layout=layout, kind="attributes")
    section.config = {"fields": ["name", "csm"]}
    section.save()
    return section


def csm_options(html: str) -> set[str]:
    select = re.search(r"<select[^>]*>(.*?)</select>", html, re.S)
    assert select is not None, html
    return {text.strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", select[1])}


def test_a_partner_editor_sees_only_colleagues_and_the_current_csm_as_csm(
    client, staff, partner_a, editing_partner_a_user, partner_a_colleague
):
    company = CompanyFactory(managed_by=partner_a, csm=staff["csm"])
    section = attributes_section(Layout.Target.COMPANY)
    client.force_login(editing_partner_a_user)

    response = client.get(section_url(company, section, "edit"), {"field": "csm"}, headers=HTMX)

    assert response.status_code == 200
    options = csm_options(response.content.decode())
    csm_name = staff["csm"].get_full_name()
    assert options == {
        "Unassigned",
        csm_name,
        "Pat Partner",
        editing_partner_a_user.get_full_name(),
    }
    assert "Casey Internal" not in response.content.decode()


def test_a_partner_editor_cannot_make_internal_staff_the_csm(
    client, staff, partner_a, editing_partner_a_user, partner_a_colleague
):
    company = CompanyFactory(managed_by=partner_a, csm=staff["csm"])
    section = attributes_section(Layout.Target.COMPANY)
    client.force_login(editing_partner_a_user)
    url = section_url(company, section, "save")

    refused = client.post(url, {"field": "csm", "value": staff["colleague"].pk}, headers=HTMX)
    company.refresh_from_db()

    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert company.csm == staff["csm"]

    given = client.post(url, {"field": "csm", "value": partner_a_colleague.pk}, headers=HTMX)
    company.refresh_from_db()

    assert given.status_code == 200
    assert company.csm == partner_a_colleague


def test_a_partner_editor_sees_the_relationships_own_csm_on_its_r360(
    client, staff, partner_a, editing_partner_a_user
):
    company = CompanyFactory(managed_by=partner_a, csm=staff["csm"])
    relationship = RelationshipFactory(company=company, csm=staff["colleague"])
    section = attributes_section(Layout.Target.RELATIONSHIP, relationship.relationship_type)
    client.force_login(editing_partner_a_user)

    response = client.get(
        section_url(relationship, section, "edit"), {"field": "csm"}, headers=HTMX
    )

    assert response.status_code == 200
    options = csm_options(response.content.decode())
    assert "Casey Internal" in options
    assert staff["csm"].get_full_name() not in options


def test_an_internal_csm_still_picks_from_the_internal_staff(client, staff, partner_a_colleague):
    company = CompanyFactory(csm=staff["csm"])
    section = attributes_section(Layout.Target.COMPANY)
    client.force_login(staff["csm"])

    response = client.get(section_url(company, section, "edit"), {"field": "csm"}, headers=HTMX)

    options = csm_options(response.content.decode())
    assert {"Casey Internal", staff["csm"].get_full_name()} <= options
    assert "Pat Partner" not in options and "Gone Away" not in options


# ---------- success plan and objective owners ----------


def test_plan_owners_for_a_partner_user_are_their_colleagues_and_the_companys_csm(
    staff, partner_a, partner_a_user, partner_a_colleague
):
    company = CompanyFactory(managed_by=partner_a, csm=staff["csm"])
    plan = SuccessPlanFactory(company=company, owner=partner_a_colleague)

    new = SuccessPlanForm(user=partner_a_user, company=company)
    picked = SuccessPlanForm(user=partner_a_user, data={"company": str(company.pk)})
    edited = SuccessPlanForm(user=partner_a_user, plan=plan)
    objective = ObjectiveForm(user=partner_a_user, plan=plan)

    expected = {"partner-a", "pat", "csm"}
    assert owner_usernames(new) == expected
    assert owner_usernames(picked) == expected
    assert owner_usernames(edited) == expected
    assert owner_usernames(objective) == expected


def test_a_partner_user_cannot_give_a_plan_to_internal_staff(staff, partner_a, partner_a_user):
    company = CompanyFactory(managed_by=partner_a, csm=staff["csm"])
    plan = SuccessPlanFactory(company=company, owner=partner_a_user)

    form = ObjectiveForm(
        user=partner_a_user, plan=plan, data={"name": "Go live", "owner": staff["colleague"].pk}
    )

    assert not form.is_valid()
    assert form.errors["owner"] == ["Choose an owner from the list."]


def test_an_internal_plan_keeps_its_partner_owner_when_edited(
    staff, partner_a, partner_a_colleague
):
    plan = SuccessPlanFactory(
        company=CompanyFactory(managed_by=partner_a), owner=partner_a_colleague
    )

    form = SuccessPlanForm(user=staff["csm"], plan=plan)

    chosen = owner_usernames(form)
    assert "pat" in chosen and "casey" in chosen and "partner-a" not in chosen


def test_internal_choices_narrowed_to_a_permission_are_its_holders():
    """Directly, through a group, or as a superuser; never an inactive or partner user."""
    change_cta = Permission.objects.get(codename="change_cta")
    direct = UserFactory(username="direct")
    direct.user_permissions.add(change_cta)
    grouped = UserFactory(username="grouped")
    workers = Group.objects.create(name="Workers")
    workers.permissions.add(change_cta)
    grouped.groups.add(workers, Group.objects.create(name="Empty"))
    UserFactory(username="boss", is_superuser=True)
    UserFactory(username="reader").user_permissions.add(Permission.objects.get(codename="view_cta"))
    UserFactory(username="gone", is_active=False).groups.add(workers)
    PartnerUserFactory(user__username="partnered").user.groups.add(workers)
    chosen = users_choosable_by(None, permission="success.change_cta")
    assert {user.username for user in chosen} == {"direct", "grouped", "boss"}
    assert list(users_choosable_by(None, permission="success.no_such_thing")) == list(
        User.objects.filter(username="boss")
    )
