"""The History section and the audit trail: who changed what and when, old → new, paged."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companies.models import Company
from companies.services import company_update
from gainsight_lite.history import history_page, last_change, parse_cursor
from layouts.models import Layout
from layouts.sections import REGISTRY, section_url
from layouts.services import layout_clone
from relationships.models import Relationship, RelationshipTypeField
from relationships.services import relationship_update
from success.models import CTA, CTAStatus, Score
from success.services import cta_set_status, ctas_reassign, score_set
from tests.factories import (
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    MeasureFactory,
    PartnerFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    ScorecardFactory,
    SectionFactory,
    UserFactory,
)
from tests.test_admin import admin_url, posted

pytestmark = pytest.mark.django_db

KIND = REGISTRY["history"]
HTMX = {"HX-Request": "true"}


def _section(target=Layout.Target.COMPANY, relationship_type=None, **config):
    layout = LayoutFactory(target=target, relationship_type=relationship_type)
    config = {"shown": ["record", "ctas", "scores"], "page_size": 10, **config}
    return SectionFactory(layout=layout, kind="history", title="History", config=config)


def _get(client, subject, section, **params):
    return client.get(section_url(subject, section), params, headers=HTMX)


def _text(response) -> str:
    """The section's text without tags, spaces squeezed: what a reader reads."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _as(user, obj, **fields):
    """Save `obj` with `fields` as `user` (the middleware does this for a request)."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj._history_user = user
    obj.save()
    del obj._history_user
    return obj


def test_a_company_change_shows_who_and_each_field_old_to_new(admin_client, csm_client):
    acme = CompanyFactory(name="Acme", arr=Decimal("1000"), segment=Company.Segment.SMB)
    url = admin_url(Company, "change", acme.pk)
    response = admin_client.post(
        url, posted(admin_client.get(url), arr="2500", segment=Company.Segment.ENTERPRISE)
    )
    section = _section()

    text = _text(_get(csm_client, acme, section))

    assert response.status_code == 302
    admin = Company.history.filter(id=acme.pk).first().history_user
    assert admin.username == "admin"
    assert f"{admin.get_full_name()} changed Company “Acme”" in text
    assert "ARR 1,000 → 2,500" in text
    # A choice reads as its label, not as its stored value.
    assert "Segment SMB → Enterprise" in text
    assert "enterprise" not in text.replace("Enterprise", "")
    assert "Updated at" not in text and "Health score" not in text


def test_related_records_read_as_names_and_users_as_full_names(csm_client):
    ada = UserFactory(first_name="Ada", last_name="Lovelace")
    grace = UserFactory(first_name="Grace", last_name="Hopper")
    acme = CompanyFactory(name="Acme", csm=ada)
    parent = CompanyFactory(name="Acme Holdings")
    _as(ada, acme, csm=grace)
    company_update(company=Company.objects.get(pk=acme.pk), parent=parent)

    text = _text(_get(csm_client, acme, _section()))

    assert "Ada Lovelace changed Company “Acme”" in text
    assert "CSM Ada Lovelace → Grace Hopper" in text
    assert "Parent — → Acme Holdings" in text
    # No request and no user given: the change is the system's.
    assert "System changed Company “Acme”" in text


def test_bulk_assign_to_partner_leaves_a_history_row_per_record(admin_client, csm_client):
    partner = PartnerFactory(name="Northwind Partners")
    companies = [CompanyFactory(name=f"Bulk {n}") for n in range(3)]
    untouched = CompanyFactory(name="Untouched")

    response = admin_client.post(
        admin_url(Company, "changelist"),
        {
            "action": "assign_to_partner",
            "_selected_action": [c.pk for c in companies],
            "partner": partner.pk,
            "apply": "Assign",
        },
    )

    assert response.status_code == 302
    for company in companies:
        latest = Company.history.filter(id=company.pk).first()
        assert latest.history_type == "~"
        assert latest.managed_by_id == partner.pk
        assert latest.history_user.username == "admin"
    assert Company.history.filter(id=untouched.pk).count() == 1
    text = _text(_get(csm_client, companies[0], _section()))
    assert "Managed by — → Northwind Partners" in text


def test_remove_partner_in_bulk_is_audited_too(admin_client):
    partner = PartnerFactory(name="Northwind Partners")
    acme = CompanyFactory(name="Acme", managed_by=partner)

    admin_client.post(
        admin_url(Company, "changelist"),
        {"action": "remove_partner", "_selected_action": [acme.pk]},
    )

    latest = Company.history.filter(id=acme.pk).first()
    assert (latest.managed_by_id, latest.history_user.username) == (None, "admin")


def test_relationship_attributes_show_their_labels(csm_client):
    licence = RelationshipTypeFactory(name="Licence")
    RelationshipTypeFieldFactory(
        relationship_type=licence,
        key="seats",
        label="Seats",
        kind=RelationshipTypeField.Kind.NUMBER,
    )
    suite = RelationshipFactory(name="Suite", relationship_type=licence, attributes={"seats": 10})
    relationship_update(
        relationship=Relationship.objects.get(pk=suite.pk), attributes={"seats": 25}
    )
    section = _section(Layout.Target.RELATIONSHIP, relationship_type=licence)

    text = _text(_get(csm_client, suite, section))

    assert "changed Relationship “Suite”" in text
    assert "Seats 10 → 25" in text


def test_attribute_labels_are_read_only_when_an_attribute_change_is_shown(csm_client):
    licence = RelationshipTypeFactory(name="Licence")
    RelationshipTypeFieldFactory(relationship_type=licence, key="edition", label="Edition")
    suite = RelationshipFactory(
        name="Suite", relationship_type=licence, attributes={"edition": "Standard"}
    )
    section = _section(Layout.Target.RELATIONSHIP, relationship_type=licence)
    _get(csm_client, suite, section)  # the viewer's permissions read once

    def label_reads() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert _get(csm_client, suite, section).status_code == 200
        field_table = RelationshipTypeField._meta.db_table
        return sum(field_table in query["sql"] for query in captured.captured_queries)

    assert label_reads() == 0  # created: no attribute changed
    relationship_update(relationship=Relationship.objects.get(pk=suite.pk), status="at_risk")
    assert label_reads() == 0  # changed, but not its attributes
    relationship_update(
        relationship=Relationship.objects.get(pk=suite.pk), attributes={"edition": "Enterprise"}
    )
    assert label_reads() == 1
    assert "Edition Standard → Enterprise" in _text(_get(csm_client, suite, section))


def test_ctas_and_scores_of_the_record_are_in_its_history(csm_client, csm_user):
    acme = CompanyFactory(name="Acme")
    other = CompanyFactory(name="Other")
    cta = CTAFactory(company=acme, name="Renewal risk")
    CTAFactory(company=other, name="Not here")
    closed = CTAStatus.objects.filter(is_closed=True).order_by("order")[0]
    cta_set_status(cta=cta, status=closed, by=csm_user, confirm_open_tasks=True)
    measure = MeasureFactory(scorecard=ScorecardFactory(), name="Adoption")
    score_set(subject=acme, measure=measure, value=80, comment="Good", by=csm_user)
    score_set(subject=acme, measure=measure, value=None, by=csm_user)

    text = _text(_get(csm_client, acme, _section()))

    assert "created CTA “Renewal risk”" in text
    assert "changed CTA “Renewal risk” " in text and f"Status New → {closed.name}" in text
    assert "created Score “Adoption”" in text and "Value 80 " in text
    assert "Value — → 80" not in text  # a new record lists its values, not changes
    assert "cleared Score “Adoption”" in text
    assert "Not here" not in text


def test_the_configuration_chooses_what_is_shown(csm_client):
    acme = CompanyFactory(name="Acme")
    CTAFactory(company=acme, name="Renewal risk")

    text = _text(_get(csm_client, acme, _section(shown=["record"])))

    assert "created Company “Acme”" in text
    assert "Renewal risk" not in text


def test_the_configuration_needs_something_to_show():
    with pytest.raises(ValidationError) as caught:
        KIND.clean_config({"shown": [], "page_size": 20}, layout=None)
    assert "Changes shown" in str(caught.value.message_dict["config"])
    with pytest.raises(ValidationError):
        KIND.clean_config({"shown": ["record"], "page_size": 500}, layout=None)
    assert KIND.clean_config({"shown": ["ctas"], "page_size": 10}, layout=None) == {
        "shown": ["ctas"],
        "page_size": 10,
    }


def test_pages_follow_each_other_without_gaps_or_duplicates(csm_client):
    acme = CompanyFactory(name="Acme")
    for number in range(12):
        company_update(company=Company.objects.get(pk=acme.pk), industry=f"Industry {number}")
    for number in range(9):
        CTAFactory(company=acme, name=f"Follow up {number}")
    section = _section()
    expected = (
        Company.history.filter(id=acme.pk).count() + CTA.history.filter(company_id=acme.pk).count()
    )

    seen, after, pages = [], None, 0
    while True:
        params = {"after": after} if after else {}
        if after:
            response = csm_client.get(section_url(acme, section, "more"), params, headers=HTMX)
        else:
            response = _get(csm_client, acme, section)
        html = response.content.decode()
        seen += re.findall(r'id="s\d+-history-([\d.]+)"', html)
        pages += 1
        found = re.search(r'hx-get="[^"]*/more/?\?after=([\d.]+)"', html)
        if not found:
            break
        after = found.group(1)

    assert expected == 22
    assert pages == 3
    assert len(seen) == len(set(seen)) == expected
    # Newest first, across the two kinds of record.
    stamps = [stamp for cursor in seen if (stamp := parse_cursor(cursor)) is not None]
    assert len(stamps) == len(seen)
    assert stamps == sorted(stamps, reverse=True)


def test_a_malformed_cursor_starts_from_the_newest(csm_client):
    acme = CompanyFactory(name="Acme")

    response = _get(csm_client, acme, _section(), after="x'; drop")

    assert response.status_code == 200
    assert "created Company “Acme”" in _text(response)


def test_partner_users_never_see_the_history_section(partner_a, partner_a_client, csm_client):
    acme = CompanyFactory(name="Acme", managed_by=partner_a)
    section = _section()

    page = partner_a_client.get(acme.get_absolute_url())
    refused = _get(partner_a_client, acme, section)
    more = partner_a_client.get(section_url(acme, section, "more"), headers=HTMX)

    assert page.status_code == 200
    assert section_url(acme, section) not in page.content.decode()
    assert (refused.status_code, more.status_code) == (404, 404)
    assert _get(csm_client, acme, section).status_code == 200


def test_read_only_users_see_the_history(viewer_client):
    acme = CompanyFactory(name="Acme")
    section = _section()

    page = viewer_client.get(acme.get_absolute_url())
    response = _get(viewer_client, acme, section)

    assert section_url(acme, section) in page.content.decode()
    assert response.status_code == 200 and "created Company “Acme”" in _text(response)


def test_an_internal_user_without_view_permissions_does_not_get_it(client):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    acme = CompanyFactory(name="Acme")

    assert _get(client, acme, _section()).status_code == 404


def test_names_in_the_history_are_escaped(csm_client):
    acme = CompanyFactory(name="<script>alert(1)</script>")
    company_update(company=Company.objects.get(pk=acme.pk), industry='"><img src=x onerror=1>')

    html = _get(csm_client, acme, _section()).content.decode()

    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("changes", [3, 30])
def test_the_section_reads_a_fixed_number_of_queries(
    csm_client, csm_user, django_assert_max_num_queries, changes
):
    acme = CompanyFactory(name="Acme", csm=csm_user)
    partner = PartnerFactory(name="Northwind")
    measure = MeasureFactory(scorecard=ScorecardFactory(), name="Adoption")
    for number in range(changes):
        _as(
            csm_user,
            Company.objects.get(pk=acme.pk),
            industry=f"Industry {number}",
            managed_by=partner if number % 2 else None,
        )
        cta = CTAFactory(company=acme, name=f"Follow up {number}")
        ctas_reassign(ctas=CTA.objects.filter(pk=cta.pk), owner=csm_user, by=csm_user)
        score_set(subject=acme, measure=measure, value=number % 100, by=csm_user)
    section = _section()

    with django_assert_max_num_queries(18):
        response = _get(csm_client, acme, section)

    assert response.status_code == 200
    assert "Follow up" in response.content.decode()


def test_last_change_says_who_changed_a_record_and_when(csm_user):
    acme = CompanyFactory(name="Acme")
    before = timezone.now()
    _as(csm_user, acme, industry="Retail")

    change = last_change(acme)
    assert change is not None
    user, when = change

    assert user == csm_user
    assert before <= when <= timezone.now() + dt.timedelta(seconds=1)
    assert last_change(Company(name="Unsaved")) is None


def test_bulk_reassign_and_layout_copies_are_audited(csm_user):
    owner = UserFactory(first_name="New", last_name="Owner")
    ctas = [CTAFactory(name=f"CTA {n}") for n in range(3)]

    changed = ctas_reassign(
        ctas=CTA.objects.filter(pk__in=[c.pk for c in ctas]), owner=owner, by=csm_user
    )
    layout = _section().layout
    copy = layout_clone(layout=layout)

    assert changed == 3
    for cta in ctas:
        latest = CTA.history.filter(id=cta.pk).first()
        assert (latest.owner_id, latest.history_user) == (owner.pk, csm_user)
    copied = copy.sections.get()
    assert copied.history.count() == 1


def test_the_admin_shows_each_audited_models_history(admin_client, csm_user):
    acme = CompanyFactory(name="Acme")
    company_update(company=Company.objects.get(pk=acme.pk), industry="Retail")
    cta = CTAFactory(company=acme)
    measure = MeasureFactory(scorecard=ScorecardFactory(), name="Adoption")
    score = score_set(subject=acme, measure=measure, value=50, by=csm_user)
    section = _section()
    records = [acme, cta, score, section, section.layout, PartnerFactory(), RelationshipFactory()]

    for record in records:
        response = admin_client.get(admin_url(type(record), "history", record.pk))
        assert response.status_code == 200, type(record)
        assert "Created" in response.content.decode() or "Added" in response.content.decode()
    # Reverting would go around the services: a version's page is for reading only.
    version = Company.history.filter(id=acme.pk).last().history_id
    url = reverse("admin:companies_company_simple_history", args=[acme.pk, version])
    shown = admin_client.get(url)
    refused = admin_client.post(
        url, posted(admin_client.get(admin_url(Company, "change", acme.pk)))
    )
    assert shown.status_code == 200 and 'value="Revert"' not in shown.content.decode()
    assert refused.status_code == 405
    assert Company.objects.get(pk=acme.pk).industry == "Retail"


def test_history_page_merges_streams_newest_first():
    acme = CompanyFactory(name="Acme")
    CTAFactory(company=acme, name="Later")
    from layouts.sections.history import HistoryStream

    page = history_page(
        streams=[
            HistoryStream(rows=Company.history.filter(id=acme.pk), record="Company"),
            HistoryStream(rows=CTA.history.filter(company_id=acme.pk), record="CTA"),
        ],
        size=1,
    )

    assert [entry.record for entry in page.entries] == ["CTA"]
    assert page.next_cursor is not None
    rest = history_page(
        streams=[
            HistoryStream(rows=Company.history.filter(id=acme.pk), record="Company"),
            HistoryStream(rows=CTA.history.filter(company_id=acme.pk), record="CTA"),
        ],
        after=page.next_cursor,
        size=5,
    )
    assert [entry.record for entry in rest.entries] == ["Company"]
    assert rest.next_cursor is None
    assert Score.history.count() == 0
