"""Which layout a viewer gets: criteria, priority, the default fallback, viewer conditions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from companies.models import Company
from layouts.models import MAX_C360_LAYOUTS, Layout, LayoutCondition, Section
from layouts.selection import layout_for, page_section, viewer_for
from layouts.services import layout_clone, layout_default_ensure, layout_delete
from partners.roles import CSM
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    PartnerUserFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def condition(layout: Layout, field: str, value: str, operator: str = "is") -> LayoutCondition:
    item = LayoutCondition(layout=layout, subject_field=field, operator=operator, value=value)
    item.full_clean()
    item.save()
    return item


@pytest.fixture
def default():
    return layout_default_ensure()


def test_the_default_layout_is_used_when_nothing_matches(default, csm_user):
    enterprise = LayoutFactory(name="Executive")
    condition(enterprise, "segment", "Enterprise")
    company = CompanyFactory(segment=Company.Segment.SMB)
    assert layout_for(subject=company, viewer=viewer_for(csm_user)) == default


def test_a_matching_layout_wins_over_the_default_and_accepts_label_or_value(default, csm_user):
    by_label = LayoutFactory(name="Executive", priority=10)
    condition(by_label, "segment", "Enterprise")
    by_value = LayoutFactory(name="Mid", priority=5)
    condition(by_value, "segment", "mid_market")
    enterprise = CompanyFactory(segment=Company.Segment.ENTERPRISE)
    mid = CompanyFactory(segment=Company.Segment.MID_MARKET)
    assert layout_for(subject=enterprise, viewer=viewer_for(csm_user)) == by_label
    assert layout_for(subject=mid, viewer=viewer_for(csm_user)) == by_value


def test_all_conditions_must_hold(default, csm_user):
    layout = LayoutFactory()
    condition(layout, "segment", "Enterprise")
    condition(layout, "industry", "Retail, Healthcare", operator="one_of")
    viewer = viewer_for(csm_user)
    assert (
        layout_for(subject=CompanyFactory(segment="enterprise", industry="Retail"), viewer=viewer)
        == layout
    )
    assert (
        layout_for(subject=CompanyFactory(segment="enterprise", industry="Finance"), viewer=viewer)
        == default
    )
    assert (
        layout_for(subject=CompanyFactory(segment="smb", industry="Retail"), viewer=viewer)
        == default
    )


def test_the_first_match_by_priority_wins(default, csm_user):
    late = LayoutFactory(name="Late", priority=20)
    condition(late, "status", "Active")
    early = LayoutFactory(name="Early", priority=10)
    condition(early, "status", "active")
    assert layout_for(subject=CompanyFactory(), viewer=viewer_for(csm_user)) == early


def test_is_not_inverts_a_condition(default, csm_user):
    layout = LayoutFactory()
    condition(layout, "segment", "SMB", operator="is_not")
    viewer = viewer_for(csm_user)
    assert layout_for(subject=CompanyFactory(segment="enterprise"), viewer=viewer) == layout
    assert layout_for(subject=CompanyFactory(segment="smb"), viewer=viewer) == default


def test_viewer_conditions_tell_partner_users_and_groups_apart(default, csm_user):
    partners_layout = LayoutFactory(name="Partner view", priority=1)
    condition(partners_layout, "viewer.kind", "partner")
    csm_layout = LayoutFactory(name="CSM view", priority=2)
    condition(csm_layout, "viewer.group", CSM)
    partner_user = PartnerUserFactory().user
    someone = UserFactory()
    company = CompanyFactory()
    assert layout_for(subject=company, viewer=viewer_for(partner_user)) == partners_layout
    assert layout_for(subject=company, viewer=viewer_for(csm_user)) == csm_layout
    assert layout_for(subject=company, viewer=viewer_for(someone)) == default


def test_r360_layouts_are_per_type_and_can_test_the_types_own_fields(csm_user):
    product = RelationshipTypeFactory(name="Analytics")
    RelationshipTypeFieldFactory(
        relationship_type=product, key="edition", kind="choice", choices=["Standard", "Enterprise"]
    )
    other_type = RelationshipTypeFactory(name="Services")
    premium = LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=product)
    condition(premium, "attr.edition", "Enterprise")
    LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=other_type)
    viewer = viewer_for(csm_user)
    rich = RelationshipFactory(relationship_type=product, attributes={"edition": "Enterprise"})
    plain = RelationshipFactory(relationship_type=product, attributes={"edition": "Standard"})
    assert layout_for(subject=rich, viewer=viewer) == premium
    fallback = layout_for(subject=plain, viewer=viewer)
    assert fallback.is_default and fallback.relationship_type == product
    assert [s.kind for s in fallback.sections.all()][:1] == ["summary"]


def test_a_condition_on_a_field_the_layout_does_not_have_is_refused():
    layout = LayoutFactory()
    with pytest.raises(ValidationError) as error:
        condition(layout, "attr.edition", "Enterprise")
    assert "subject_field" in error.value.message_dict


def test_only_one_default_per_target_and_it_cannot_be_deleted(default):
    assert layout_default_ensure() == default
    with pytest.raises(ValidationError):
        Layout(name="Second default", is_default=True).validate_constraints()
    with pytest.raises(ValidationError) as error:
        layout_delete(layout=default)
    assert "cannot be deleted" in error.value.messages[0]
    assert Layout.objects.filter(pk=default.pk).exists()


def test_at_most_fifty_c360_layouts(default):
    Layout.objects.bulk_create(
        Layout(name=f"L{n}", target=Layout.Target.COMPANY) for n in range(MAX_C360_LAYOUTS - 1)
    )
    with pytest.raises(ValidationError) as error:
        Layout(name="One too many", target=Layout.Target.COMPANY).full_clean()
    assert error.value.messages == ["There can be at most 50 C360 layouts."]


def test_clone_copies_sections_and_conditions_and_is_not_default(default):
    layout = LayoutFactory(name="Exec")
    condition(layout, "segment", "Enterprise")
    SectionFactory(layout=layout, kind="summary", title="Facts")
    copy = layout_clone(layout=layout)
    assert copy.name == "Copy of Exec" and not copy.is_default
    assert [s.title for s in copy.sections.all()] == ["Facts"]
    assert [str(c) for c in copy.conditions.all()] == ["segment is Enterprise"]


def test_a_section_configuration_is_checked_by_its_kind(default):
    section = SectionFactory.build(layout=default, kind="summary", config={"widgets": ["nope"]})
    with pytest.raises(ValidationError) as error:
        section.full_clean()
    assert error.value.message_dict["config"] == [
        "Widgets: Select a valid choice. nope is not one of the available choices."
    ]


# ---------- the layouts kept per process ----------


def titles(layout: Layout) -> list[str]:
    return [section.title for section in layout.sections.all()]


def test_the_layouts_are_read_once_while_they_do_not_change(
    default, csm_user, django_assert_num_queries
):
    layout = LayoutFactory(name="Executive", priority=1)
    condition(layout, "segment", "Enterprise")
    SectionFactory(layout=layout, kind="summary", title="Facts")
    company = CompanyFactory(segment=Company.Segment.ENTERPRISE)
    viewer = viewer_for(csm_user)
    with django_assert_num_queries(4):  # the stamp, the layouts, their conditions and sections
        assert titles(layout_for(subject=company, viewer=viewer)) == ["Facts"]
    with django_assert_num_queries(1):  # the layouts' stamp only
        chosen = layout_for(subject=company, viewer=viewer)
        assert chosen == layout and titles(chosen) == ["Facts"]


def test_a_saved_or_deleted_section_or_condition_is_seen_at_once(default, csm_user):
    layout = LayoutFactory(name="Executive", priority=1)
    condition(layout, "segment", "Enterprise")
    section = SectionFactory(layout=layout, kind="summary", title="Facts", order=1)
    # Not in Retail: the condition added below must rule the layout out.
    company = CompanyFactory(segment=Company.Segment.ENTERPRISE, industry="Software")
    viewer = viewer_for(csm_user)
    assert titles(layout_for(subject=company, viewer=viewer)) == ["Facts"]

    section.title = "Key facts"
    section.save()
    assert titles(layout_for(subject=company, viewer=viewer)) == ["Key facts"]
    SectionFactory(layout=layout, kind="summary", title="More", order=5)
    assert titles(layout_for(subject=company, viewer=viewer)) == ["Key facts", "More"]
    section.delete()
    assert titles(layout_for(subject=company, viewer=viewer)) == ["More"]

    other = condition(layout, "industry", "Retail")
    assert layout_for(subject=company, viewer=viewer) == default
    other.delete()
    assert layout_for(subject=company, viewer=viewer) == layout
    layout_delete(layout=layout)
    assert layout_for(subject=company, viewer=viewer) == default


def test_a_section_saved_marks_its_layout_changed_for_other_processes(default):
    """Other processes compare the layouts' updated_at: a section or condition bumps it."""
    layout = LayoutFactory(name="Executive")
    before = Layout.objects.get(pk=layout.pk).updated_at
    section = SectionFactory(layout=layout, kind="summary", title="Facts")
    after_section = Layout.objects.get(pk=layout.pk).updated_at
    assert after_section > before
    condition(layout, "segment", "Enterprise")
    after_condition = Layout.objects.get(pk=layout.pk).updated_at
    assert after_condition > after_section
    section.delete()
    assert Layout.objects.get(pk=layout.pk).updated_at > after_condition


