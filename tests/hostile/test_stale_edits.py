"""Stale edits are refused: every inline edit carries the version it was drawn from, and a
save of a record someone else saved meanwhile answers "Changed by NAME at TIME — reload to
see it." next to the form, with nothing overwritten.

Covered: the attributes section's per-field edit on a C360 (company fields) and an R360 (the
relationship's own fields and its type's fields), the CTA edit dialog and the success plan
edit dialog. The section's version follows the user's own saves, so two fields saved one
after the other are both kept.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from companies.models import Company
from gainsight_lite.versions import version_check, version_of
from layouts.models import Layout
from layouts.sections import section_url
from relationships.models import Relationship
from success.models import CTA, CTAPriority, CTAStatus, CTAType, SuccessPlan
from success.services import success_plan_update
from tests.factories import (
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
    SuccessPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
VERSION_INPUT = re.compile(r'<input type="hidden" name="version" value="([^"]*)"')
STALE = re.compile(r"Changed by (.+?) at \d{1,2} \w{3} \d{4} \d{2}:\d{2} — reload to see it\.")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(admin_user, csm_user) -> dict[str, Any]:
    admin_user.first_name, admin_user.last_name = "Ada", "Admin"
    admin_user.save()
    csm_user.first_name, csm_user.last_name = "Casey", "Smith"
    csm_user.save()
    return {"ada": _client(admin_user), "casey": _client(csm_user)}


def _version(html: str) -> str:
    found = VERSION_INPUT.search(html)
    assert found is not None, "no version in the answer"
    return found.group(1)


def _shown_version(client: Client, url: str) -> str:
    """The version a user's page holds after loading `url` (a section or a dialog)."""
    return _version(client.get(url, headers=HTMX).content.decode())


def _stale_name(html: str) -> str | None:
    found = STALE.search(html)
    return found.group(1) if found else None


# ---------- the attributes section ----------


@pytest.fixture
def c360(people) -> dict[str, Any]:
    company = CompanyFactory(name="Acme", industry="Retail", arr=Decimal(100))
    section = SectionFactory(
        layout=LayoutFactory(target=Layout.Target.COMPANY, priority=1),
        kind="attributes",
        config={"fields": ["industry", "arr"]},
    )
    return {"company": company, "section": section, **people}


def _save(client: Client, subject: Any, section: Any, field: str, value: str, version: str):
    return client.post(
        section_url(subject, section, "save"),
        {"field": field, "value": value, "version": version},
        headers=HTMX,
    )


def test_a_company_field_saved_over_a_newer_version_is_refused(c360) -> None:
    company, section = c360["company"], c360["section"]
    shown = c360["casey"].get(section_url(company, section), headers=HTMX).content.decode()
    seen_by_casey = _version(shown)
    # The form opened for the field carries the section's version.
    assert (
        f'hx-include="#attr-version-{section.pk}"'
        in c360["casey"]
        .get(section_url(company, section, "edit"), {"field": "arr"}, headers=HTMX)
        .content.decode()
    )

    # Ada saves the industry meanwhile.
    ada_view = _version(
        c360["ada"].get(section_url(company, section), headers=HTMX).content.decode()
    )
    saved = _save(c360["ada"], company, section, "industry", "Banking", ada_view)
    assert saved.status_code == 200 and "Banking" in saved.content.decode()

    refused = _save(c360["casey"], company, section, "arr", "999", seen_by_casey)
    html = refused.content.decode()
    assert refused.status_code == 200
    assert _stale_name(html) == "Ada Admin"
    assert 'class="field__error"' in html  # under the input, in the form
    assert "subjectChanged" not in refused.get("HX-Trigger", "")
    company.refresh_from_db()
    assert (company.industry, company.arr) == ("Banking", 100)


def test_the_users_own_saves_move_the_sections_version_on(c360) -> None:
    company, section = c360["company"], c360["section"]
    first = _version(
        c360["casey"].get(section_url(company, section), headers=HTMX).content.decode()
    )
    saved = _save(c360["casey"], company, section, "industry", "Energy", first)
    # The saved row swaps the section's version input out of band.
    assert f'id="attr-version-{section.pk}" hx-swap-oob="true"' in saved.content.decode()
    second = _version(saved.content.decode())
    assert second != first
    assert _save(c360["casey"], company, section, "arr", "250", second).status_code == 200
    company.refresh_from_db()
    assert (company.industry, company.arr) == ("Energy", 250)
    # The first version is stale now, the user's own change included.
    refused = _save(c360["casey"], company, section, "arr", "1", first)
    assert _stale_name(refused.content.decode()) == "Casey Smith"
    company.refresh_from_db()
    assert company.arr == 250


