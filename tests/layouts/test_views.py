"""The 360 page and section views: which layout a page gets, how its sections load (htmx and
full page), what a broken section does, previews, who may open what, and the header's budget."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from companies.models import Company
from companies.services import company_create
from layouts.models import Layout, LayoutCondition, Section
from layouts.sections import REGISTRY, section_url
from layouts.services import layout_default_ensure
from partners.roles import CSM
from relationships.models import Relationship
from tests.factories import (
    CompanyFactory,
    CompanyPersonFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PLACEHOLDER = re.compile(
    r'<div class="section__slot" hx-get="(?P<url>[^"]+)" hx-trigger="(?P<trigger>[^"]+)"'
)


def page_url(subject: Company | Relationship) -> str:
    name = "company" if isinstance(subject, Company) else "relationship"
    return reverse(f"layouts:{name}", args=[subject.pk])


def condition(layout: Layout, field: str, value: str) -> LayoutCondition:
    item = LayoutCondition(layout=layout, subject_field=field, value=value)
    item.full_clean()
    item.save()
    return item


def chosen_layout(client: Client, subject: Company | Relationship, **params: str) -> Layout:
    response = client.get(page_url(subject), params)
    assert response.status_code == 200
    layout: Layout = response.context["layout"]
    return layout


def triggers(html: str) -> dict[str, str]:
    """Each placeholder's section URL and its hx-trigger."""
    return {m["url"]: m["trigger"] for m in PLACEHOLDER.finditer(html)}


@pytest.fixture
def company() -> Company:
    return CompanyFactory(name="Initech", segment=Company.Segment.ENTERPRISE)


@pytest.fixture
def c360(company) -> Layout:
    """A C360 layout with four sections, the last collapsed (no criteria: it always wins)."""
    layout = LayoutFactory(name="Everyday", priority=10)
    SectionFactory(layout=layout, kind="summary", title="Summary", order=1)
    SectionFactory(layout=layout, kind="attributes", title="Details", order=2)
    SectionFactory(layout=layout, kind="people", title="People", order=3)
    SectionFactory(layout=layout, kind="hierarchy", title="Family", order=4, collapsed=True)
    return layout


def section_of(layout: Layout, kind: str) -> Section:
    return layout.sections.get(kind=kind)


# Which layout the page gets --------------------------------------------------------------------


def test_the_default_layout_serves_a_company_no_layout_matches(csm_client, company):
    executive = LayoutFactory(name="Executive")
    condition(executive, "segment", "SMB")

    layout = chosen_layout(csm_client, company)

    assert layout.is_default and layout.target == Layout.Target.COMPANY
    assert layout == layout_default_ensure()


def test_a_layout_whose_criteria_match_serves_the_page(csm_client, company):
    layout_default_ensure()
    smb = LayoutFactory(name="Small", priority=1)
    condition(smb, "segment", "SMB")
    executive = LayoutFactory(name="Executive", priority=5)
    condition(executive, "segment", "Enterprise")

    assert chosen_layout(csm_client, company) == executive
    content = csm_client.get(page_url(company)).content.decode()
    assert f'data-layout="{executive.pk}"' in content


def test_viewer_conditions_give_partner_users_and_groups_their_own_layout(
    csm_client, viewer_client, partner_a_client, partner_a
):
    company = CompanyFactory(managed_by=partner_a)
    default = layout_default_ensure()
    for_partners = LayoutFactory(name="Partner view", priority=1)
    condition(for_partners, "viewer.kind", "partner")
    for_csms = LayoutFactory(name="CSM view", priority=2)
    condition(for_csms, "viewer.group", CSM)

    assert chosen_layout(partner_a_client, company) == for_partners
    assert chosen_layout(csm_client, company) == for_csms
    assert chosen_layout(viewer_client, company) == default


def test_an_r360_page_gets_its_own_types_layout(csm_client):
    relationship = RelationshipFactory()
    other_type = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=RelationshipTypeFactory()
    )
    own = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    LayoutFactory(name="A C360 layout")

    assert chosen_layout(csm_client, relationship) == own
    assert other_type != own


# Placeholders and how they load ------------------------------------------------------------------


def test_the_first_two_sections_load_at_once_the_rest_when_revealed_or_opened(
    csm_client, company, c360
):
    html = csm_client.get(page_url(company)).content.decode()

    expected = {
        section_url(company, section_of(c360, "summary")): "load",
        section_url(company, section_of(c360, "attributes")): "load",
        section_url(company, section_of(c360, "people")): "intersect once",
        section_url(company, section_of(c360, "hierarchy")): "toggle once from:closest details",
    }
    assert triggers(html) == expected
    assert list(triggers(html)) == list(expected), "in the layout's order"


