"""The layouts admin: sections configured through their kind's form (never raw JSON), criteria,
the preview page, cloning, the default layout kept, the limits, and the relationship type's
links to its R360 layouts."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from layouts.models import MAX_R360_LAYOUTS_PER_TYPE, Layout, LayoutCondition, Section
from layouts.sections import REGISTRY
from layouts.services import layout_default_ensure
from relationships.models import RelationshipType, RelationshipTypeField
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:layouts_layout_changelist")
ADD = reverse("admin:layouts_layout_add")


def layout_url(layout: Layout) -> str:
    return reverse("admin:layouts_layout_change", args=[layout.pk])


def section_url(section: Section) -> str:
    return reverse("admin:layouts_section_change", args=[section.pk])


class FormValues(HTMLParser):
    """What a browser would post for the form with `form_id`: its fields as rendered."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.select: str | None = None
        self.select_multiple = False
        self.options: list[tuple[str, bool]] = []
        self.option_value: str | None = None
        self.option_text = ""
        self.textarea: str | None = None

    def add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.add(name, a.get("value") or "on")
            elif kind not in {"submit", "button", "file", "image", "reset"}:
                self.add(name, a.get("value", ""))
        elif tag == "select" and name:
            self.select, self.select_multiple, self.options = name, "multiple" in a, []
        elif tag == "option" and self.select is not None:
            self.option_value = a.get("value")
            self.option_text = ""
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self.textarea = name
            self.add(name, "")

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.data[self.textarea][-1] += data
        if self.select is not None and self.option_value is None and self.options:
            self.option_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.options if selected]
            if not chosen and not self.select_multiple and self.options:
                chosen = [self.options[0][0]]
            for value in chosen:
                self.add(self.select, value)
            self.select = None


def form_values(response: Any, form_id: str) -> dict[str, Any]:
    parser = FormValues(form_id)
    parser.feed(response.content.decode())
    return {name: values if len(values) > 1 else values[0] for name, values in parser.data.items()}


def resubmit(client: Client, url: str, form_id: str, **changes: Any) -> Any:
    """Open the admin page at `url` and post its form back with `changes`."""
    page = client.get(url)
    assert page.status_code == 200
    data = form_values(page, form_id)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def product() -> RelationshipType:
    kind = RelationshipTypeFactory(name="Analytics Cloud")
    RelationshipTypeFieldFactory(
        relationship_type=kind,
        key="edition",
        label="Edition",
        kind=RelationshipTypeField.Kind.CHOICE,
        choices=["Standard", "Enterprise"],
        order=1,
    )
    RelationshipTypeFieldFactory(
        relationship_type=kind, key="seats", label="Seats", kind="number", order=2
    )
    return kind


@pytest.fixture
def c360() -> Layout:
    return LayoutFactory(name="Everyday", target=Layout.Target.COMPANY)


@pytest.fixture
def r360(product) -> Layout:
    return LayoutFactory(
        name="Product page", target=Layout.Target.RELATIONSHIP, relationship_type=product
    )


def layout_for_target(target: str, c360: Layout, r360: Layout) -> Layout:
    return c360 if target == "company" else r360


KIND_TARGETS = [(key, target) for key, kind in REGISTRY.items() for target in sorted(kind.targets)]


# A section's configuration, through its kind's own form -----------------------------------


@pytest.mark.parametrize(("kind", "target"), KIND_TARGETS, ids=lambda v: str(v))
def test_every_kind_round_trips_through_its_form_unchanged(admin_client, c360, r360, kind, target):
    section = SectionFactory(layout=layout_for_target(target, c360, r360), kind=kind)
    before = section.config
    page = admin_client.get(section_url(section))
    content = page.content.decode()
    assert page.status_code == 200
    for name in REGISTRY[kind].config_form_class(section.layout).base_fields:
        assert f'name="config_{name}"' in content, name
    assert 'name="config"' not in content, "never raw JSON"
    assert ">Config " not in content, "labelled as in the kind's form, not by the field's name"

    response = resubmit(admin_client, section_url(section), "section_form")

    assert response.status_code == 302, response.context["adminform"].form.errors
    section.refresh_from_db()
    assert section.config == before


