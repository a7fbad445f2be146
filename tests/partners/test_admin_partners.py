"""The partner admin, and every admin path that changes `managed_by`: each goes through the
assignment service, so check_partner_permissions finds no drift after any of them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from companies.models import Company
from partners.access import companies_visible_to, relationships_visible_to
from partners.models import (
    DEFAULT_BUNDLE,
    CompanyGroupObjectPermission,
    Partner,
    PartnerUser,
    RelationshipGroupObjectPermission,
)
from relationships.models import Relationship
from tests.factories import (
    CompanyFactory,
    PartnerFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    UserFactory,
)
from tests.test_admin import admin_url, posted

pytestmark = pytest.mark.django_db
ONLY = Partner.DataScope.COMPANIES_ONLY


def assert_no_drift() -> None:
    out = StringIO()
    call_command("check_partner_permissions", stdout=out)
    assert "No drift" in out.getvalue()


def granted_companies(partner: Partner) -> set[str]:
    return set(
        CompanyGroupObjectPermission.objects.filter(
            group=partner.group, permission__codename="view_company"
        ).values_list("content_object__name", flat=True)
    )


def granted_relationships(partner: Partner) -> set[str]:
    return set(
        RelationshipGroupObjectPermission.objects.filter(
            group=partner.group, permission__codename="view_relationship"
        ).values_list("content_object__name", flat=True)
    )


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


# ---------- partners and their users ----------


def test_adding_a_partner_in_the_admin_gives_it_its_group_and_users(admin_client):
    newcomer = UserFactory(username="newcomer")
    data = posted(
        admin_client.get(admin_url(Partner, "add")),
        name="Delta Partners",
        region="APAC",
        contact_name="Dee",
        contact_email="dee@delta.example",
        active="on",
        data_scope=ONLY,
    )
    data["members-0-user"] = str(newcomer.pk)

    response = admin_client.post(admin_url(Partner, "add"), data)

    assert response.status_code == 302
    partner = Partner.objects.get(name="Delta Partners")
    assert partner.group is not None and partner.group.name == "Partner: Delta Partners"
    assert partner.data_scope == ONLY
    membership = PartnerUser.objects.get(user=newcomer)
    assert membership.partner == partner and membership.bundle.name == DEFAULT_BUNDLE
    assert set(newcomer.groups.values_list("name", flat=True)) == {
        "Partner: Delta Partners",
        DEFAULT_BUNDLE,
    }
    assert_no_drift()


def test_the_bundle_select_defaults_to_the_default_bundle_and_offers_no_partner_group(
    admin_client, partner_a
):
    response = admin_client.get(admin_url(Partner, "change", partner_a.pk))

    html = response.content.decode()
    field = response.context["inline_admin_formsets"][0].formset.forms[0]["bundle"]
    offered = [str(label) for _, label in field.field.choices]
    assert field.value() == Group.objects.get(name=DEFAULT_BUNDLE).pk
    assert DEFAULT_BUNDLE in offered and "CSM" in offered
    assert "Partner: Partner A" not in offered
    # No "delete this group" link beside a user's bundle.
    assert 'id="view_id_members-0-bundle"' in html
    assert 'id="delete_id_members-0-bundle"' not in html


def test_a_partner_users_bundle_is_changed_on_the_partners_page(
    admin_client, partner_a, partner_a_user
):
    editors = Group.objects.create(name="Partner editors")
    url = admin_url(Partner, "change", partner_a.pk)
    data = posted(admin_client.get(url))
    data["members-0-bundle"] = str(editors.pk)

    assert admin_client.post(url, data).status_code == 302
    assert set(partner_a_user.groups.values_list("name", flat=True)) == {
        "Partner: Partner A",
        "Partner editors",
    }
    assert_no_drift()


def test_a_user_removed_on_the_partners_page_leaves_it_and_is_deactivated(
    admin_client, partner_a, partner_a_user
):
    url = admin_url(Partner, "change", partner_a.pk)
    data = posted(admin_client.get(url))
    data["members-0-DELETE"] = "on"

    assert admin_client.post(url, data).status_code == 302
    user = fresh(partner_a_user)
    assert not PartnerUser.objects.filter(user=user).exists()
    assert not user.is_active and not user.groups.exists()
    assert_no_drift()


def test_the_partner_user_page_refuses_a_user_of_another_partner(
    admin_client, partner_a_user, partner_b
):
    data = posted(
        admin_client.get(admin_url(PartnerUser, "add")),
        partner=str(partner_b.pk),
        user=str(partner_a_user.pk),
    )

    response = admin_client.post(admin_url(PartnerUser, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == [
        "partner-a already belongs to the partner Partner A. A user belongs to at most one "
        "partner: remove them from Partner A first."
    ]


def test_the_partner_user_page_moves_a_user_to_another_partner(
    admin_client, partner_a_user, partner_b
):
    membership = partner_a_user.partner_membership
    url = admin_url(PartnerUser, "change", membership.pk)

    response = admin_client.post(url, posted(admin_client.get(url), partner=str(partner_b.pk)))

    assert response.status_code == 302
    assert set(partner_a_user.groups.values_list("name", flat=True)) == {
        "Partner: Partner B",
        DEFAULT_BUNDLE,
    }
    assert_no_drift()


def test_renaming_a_partner_and_changing_its_scope_in_the_admin(admin_client, partner_a):
    acme = CompanyFactory(name="Acme", managed_by=partner_a)
    RelationshipFactory(company=acme, name="Suite")
    url = admin_url(Partner, "change", partner_a.pk)

    response = admin_client.post(
        url, posted(admin_client.get(url), name="Partner Alpha", data_scope=ONLY)
    )

    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.group.name == "Partner: Partner Alpha"
    assert granted_companies(partner_a) == {"Acme"}
    assert granted_relationships(partner_a) == set()
    assert_no_drift()


def test_deactivating_partners_from_the_list_hides_their_records(
    admin_client, partner_a, partner_a_user
):
    CompanyFactory(managed_by=partner_a)

    response = admin_client.post(
        admin_url(Partner, "changelist"),
        {"action": "deactivate", "_selected_action": [partner_a.pk]},
    )

    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert not partner_a.active
    assert not companies_visible_to(fresh(partner_a_user)).exists()
    assert_no_drift()


def test_deleting_a_partner_in_the_admin_hands_its_records_back(admin_client, partner_a, partner_b):
    CompanyFactory(name="Acme", managed_by=partner_a)
    RelationshipFactory(company=CompanyFactory(managed_by=partner_b), managed_by=partner_a)
    user = PartnerUserFactory(partner=partner_a).user

    response = admin_client.post(
        admin_url(Partner, "changelist"),
        {"action": "delete_selected", "_selected_action": [partner_a.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Partner.objects.filter(name="Partner A").exists()
    assert not Group.objects.filter(name="Partner: Partner A").exists()
    assert Company.objects.get(name="Acme").managed_by is None
    assert not fresh(user).is_active
    assert_no_drift()


# ---------- the company and relationship change forms ----------


def test_the_company_form_assigns_and_removes_the_partner(admin_client, partner_a):
    acme = CompanyFactory(name="Acme")
    RelationshipFactory(company=acme, name="Suite")
    url = admin_url(Company, "change", acme.pk)

    assigned = admin_client.post(url, posted(admin_client.get(url), managed_by=str(partner_a.pk)))
    granted = (granted_companies(partner_a), granted_relationships(partner_a))
    assert_no_drift()
    removed = admin_client.post(url, posted(admin_client.get(url), managed_by=""))

    assert (assigned.status_code, removed.status_code) == (302, 302)
    assert granted == ({"Acme"}, {"Suite"})
    assert granted_companies(partner_a) == set() and granted_relationships(partner_a) == set()
    assert_no_drift()


def test_a_company_added_in_the_admin_with_a_partner_is_granted(admin_client, partner_a):
    data = posted(
        admin_client.get(admin_url(Company, "add")),
        name="Initech",
        status="active",
        arr="0",
        mrr="0",
        managed_by=str(partner_a.pk),
    )

    response = admin_client.post(admin_url(Company, "add"), data)

    assert response.status_code == 302
    assert granted_companies(partner_a) == {"Initech"}
    assert_no_drift()


def test_the_relationship_form_assigns_a_partner_and_moves_company(
    admin_client, partner_a, partner_b
):
    charlie = PartnerFactory(name="Charlie")
    suite = RelationshipFactory(company=CompanyFactory(managed_by=charlie), name="Suite")
    url = admin_url(Relationship, "change", suite.pk)

    admin_client.post(url, posted(admin_client.get(url), managed_by=str(partner_a.pk)))
    own = (granted_relationships(partner_a), granted_relationships(charlie))
    admin_client.post(url, posted(admin_client.get(url), managed_by=""))
    followed = granted_relationships(charlie)
    elsewhere = CompanyFactory(name="Elsewhere", managed_by=PartnerFactory(name="Echo"))
    admin_client.post(url, posted(admin_client.get(url), company=str(elsewhere.pk)))

    assert own == ({"Suite"}, set())
    assert followed == {"Suite"}
    assert granted_relationships(charlie) == set()
    assert granted_relationships(Partner.objects.get(name="Echo")) == {"Suite"}
    assert_no_drift()


def test_a_relationship_added_in_the_admin_follows_its_companys_partner(admin_client, partner_a):
    company = CompanyFactory(managed_by=partner_a)
    product = RelationshipTypeFactory(name="Analytics")
    url = admin_url(Relationship, "add") + f"?relationship_type={product.pk}"
    data = posted(
        admin_client.get(url),
        company=str(company.pk),
        name="Analytics Rollout",
        status="active",
        arr="0",
        mrr="0",
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert granted_relationships(partner_a) == {"Analytics Rollout"}
    assert_no_drift()


# ---------- bulk actions on the changelists ----------


def test_assign_to_partner_asks_for_the_partner_first(admin_client, partner_a):
    acme, globex = CompanyFactory(name="Acme"), CompanyFactory(name="Globex")

    response = admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "assign_to_partner", "_selected_action": [acme.pk, globex.pk]},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/partners/assign_partner.html"
    html = response.content.decode()
    assert "Assign 2 companies" in html and "Acme" in html and "Globex" in html
    assert f'<option value="{partner_a.pk}">Partner A</option>' in html
    assert not Company.objects.filter(managed_by__isnull=False).exists()


def test_assign_to_partner_without_a_partner_says_so_and_assigns_nothing(admin_client):
    acme = CompanyFactory(name="Acme")

    response = admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "assign_to_partner", "_selected_action": [acme.pk], "apply": "Assign"},
    )

    assert response.status_code == 200
    assert "Choose the partner that takes these records over." in response.content.decode()
    assert Company.objects.get(pk=acme.pk).managed_by is None


def test_assign_to_partner_assigns_the_selected_companies(admin_client, partner_a, partner_b):
    acme = CompanyFactory(name="Acme", managed_by=partner_b)
    RelationshipFactory(company=acme, name="Suite")
    globex = CompanyFactory(name="Globex")
    CompanyFactory(name="Left Alone")

    response = admin_client.post(
        admin_url(Company, "changelist"),
        {
            "action": "assign_to_partner",
            "_selected_action": [acme.pk, globex.pk],
            "partner": partner_a.pk,
            "apply": "Assign",
        },
        follow=True,
    )

    assert "2 companies assigned to Partner A." in response.content.decode()
    assert granted_companies(partner_a) == {"Acme", "Globex"}
    assert granted_relationships(partner_a) == {"Suite"}
    assert granted_companies(partner_b) == set()
    assert_no_drift()


def test_assign_to_partner_across_every_page_of_a_filtered_list(admin_client, partner_a):
    for number in range(60):
        CompanyFactory(name=f"Enterprise {number}", segment=Company.Segment.ENTERPRISE)
    CompanyFactory(name="Small One", segment=Company.Segment.SMB)
    url = admin_url(Company, "changelist") + "?segment__exact=enterprise"

    response = admin_client.post(
        url,
        {
            "action": "assign_to_partner",
            "_selected_action": [Company.objects.filter(segment="enterprise").first().pk],
            "select_across": "1",
            "partner": partner_a.pk,
            "apply": "Assign",
        },
        follow=True,
    )

    assert "60 companies assigned to Partner A." in response.content.decode()
    assert len(granted_companies(partner_a)) == 60
    assert "Small One" not in granted_companies(partner_a)
    assert_no_drift()


def test_assign_and_remove_partner_on_the_relationship_list(admin_client, partner_a, partner_b):
    suite = RelationshipFactory(name="Suite", company=CompanyFactory(managed_by=partner_b))
    platform = RelationshipFactory(name="Platform")
    url = admin_url(Relationship, "changelist")

    admin_client.post(
        url,
        {
            "action": "assign_to_partner",
            "_selected_action": [suite.pk, platform.pk],
            "partner": partner_a.pk,
            "apply": "Assign",
        },
    )
    assigned = granted_relationships(partner_a)
    assert_no_drift()
    response = admin_client.post(
        url, {"action": "remove_partner", "_selected_action": [suite.pk, platform.pk]}, follow=True
    )

    assert assigned == {"Suite", "Platform"}
    assert "2 relationships no longer managed by a partner." in response.content.decode()
    assert granted_relationships(partner_a) == set()
    assert not Relationship.objects.filter(managed_by__isnull=False).exists()
    assert_no_drift()


def test_remove_partner_on_the_company_list(admin_client, partner_a, partner_a_user):
    acme = CompanyFactory(name="Acme", managed_by=partner_a)
    RelationshipFactory(company=acme, name="Suite")

    response = admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "remove_partner", "_selected_action": [acme.pk]},
        follow=True,
    )

    assert "1 company no longer managed by a partner." in response.content.decode()
    user = fresh(partner_a_user)
    assert not companies_visible_to(user).exists()
    assert not relationships_visible_to(user).exists()
    assert_no_drift()


def test_deleting_companies_and_relationships_in_the_admin_leaves_no_grant(admin_client, partner_a):
    acme = CompanyFactory(name="Acme", managed_by=partner_a)
    suite = RelationshipFactory(company=CompanyFactory(managed_by=partner_a))

    admin_client.post(
        admin_url(Relationship, "changelist"),
        {"action": "delete_selected", "_selected_action": [suite.pk], "post": "yes"},
    )
    admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "delete_selected", "_selected_action": [acme.pk], "post": "yes"},
    )

    assert "Acme" not in granted_companies(partner_a)
    assert granted_relationships(partner_a) == set()
    assert_no_drift()


def test_the_permission_tables_are_read_only_in_the_admin(admin_client, partner_a):
    CompanyFactory(name="Acme", managed_by=partner_a)
    row = CompanyGroupObjectPermission.objects.get(permission__codename="view_company")

    listing = admin_client.get(admin_url(CompanyGroupObjectPermission, "changelist"))
    change = admin_client.get(admin_url(CompanyGroupObjectPermission, "change", row.pk))

    assert listing.status_code == 200 and "Acme" in listing.content.decode()
    assert admin_client.get(admin_url(CompanyGroupObjectPermission, "add")).status_code == 403
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()


# ---------- the grants' lists ----------


@pytest.mark.parametrize("size", [2, 12])
def test_the_grant_lists_run_a_fixed_number_of_queries_and_search_by_name(
    admin_client, django_assert_max_num_queries, size
):
    from partners.services import partner_assign

    partner = PartnerFactory()
    companies = [CompanyFactory(name=f"Customer {n}") for n in range(size)]
    relationships = [RelationshipFactory(company=c, name=f"Plan of {c.name}") for c in companies]
    partner_assign(records=companies, partner=partner)
    url = admin_url(CompanyGroupObjectPermission, "changelist")
    # The session, the user, the partner check, the groups of the filter, the count, the
    # page's keys and its rows (each permission's content type joined, not one query a row).
    with django_assert_max_num_queries(7):
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 2 * size  # view and change
    response = admin_client.get(url, {"q": "customer 1"})
    named = {grant.content_object.name for grant in response.context["cl"].result_list}
    assert named == {c.name for c in companies if c.name.startswith("Customer 1")}
    response = admin_client.get(
        admin_url(RelationshipGroupObjectPermission, "changelist"), {"q": "of customer 0"}
    )
    named = {grant.content_object.name for grant in response.context["cl"].result_list}
    assert named == {relationships[0].name}
