"""Admin for the CSM's work, sized for 2M activities and 500k CTAs.

Every foreign key to a big table (companies, relationships, people, users, plans, activities)
is an autocomplete; changelists join what they show (`list_select_related`), skip the full
count (activities and CTAs page through gainsight_lite.admin_lists.LargeTablePaginator),
filter only on small lookup tables, and sort big tables by an indexed column — no
`date_hierarchy`, whose per-year and per-month queries scan the whole table.

Lookups are ordered lists edited in place. The system types (Update, Call..., Risk,
Objective...) are what the app itself relies on: they cannot be renamed or deleted. Rules
come from the models' `clean()` and constraints, so the admin shows the same sentences
(overlapping grade bands, a second company scorecard, a weight over 999,999).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from gainsight_lite.admin_lists import LargeTablePaginator
from gainsight_lite.audit_admin import AuditedAdmin
from success.models import (
    CTA,
    Activity,
    ActivityType,
    CTAPriority,
    CTAReason,
    CTAStatus,
    CTAType,
    GradeBand,
    Measure,
    MeasureGroup,
    Playbook,
    PlaybookTask,
    Score,
    Scorecard,
    ScoreSnapshot,
    SuccessPlan,
    SuccessPlanType,
    SurveyResponse,
    Task,
    TemplateObjective,
    TemplateTask,
    UsageMetric,
    UsageValue,
)
from success.selectors.cockpit import safe_colour
from success.services import scorecard_for, snapshot_take, success_plan_create

WEIGHT_TOO_HIGH = "A weight is at most 999,999."


def colour_swatch(colour: str) -> str:
    # SVG presentation attributes, not style=: the Content-Security-Policy forbids inline style.
    return format_html(
        '<svg width="18" height="12" aria-hidden="true">'
        '<rect width="12" height="12" rx="3" fill="{}"/></svg>{}',
        safe_colour(colour) or "none",
        colour,
    )


# ---------- system lookups ----------


class SystemLookupAdmin(admin.ModelAdmin):
    """Types the app relies on (is_system) keep their name and cannot be deleted."""

    system_noun = "type"
    actions = ["delete_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = [*super().get_readonly_fields(request, obj), "is_system"]
        if obj is not None and obj.is_system:
            readonly.append("name")
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Delete selected types", permissions=["delete"])
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        """Django's delete (with its confirmation page), sparing the system types."""
        system = [item.name for item in queryset if item.is_system]
        if system and not request.POST.get("post"):
            self.message_user(
                request,
                f"Built-in {self.system_noun}s cannot be deleted ({', '.join(system)}): the app "
                "relies on them. Mark them inactive to stop offering them.",
                messages.WARNING,
            )
        deletable = queryset.filter(is_system=False)
        if not deletable.exists():
            return None
        response: HttpResponse | None = django_delete_selected(self, request, deletable)
        return response


# ---------- timeline ----------


