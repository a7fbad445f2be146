"""The assignment service keeps the partners' object permissions in step with `managed_by`,
and check_partner_permissions reports (and repairs) any difference."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from companies.models import Company
from companies.services import company_create, company_update
from partners.access import companies_visible_to, relationships_visible_to
from partners.management.commands.check_partner_permissions import find_drift
from partners.models import (
    DEFAULT_BUNDLE,
    CompanyGroupObjectPermission,
    Partner,
    PartnerUser,
    RelationshipGroupObjectPermission,
    default_bundle_permissions,
)
from partners.services import (
    partner_assign,
    partner_create,
    partner_delete,
    partner_unassign,
    partner_update,
    partner_user_add,
    partner_user_remove,
    partner_user_update,
)
from relationships.models import Relationship
from relationships.services import relationship_create, relationship_update
from tests.factories import (
    CompanyFactory,
    PartnerFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
BOTH = Partner.DataScope.COMPANIES_AND_RELATIONSHIPS
ONLY = Partner.DataScope.COMPANIES_ONLY


def company_grants() -> set[tuple[str, str, str]]:
    """Every company permission row as (company, group, codename)."""
    return {
        (row.content_object.name, row.group.name, row.permission.codename)
        for row in CompanyGroupObjectPermission.objects.select_related(
            "content_object", "group", "permission"
        )
    }


def relationship_grants() -> set[tuple[str, str, str]]:
    return {
        (row.content_object.name, row.group.name, row.permission.codename)
        for row in RelationshipGroupObjectPermission.objects.select_related(
            "content_object", "group", "permission"
        )
    }


def both(record: str, partner: str, model: str) -> set[tuple[str, str, str]]:
    return {
        (record, f"Partner: {partner}", f"view_{model}"),
        (record, f"Partner: {partner}", f"change_{model}"),
    }


def assert_no_drift() -> None:
    out = StringIO()
    call_command("check_partner_permissions", stdout=out)
    assert "No drift" in out.getvalue()


@pytest.fixture
def alpha(db):
    return partner_create(name="Alpha", region="EMEA")


@pytest.fixture
def bravo(db):
    return partner_create(name="Bravo", data_scope=ONLY)


# ---------- companies ----------


def test_assigning_companies_grants_view_and_change_to_the_partners_group(alpha):
    acme, globex = CompanyFactory(name="Acme"), CompanyFactory(name="Globex")
    CompanyFactory(name="In House")

    assigned = partner_assign(
        records=Company.objects.filter(name__in=["Acme", "Globex"]), partner=alpha
    )

    assert assigned == 2
    assert set(Company.objects.filter(managed_by=alpha)) == {acme, globex}
    assert company_grants() == both("Acme", "Alpha", "company") | both("Globex", "Alpha", "company")
    assert_no_drift()


def test_unassigning_revokes_the_permissions(alpha):
    acme = CompanyFactory(name="Acme", managed_by=alpha)

    partner_unassign(records=[acme])

    acme.refresh_from_db()
    assert acme.managed_by is None
    assert company_grants() == set()
    assert_no_drift()


def test_reassigning_from_one_partner_to_another_moves_the_permissions(alpha, bravo):
    CompanyFactory(name="Acme", managed_by=alpha)
    CompanyFactory(name="Globex", managed_by=alpha)

    # The queryset selects by the old partner: the service reads the ids before it updates.
    partner_assign(records=Company.objects.filter(managed_by=alpha), partner=bravo)

    assert company_grants() == both("Acme", "Bravo", "company") | both("Globex", "Bravo", "company")
    assert not Company.objects.filter(managed_by=alpha).exists()
    assert_no_drift()


def test_records_of_both_kinds_in_one_call_are_refused(alpha):
    with pytest.raises(TypeError):
        partner_assign(records=[CompanyFactory(), RelationshipFactory()], partner=alpha)  # type: ignore[arg-type]


def test_a_partner_without_a_group_gets_one_when_it_is_assigned_records():
    partner = Partner.objects.create(name="Made Elsewhere")
    CompanyFactory(name="Acme")

    partner_assign(records=Company.objects.all(), partner=partner)

    partner.refresh_from_db()
    assert partner.group is not None and partner.group.name == "Partner: Made Elsewhere"
    assert company_grants() == both("Acme", "Made Elsewhere", "company")


# ---------- relationships ----------


def test_a_relationship_without_a_partner_follows_its_companys_partner(alpha, bravo):
    acme = CompanyFactory(name="Acme")
    RelationshipFactory(company=acme, name="Data Platform")
    RelationshipFactory(company=acme, name="Own Partner", managed_by=alpha)

    partner_assign(records=[acme], partner=alpha)
    followed = relationship_grants()
    partner_assign(records=[acme], partner=PartnerFactory(name="Charlie"))
    moved = relationship_grants()
    partner_unassign(records=[acme])
    unassigned = relationship_grants()

    assert followed == both("Data Platform", "Alpha", "relationship") | both(
        "Own Partner", "Alpha", "relationship"
    )
    # Its own partner wins over the company's.
    assert moved == both("Data Platform", "Charlie", "relationship") | both(
        "Own Partner", "Alpha", "relationship"
    )
    assert unassigned == both("Own Partner", "Alpha", "relationship")
    assert_no_drift()


def test_unassigning_a_relationship_hands_it_back_to_its_companys_partner(alpha):
    acme = CompanyFactory(name="Acme", managed_by=PartnerFactory(name="Charlie"))
    platform = RelationshipFactory(company=acme, name="Data Platform", managed_by=alpha)

    partner_unassign(records=Relationship.objects.filter(pk=platform.pk))

    assert relationship_grants() == both("Data Platform", "Charlie", "relationship")
    assert_no_drift()


def test_a_companies_only_partner_gets_no_relationship_permission(alpha, bravo):
    acme = CompanyFactory(name="Acme", managed_by=bravo)
    RelationshipFactory(company=acme, name="Followed")
    direct = RelationshipFactory(name="Assigned Directly")

    partner_assign(records=[direct], partner=bravo)

    assert company_grants() == both("Acme", "Bravo", "company")
    assert relationship_grants() == set()
    assert_no_drift()


def test_changing_the_data_scope_resyncs_the_relationship_permissions(alpha):
    acme = CompanyFactory(name="Acme", managed_by=alpha)
    RelationshipFactory(company=acme, name="Followed")
    RelationshipFactory(name="Assigned", managed_by=alpha)
    with_relationships = relationship_grants()

    partner_update(partner=alpha, data_scope=ONLY)
    companies_only = relationship_grants()
    partner_update(partner=alpha, data_scope=BOTH)

    assert with_relationships == both("Followed", "Alpha", "relationship") | both(
        "Assigned", "Alpha", "relationship"
    )
    assert companies_only == set()
    assert relationship_grants() == with_relationships
    assert company_grants() == both("Acme", "Alpha", "company")
    assert_no_drift()


def test_moving_a_relationship_to_another_company_moves_what_it_follows(alpha, bravo):
    charlie = PartnerFactory(name="Charlie")
    platform = relationship_create(
        company=CompanyFactory(managed_by=alpha),
        relationship_type=RelationshipTypeFactory(),
        name="Data Platform",
    )
    followed = relationship_grants()

    relationship_update(relationship=platform, company=CompanyFactory(managed_by=charlie))

    assert followed == both("Data Platform", "Alpha", "relationship")
    assert relationship_grants() == both("Data Platform", "Charlie", "relationship")
    assert_no_drift()


def test_the_company_and_relationship_services_grant_what_they_create(alpha):
    acme = company_create(name="Acme", managed_by=alpha)
    relationship_create(company=acme, relationship_type=RelationshipTypeFactory(), name="Suite")
    globex = company_create(name="Globex")
    company_update(company=globex, managed_by=alpha)

    assert company_grants() == both("Acme", "Alpha", "company") | both("Globex", "Alpha", "company")
    assert relationship_grants() == both("Suite", "Alpha", "relationship")
    assert_no_drift()


def test_thousands_of_records_are_assigned_in_a_bounded_number_of_queries(
    alpha, bravo, django_assert_max_num_queries
):
    Company.objects.bulk_create(
        Company(name=f"Bulk {n}", tree_id=n + 1, lft=1, rght=2, level=0) for n in range(1200)
    )

    # Statements per batch of 500, not per record: 1200 records, 3 batches. Each batch also
    # writes its records' audit rows, which SQLite takes about 45 rows per INSERT (its limit
    # of 999 parameters): about 30 statements more for 1200 records.
    with django_assert_max_num_queries(75):
        partner_assign(records=Company.objects.all(), partner=alpha)
    with django_assert_max_num_queries(75):
        partner_assign(records=Company.objects.all(), partner=bravo)

    assert CompanyGroupObjectPermission.objects.filter(group=bravo.group).count() == 2400
    assert not CompanyGroupObjectPermission.objects.filter(group=alpha.group).exists()
    assert_no_drift()


# ---------- partners: group, rename, deactivation, deletion ----------


def test_a_new_partner_gets_its_own_empty_group(alpha):
    assert alpha.group.name == "Partner: Alpha"
    assert not alpha.group.permissions.exists()


def test_renaming_a_partner_renames_its_group(alpha):
    group = alpha.group

    partner_update(partner=alpha, name="Alpha Services")

    group.refresh_from_db()
    assert group.name == "Partner: Alpha Services"


def test_a_partner_name_whose_group_name_is_someone_elses_is_refused(alpha):
    Group.objects.create(name="Partner: Bundle Co").permissions.add(
        Permission.objects.get(codename="view_company")
    )

    with pytest.raises(ValidationError) as refused:
        partner_create(name="Bundle Co")

    assert refused.value.message_dict["name"] == [
        "The group Partner: Bundle Co already exists and belongs to someone else: choose "
        "another partner name or rename that group."
    ]
    assert not Partner.objects.filter(name="Bundle Co").exists()


def test_deactivating_a_partner_hides_everything_and_reactivating_gives_it_back(alpha):
    user = PartnerUserFactory(partner=alpha).user
    acme = CompanyFactory(name="Acme", managed_by=alpha)
    RelationshipFactory(company=acme, name="Suite")

    partner_update(partner=alpha, active=False)
    user = type(user).objects.get(pk=user.pk)  # a fresh user: no cached partner
    hidden = (list(companies_visible_to(user)), list(relationships_visible_to(user)))
    partner_update(partner=alpha, active=True)
    user = type(user).objects.get(pk=user.pk)

    assert hidden == ([], [])
    assert [c.name for c in companies_visible_to(user)] == ["Acme"]
    assert [r.name for r in relationships_visible_to(user)] == ["Suite"]
    assert_no_drift()


def test_deleting_a_partner_hands_its_records_back_and_removes_its_group(alpha):
    charlie = PartnerFactory(name="Charlie")
    acme = CompanyFactory(name="Acme", managed_by=alpha)
    RelationshipFactory(company=acme, name="Followed")
    RelationshipFactory(company=CompanyFactory(managed_by=charlie), name="Taken", managed_by=alpha)
    member = PartnerUserFactory(partner=alpha).user
    group_pk = alpha.group_id

    partner_delete(partner=alpha)

    assert not Group.objects.filter(pk=group_pk).exists()
    assert company_grants() == both(
        Company.objects.get(managed_by=charlie).name, "Charlie", "company"
    )
    # The relationship it ran follows its company's partner again.
    assert relationship_grants() == both("Taken", "Charlie", "relationship")
    member.refresh_from_db()
    assert not member.is_active and not member.groups.exists()
    assert_no_drift()


# ---------- partner users: two groups, one partner ----------


def test_a_partner_user_is_in_their_partners_group_and_the_default_bundle(alpha):
    user = UserFactory(groups=["CSM"])

    membership = partner_user_add(partner=alpha, user=user)

    assert membership.bundle.name == DEFAULT_BUNDLE
    assert set(user.groups.values_list("name", flat=True)) == {"Partner: Alpha", DEFAULT_BUNDLE}
    assert_no_drift()


def test_changing_the_bundle_or_the_partner_keeps_exactly_two_groups(alpha, bravo):
    membership = PartnerUserFactory(partner=alpha)
    editors = Group.objects.create(name="Partner editors")

    partner_user_update(partner_user=membership, bundle=editors)
    with_editors = set(membership.user.groups.values_list("name", flat=True))
    partner_user_update(partner_user=membership, partner=bravo)

    assert with_editors == {"Partner: Alpha", "Partner editors"}
    assert set(membership.user.groups.values_list("name", flat=True)) == {
        "Partner: Bravo",
        "Partner editors",
    }
    assert_no_drift()


def test_a_user_of_one_partner_cannot_join_another(alpha, bravo):
    user = PartnerUserFactory(partner=alpha, user__username="dana").user

    with pytest.raises(ValidationError) as refused:
        partner_user_add(partner=bravo, user=user)

    assert refused.value.message_dict["user"] == [
        "dana already belongs to the partner Alpha. A user belongs to at most one partner: "
        "remove them from Alpha first."
    ]
    assert PartnerUser.objects.get(user=user).partner == alpha


def test_a_partners_own_group_is_not_a_bundle(alpha, bravo):
    with pytest.raises(ValidationError) as refused:
        partner_user_add(partner=alpha, user=UserFactory(), bundle=bravo.group)

    assert "bundle" in refused.value.message_dict


def test_a_removed_partner_user_leaves_both_groups_and_is_deactivated(alpha):
    membership = PartnerUserFactory(partner=alpha)
    user = membership.user

    partner_user_remove(partner_user=membership)

    user.refresh_from_db()
    # An active user without a partner would be an internal user, who sees every record.
    assert not user.is_active
    assert not user.groups.exists()
    assert_no_drift()


def test_the_default_bundle_holds_the_partner_work_permissions():
    bundle = Group.objects.get(name=DEFAULT_BUNDLE)
    held = set(bundle.permissions.values_list("content_type__app_label", "codename"))

    assert held == default_bundle_permissions()
    assert {
        ("companies", "view_company"),
        ("relationships", "view_relationship"),
        ("success", "delete_activity"),
        ("success", "add_cta"),
        ("success", "change_task"),
        ("success", "view_scoresnapshot"),
        ("success", "view_successplan"),
        ("success", "view_surveyresponse"),
    } <= held
    assert not held & {
        ("companies", "change_company"),
        ("success", "delete_cta"),
        ("success", "add_successplan"),
    }


def test_guardian_answers_from_the_direct_permission_tables(alpha):
    user = PartnerUserFactory(partner=alpha).user
    own = CompanyFactory(managed_by=alpha)
    other = CompanyFactory(managed_by=PartnerFactory())
    relationship = RelationshipFactory(company=own)

    assert user.has_perm("companies.view_company", own)
    assert user.has_perm("companies.change_company", own)
    assert not user.has_perm("companies.view_company", other)
    assert user.has_perm("relationships.view_relationship", relationship)


# ---------- check_partner_permissions ----------


def run_check(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_partner_permissions", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_the_checker_reports_missing_and_extra_grants_and_repairs_them(alpha, bravo):
    acme = CompanyFactory(name="Acme", managed_by=alpha)
    RelationshipFactory(company=acme, name="Suite")
    # Drift made behind the service's back: a revoked row, a stray row, a raw update.
    CompanyGroupObjectPermission.objects.filter(
        content_object=acme, permission__codename="change_company"
    ).delete()
    stray = CompanyFactory(name="Stray")
    CompanyGroupObjectPermission.objects.create(
        content_object=stray,
        group=bravo.group,
        permission=Permission.objects.get(codename="view_company"),
    )
    Company.objects.filter(name="Acme").update(managed_by=bravo)

    status, report = run_check()
    repaired_status, repaired = run_check("--repair")
    after_status, after = run_check()

    assert status == 1
    assert "1 missing view grants on companies" in report
    assert "1 missing change grants on companies" in report
    assert "Acme (#" in report
    assert "2 extra grants on companies" in report  # Alpha's view on Acme, Bravo's on Stray
    assert "view_company on Stray" in report
    # Bravo is companies only: the relationship that followed Alpha is no longer anyone's.
    assert "2 extra grants on relationships" in report
    assert "Run with --repair" in report
    assert repaired_status == 0 and "Repaired" in repaired
    assert after_status == 0 and "No drift" in after
    assert company_grants() == both("Acme", "Bravo", "company")
    assert relationship_grants() == set()


def test_the_checker_repairs_groups_and_memberships(alpha):
    orphan = Partner.objects.create(name="No Group Yet")
    membership = PartnerUserFactory(partner=alpha)
    membership.user.groups.clear()
    outsider = UserFactory(username="outsider")
    outsider.groups.add(alpha.group)

    status, report = run_check()
    repaired_status, _ = run_check("--repair")

    assert status == 1
    assert "1 partners without their own group" in report and "No Group Yet" in report
    assert "1 partner users not in exactly their partner's group and their bundle" in report
    assert "outsider in Partner: Alpha" in report
    assert repaired_status == 0
    orphan.refresh_from_db()
    assert orphan.group is not None
    assert set(membership.user.groups.values_list("name", flat=True)) == {
        "Partner: Alpha",
        DEFAULT_BUNDLE,
    }
    assert not outsider.groups.exists()
    assert find_drift() == []