def configured(layout: Layout, kind: str) -> dict[str, Any]:
    """A configuration of `kind` other than its defaults (for the kinds that have options)."""
    product = layout.relationship_type
    examples: dict[str, dict[str, Any]] = {
        "summary": {"widgets": ["arr", "renewal", "csm"]},
        "attributes": {"fields": ["status", "attr.seats"] if product else ["segment", "arr"]},
        "embed": {
            "url_template": "https://bi.example.com/account?id={id}",
            "height": 320,
            "title": "Usage dashboard",
        },
        "hierarchy": {"max_nodes": 7},
        "related_list": {
            "source": "other_relationships" if product else "relationships",
            "relationship_type": RelationshipTypeFactory(name="Data Platform").pk
            if product is None
            else product.pk,
            "columns": ["name", "status", "attr.seats"] if product else ["name", "arr"],
            "status": "active",
            "sort": "-arr",
            "limit": 5,
        },
    }
    default = REGISTRY[kind].default_config(layout)
    return {**default, **{k: v for k, v in examples.get(kind, {}).items() if k in default}}


@pytest.mark.parametrize(("kind", "target"), KIND_TARGETS, ids=lambda v: str(v))
def test_a_configured_section_round_trips_through_its_form(admin_client, c360, r360, kind, target):
    layout = layout_for_target(target, c360, r360)
    config = REGISTRY[kind].clean_config(configured(layout, kind), layout=layout)
    section = SectionFactory(layout=layout, kind=kind, config=config)

    response = resubmit(admin_client, section_url(section), "section_form")

    assert response.status_code == 302, response.context["adminform"].form.errors
    section.refresh_from_db()
    assert section.config == config


def test_a_changed_option_is_saved_and_the_admin_goes_back_to_the_layout(admin_client, c360):
    section = SectionFactory(layout=c360, kind="summary")

    response = resubmit(
        admin_client, section_url(section), "section_form", config_widgets=["mrr", "csm"]
    )

    assert response.status_code == 302
    assert response["Location"] == layout_url(c360)
    section.refresh_from_db()
    assert section.config["widgets"] == ["mrr", "csm"]