@admin.register(ActivityType)
class ActivityTypeAdmin(SystemLookupAdmin):
    system_noun = "activity type"
    list_display = ("name", "order", "active", "is_system", "offered_on")
    list_editable = ("order", "active")
    list_filter = ("active", "is_system")
    search_fields = ("name",)
    fields = ("name", "order", "active", "is_system", "relationship_types")
    filter_horizontal = ("relationship_types",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ActivityType]:
        return super().get_queryset(request).annotate(type_total=Count("relationship_types"))

    @admin.display(description="offered on")
    def offered_on(self, obj: ActivityType) -> str:
        total = getattr(obj, "type_total", 0)
        if not total:
            return "Every company and relationship"
        return f"{total} relationship type{'s' if total != 1 else ''}"


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("subject", "activity_type", "company", "relationship", "author", "occurred_at")
    list_select_related = ("activity_type", "company", "relationship", "author")
    # Lookup tables only: a filter on companies or authors would list every one of them.
    list_filter = ("activity_type",)
    search_fields = ("subject",)
    autocomplete_fields = ("company", "relationship", "author", "attendees")
    readonly_fields = ("created_at", "updated_at")
    # The index (-occurred_at, -id) serves this order; no date_hierarchy (see the module).
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False
    # A page's keys, then its joined rows; the unfiltered count from PostgreSQL's estimate
    # (COUNT(*) of 2M activities: ~300 ms there).
    paginator = LargeTablePaginator
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("company", "relationship", "activity_type", "subject", "notes")}),
        ("When and who", {"fields": ("occurred_at", "duration_minutes", "author", "attendees")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )


# ---------- CTAs, tasks and playbooks ----------


class CTAReasonInline(admin.TabularInline):
    model = CTAReason
    fields = ("order", "name")
    ordering = ("order", "name")
    extra = 1


@admin.register(CTAType)
class CTATypeAdmin(SystemLookupAdmin):
    system_noun = "CTA type"
    list_display = ("name", "order", "active", "is_system", "reason_count")
    list_editable = ("order", "active")
    list_filter = ("active", "is_system")
    search_fields = ("name",)
    fields = ("name", "order", "active", "is_system")
    inlines = [CTAReasonInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CTAType]:
        return super().get_queryset(request).annotate(reason_total=Count("reasons"))

    @admin.display(description="reasons", ordering="reason_total")
    def reason_count(self, obj: CTAType) -> int:
        return getattr(obj, "reason_total", 0)


@admin.register(CTAReason)
class CTAReasonAdmin(admin.ModelAdmin):
    list_display = ("name", "cta_type", "order")
    list_editable = ("order",)
    list_select_related = ("cta_type",)
    list_filter = ("cta_type",)
    search_fields = ("name", "cta_type__name")
    ordering = ("cta_type__order", "cta_type__name", "order", "name")


@admin.register(CTAPriority)
class CTAPriorityAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "swatch")
    list_editable = ("order",)
    search_fields = ("name",)
    ordering = ("order", "name")

    @admin.display(description="colour")
    def swatch(self, obj: CTAPriority) -> str:
        return colour_swatch(obj.colour)