def test_a_change_made_by_another_process_is_seen(default, csm_user):
    """No signal reaches this process then: the layouts' stamp (id, updated_at) tells."""
    layout = LayoutFactory(name="Executive", priority=1)
    section = SectionFactory(layout=layout, kind="summary", title="Facts")
    company = CompanyFactory()
    viewer = viewer_for(csm_user)
    assert titles(layout_for(subject=company, viewer=viewer)) == ["Facts"]
    # What another process's save does to the database (QuerySet.update sends no signal).
    Section.objects.filter(pk=section.pk).update(title="Renamed elsewhere")
    assert titles(layout_for(subject=company, viewer=viewer)) == ["Facts"]  # kept: unchanged stamp
    Layout.objects.filter(pk=layout.pk).update(updated_at=timezone.now())
    assert titles(layout_for(subject=company, viewer=viewer)) == ["Renamed elsewhere"]
    # A layout added elsewhere (bulk_create sends no signal either) is a candidate at once.
    Layout.objects.bulk_create([Layout(name="First", target=Layout.Target.COMPANY, priority=0)])
    assert layout_for(subject=company, viewer=viewer).name == "First"


def test_a_page_section_comes_from_the_kept_layouts_once_a_page_read_them(
    default, csm_user, django_assert_num_queries
):
    layout = LayoutFactory(name="Executive", priority=1)
    facts = SectionFactory(layout=layout, kind="summary", title="Facts")
    renewals = RelationshipTypeFactory(name="Renewals")
    of_a_relationship = SectionFactory(
        layout=LayoutFactory(
            name="Renewal", target=Layout.Target.RELATIONSHIP, relationship_type=renewals
        ),
        kind="summary",
    )
    company = CompanyFactory()
    relationship = RelationshipFactory(relationship_type=renewals)
    other_type = RelationshipFactory(relationship_type=RelationshipTypeFactory(name="Other"))
    # Nothing kept yet: read by its key, and matched to the kind of page.
    with django_assert_num_queries(1):
        assert page_section(subject=company, section_id=facts.pk) == facts
    for subject, section_id in (
        (company, of_a_relationship.pk),
        (other_type, of_a_relationship.pk),
        (relationship, facts.pk),
        (company, 0),
    ):
        assert page_section(subject=subject, section_id=section_id) is None
    assert page_section(subject=relationship, section_id=of_a_relationship.pk) == (
        of_a_relationship
    )
    # Once a page has read the layouts, the stamp is the only query.
    layout_for(subject=company, viewer=viewer_for(csm_user))
    layout_for(subject=relationship, viewer=viewer_for(csm_user))
    with django_assert_num_queries(1) as captured:
        assert page_section(subject=company, section_id=facts.pk) == facts
    assert "layouts_section" not in captured.captured_queries[0]["sql"]
    with django_assert_num_queries(3):
        assert page_section(subject=company, section_id=of_a_relationship.pk) is None
        assert page_section(subject=relationship, section_id=facts.pk) is None
        assert page_section(subject=other_type, section_id=of_a_relationship.pk) is None
    # Changed by another process (no signal here): the stamp differs, the section is read.
    Section.objects.filter(pk=facts.pk).update(title="Renamed elsewhere")
    Layout.objects.filter(pk=layout.pk).update(updated_at=timezone.now())
    with django_assert_num_queries(2):
        read = page_section(subject=company, section_id=facts.pk)
    assert read is not None and read.title == "Renamed elsewhere"
    moved = SectionFactory(layout=layout, kind="summary", title="Moved")
    layout_for(subject=company, viewer=viewer_for(csm_user))
    Section.objects.filter(pk=moved.pk).update(layout=of_a_relationship.layout)
    Layout.objects.filter(pk=layout.pk).update(updated_at=timezone.now())
    assert page_section(subject=company, section_id=moved.pk) is None


def test_the_viewers_groups_are_read_only_when_a_condition_asks(
    default, csm_user, django_assert_num_queries
):
    partner_user = PartnerUserFactory().user
    company = CompanyFactory()
    layout_for(subject=company, viewer=viewer_for(partner_user))  # the layouts read once
    with django_assert_num_queries(1):  # the layouts' stamp: no group names
        assert layout_for(subject=company, viewer=viewer_for(partner_user)) == default
    csm_layout = LayoutFactory(name="CSM view", priority=2)
    condition(csm_layout, "viewer.group", CSM)
    layout_for(subject=company, viewer=viewer_for(csm_user))
    fresh = User.objects.get(pk=csm_user.pk)  # a new request's user: no names kept on it
    viewer = viewer_for(fresh)  # (asks whether they are a partner user)
    with django_assert_num_queries(2):  # the stamp and the group names
        assert layout_for(subject=company, viewer=viewer) == csm_layout
