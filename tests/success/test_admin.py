"""The success admin: every model has one and its pages open, big tables stay cheap, system
types are kept, and the models' rules show their own sentences."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.contrib import admin
from django.utils import timezone

from gainsight_lite.admin_lists import LargeTablePaginator
from success.models import (
    CTA,
    Activity,
    ActivityType,
    CTAStatus,
    CTAType,
    GradeBand,
    Measure,
    Score,
    Scorecard,
    SuccessPlan,
    SuccessPlanType,
    Task,
)
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CTAFactory,
    CTAReasonFactory,
    MeasureFactory,
    MeasureGroupFactory,
    PlaybookTaskFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    ScorecardFactory,
    ScoreFactory,
    ScoreSnapshotFactory,
    SuccessPlanFactory,
    SurveyResponseFactory,
    TaskFactory,
    TemplateTaskFactory,
    UsageValueFactory,
)
from tests.test_admin import admin_url, form_errors, posted

pytestmark = pytest.mark.django_db

# An audit trail's table (django-simple-history, `instance_type` names its record) is shown
# as its record's History page, not as an admin of its own.
SUCCESS_MODELS = sorted(
    (
        model
        for model in apps.get_app_config("success").get_models()
        if getattr(model, "instance_type", None) is None
    ),
    key=lambda model: model._meta.label,
)
AUDITED_SUCCESS_MODELS = [
    model.instance_type  # type: ignore[attr-defined]
    for model in apps.get_app_config("success").get_models()
    if getattr(model, "instance_type", None) is not None
]
BIG_TABLES = [Activity, CTA, Task, SuccessPlan]


def test_every_success_model_has_an_admin():
    missing = [m._meta.label for m in SUCCESS_MODELS if m not in admin.site._registry]
    assert missing == []
    assert {m._meta.label for m in AUDITED_SUCCESS_MODELS} == {"success.CTA", "success.Score"}
    assert all(model in admin.site._registry for model in AUDITED_SUCCESS_MODELS)


@pytest.fixture
def one_of_each_success_record():
    company = CompanyFactory()
    relationship = RelationshipFactory(company=company)
    cta = CTAFactory(company=company, relationship=relationship)
    TaskFactory(cta=cta)
    ActivityFactory(company=company, relationship=relationship)
    CTAReasonFactory()
    PlaybookTaskFactory()
    scorecard = ScorecardFactory()
    MeasureGroupFactory(scorecard=scorecard)
    ScoreFactory(company=company, measure=MeasureFactory(scorecard=scorecard))
    ScoreSnapshotFactory(company=company)
    TemplateTaskFactory()
    SuccessPlanFactory(company=company, relationship=relationship)
    UsageValueFactory(company=company)
    SurveyResponseFactory(company=company)


@pytest.mark.parametrize("model", SUCCESS_MODELS, ids=lambda model: model._meta.label)
def test_every_success_admin_page_opens(admin_client, one_of_each_success_record, model):
    record = model._default_manager.first()
    assert record is not None
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "add"),
        admin_url(model, "change", record.pk),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_big_tables_skip_the_full_count_and_date_hierarchy():
    for model in BIG_TABLES:
        model_admin = admin.site._registry[model]
        assert model_admin.show_full_result_count is False, model
        assert not model_admin.date_hierarchy, model
        assert model_admin.list_select_related, model


def test_foreign_keys_to_big_tables_are_autocompletes():
    big = {"company", "relationship", "author", "owner", "person", "attendees", "success_plan"}
    for model in SUCCESS_MODELS:
        model_admin = admin.site._registry[model]
        names = {field.name for field in model._meta.get_fields() if field.name in big}
        editable = {
            name for name in names if getattr(model._meta.get_field(name), "editable", False)
        }
        assert editable <= set(model_admin.autocomplete_fields), (model, editable)


def _changelist_queries(admin_client, model, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(20) as captured:
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda model: model.__name__)
def test_big_changelists_read_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries, model
):
    def grow(count: int) -> None:
        for _ in range(count):
            company = CompanyFactory()
            relationship = RelationshipFactory(company=company)
            ActivityFactory(company=company, relationship=relationship)
            TaskFactory(cta=CTAFactory(company=company, relationship=relationship))
            SuccessPlanFactory(company=company, relationship=relationship)

    grow(2)
    small = _changelist_queries(admin_client, model, django_assert_max_num_queries)
    grow(15)
    large = _changelist_queries(admin_client, model, django_assert_max_num_queries)
    assert small == large


@pytest.mark.parametrize("model", [Activity, CTA], ids=lambda model: model.__name__)
def test_activities_and_ctas_page_their_keys_then_their_rows(
    admin_client, monkeypatch, django_assert_max_num_queries, model
):
    """LargeTablePaginator: each page in the list's order, read as its keys and then only
    those rows with their joins; every record on exactly one page."""
    model_admin = admin.site._registry[model]
    assert model_admin.paginator is LargeTablePaginator
    monkeypatch.setattr(model_admin, "list_per_page", 2)
    company = CompanyFactory()
    factory = ActivityFactory if model is Activity else CTAFactory
    factory.create_batch(5, company=company)
    expected = list(model.objects.order_by(*model_admin.ordering).values_list("pk", flat=True))

    seen = []
    for number in (1, 2, 3):
        with django_assert_max_num_queries(20) as captured:
            response = admin_client.get(admin_url(model, "changelist"), {"p": number})
        cl = response.context["cl"]
        assert isinstance(cl.paginator, LargeTablePaginator)
        seen += [row.pk for row in cl.result_list]
        table = model._meta.db_table
        rows_read = [
            query["sql"]
            for query in captured.captured_queries
            if query["sql"].startswith("SELECT") and f'"{table}"."id" IN (' in query["sql"]
        ]
        assert len(rows_read) == 1, number
    assert seen == expected
    assert cl.paginator.count == 5


# ---------- the models' sentences ----------


def test_an_overlapping_grade_band_is_refused_with_the_models_sentence(admin_client):
    response = admin_client.post(
        admin_url(GradeBand, "add"), {"label": "Amber", "low": "40", "high": "60", "colour": "#f80"}
    )
    assert response.status_code == 200
    assert form_errors(response)["__all__"] == ["This band overlaps Red (0–49)."]
    assert "This band overlaps Red (0–49)." in response.content.decode()
    assert not GradeBand.objects.filter(label="Amber").exists()


def test_a_band_whose_low_end_is_above_its_high_end_is_refused(admin_client):
    GradeBand.objects.all().delete()
    response = admin_client.post(
        admin_url(GradeBand, "add"), {"label": "Odd", "low": "60", "high": "40", "colour": "#f80"}
    )
    assert form_errors(response)["__all__"] == [
        "The band's low end must not be above its high end."
    ]


def test_a_second_company_scorecard_is_refused(admin_client):
    ScorecardFactory(name="Company health")
    data = {
        "name": "Another company card",
        "relationship_type": "",
        "groups-TOTAL_FORMS": "0",
        "groups-INITIAL_FORMS": "0",
        "measures-TOTAL_FORMS": "0",
        "measures-INITIAL_FORMS": "0",
    }
    response = admin_client.post(admin_url(Scorecard, "add"), data)
    assert form_errors(response)["relationship_type"] == [
        "There is already a company scorecard: choose a type."
    ]
    assert Scorecard.objects.count() == 1
    # One per relationship type is fine.
    data["relationship_type"] = str(RelationshipTypeFactory().pk)
    assert admin_client.post(admin_url(Scorecard, "add"), data).status_code == 302


def test_a_weight_over_999999_is_refused_in_the_scorecards_measures(admin_client):
    scorecard = ScorecardFactory(name="Company health")
    measure = MeasureFactory(scorecard=scorecard, name="Adoption", weight=5)
    url = admin_url(Scorecard, "change", scorecard.pk)
    page = admin_client.get(url)
    measures = page.context["inline_admin_formsets"][1].formset
    prefix = measures.prefix
    index = next(i for i, form in enumerate(measures.forms) if form.instance.pk == measure.pk)

    response = admin_client.post(url, posted(page, **{f"{prefix}-{index}-weight": "1000000"}))

    errors = response.context["inline_admin_formsets"][1].formset.errors[index]
    assert errors["weight"] == ["A weight is at most 999,999."]
    assert "A weight is at most 999,999." in response.content.decode()
    measure.refresh_from_db()
    assert measure.weight == 5


def test_a_measure_group_must_be_of_the_same_scorecard(admin_client):
    measure = MeasureFactory()
    stranger = MeasureGroupFactory()
    url = admin_url(Measure, "change", measure.pk)
    response = admin_client.post(url, posted(admin_client.get(url), group=stranger.pk))
    assert form_errors(response)["group"]


# ---------- system lookups ----------


def test_system_types_cannot_be_renamed_or_deleted(admin_client):
    call = ActivityType.objects.get(name="Call")
    url = admin_url(ActivityType, "change", call.pk)
    page = admin_client.get(url)
    assert "name" not in page.context["adminform"].form.fields
    assert admin_client.get(admin_url(ActivityType, "delete", call.pk)).status_code == 403

    risk = CTAType.objects.get(name="Risk")
    assert admin_client.get(admin_url(CTAType, "delete", risk.pk)).status_code == 403

    custom = ActivityType.objects.create(name="Workshop")
    custom_page = admin_client.get(admin_url(ActivityType, "change", custom.pk))
    assert "name" in custom_page.context["adminform"].form.fields


def test_bulk_delete_spares_system_types(admin_client):
    custom = ActivityType.objects.create(name="Workshop")
    call = ActivityType.objects.get(name="Call")
    response = admin_client.post(
        admin_url(ActivityType, "changelist"),
        {"action": "delete_selected", "_selected_action": [custom.pk, call.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert ActivityType.objects.filter(name="Call").exists()
    assert not ActivityType.objects.filter(name="Workshop").exists()


def test_a_status_in_use_keeps_whether_it_closes_ctas(admin_client):
    new = CTAStatus.objects.get(name="New")
    CTAFactory(status=new)
    page = admin_client.get(admin_url(CTAStatus, "change", new.pk))
    assert "is_closed" not in page.context["adminform"].form.fields


def test_the_only_open_status_cannot_become_closed(admin_client):
    CTAStatus.objects.filter(name="Work in progress").delete()
    new = CTAStatus.objects.get(name="New")
    url = admin_url(CTAStatus, "change", new.pk)
    response = admin_client.post(url, posted(admin_client.get(url), is_closed="on"))
    assert form_errors(response)["is_closed"] == [
        "This is the only open status: new CTAs start in an open status, so keep it open."
    ]
    assert admin_client.get(admin_url(CTAStatus, "delete", new.pk)).status_code == 403


# ---------- saving keeps the services' rules ----------


def test_a_plan_added_in_the_admin_gets_its_types_template(admin_client, admin_user):
    template = TemplateTaskFactory(title="Book the call", day_offset=2)
    kind = template.objective.plan_type
    company = CompanyFactory()
    response = admin_client.post(
        admin_url(SuccessPlan, "add"),
        {"company": company.pk, "name": "Onboarding", "plan_type": kind.pk, "status": "active"},
    )
    assert response.status_code == 302
    plan = SuccessPlan.objects.get()
    objective = plan.objectives.get()
    assert objective.name == template.objective.name
    task = objective.tasks.get()
    assert task.title == "Book the call"
    assert task.due_date == timezone.localdate() + dt.timedelta(days=2)


def test_the_plan_type_page_lists_template_objectives_with_a_link_to_their_tasks(admin_client):
    template = TemplateTaskFactory()
    objective = template.objective
    content = admin_client.get(
        admin_url(SuccessPlanType, "change", objective.plan_type.pk)
    ).content.decode()
    assert objective.name in content
    assert admin_url(type(objective), "change", objective.pk) in content
    assert "1 task — edit" in content
    tasks_page = admin_client.get(admin_url(type(objective), "change", objective.pk))
    assert template.title in tasks_page.content.decode()


def test_changing_a_ctas_status_in_the_admin_keeps_is_closed_in_step(admin_client, admin_user):
    cta = CTAFactory()
    TaskFactory(cta=cta)
    url = admin_url(CTA, "change", cta.pk)
    closed = CTAStatus.objects.get(name="Closed lost")

    response = admin_client.post(url, posted(admin_client.get(url), status=closed.pk))

    assert response.status_code == 302
    cta.refresh_from_db()
    assert cta.is_closed and cta.closed_by == admin_user and cta.closed_at is not None


def test_ticking_a_task_in_the_cta_inline_stamps_when(admin_client):
    task = TaskFactory()
    url = admin_url(CTA, "change", task.cta.pk)
    page = admin_client.get(url)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    admin_client.post(url, posted(page, **{f"{prefix}-0-done": "on"}))
    task.refresh_from_db()
    assert task.done and task.done_at is not None


def test_a_score_set_in_the_admin_updates_the_health_score(admin_client):
    scorecard = ScorecardFactory()
    measure = MeasureFactory(scorecard=scorecard, weight=1)
    company = CompanyFactory()
    response = admin_client.post(
        admin_url(Score, "add"),
        {"company": company.pk, "measure": measure.pk, "value": "80", "comment": ""},
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.health_score == 80


def test_a_score_on_another_scorecards_measure_is_refused(admin_client):
    ScorecardFactory()  # the company scorecard
    stranger = MeasureFactory(
        scorecard=ScorecardFactory(relationship_type=RelationshipTypeFactory())
    )
    response = admin_client.post(
        admin_url(Score, "add"),
        {"company": CompanyFactory().pk, "measure": stranger.pk, "value": "50"},
    )
    assert form_errors(response)["measure"] == ["This measure is not on this record's scorecard."]
