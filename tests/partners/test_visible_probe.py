"""partners.access.company_visible_probe: per row, whether the user may see a company."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from companies.models import Company
from companies.services import company_create
from partners.access import company_visible_probe, partner_of

pytestmark = pytest.mark.django_db


def _parents_seen(user) -> dict[str, bool]:
    rows = (
        Company.objects.filter(parent__isnull=False)
        .annotate(probe=company_visible_probe(user, "parent_id"))
        .values_list("name", "probe")
    )
    return {name: probe is not None for name, probe in rows}


@pytest.fixture
def family(partner_a):
    hidden = company_create(name="Hidden Top")
    shown = company_create(name="Shown Top", managed_by=partner_a)
    company_create(name="Under Hidden", parent=hidden, managed_by=partner_a)
    company_create(name="Under Shown", parent=shown, managed_by=partner_a)


def test_a_partner_user_sees_only_granted_companies(family, partner_a_user):
    assert _parents_seen(partner_a_user) == {"Under Hidden": False, "Under Shown": True}


def test_internal_users_see_every_company(family, csm_user):
    assert _parents_seen(csm_user) == {"Under Hidden": True, "Under Shown": True}


def test_nobody_and_an_inactive_partner_see_none(family, partner_a, partner_a_user):
    assert _parents_seen(AnonymousUser()) == {"Under Hidden": False, "Under Shown": False}

    partner_a.active = False
    partner_a.save()
    user = User.objects.get(pk=partner_a_user.pk)
    assert partner_of(user) is not None
    assert _parents_seen(user) == {"Under Hidden": False, "Under Shown": False}