class CTAStatusForm(forms.ModelForm):
    """A status; at least one status must stay open and one closed (the services need both)."""

    class Meta:
        model = CTAStatus
        fields = ["name", "order", "is_closed", "outcome"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "is_closed" not in self.changed_data or self.instance.pk is None:
            return cleaned
        others = CTAStatus.objects.exclude(pk=self.instance.pk)
        if cleaned.get("is_closed") and not others.filter(is_closed=False).exists():
            self.add_error(
                "is_closed",
                "This is the only open status: new CTAs start in an open status, so keep it open.",
            )
        if not cleaned.get("is_closed") and not others.filter(is_closed=True).exists():
            self.add_error(
                "is_closed",
                "This is the only closed status: CTAs are closed in one, so keep it closing.",
            )
        return cleaned


@admin.register(CTAStatus)
class CTAStatusAdmin(admin.ModelAdmin):
    form = CTAStatusForm
    list_display = ("name", "order", "is_closed", "outcome")
    list_editable = ("order",)
    list_filter = ("is_closed",)
    search_fields = ("name",)
    ordering = ("order", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        # CTAs keep their own is_closed in step with their status: flipping a status in use
        # would leave them out of step. A new status is the way to change course.
        if obj is not None and CTA.objects.filter(status=obj).exists():
            readonly.append("is_closed")
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if (
            obj is not None
            and not CTAStatus.objects.exclude(pk=obj.pk).filter(is_closed=obj.is_closed).exists()
        ):
            # The last open (or closed) status: the app needs one of each.
            return False
        return super().has_delete_permission(request, obj)


class TaskInline(admin.TabularInline):
    model = Task
    fields = ("order", "title", "owner", "due_date", "done", "done_at")
    readonly_fields = ("done_at",)
    autocomplete_fields = ("owner",)
    ordering = ("order", "id")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return super().get_queryset(request).select_related("owner")


def _stamp_done(task: Task) -> None:
    """Keep done_at in step with done, as `task_set_done` does."""
    if task.done and task.done_at is None:
        task.done_at = timezone.now()
    elif not task.done:
        task.done_at = None


@admin.register(CTA)
class CTAAdmin(AuditedAdmin):  # with its History page (the audit trail)
    list_display = (
        "name",
        "company",
        "relationship",
        "cta_type",
        "priority",
        "status",
        "owner",
        "due_date",
        "is_closed",
    )
    list_select_related = ("company", "relationship", "cta_type", "priority", "status", "owner")
    list_filter = ("cta_type", "priority", "status", "is_closed")
    search_fields = ("name",)
    autocomplete_fields = (
        "company",
        "relationship",
        "owner",
        "success_plan",
        "source_activity",
        "created_by",
    )
    readonly_fields = ("is_closed", "closed_at", "closed_by", "created_at", "updated_at")
    # Newest first by primary key: served by the table itself at 500k CTAs.
    ordering = ("-pk",)
    show_full_result_count = False
    # A page's keys, then its joined rows; the unfiltered count from PostgreSQL's estimate
    # (COUNT(*) of 500k CTAs: ~80 ms there).
    paginator = LargeTablePaginator
    list_per_page = 50
    inlines = [TaskInline]
    fieldsets = (
        (None, {"fields": ("company", "relationship", "name", "cta_type", "reason")}),
        ("Work", {"fields": ("priority", "status", "owner", "due_date", "snoozed_until")}),
        ("Links", {"fields": ("success_plan", "source_activity")}),
        (
            "Record",
            {
                "fields": (
                    "is_closed",
                    "closed_at",
                    "closed_by",
                    "created_by",
                    "created_at",
                    "updated_at",
                ),
                "classes": ("collapse",),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: CTA, form: Any, change: bool) -> None:
        # As `cta_set_status` does: is_closed follows the status; closing records who and when.
        closes = obj.status.is_closed
        if closes and not obj.is_closed:
            obj.closed_at, obj.closed_by = timezone.now(), request.user  # type: ignore[assignment]
        elif not closes:
            obj.closed_at, obj.closed_by = None, None
        obj.is_closed = closes
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool
    ) -> None:
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for instance in instances:
            if isinstance(instance, Task):
                _stamp_done(instance)
            instance.save()
        formset.save_m2m()


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "cta", "owner", "due_date", "done")
    list_select_related = ("cta", "owner")
    list_filter = ("done",)
    search_fields = ("title",)
    autocomplete_fields = ("cta", "owner")
    readonly_fields = ("done_at",)
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 50

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        _stamp_done(obj)
        super().save_model(request, obj, form, change)


class PlaybookTaskInline(admin.TabularInline):
    model = PlaybookTask
    fields = ("order", "title", "day_offset")
    ordering = ("order", "id")
    extra = 1


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("name", "cta_type", "active", "task_count")
    list_select_related = ("cta_type",)
    list_filter = ("active", "cta_type")
    search_fields = ("name",)
    fields = ("name", "cta_type", "description", "active")
    inlines = [PlaybookTaskInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Playbook]:
        return super().get_queryset(request).annotate(task_total=Count("tasks"))

    @admin.display(description="tasks", ordering="task_total")
    def task_count(self, obj: Playbook) -> int:
        return getattr(obj, "task_total", 0)


@admin.register(PlaybookTask)
class PlaybookTaskAdmin(admin.ModelAdmin):
    list_display = ("title", "playbook", "day_offset", "order")
    list_select_related = ("playbook",)
    list_filter = ("playbook",)
    search_fields = ("title", "playbook__name")
    ordering = ("playbook__name", "order", "id")


# ---------- scorecards ----------


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["order", "name", "group", "weight", "active"]
        error_messages = {
            "weight": {"max_value": WEIGHT_TOO_HIGH, "min_value": "A weight is 0 or more."}
        }


class MeasureGroupInline(admin.TabularInline):
    model = MeasureGroup
    fields = ("order", "name")
    ordering = ("order", "name")
    extra = 0


class MeasureInline(admin.TabularInline):
    model = Measure
    form = MeasureForm
    fields = ("order", "name", "group", "weight", "active")
    ordering = ("order", "name")
    extra = 1

    def get_formset(self, request: HttpRequest, obj: Scorecard | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # A measure's group is one of its own scorecard's groups.
        groups = MeasureGroup.objects.filter(scorecard=obj) if obj is not None else None
        group_field = formset.form.base_fields["group"]
        group_field.queryset = groups if groups is not None else MeasureGroup.objects.none()  # type: ignore[attr-defined]
        group_field.help_text = "" if obj is not None else "Save the scorecard to add groups."
        return formset


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ("name", "scored", "measure_count")
    list_select_related = ("relationship_type",)
    search_fields = ("name", "relationship_type__name")
    fields = ("name", "relationship_type")
    inlines = [MeasureGroupInline, MeasureInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scorecard]:
        return super().get_queryset(request).annotate(measure_total=Count("measures"))

    @admin.display(description="scores", ordering="relationship_type__name")
    def scored(self, obj: Scorecard) -> str:
        if obj.relationship_type is None:
            return "Companies"
        return f"{obj.relationship_type} relationships"

    @admin.display(description="measures", ordering="measure_total")
    def measure_count(self, obj: Scorecard) -> int:
        return getattr(obj, "measure_total", 0)


@admin.register(MeasureGroup)
class MeasureGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "scorecard", "order")
    list_select_related = ("scorecard",)
    list_filter = ("scorecard",)
    search_fields = ("name", "scorecard__name")


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    form = MeasureForm
    list_display = ("name", "scorecard", "group", "weight", "active", "order")
    list_select_related = ("scorecard", "group")
    list_filter = ("scorecard", "active")
    search_fields = ("name", "scorecard__name")
    fields = ("scorecard", "order", "name", "group", "weight", "active")

    def get_form(
        self, request: HttpRequest, obj: Measure | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "group" in form.base_fields:
            form.base_fields["group"].queryset = MeasureGroup.objects.filter(  # type: ignore[attr-defined]
                scorecard_id=obj.scorecard_id
            )
        return form


@admin.register(GradeBand)
class GradeBandAdmin(admin.ModelAdmin):
    list_display = ("label", "low", "high", "swatch")
    fields = ("label", "low", "high", "colour")
    ordering = ("low",)

    @admin.display(description="colour")
    def swatch(self, obj: GradeBand) -> str:
        return colour_swatch(obj.colour)


class ScoreForm(forms.ModelForm):
    """A score set by hand: its measure must be on the scorecard of its company or relationship."""

    class Meta:
        model = Score
        fields = ["company", "relationship", "measure", "value", "comment"]
        error_messages = {"value": {"max_value": "A score is from 0 to 100."}}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        company, relationship = cleaned.get("company"), cleaned.get("relationship")
        measure = cleaned.get("measure")
        subject = relationship or company
        if subject is None or measure is None:
            return cleaned
        scorecard = scorecard_for(subject)
        if scorecard is None or measure.scorecard_id != scorecard.pk:
            self.add_error("measure", "This measure is not on this record's scorecard.")
        return cleaned


@admin.register(Score)
class ScoreAdmin(AuditedAdmin):  # with its History page (the audit trail)
    form = ScoreForm
    list_display = ("measure", "company", "relationship", "value", "updated_by", "updated_at")
    list_select_related = ("measure", "company", "relationship", "updated_by")
    search_fields = ("company__name", "=company__external_id")
    autocomplete_fields = ("company", "relationship", "measure")
    readonly_fields = ("updated_by", "updated_at")
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 50

    def save_model(self, request: HttpRequest, obj: Score, form: Any, change: bool) -> None:
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        # As `score_set` does: the day's snapshot and the health score follow the new value.
        snapshot_take(subject=obj.relationship or obj.company)

    def delete_model(self, request: HttpRequest, obj: Score) -> None:
        subject = obj.relationship or obj.company
        super().delete_model(request, obj)
        snapshot_take(subject=subject)


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(admin.ModelAdmin):
    list_display = ("day", "company", "relationship", "overall")
    list_select_related = ("company", "relationship")
    search_fields = ("company__name", "=company__external_id")
    autocomplete_fields = ("company", "relationship")
    # History is written by the scores themselves; here it is looked at, rarely corrected.
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 50


# ---------- success plans ----------


class TemplateObjectiveInline(admin.TabularInline):
    model = TemplateObjective
    fields = ("order", "name", "day_offset", "task_count")
    readonly_fields = ("task_count",)
    ordering = ("order", "id")
    show_change_link = True
    extra = 1

    def get_queryset(self, request: HttpRequest) -> QuerySet[TemplateObjective]:
        return super().get_queryset(request).annotate(task_total=Count("tasks"))

    @admin.display(description="tasks")
    def task_count(self, obj: TemplateObjective) -> str:
        if obj.pk is None:
            return "Save first, then add its tasks."
        total = getattr(obj, "task_total", 0)
        url = reverse("admin:success_templateobjective_change", args=[obj.pk])
        return format_html(
            '<a href="{}">{} task{} — edit</a>', url, total, "" if total == 1 else "s"
        )


@admin.register(SuccessPlanType)
class SuccessPlanTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "active", "objective_count")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [TemplateObjectiveInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SuccessPlanType]:
        return super().get_queryset(request).annotate(objective_total=Count("template_objectives"))

    @admin.display(description="template objectives", ordering="objective_total")
    def objective_count(self, obj: SuccessPlanType) -> int:
        return getattr(obj, "objective_total", 0)


class TemplateTaskInline(admin.TabularInline):
    model = TemplateTask
    fields = ("order", "title", "day_offset")
    ordering = ("order", "id")
    extra = 1


@admin.register(TemplateObjective)
class TemplateObjectiveAdmin(admin.ModelAdmin):
    """A template objective's own page: where its template tasks are edited."""

    list_display = ("name", "plan_type", "day_offset", "order")
    list_select_related = ("plan_type",)
    list_filter = ("plan_type",)
    search_fields = ("name", "plan_type__name")
    fields = ("plan_type", "order", "name", "day_offset")
    inlines = [TemplateTaskInline]


@admin.register(TemplateTask)
class TemplateTaskAdmin(admin.ModelAdmin):
    list_display = ("title", "objective", "day_offset", "order")
    list_select_related = ("objective__plan_type",)
    search_fields = ("title", "objective__name")
    ordering = ("objective__plan_type__name", "objective__order", "order", "id")


class ObjectiveInline(admin.TabularInline):
    """The plan's objectives (CTAs of type Objective), shown; each is edited as a CTA."""

    model = CTA
    fk_name = "success_plan"
    fields = ("name", "status", "owner", "due_date")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0
    verbose_name = "objective"
    verbose_name_plural = "objectives (edited as CTAs)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CTA]:
        return super().get_queryset(request).select_related("status", "owner")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SuccessPlan)
class SuccessPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "relationship", "plan_type", "status", "owner", "due_date")
    list_select_related = ("company", "relationship", "plan_type", "owner")
    list_filter = ("status", "plan_type")
    search_fields = ("name", "company__name")
    autocomplete_fields = ("company", "relationship", "owner")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("company", "relationship", "name", "plan_type")}),
        ("Work", {"fields": ("status", "owner", "due_date")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_inlines(self, request: HttpRequest, obj: SuccessPlan | None) -> list[Any]:
        return [ObjectiveInline] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: SuccessPlan, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new plan gets its type's template objectives, as from the app.
        values = {name: getattr(obj, name) for name in form.cleaned_data if name != "plan_type"}
        created = success_plan_create(by=request.user, plan_type=obj.plan_type, **values)  # type: ignore[arg-type]
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at


# ---------- usage and surveys ----------


@admin.register(UsageMetric)
class UsageMetricAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(UsageValue)
class UsageValueAdmin(admin.ModelAdmin):
    list_display = ("metric", "week", "company", "relationship", "value")
    list_select_related = ("metric", "company", "relationship")
    list_filter = ("metric",)
    search_fields = ("company__name", "=company__external_id")
    autocomplete_fields = ("company", "relationship")
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 50


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("responded_on", "score", "person", "company", "relationship")
    list_select_related = ("person", "company", "relationship")
    list_filter = ("score",)
    search_fields = ("company__name", "=company__external_id", "person__email")
    autocomplete_fields = ("company", "relationship", "person")
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 50
