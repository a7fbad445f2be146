"""Copy and behaviour fixed after review: the surveys empty state, relationship choice labels,
who may own a CTA, admin-typed colours, the demo's embeds and a plan's progress."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from gainsight_lite import demo
from gainsight_lite.forms import relationship_label
from layouts.sections import section_url
from layouts.sections.embed import allowed_placeholders, check_url_template
from success.forms.cockpit import BulkForm, CTAForm
from success.models import CTA, CTAStatus, CTAType, GradeBand, SuccessPlan
from success.selectors.plans import objective_counts, plan_detail
from success.templatetags.scores import score_badge
from tests.factories import (
    CompanyFactory,
    CTAFactory,
    LayoutFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    SectionFactory,
    SuccessPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


# ---------- surveys: no possessive ----------


def test_the_surveys_empty_state_names_the_company_without_a_possessive(csm_client):
    company = CompanyFactory(name="Acme Systems")
    section = SectionFactory(layout=LayoutFactory(), kind="surveys")

    html = csm_client.get(section_url(company, section), headers=HTMX).content.decode()

    assert "NPS answers from the people at Acme Systems show here" in html
    assert "Systems's" not in html and "Systems&#x27;s" not in html


# ---------- relationship choices ----------


def test_a_relationship_named_after_its_type_is_labelled_once():
    kind = RelationshipTypeFactory(name="Analytics Cloud")
    same = RelationshipFactory(relationship_type=kind, name="Analytics Cloud")
    other = RelationshipFactory(relationship_type=kind, name="Acme EMEA licence")

    assert relationship_label(same) == "Analytics Cloud"
    assert relationship_label(other) == "Acme EMEA licence (Analytics Cloud)"


def test_the_cta_forms_relationship_choices_use_the_label(csm_user):
    kind = RelationshipTypeFactory(name="Analytics Cloud")
    relationship = RelationshipFactory(relationship_type=kind, name="Analytics Cloud")

    form = CTAForm(initial={"company": relationship.company_id}, user=csm_user)
    labels = [label for _, label in form.fields["relationship"].choices]  # type: ignore[attr-defined]

    assert "Analytics Cloud" in labels
    assert "Analytics Cloud (Analytics Cloud)" not in labels


# ---------- who may own a CTA ----------


def test_cta_owner_choices_leave_out_read_only_users(csm_user, viewer_user, admin_user):
    company = CompanyFactory()
    plain = UserFactory(username="no-role")  # no group, no permission

    form = CTAForm(initial={"company": company.pk}, user=csm_user)
    owners = set(form.fields["owner"].queryset)  # type: ignore[attr-defined]
    bulk_owners = set(BulkForm(user=csm_user).fields["owner"].queryset)  # type: ignore[attr-defined]

    for choices in (owners, bulk_owners):
        assert csm_user in choices and admin_user in choices
        assert viewer_user not in choices and plain not in choices


def test_the_cockpit_owner_filter_leaves_out_read_only_users(csm_client, viewer_user):
    UserFactory(username="someone", first_name="Rita", last_name="Readonly").groups.set(
        viewer_user.groups.all()
    )

    html = csm_client.get(reverse("success:cockpit")).content.decode()

    assert "Rita Readonly" not in html


def test_a_read_only_user_who_owns_a_cta_stays_its_owner_on_edit(csm_user, viewer_user):
    cta = CTAFactory(owner=viewer_user)

    form = CTAForm(initial={"owner": viewer_user.pk}, user=csm_user, cta=cta)

    assert viewer_user in form.fields["owner"].queryset  # type: ignore[attr-defined]


def test_partner_owner_rules_are_unchanged(partner_a, partner_a_user, viewer_user):
    colleague = PartnerUserFactory(partner=partner_a).user
    company = CompanyFactory(managed_by=partner_a, csm=viewer_user)

    form = CTAForm(initial={"company": company.pk}, user=partner_a_user)
    owners = set(form.fields["owner"].queryset)  # type: ignore[attr-defined]

    # Their partner's users and the record's CSM (whatever the CSM's role), nobody else.
    assert owners == {partner_a_user, colleague, viewer_user}


# ---------- grade band colours ----------


@pytest.mark.parametrize("colour", ["red", "#12345", "#12345x", "#ggg", "#fff;x", "2f9e55"])
def test_a_grade_band_colour_must_be_a_hex_code(colour):
    band = GradeBand(label="Odd", low=0, high=10, colour=colour[:7])

    with pytest.raises(ValidationError) as caught:
        band.full_clean()

    assert "colour" in caught.value.message_dict


def test_the_colour_check_needs_no_database(django_assert_num_queries):
    field = GradeBand._meta.get_field("colour").formfield()

    with django_assert_num_queries(0):
        assert field.clean("#2f9e55") == "#2f9e55"
        with pytest.raises(ValidationError, match="hex code"):
            field.clean('"><b>')


def test_a_short_hex_colour_is_stored_in_full():
    GradeBand.objects.all().delete()
    band = GradeBand(label="Amber", low=0, high=10, colour="#E90")

    band.full_clean()

    assert band.colour == "#ee9900"


def test_a_colour_saved_around_validation_never_reaches_the_markup():
    GradeBand.objects.all().delete()
    band = GradeBand.objects.create(label="Bad", low=0, high=100, colour="#2f9e55")
    GradeBand.objects.filter(pk=band.pk).update(colour='"><b>x')

    html = str(score_badge(50, list(GradeBand.objects.all())))

    assert "<b>" not in html and '"&gt;' not in html
    assert "Health: Bad" in html


# ---------- the demo's embeds ----------


def test_the_demo_embeds_a_real_https_page_with_a_fallback_link(csm_client):
    templates = [demo.EMBED_LOOKUP, *demo.R360_USAGE.values()]
    for template in templates:
        assert template.startswith("https://")
        assert "example" not in template and "gainsight-lite" not in template
    assert check_url_template(demo.EMBED_LOOKUP, allowed_placeholders(None)) == demo.EMBED_LOOKUP

    company = CompanyFactory(name="Initech")
    section = SectionFactory(
        layout=LayoutFactory(), kind="embed", config={"url_template": demo.EMBED_LOOKUP}
    )
    html = csm_client.get(section_url(company, section), headers=HTMX).content.decode()

    assert 'src="https://en.wikipedia.org/w/index.php?search=Initech"' in html
    assert re.search(r"<iframe[^>]*sandbox=", html)
    assert 'target="_blank"' in html and "Open in a new tab" in html


# ---------- a plan's progress ----------


@pytest.fixture
def statuses() -> dict[str, CTAStatus]:
    not_applicable, _ = CTAStatus.objects.get_or_create(
        name="Closed not applicable",
        defaults={"is_closed": True, "outcome": CTAStatus.Outcome.NOT_APPLICABLE, "order": 9},
    )
    return {
        "open": CTAStatus.objects.get(name="New"),
        "success": CTAStatus.objects.get(name="Closed success"),
        "lost": CTAStatus.objects.get(name="Closed lost"),
        "not applicable": not_applicable,
    }


def _objective(plan: SuccessPlan, status: CTAStatus) -> CTA:
    return CTAFactory(
        company=plan.company,
        success_plan=plan,
        cta_type=CTAType.objects.get(name=CTAType.OBJECTIVE),
        status=status,
    )


def test_the_default_closed_lost_status_is_not_achieved():
    assert CTAStatus.objects.get(name="Closed lost").outcome == CTAStatus.Outcome.NOT_ACHIEVED
    assert CTAStatus.objects.get(name="Closed success").outcome == CTAStatus.Outcome.ACHIEVED


def test_progress_counts_achieved_over_all_but_not_applicable(statuses):
    plan = SuccessPlanFactory(status=SuccessPlan.Status.CANCELLED)
    for key in ("success", "lost", "not applicable", "open"):
        _objective(plan, statuses[key])

    detail = plan_detail(plan=plan)

    # 1 achieved of 3 that count (the lost one counts, the not applicable one does not).
    assert (detail.closed, detail.total, detail.progress) == (1, 3, 33)
    assert objective_counts(plan_ids=[plan.pk]) == {plan.pk: (1, 3)}


def test_a_plan_whose_objectives_were_lost_is_not_complete(statuses):
    plan = SuccessPlanFactory(status=SuccessPlan.Status.CANCELLED)
    _objective(plan, statuses["lost"])
    _objective(plan, statuses["lost"])

    assert plan_detail(plan=plan).progress == 0


def test_only_not_applicable_objectives_leave_no_progress(statuses, csm_client):
    plan = SuccessPlanFactory()
    _objective(plan, statuses["not applicable"])

    assert plan_detail(plan=plan).progress is None
    html = csm_client.get(reverse("success:plan_detail", args=[plan.pk])).content.decode()
    assert "No objectives yet" in html