@pytest.mark.skipif("embed" not in REGISTRY, reason="the embed kind is not registered")
def test_a_bad_embed_address_shows_the_kinds_sentence_next_to_the_field(admin_client, c360):
    section = SectionFactory(layout=c360, kind="embed")
    before = section.config

    response = resubmit(
        admin_client,
        section_url(section),
        "section_form",
        config_url_template="http://bi.example.com/account?id={external_id}",
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["config_url_template"] == [
        "Only secure https:// addresses can be embedded, e.g. "
        "https://bi.example.com/account?id={external_id}."
    ]
    assert "Only secure https:// addresses can be embedded" in response.content.decode()
    section.refresh_from_db()
    assert section.config == before


@pytest.mark.skipif("related_list" not in REGISTRY, reason="the related list is not registered")
def test_a_related_list_column_its_records_lack_is_refused_with_a_sentence(admin_client, c360):
    section = SectionFactory(layout=c360, kind="related_list")
    before = section.config

    response = resubmit(
        admin_client,
        section_url(section),
        "section_form",
        config_source="children",
        config_columns=["name", "email"],
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["config_columns"] == [
        "Child companies have no “Email” column: remove it or choose another list."
    ]
    section.refresh_from_db()
    assert section.config == before


def test_a_field_level_error_shows_next_to_its_field(admin_client, c360):
    section = SectionFactory(layout=c360, kind="summary")

    response = resubmit(
        admin_client, section_url(section), "section_form", config_widgets=["arr", "health?"]
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["config_widgets"]
    assert "health? is not one of the available choices" in errors["config_widgets"][0]


def test_a_stored_configuration_the_kind_no_longer_accepts_is_shown_not_a_crash(admin_client, r360):
    section = SectionFactory(layout=r360, kind="attributes")
    Section.objects.filter(pk=section.pk).update(config={"fields": ["attr.gone"]})
    url = layout_url(r360)

    response = resubmit(admin_client, url, "layout_form")

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][-1].formset
    assert "Fields: Select a valid choice. attr.gone is not one of the available choices." in (
        formset.forms[0].non_field_errors()
    )


# Sections inline on the layout ------------------------------------------------------------


def with_new_section(data: dict[str, Any], index: int, **values: str) -> dict[str, Any]:
    data = {**data, "sections-TOTAL_FORMS": str(index + 1)}
    for name, value in values.items():
        data[f"sections-{index}-{name}"] = value
    return data


def test_a_section_added_inline_starts_with_its_kinds_defaults(admin_client, r360):
    page = admin_client.get(layout_url(r360))
    data = with_new_section(
        form_values(page, "layout_form"), 0, order="1", kind="attributes", title="Details"
    )

    response = admin_client.post(layout_url(r360), data)

    assert response.status_code == 302
    section = r360.sections.get()
    assert section.config == REGISTRY["attributes"].default_config(r360)
    assert {"attr.edition", "attr.seats"} <= set(section.config["fields"])


def test_a_kind_not_made_for_the_page_is_an_error_on_its_kind(admin_client, r360):
    page = admin_client.get(layout_url(r360))
    data = with_new_section(
        form_values(page, "layout_form"), 0, order="1", kind="hierarchy", title="Family"
    )

    response = admin_client.post(layout_url(r360), data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][-1].formset
    assert formset.errors[0]["kind"] == ["A Hierarchy section cannot be used on this kind of page."]
    assert not r360.sections.exists()


def test_sections_are_listed_in_their_order_with_a_link_to_configure_each(admin_client, c360):
    late = SectionFactory(layout=c360, kind="summary", title="Late", order=9)
    early = SectionFactory(layout=c360, kind="attributes", title="Early", order=1)

    content = admin_client.get(layout_url(c360)).content.decode()

    assert content.index('value="Early"') < content.index('value="Late"')
    assert f'href="{section_url(early)}">Configure…</a>' in content
    assert f'href="{section_url(late)}">Configure…</a>' in content


def test_changing_a_sections_kind_inline_starts_from_the_new_kinds_defaults(admin_client, c360):
    section = SectionFactory(layout=c360, kind="summary", config={"widgets": ["arr"]})
    page = admin_client.get(layout_url(c360))
    data = form_values(page, "layout_form")
    data["sections-0-kind"] = "attributes"

    assert admin_client.post(layout_url(c360), data).status_code == 302
    section.refresh_from_db()
    assert section.kind == "attributes"
    assert section.config == REGISTRY["attributes"].default_config(c360)


def test_a_new_r360_layout_is_added_with_its_sections_checked_against_its_type(
    admin_client, product
):
    page = admin_client.get(ADD, {"target": "relationship", "relationship_type": product.pk})
    data = form_values(page, "layout_form")
    assert data["target"] == "relationship" and data["relationship_type"] == str(product.pk)
    data = {**data, "name": "Renewals", "priority": "20"}
    refused = with_new_section(data, 0, order="1", kind="hierarchy", title="Family")

    response = admin_client.post(ADD, refused)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][-1].formset
    assert formset.errors[0]["kind"] == ["A Hierarchy section cannot be used on this kind of page."]
    assert not Layout.objects.exists()

    accepted = with_new_section(data, 0, order="1", kind="attributes", title="Details")
    assert admin_client.post(ADD, accepted).status_code == 302
    layout = Layout.objects.get(name="Renewals")
    section = layout.sections.get()
    assert layout.relationship_type == product
    assert section.config == REGISTRY["attributes"].default_config(layout)


# Criteria -------------------------------------------------------------------------------------


def test_the_when_of_a_criterion_offers_the_records_fields_and_the_viewer(admin_client, c360, r360):
    company_page = admin_client.get(layout_url(c360))
    company_form = company_page.context["inline_admin_formsets"][0].formset.empty_form
    assert [value for value, _ in company_form.fields["subject_field"].widget.choices] == [
        "",
        "segment",
        "industry",
        "stage",
        "status",
        "viewer.kind",
        "viewer.group",
    ]
    relationship_page = admin_client.get(layout_url(r360))
    relationship_form = relationship_page.context["inline_admin_formsets"][0].formset.empty_form
    choices = dict(relationship_form.fields["subject_field"].widget.choices)
    assert choices["attr.edition"] == "Edition (type field)"
    assert "segment" not in choices and "viewer.kind" in choices


def test_a_criterion_is_saved_and_a_field_of_another_page_refused(admin_client, r360):
    page = admin_client.get(layout_url(r360))
    data = form_values(page, "layout_form")
    data.update(
        {
            "conditions-TOTAL_FORMS": "1",
            "conditions-0-subject_field": "segment",
            "conditions-0-operator": "is",
            "conditions-0-value": "Enterprise",
        }
    )
    response = admin_client.post(layout_url(r360), data)
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[0]["subject_field"] == [
        "Choose a field of this layout's records or of the viewer."
    ]
    assert not r360.conditions.exists()

    data["conditions-0-subject_field"] = "attr.edition"
    assert admin_client.post(layout_url(r360), data).status_code == 302
    condition = r360.conditions.get()
    assert (condition.subject_field, condition.value) == ("attr.edition", "Enterprise")


def test_the_default_layout_has_no_criteria_and_no_delete_button(admin_client):
    default = layout_default_ensure()

    response = admin_client.get(layout_url(default))
    content = response.content.decode()

    assert [f.formset.prefix for f in response.context["inline_admin_formsets"]] == ["sections"]
    assert "deletelink" not in content
    delete = reverse("admin:layouts_layout_delete", args=[default.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Layout.objects.filter(pk=default.pk).exists()


# The list, cloning, deleting, limits ------------------------------------------------------------


def test_the_list_shows_the_page_criteria_sections_and_a_preview_link(admin_client, r360):
    LayoutCondition.objects.create(layout=r360, subject_field="status", value="Active")
    SectionFactory.create_batch(2, layout=r360, kind="summary")
    layout_default_ensure()

    content = admin_client.get(CHANGELIST).content.decode()

    assert "R360 · Analytics Cloud" in content
    assert "Status is Active" in content
    assert "When no other layout matches" in content
    assert '<td class="field-section_count">2</td>' in content
    preview = reverse("admin:layouts_layout_preview", args=[r360.pk])
    assert f'href="{preview}"' in content


def test_cloning_copies_sections_and_criteria_into_a_layout_tried_next(admin_client, r360):
    LayoutCondition.objects.create(layout=r360, subject_field="attr.edition", value="Enterprise")
    SectionFactory(layout=r360, kind="summary", title="Facts", config={"widgets": ["arr"]})
    SectionFactory(layout=r360, kind="people", title="Contacts", collapsed=True)

    response = admin_client.post(
        CHANGELIST, {"action": "clone_layouts", "_selected_action": [r360.pk]}, follow=True
    )

    clone = Layout.objects.get(name="Copy of Product page")
    assert "Cloned Product page as" in messages_of(response)[0]
    assert (clone.relationship_type, clone.priority, clone.is_default) == (
        r360.relationship_type,
        r360.priority + 1,
        False,
    )
    assert [(s.kind, s.title, s.collapsed, s.config) for s in clone.sections.all()] == [
        (s.kind, s.title, s.collapsed, s.config) for s in r360.sections.all()
    ]
    assert [(c.subject_field, c.value) for c in clone.conditions.all()] == [
        ("attr.edition", "Enterprise")
    ]


def test_cloning_past_the_limit_is_refused_with_a_message(admin_client, product):
    layouts = LayoutFactory.create_batch(
        MAX_R360_LAYOUTS_PER_TYPE, target="relationship", relationship_type=product
    )

    response = admin_client.post(
        CHANGELIST, {"action": "clone_layouts", "_selected_action": [layouts[0].pk]}, follow=True
    )

    assert messages_of(response) == [
        f"{layouts[0].name} was not cloned: There can be at most {MAX_R360_LAYOUTS_PER_TYPE} "
        "R360 layouts for this relationship type."
    ]
    assert Layout.objects.count() == MAX_R360_LAYOUTS_PER_TYPE


def test_adding_a_layout_past_the_limit_says_so(admin_client, product):
    LayoutFactory.create_batch(
        MAX_R360_LAYOUTS_PER_TYPE, target="relationship", relationship_type=product
    )
    page = admin_client.get(ADD, {"target": "relationship", "relationship_type": product.pk})
    data = {**form_values(page, "layout_form"), "name": "One too many", "priority": "5"}

    response = admin_client.post(ADD, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        f"There can be at most {MAX_R360_LAYOUTS_PER_TYPE} R360 layouts for this relationship type."
    ]
    assert not Layout.objects.filter(name="One too many").exists()


def test_bulk_delete_spares_the_default_layout_and_says_why(admin_client, c360):
    default = layout_default_ensure()
    chosen = {"action": "delete_selected", "_selected_action": [default.pk, c360.pk]}

    confirm = admin_client.post(CHANGELIST, chosen)

    assert confirm.status_code == 200
    assert "Are you sure you want to delete the selected layout?" in confirm.content.decode()
    assert [layout.pk for layout in confirm.context["queryset"]] == [c360.pk]
    assert "The default layout cannot be deleted (Default)" in messages_of(confirm)[0]

    done = admin_client.post(CHANGELIST, {**chosen, "post": "yes"}, follow=True)

    assert list(Layout.objects.all()) == [default]
    assert "Successfully deleted 1 layout." in messages_of(done)


def test_bulk_delete_of_only_the_default_deletes_nothing(admin_client):
    default = layout_default_ensure()

    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [default.pk]}, follow=True
    )

    assert "The default layout cannot be deleted" in messages_of(response)[0]
    assert Layout.objects.filter(pk=default.pk).exists()


# Preview ----------------------------------------------------------------------------------------


def test_the_preview_page_lists_matching_companies_with_this_layout(admin_client, c360):
    acme = CompanyFactory(name="Acme Europe", external_id="ACC-77")
    CompanyFactory(name="Globex")
    url = reverse("admin:layouts_layout_preview", args=[c360.pk])

    by_name = admin_client.get(url, {"q": "acme"})
    by_id = admin_client.get(url, {"q": "acc-77"})

    assert [name for name, _, _ in by_name.context["subjects"]] == ["Acme Europe"]
    assert [name for name, _, _ in by_id.context["subjects"]] == ["Acme Europe"]
    link = reverse("layouts:company", args=[acme.pk]) + f"?layout={c360.pk}"
    assert f'href="{link}"' in by_name.content.decode()
    assert "No company matches “zzz”." in admin_client.get(url, {"q": "zzz"}).content.decode()


def test_the_preview_page_of_an_r360_layout_lists_only_its_types_relationships(admin_client, r360):
    own = RelationshipFactory(name="Main", relationship_type=r360.relationship_type)
    RelationshipFactory(name="Main too", relationship_type=RelationshipTypeFactory())
    url = reverse("admin:layouts_layout_preview", args=[r360.pk])

    response = admin_client.get(url, {"q": "main"})

    assert response.context["subjects"] == [
        (
            "Main",
            own.company.name,
            reverse("layouts:relationship", args=[own.pk]) + f"?layout={r360.pk}",
        )
    ]


def test_the_change_page_links_to_the_preview(admin_client, c360):
    content = admin_client.get(layout_url(c360)).content.decode()

    preview = reverse("admin:layouts_layout_preview", args=[c360.pk])
    assert f'<a href="{preview}">Preview as this layout…</a>' in content


def test_a_non_staff_user_cannot_open_the_preview_page(csm_client, c360):
    url = reverse("admin:layouts_layout_preview", args=[c360.pk])

    response = csm_client.get(url)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# The relationship type's links to its R360 layouts ---------------------------------------------


def test_the_relationship_type_page_links_to_its_layouts_and_to_add_one(admin_client, r360):
    product = r360.relationship_type
    default = layout_default_ensure(relationship_type=product)
    url = reverse("admin:relationships_relationshiptype_change", args=[product.pk])

    content = admin_client.get(url).content.decode()

    assert f'<a href="{layout_url(default)}">Default</a> (default)' in content
    assert f'<a href="{layout_url(r360)}">Product page</a> (priority {r360.priority})' in content
    assert f'href="{ADD}?target=relationship&amp;relationship_type={product.pk}"' in content
    assert "Add an R360 layout</a>" in content


def test_the_relationship_type_list_counts_its_layouts_with_a_link(admin_client, r360):
    product = r360.relationship_type
    layout_default_ensure(relationship_type=product)
    other = RelationshipTypeFactory(name="Data Platform")

    content = admin_client.get(
        reverse("admin:relationships_relationshiptype_changelist")
    ).content.decode()

    assert f'<a href="{CHANGELIST}?relationship_type__id__exact={product.pk}">2</a>' in content
    assert f'<a href="{CHANGELIST}?relationship_type__id__exact={other.pk}">0</a>' in content
    # The two counts do not multiply each other.
    assert '<td class="field-field_count">2</td>' in content
    filtered = admin_client.get(CHANGELIST, {"relationship_type__id__exact": product.pk})
    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == 2