def test_each_placeholder_loads_and_links_its_sections_own_url_on_c360_and_r360(
    csm_client, company, c360
):
    """The page writes the section URLs from its own (one reverse): the same as section_url."""
    relationship = RelationshipFactory(company=company)
    r360 = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    SectionFactory(layout=r360, kind="summary", title="Summary", order=1)
    SectionFactory(layout=r360, kind="attributes", title="Fields", order=2)
    for subject, layout in ((company, c360), (relationship, r360)):
        html = csm_client.get(page_url(subject)).content.decode()
        urls = [section_url(subject, section) for section in layout.sections.all()]
        assert list(triggers(html)) == urls
        assert re.findall(r'<a class="section__link" href="([^"]+)"', html) == urls


def test_a_top_level_companys_page_does_not_look_for_ancestors(
    csm_client, django_assert_max_num_queries
):
    top = CompanyFactory(name="Holding")
    child = CompanyFactory(name="Subsidiary", parent=top)
    layout_default_ensure()

    def ancestor_queries(subject: Company) -> list[str]:
        with django_assert_max_num_queries(15) as captured:
            html = csm_client.get(page_url(subject)).content.decode()
        crumbs = re.findall(r'<nav class="breadcrumbs".*?</nav>', html, re.S)[0]
        assert ("Holding</a>" in crumbs) is (subject == child)
        return [q["sql"] for q in captured.captured_queries if '"lft" <' in q["sql"]]

    assert ancestor_queries(top) == []
    assert len(ancestor_queries(child)) == 1


def test_a_section_title_is_escaped_in_its_slot(csm_client, company):
    layout = LayoutFactory(name="Everyday", priority=10)
    SectionFactory(layout=layout, kind="summary", title='<b>R&D "notes"</b>', order=1)
    html = csm_client.get(page_url(company)).content.decode()
    escaped = "&lt;b&gt;R&amp;D &quot;notes&quot;&lt;/b&gt;"
    assert f'-title">{escaped}</h2>' in html
    assert f"Loading {escaped}…</span>" in html
    assert "<b>R&D" not in html


def test_a_collapsed_section_is_closed_and_the_others_open(csm_client, company, c360):
    html = csm_client.get(page_url(company)).content.decode()
    details = re.findall(
        r'id="section-(\d+)".*?<details class="section__details"\s*(open)?', html, re.S
    )

    opened = {int(pk): bool(is_open) for pk, is_open in details}
    assert opened == {
        section_of(c360, "summary").pk: True,
        section_of(c360, "attributes").pk: True,
        section_of(c360, "people").pk: True,
        section_of(c360, "hierarchy").pk: False,
    }


def test_each_placeholder_has_a_skeleton_of_its_kinds_height(csm_client, company, c360):
    html = csm_client.get(page_url(company)).content.decode()

    for kind in ("summary", "attributes", "people", "hierarchy"):
        height = REGISTRY[kind].skeleton_height
        section = section_of(c360, kind)
        block = html[html.index(f'id="section-{section.pk}"') :]
        assert (
            f'<svg class="skeleton" width="100%" height="{height}"' in block.split("</section>")[0]
        )


# A section's own URL ----------------------------------------------------------------------------


