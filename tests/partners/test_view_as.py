"""Viewing the application as a partner user: who may, what they see, that nothing can be
changed, how it ends, and that it is logged."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from partners.models import PartnerUser
from partners.roles import CS_ADMIN
from partners.view_as import SESSION_KEY
from success.models import CTA
from tests.factories import CompanyFactory, CTAFactory, UserFactory

pytestmark = pytest.mark.django_db

AUDIT = "gainsight_lite.audit"
HTMX = {"HX-Request": "true"}


def start_url(user) -> str:
    return reverse("partners:view_as_start", args=[user.pk])


STOP = "/partners/view-as/stop/"


@pytest.fixture
def records(partner_a, partner_b):
    return {
        "mine": CompanyFactory(name="Alpha Dairy", managed_by=partner_a),
        "theirs": CompanyFactory(name="Bravo Mills", managed_by=partner_b),
        "nobodys": CompanyFactory(name="Charlie Foods"),
    }


@pytest.fixture
def viewing(admin_client, partner_a_user, records) -> Client:
    """The admin's browser, viewing the application as partner A's user."""
    response = admin_client.post(start_url(partner_a_user))
    assert response.status_code == 302
    return admin_client


def test_an_admin_sees_the_application_as_the_partner_user_sees_it(viewing, partner_a_user):
    home = viewing.get(reverse("home"))
    companies = viewing.get(reverse("companies:list")).content.decode()

    assert home.context["user"] == partner_a_user
    assert home.context["dashboard"].company_count == 1
    assert "Alpha Dairy" in companies
    assert "Bravo Mills" not in companies and "Charlie Foods" not in companies


def test_a_banner_on_every_page_says_who_is_viewed_with_a_stop_button(viewing, records):
    pages = [
        reverse("home"),
        reverse("companies:list"),
        reverse("success:cockpit"),
        records["mine"].get_absolute_url(),
    ]

    for url in pages:
        page = viewing.get(url).content.decode()
        assert 'id="view-as-banner"' in page, url
        assert "Viewing as <strong>" in page and "of <strong>Partner A</strong>" in page
        assert f'action="{STOP}"' in page


def test_the_partner_users_own_pages_have_no_banner(partner_a_client):
    assert 'id="view-as-banner"' not in partner_a_client.get(reverse("home")).content.decode()


def test_records_of_other_partners_and_the_admin_answer_404_while_viewing(viewing, records):
    assert viewing.get(records["theirs"].get_absolute_url()).status_code == 404
    assert viewing.get(records["nobodys"].get_absolute_url()).status_code == 404
    assert viewing.get(reverse("admin:index")).status_code == 404


def test_every_write_is_refused_with_a_sentence_and_nothing_changes(viewing, records):
    cta = CTAFactory(company=records["mine"], name="Renewal risk")
    before = CTA.objects.count()

    page = viewing.post(reverse("success:cta_create"), {"company": records["mine"].pk})
    dialog = viewing.post(reverse("success:cta_edit", args=[cta.pk]), {"name": "X"}, headers=HTMX)
    sign_out = viewing.post(reverse("logout"))

    assert page.status_code == dialog.status_code == sign_out.status_code == 403
    assert "Nothing was changed: you are viewing the application as" in page.content.decode()
    assert 'id="view-as-banner"' in page.content.decode()
    assert "Stop viewing as them to make changes." in dialog.content.decode()
    # htmx does not swap a 403: the banner hears the event and says it instead.
    assert json.loads(dialog["HX-Trigger"]) == {"viewAsRefused": {}}
    assert CTA.objects.count() == before
    assert CTA.objects.get(pk=cta.pk).name == "Renewal risk"


def test_reads_with_head_and_options_are_not_writes(viewing, records):
    assert viewing.head(records["mine"].get_absolute_url()).status_code == 200
    # Refused by the view itself (GET only), not as a write.
    assert viewing.options(reverse("home")).status_code == 405


def test_the_banner_says_a_refused_change_was_not_saved(viewing):
    banner = viewing.get(reverse("partners:view_as_banner"), {"refused": "1"}, headers=HTMX)

    assert banner.status_code == 200
    assert "Nothing was changed" in banner.content.decode()
    assert 'hx-trigger="viewAsRefused from:body"' in banner.content.decode()


def test_the_banner_is_not_there_for_someone_not_viewing(csm_client):
    assert csm_client.get(reverse("partners:view_as_banner")).status_code == 404


def test_stop_goes_back_to_the_admin_as_the_admin(viewing, admin_user, partner_a_user):
    membership = PartnerUser.objects.get(user=partner_a_user)

    stopped = viewing.post(STOP)
    home = viewing.get(reverse("home"))

    assert stopped.status_code == 302
    assert stopped["Location"] == reverse("admin:partners_partneruser_change", args=[membership.pk])
    assert SESSION_KEY not in viewing.session
    assert home.context["user"] == admin_user
    assert 'id="view-as-banner"' not in home.content.decode()
    assert viewing.get(reverse("admin:index")).status_code == 200


def test_start_and_stop_are_logged_with_who_whom_and_when(
    admin_client, admin_user, partner_a_user, caplog
):
    with caplog.at_level(logging.INFO, logger=AUDIT):
        admin_client.post(start_url(partner_a_user))
        admin_client.post(STOP)

    lines = [r.getMessage() for r in caplog.records if r.name == AUDIT]
    assert len(lines) == 2
    assert lines[0].startswith("Started viewing as a partner user: admin (id ")
    assert lines[1].startswith("Stopped viewing as a partner user: admin (id ")
    assert all("as partner-a (id " in line and "of Partner A at 20" in line for line in lines)
    history = LogEntry.objects.filter(user=admin_user).order_by("pk")
    assert [entry.get_change_message() for entry in history] == [
        "Started viewing the application as this user.",
        "Stopped viewing the application as this user.",
    ]
    assert {entry.object_id for entry in history} == {
        str(PartnerUser.objects.get(user=partner_a_user).pk)
    }


def test_a_cs_admin_may_view_as_a_partner_user(partner_a_user):
    cs_admin = UserFactory(username="cs-admin", groups=[CS_ADMIN])
    client = Client()
    client.force_login(cs_admin)

    client.post(start_url(partner_a_user))

    assert client.get(reverse("home")).context["user"] == partner_a_user


def test_only_admins_may_view_as_and_partner_users_are_not_told_it_exists(
    csm_client, viewer_client, partner_b_client, partner_a_user
):
    assert csm_client.post(start_url(partner_a_user)).status_code == 403
    assert viewer_client.post(start_url(partner_a_user)).status_code == 403
    assert partner_b_client.post(start_url(partner_a_user)).status_code == 404
    assert partner_b_client.get(start_url(partner_a_user)).status_code == 404
    assert SESSION_KEY not in csm_client.session


def test_only_partner_users_may_be_viewed_as(admin_client, admin_user, csm_user):
    assert admin_client.post(start_url(csm_user)).status_code == 404
    assert admin_client.post(start_url(admin_user)).status_code == 404
    assert admin_client.post(reverse("partners:view_as_start", args=[999999])).status_code == 404
    assert admin_client.get(start_url(csm_user)).status_code == 405
    assert SESSION_KEY not in admin_client.session


def test_viewing_ends_when_the_admin_loses_the_right(partner_a_user, caplog):
    cs_admin = UserFactory(username="cs-admin", groups=[CS_ADMIN])
    client = Client()
    client.force_login(cs_admin)
    client.post(start_url(partner_a_user))

    cs_admin.groups.remove(Group.objects.get(name=CS_ADMIN))
    with caplog.at_level(logging.INFO, logger=AUDIT):
        home = client.get(reverse("home"))

    assert home.context["user"] == cs_admin
    assert SESSION_KEY not in client.session
    assert any(r.getMessage().startswith("Stopped viewing") for r in caplog.records)


def test_the_partner_users_admin_page_offers_view_as_to_admins(admin_client, partner_a_user):
    membership = PartnerUser.objects.get(user=partner_a_user)

    page = admin_client.get(reverse("admin:partners_partneruser_change", args=[membership.pk]))

    assert page.status_code == 200
    assert f'action="{start_url(partner_a_user)}"' in page.content.decode()
    assert "View as this user" in page.content.decode()