@pytest.fixture
def r360(people) -> dict[str, Any]:
    product = RelationshipTypeFactory(name="Platform")
    RelationshipTypeFieldFactory(
        relationship_type=product, key="seats", label="Seats", kind="number"
    )
    relationship = RelationshipFactory(
        relationship_type=product, name="Platform EU", attributes={"seats": 10}
    )
    section = SectionFactory(
        layout=LayoutFactory(
            target=Layout.Target.RELATIONSHIP, relationship_type=product, priority=1
        ),
        kind="attributes",
        config={"fields": ["name", "attr.seats"]},
    )
    return {"relationship": relationship, "section": section, **people}


@pytest.mark.parametrize(("field", "value"), [("attr.seats", "99"), ("name", "Platform X")])
def test_a_relationship_field_saved_over_a_newer_version_is_refused(r360, field, value) -> None:
    relationship, section = r360["relationship"], r360["section"]
    url = section_url(relationship, section)
    seen_by_casey = _version(r360["casey"].get(url, headers=HTMX).content.decode())
    ada_view = _version(r360["ada"].get(url, headers=HTMX).content.decode())
    assert (
        _save(r360["ada"], relationship, section, "attr.seats", "20", ada_view).status_code == 200
    )

    refused = _save(r360["casey"], relationship, section, field, value, seen_by_casey)
    assert _stale_name(refused.content.decode()) == "Ada Admin"
    relationship = Relationship.objects.get(pk=relationship.pk)
    assert (relationship.name, relationship.attributes) == ("Platform EU", {"seats": 20})


# ---------- the CTA and plan dialogs ----------


def _cta_data(cta: CTA, **changes: Any) -> dict[str, str]:
    data = {
        "relationship": "",
        "name": cta.name,
        "cta_type": str(cta.cta_type_id),
        "reason": "",
        "priority": str(cta.priority_id),
        "status": str(cta.status_id),
        "owner": "",
        "due_date": "",
        "snoozed_until": "",
    }
    data.update({key: str(value) for key, value in changes.items()})
    return data


def test_a_cta_saved_over_a_newer_version_is_refused(people) -> None:
    cta = CTAFactory(
        name="Renewal risk",
        owner=None,
        cta_type=CTAType.objects.get(name="Risk"),
        priority=CTAPriority.objects.get(name="Medium"),
        status=CTAStatus.objects.get(name="New"),
    )
    url = reverse("success:cta_edit", args=[cta.pk])
    seen_by_casey = _shown_version(people["casey"], url)
    ada_view = _shown_version(people["ada"], url)
    saved = people["ada"].post(
        url, _cta_data(cta, name="Ada's name", version=ada_view), headers=HTMX
    )
    assert saved.status_code == 200
    assert CTA.objects.get(pk=cta.pk).name == "Ada's name"

    refused = people["casey"].post(
        url, _cta_data(cta, name="Casey's name", version=seen_by_casey), headers=HTMX
    )
    html = refused.content.decode()
    assert _stale_name(html) == "Ada Admin"
    assert 'class="alert alert--error' in html  # above the dialog's fields
    assert CTA.objects.get(pk=cta.pk).name == "Ada's name"


def test_a_plan_saved_over_a_newer_version_is_refused(people) -> None:
    plan = SuccessPlanFactory(name="Adoption plan", owner=None)
    url = reverse("success:plan_edit", args=[plan.pk])

    def data(name: str, version: str) -> dict[str, str]:
        return {
            "name": name,
            "plan_type": str(plan.plan_type_id),
            "status": plan.status,
            "owner": "",
            "due_date": "",
            "version": version,
        }

    seen_by_casey = _shown_version(people["casey"], url)
    ada_view = _shown_version(people["ada"], url)
    assert people["ada"].post(url, data("Ada's plan", ada_view), headers=HTMX).status_code in (
        200,
        204,
    )
    assert SuccessPlan.objects.get(pk=plan.pk).name == "Ada's plan"

    refused = people["casey"].post(url, data("Casey's plan", seen_by_casey), headers=HTMX)
    assert _stale_name(refused.content.decode()) == "Ada Admin"
    assert SuccessPlan.objects.get(pk=plan.pk).name == "Ada's plan"


# ---------- the helper ----------


def test_version_check_skips_without_a_version_and_names_a_deleted_record() -> None:
    company = CompanyFactory()
    version_check(company, None)  # a write without a form
    version_check(company, version_of(company))
    stored = Company.objects.get(pk=company.pk)
    with pytest.raises(ValidationError, match="reload to see it"):
        version_check(stored, "")
    Company.objects.filter(pk=company.pk).delete()
    with pytest.raises(ValidationError, match="deleted meanwhile"):
        version_check(stored, version_of(stored))


def test_without_an_audit_trail_the_records_updated_by_is_named() -> None:
    author = UserFactory(first_name="Pat", last_name="Plan")
    plan = SuccessPlanFactory(name="P", owner=None)

    old = version_of(SuccessPlan.objects.get(pk=plan.pk))
    success_plan_update(plan=plan, by=author, name="P2")
    with pytest.raises(ValidationError) as refused:
        success_plan_update(plan=plan, by=author, version=old, name="P3")
    assert _stale_name(refused.value.messages[0]) == "Pat Plan"