def test_a_section_asked_by_htmx_answers_only_the_section(csm_client, company, c360):
    summary = section_of(c360, "summary")

    response = csm_client.get(section_url(company, summary), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and "<header" not in content
    assert content.lstrip().startswith(
        f'<div class="section__body section-body--summary" id="section-body-{summary.pk}"'
    )
    assert "HX-Request" in response["Vary"]


def test_a_section_asked_without_htmx_renders_the_page_with_it_in_place(csm_client, company, c360):
    hierarchy = section_of(c360, "hierarchy")  # collapsed: opened when it is the one asked for
    url = section_url(company, hierarchy)

    response = csm_client.get(url)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" in content and "Initech" in content
    assert "HX-Request" in response["Vary"]
    frame = content[content.index(f'id="section-{hierarchy.pk}"') :].split("</section>")[0]
    assert '<details class="section__details" open>' in frame
    assert f'id="section-body-{hierarchy.pk}"' in frame
    assert "skeleton" not in frame
    # The other sections still load as placeholders, and this one is not loaded twice.
    assert url not in triggers(content)
    assert len(triggers(content)) == 3


def test_a_section_of_another_page_is_not_found(csm_client, company, c360):
    relationship = RelationshipFactory(company=company)
    r360 = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    own = SectionFactory(layout=r360, kind="summary")
    other_type = SectionFactory(
        layout=LayoutFactory(
            target=Layout.Target.RELATIONSHIP, relationship_type=RelationshipTypeFactory()
        ),
        kind="summary",
    )
    c360_summary = section_of(c360, "summary")

    def get(subject_url: str, section: Section | int, **headers: str) -> int:
        pk = section if isinstance(section, int) else section.pk
        return csm_client.get(f"{subject_url}sections/{pk}/", headers=headers).status_code

    company_url, relationship_url = page_url(company), page_url(relationship)
    assert get(relationship_url, own) == 200
    assert get(relationship_url, c360_summary) == 404  # a C360 section on an R360 page
    assert get(company_url, own) == 404  # an R360 section on a C360 page
    assert get(relationship_url, other_type) == 404  # another type's layout
    assert get(relationship_url, other_type, **HTMX) == 404
    assert get(company_url, 987654) == 404


def test_a_sections_own_and_action_urls_are_the_reversed_ones(rf, company):
    """SectionContext.url reverses the section's URL once and appends the action: for every
    kind's every action, on both pages, the same URL as reverse() gives."""
    from layouts.sections import SectionContext

    relationship = RelationshipFactory(company=company)
    request = rf.get("/")
    checked = 0
    for subject in (company, relationship):
        for kind in REGISTRY.values():
            section = SectionFactory.build(pk=4321, kind=kind.key)
            ctx = SectionContext(request=request, section=section, subject=subject)
            for action in [None, *kind.actions, None]:
                assert ctx.url(action) == section_url(subject, section, action)
                checked += 1
    assert checked > 2 * len(REGISTRY) * 2


def test_an_unknown_action_is_not_found(csm_client, company, c360):
    summary = section_of(c360, "summary")  # a kind without actions
    hierarchy = section_of(c360, "hierarchy")

    assert csm_client.get(section_url(company, summary, "edit")).status_code == 404
    assert csm_client.get(section_url(company, hierarchy, "explode")).status_code == 404
    assert csm_client.post(section_url(company, hierarchy, "explode")).status_code == 404


# A section that fails ----------------------------------------------------------------------------


@pytest.fixture
def broken_summary(monkeypatch):
    def context(ctx: Any) -> dict[str, Any]:
        raise RuntimeError("the BI service timed out")

    monkeypatch.setattr(REGISTRY["summary"], "context", context)


@pytest.mark.usefixtures("broken_summary")
def test_a_failing_section_shows_an_error_box_and_is_logged(csm_client, company, c360, caplog):
    summary = section_of(c360, "summary")

    with caplog.at_level(logging.ERROR, logger="layouts.views"):
        response = csm_client.get(section_url(company, summary), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "Summary could not be loaded." in content
    assert f'id="section-body-{summary.pk}" role="alert"' in content
    assert "timed out" not in content, "the error stays in the log"
    [record] = [r for r in caplog.records if r.name == "layouts.views"]
    assert f"Section {summary.pk} (summary) failed" in record.getMessage()
    assert record.exc_info is not None and "the BI service timed out" in str(record.exc_info[1])


@pytest.mark.usefixtures("broken_summary")
def test_a_failing_section_leaves_the_page_and_the_other_sections_alone(csm_client, company, c360):
    page = csm_client.get(page_url(company))
    details = csm_client.get(section_url(company, section_of(c360, "attributes")), headers=HTMX)
    full = csm_client.get(section_url(company, section_of(c360, "summary")))

    assert page.status_code == 200 and len(triggers(page.content.decode())) == 4
    assert details.status_code == 200 and "could not be loaded" not in details.content.decode()
    assert full.status_code == 200
    full_html = full.content.decode()
    assert "Summary could not be loaded." in full_html and "Initech" in full_html


# Preview with ?layout= ----------------------------------------------------------------------------


def test_staff_preview_any_layout_of_the_page(admin_client, csm_client, company):
    default = layout_default_ensure()
    smb_only = LayoutFactory(name="Small accounts")
    condition(smb_only, "segment", "SMB")

    previewed = admin_client.get(page_url(company), {"layout": smb_only.pk})

    assert previewed.context["layout"] == smb_only
    assert "Previewing the layout “Small accounts”" in previewed.content.decode()
    # A CSM asking for it gets the page's own layout, without a word about previews.
    as_csm = csm_client.get(page_url(company), {"layout": smb_only.pk})
    assert as_csm.context["layout"] == default
    assert "Previewing" not in as_csm.content.decode()


def test_previewing_a_layout_of_another_page_is_not_found(admin_client, company):
    relationship = RelationshipFactory(company=company)
    r360 = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    other_type = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=RelationshipTypeFactory()
    )
    c360 = LayoutFactory()

    assert admin_client.get(page_url(company), {"layout": r360.pk}).status_code == 404
    assert admin_client.get(page_url(relationship), {"layout": c360.pk}).status_code == 404
    assert admin_client.get(page_url(relationship), {"layout": other_type.pk}).status_code == 404
    assert admin_client.get(page_url(relationship), {"layout": r360.pk}).status_code == 200


def test_a_previewed_layouts_sections_load_from_their_own_urls(admin_client, company, c360):
    default = layout_default_ensure()  # has lower priority than c360 but is what we preview
    html = admin_client.get(page_url(company), {"layout": default.pk}).content.decode()

    urls = list(triggers(html))
    assert urls == [section_url(company, section) for section in default.sections.all()]
    for url in urls:
        assert admin_client.get(url, headers=HTMX).status_code == 200


# Who may open what --------------------------------------------------------------------------------


def test_a_partner_user_gets_404_for_a_company_not_theirs(
    partner_a_client, partner_a, partner_b, c360
):
    own = CompanyFactory(managed_by=partner_a)
    others = [CompanyFactory(managed_by=partner_b), CompanyFactory(name="In house")]
    summary, hierarchy = section_of(c360, "summary"), section_of(c360, "hierarchy")

    assert partner_a_client.get(page_url(own)).status_code == 200
    assert partner_a_client.get(section_url(own, summary), headers=HTMX).status_code == 200
    for company in others:
        urls = [
            page_url(company),
            section_url(company, summary),
            section_url(company, hierarchy, "move"),
            section_url(company, hierarchy, "explode"),
        ]
        for url in urls:
            assert partner_a_client.get(url).status_code == 404, url
            assert partner_a_client.get(url, headers=HTMX).status_code == 404, url
        assert partner_a_client.post(section_url(company, hierarchy, "move")).status_code == 404


def test_a_partner_user_gets_404_for_a_relationship_not_theirs(partner_a_client, partner_b):
    relationship = RelationshipFactory(company=CompanyFactory(managed_by=partner_b))
    layout = LayoutFactory(
        target=Layout.Target.RELATIONSHIP, relationship_type=relationship.relationship_type
    )
    summary = SectionFactory(layout=layout, kind="summary")

    for url in (
        page_url(relationship),
        section_url(relationship, summary),
        section_url(relationship, summary, "edit"),
    ):
        assert partner_a_client.get(url).status_code == 404, url


def test_an_anonymous_visitor_is_sent_to_sign_in(client, company, c360):
    summary = section_of(c360, "summary")

    for url in (
        page_url(company),
        section_url(company, summary),
        section_url(company, section_of(c360, "hierarchy"), "move"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")
        # From htmx (an expired session): the whole browser goes, nothing is swapped in.
        response = client.get(url, headers=HTMX)
        assert response.status_code == 200, url
        assert response["HX-Redirect"].startswith(reverse("login") + "?next=")
        assert response.content == b""


# The page header's budget ------------------------------------------------------------------------


def build(size: int, csm: Any, partner: Any) -> tuple[Company, Relationship]:
    """A company `size` levels down a family, with `size` of everything a page might read:
    relationships, people, type fields, layouts with criteria and sections."""
    parent = None
    for level in range(size):
        parent = company_create(name=f"Level {size}-{level}", parent=parent, managed_by=partner)
    company = company_create(
        name=f"Subject {size}",
        parent=parent,
        csm=csm,
        managed_by=partner,
        segment=Company.Segment.ENTERPRISE,
    )
    kind = RelationshipTypeFactory(name=f"Platform {size}")
    for number in range(size):
        RelationshipTypeFieldFactory(relationship_type=kind, key=f"field_{size}_{number}")
        RelationshipFactory(company=company, relationship_type=kind, csm=csm)
        CompanyPersonFactory(company=company)
    for target, type_ in (("company", None), ("relationship", kind)):
        for number in range(size):
            layout = LayoutFactory(target=target, relationship_type=type_, priority=number + 1)
            condition(layout, "status", "Prospect")  # never matches: every one is tried
            condition(layout, "viewer.kind", "internal")
            SectionFactory.create_batch(size, layout=layout, kind="summary")
        chosen = LayoutFactory(target=target, relationship_type=type_, priority=500)
        for number in range(size):
            SectionFactory(layout=chosen, kind="summary", title=f"Facts {number}")
    return company, company.relationships.first()


def page_queries(client: Client, url: str, budget: int, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
        assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("persona", ["csm_client", "partner_a_client"])
def test_the_page_header_runs_the_same_queries_whatever_the_data_size(
    request, persona, csm_user, partner_a, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    layout_default_ensure()
    small_company, small_relationship = build(1, csm_user, partner_a)
    small = [
        page_queries(client, page_url(small_company), 15, django_assert_max_num_queries),
        page_queries(client, page_url(small_relationship), 15, django_assert_max_num_queries),
    ]

    large_company, large_relationship = build(4, csm_user, partner_a)
    large = [
        page_queries(client, page_url(large_company), 15, django_assert_max_num_queries),
        page_queries(client, page_url(large_relationship), 15, django_assert_max_num_queries),
    ]

    assert small == large
    assert large_company.level == 4
