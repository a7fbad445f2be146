"""Internal roles (CS admin, CSM, read-only) and what a partner user's bundle lets them do.

Every write URL answering 403 to the read-only user, and no edit control on any page they see,
is checked for every URL by the matrix (test_matrix.py); here the roles themselves, a 360
page as the read-only user sees it, the admin closed to partner users whatever their flags,
and the attributes section read-only for partners unless their bundle allows changes.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from companies.models import Company
from layouts.models import Layout
from layouts.sections import REGISTRY, section_url
from partners.roles import CS_ADMIN, CSM, READ_ONLY
from tests.factories import CompanyFactory, LayoutFactory, SectionFactory
from tests.pages import open_360

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def codenames(group: str) -> set[str]:
    return set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))


def test_the_three_internal_roles_exist_with_their_permissions():
    admin, csm, viewer = codenames(CS_ADMIN), codenames(CSM), codenames(READ_ONLY)

    assert {"add_company", "change_company", "delete_company", "change_partner"} <= admin
    assert {"add_company", "change_company", "add_cta", "change_cta", "add_activity"} <= csm
    assert "delete_company" not in csm and "change_partner" not in csm
    assert viewer and all(codename.startswith("view_") for codename in viewer)
    assert {"view_company", "view_relationship", "view_cta", "view_successplan"} <= viewer


@pytest.fixture
def full_c360() -> Layout:
    """A C360 layout holding one section of every kind a company page may have."""
    layout = LayoutFactory(name="Everything", priority=1)
    for order, (key, kind) in enumerate(sorted(REGISTRY.items())):
        if "company" in kind.targets:
            SectionFactory(layout=layout, kind=key, order=order)
    return layout


POST_FORM = re.compile(r'<form\b[^>]*method="post"[^>]*>', re.IGNORECASE)


def test_the_read_only_user_sees_a_whole_360_page_without_one_edit_control(
    viewer_client, full_c360
):
    company = CompanyFactory(name="Initech")

    html = open_360(viewer_client, company.get_absolute_url())

    assert "Initech" in html
    assert "hx-post" not in html
    # The one form that posts is signing out.
    assert [form for form in POST_FORM.findall(html) if "logout" not in form] == []
    for action in ("edit", "save", "add", "move", "log", "new"):
        assert f'/{action}/"' not in html, action


@pytest.mark.parametrize(
    "flags", [{}, {"is_staff": True}, {"is_staff": True, "is_superuser": True}]
)
def test_partner_users_get_404_everywhere_in_the_admin_whatever_their_flags(partner_a_user, flags):
    for name, value in flags.items():
        setattr(partner_a_user, name, value)
    partner_a_user.save()
    client = Client()
    client.force_login(partner_a_user)

    answers = [
        client.get(reverse("admin:index")).status_code,
        client.get(reverse("admin:login")).status_code,
        client.get(reverse("admin:companies_company_changelist")).status_code,
        client.post(reverse("admin:companies_company_add"), {"name": "Sneaky"}).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert not Company.objects.filter(name="Sneaky").exists()


def test_internal_staff_still_reach_the_admin(admin_client):
    assert admin_client.get(reverse("admin:index")).status_code == 200


def attributes_section():
    layout = LayoutFactory(name="Partner view", priority=1)
    return SectionFactory(layout=layout, kind="attributes")


def test_a_partner_user_reads_attributes_without_edit_controls_by_default(
    partner_a, partner_a_client
):
    company = CompanyFactory(name="Alpha Dairy", managed_by=partner_a)
    section = attributes_section()

    shown = partner_a_client.get(section_url(company, section), headers=HTMX)
    edit = partner_a_client.get(section_url(company, section, "edit"), {"field": "name"})
    save = partner_a_client.post(
        section_url(company, section, "save"), {"field": "name", "value": "Renamed"}
    )

    assert shown.status_code == 200 and "Alpha Dairy" in shown.content.decode()
    assert section_url(company, section, "edit") not in shown.content.decode()
    assert (edit.status_code, save.status_code) == (403, 403)
    assert Company.objects.get(pk=company.pk).name == "Alpha Dairy"


def test_a_partner_bundle_with_change_rights_edits_their_own_attributes_only(
    partner_a, partner_a_user, partner_a_client, partner_b
):
    editors = Group.objects.create(name="Partner editors")
    editors.permissions.add(Permission.objects.get(codename="change_company"))
    partner_a_user.groups.add(editors)
    mine = CompanyFactory(name="Alpha Dairy", managed_by=partner_a)
    theirs = CompanyFactory(name="Bravo Mills", managed_by=partner_b)
    section = attributes_section()

    shown = partner_a_client.get(section_url(mine, section), headers=HTMX)
    saved = partner_a_client.post(
        section_url(mine, section, "save"), {"field": "name", "value": "Alpha Dairy Ltd"}
    )
    foreign = partner_a_client.post(
        section_url(theirs, section, "save"), {"field": "name", "value": "Taken"}
    )

    assert section_url(mine, section, "edit") in shown.content.decode()
    assert saved.status_code == 200
    assert Company.objects.get(pk=mine.pk).name == "Alpha Dairy Ltd"
    assert foreign.status_code == 404
    assert Company.objects.get(pk=theirs.pk).name == "Bravo Mills"


def test_a_partner_user_sees_only_the_partner_kinds_whatever_the_layout_holds(
    partner_a, partner_a_client, csm_client, full_c360
):
    company = CompanyFactory(managed_by=partner_a)
    partner_kinds = {key for key, kind in REGISTRY.items() if kind.partner_visible}
    sections = {s.kind: s for s in full_c360.sections.all()}

    page = partner_a_client.get(company.get_absolute_url()).content.decode()
    internal = csm_client.get(company.get_absolute_url()).content.decode()

    for kind, section in sections.items():
        url = section_url(company, section)
        assert (url in page) == (kind in partner_kinds), kind
        assert url in internal, kind
        answer = partner_a_client.get(url, headers=HTMX).status_code
        assert answer == (200 if kind in partner_kinds else 404), kind
    assert partner_kinds == {
        "summary",
        "attributes",
        "timeline",
        "cockpit",
        "success_plans",
        "scorecard",
    }
