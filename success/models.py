"""The CSM's work on a company or one of its relationships.

Timeline activities, CTAs with tasks and playbooks, scorecards with score history, success
plans, usage and survey (NPS) responses. Every record here names its company; a relationship,
when given, must be one of that company's.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


class SubjectMixin(models.Model):
    """A record about a company and, optionally, one of its relationships."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        relationship = self.relationship if self.relationship_id is not None else None
        if (
            relationship is not None
            and self.company_id is not None
            and relationship.company_id != self.company_id
        ):
            raise ValidationError({"relationship": "Choose a relationship of this company."})


# ---------- Timeline ----------


class ActivityType(models.Model):
    """Update, Call, Meeting, Email, Milestone, and the types an admin adds.

    A type with relationship types is offered only on relationships of those types; one
    without is offered everywhere.
    """

    name = models.CharField(max_length=40, unique=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    is_system = models.BooleanField(default=False, editable=False)
    relationship_types = models.ManyToManyField(
        "relationships.RelationshipType",
        blank=True,
        related_name="activity_types",
        help_text="Leave empty to offer this type on every company and relationship.",
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Activity(SubjectMixin):
    """Something that happened with a customer, logged on the timeline."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="activities"
    )
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
    )
    activity_type = models.ForeignKey(
        ActivityType, on_delete=models.PROTECT, related_name="activities", verbose_name="type"
    )
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(20_000)])
    occurred_at = models.DateTimeField(default=timezone.now)
    duration_minutes = models.PositiveIntegerField(
        "duration (minutes)", null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    attendees = models.ManyToManyField(
        "companies.CompanyPerson", blank=True, related_name="activities"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["company", "-occurred_at"]),
            models.Index(fields=["relationship", "-occurred_at"]),
            # An author's activities newest first; with the company and relationship it also
            # answers "did they write anything this partner may see?" from the index alone.
            models.Index(
                fields=["author", "-occurred_at", "company", "relationship"],
                name="success_activity_author_cov",
            ),
            models.Index(fields=["-occurred_at", "-id"]),
        ]

    def __str__(self) -> str:
        return self.subject


# ---------- CTAs, tasks and playbooks ----------


class CTAType(models.Model):
    """Risk, Lifecycle, Expansion, Objective, Activity, and the types an admin adds."""

    RISK = "Risk"
    LIFECYCLE = "Lifecycle"
    EXPANSION = "Expansion"
    OBJECTIVE = "Objective"
    ACTIVITY = "Activity"

    name = models.CharField(max_length=40, unique=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    is_system = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "CTA type"

    def __str__(self) -> str:
        return self.name


class CTAReason(models.Model):
    """Why a CTA of a type was opened (e.g. Risk: Low usage)."""

    cta_type = models.ForeignKey(CTAType, on_delete=models.CASCADE, related_name="reasons")
    name = models.CharField(max_length=80)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["cta_type", "order", "name"]
        verbose_name = "CTA reason"
        constraints = [
            models.UniqueConstraint(
                fields=["cta_type", "name"],
                name="cta_reason_unique_per_type",
                violation_error_message="This type already has this reason.",
            )
        ]

    def __str__(self) -> str:
        return self.name


# An admin-typed colour goes into the page (an SVG fill): only #rgb or #rrggbb is accepted.
# A field validator, so the admin's form checks it without the database and full_clean too.
HEX_COLOUR = re.compile(r"\A#(?:[0-9A-Fa-f]{3}){1,2}\Z")
validate_hex_colour = RegexValidator(
    HEX_COLOUR,
    message="Enter the colour as a hex code: # and 3 or 6 of 0–9, a–f, e.g. #2f9e55 or #e90.",
    code="invalid_colour",
)


class HexColourField(models.CharField):
    """An admin-typed colour, #rgb or #rrggbb: the model field checks it, and so does every
    form made from it — at the field, without the database (an admin form's own check runs
    before the model's clean, which asks the database)."""

    default_validators = [validate_hex_colour]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        super().__init__(*args, **kwargs)

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("validators", [validate_hex_colour])
        return super().formfield(
            form_class=form_class, choices_form_class=choices_form_class, **kwargs
        )


def full_hex_colour(value: str) -> str:
    """#rgb as #rrggbb (lowercase), so every stored colour has one shape."""
    if len(value) == 4 and value.startswith("#"):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value.lower()


class CTAPriority(models.Model):
    """High, Medium, Low by default; ordered, most urgent first."""

    name = models.CharField(max_length=40, unique=True)
    order = models.PositiveIntegerField(default=0)
    colour = HexColourField(default="#687385", help_text="A hex colour, #rrggbb or #rgb.")

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "CTA priority"
        verbose_name_plural = "CTA priorities"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.colour and HEX_COLOUR.fullmatch(self.colour):
            self.colour = full_hex_colour(self.colour)


class CTAStatus(models.Model):
    """New, Work in progress (open), Closed success, Closed lost (closed) by default."""

    class Outcome(models.TextChoices):
        """What closing in this status means for a success plan's progress."""

        ACHIEVED = "achieved", "Achieved — counts as done"
        NOT_ACHIEVED = "not_achieved", "Not achieved — counts, not done"
        NOT_APPLICABLE = "not_applicable", "Not applicable — left out of progress"

    name = models.CharField(max_length=40, unique=True)
    order = models.PositiveIntegerField(default=0)
    is_closed = models.BooleanField(
        "closes the CTA", default=False, help_text="A CTA in this status is done."
    )
    outcome = models.CharField(
        max_length=20,
        choices=Outcome.choices,
        default=Outcome.ACHIEVED,
        help_text="For a closing status: how a success plan's progress counts an objective "
        "closed in it. Open statuses are never done.",
    )

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "CTA status"
        verbose_name_plural = "CTA statuses"

    def __str__(self) -> str:
        return self.name


class CTA(SubjectMixin):
    """A call to action: something a CSM must do for a customer, with its tasks."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="ctas")
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ctas",
    )
    name = models.CharField(max_length=80)
    cta_type = models.ForeignKey(
        CTAType, on_delete=models.PROTECT, related_name="ctas", verbose_name="type"
    )
    reason = models.ForeignKey(
        CTAReason, on_delete=models.SET_NULL, null=True, blank=True, related_name="ctas"
    )
    priority = models.ForeignKey(CTAPriority, on_delete=models.PROTECT, related_name="ctas")
    status = models.ForeignKey(CTAStatus, on_delete=models.PROTECT, related_name="ctas")
    # Kept equal to status.is_closed by the services, so open-CTA lists need no join.
    is_closed = models.BooleanField(default=False, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_ctas",
    )
    due_date = models.DateField(null=True, blank=True)
    snoozed_until = models.DateField(
        null=True, blank=True, help_text="Hidden from the Cockpit until this date."
    )
    success_plan = models.ForeignKey(
        "success.SuccessPlan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="objectives",
    )
    source_activity = models.ForeignKey(
        Activity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text="The timeline activity this CTA follows up.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Whose users see the CTA: its company's partner, when the CTA's relationship (if any)
    # has no partner of its own or the same one; else none. Derived from `managed_by` as the
    # partners' permission rows are, and kept with them: set as the CTA is saved with a new
    # company or relationship, rewritten by partners.services as records change hands.
    # The Cockpit reads a partner's open CTAs by it, a range of an index.
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    # The audit trail; `partner` follows the records' partners, whose own history tells.
    history = HistoricalRecords(excluded_fields=["partner"])

    class Meta:
        verbose_name = "CTA"
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["owner", "is_closed", "due_date"]),
            # Open CTAs of an owner by due date (the overdue badge on every page, the
            # Cockpit): `is_closed=False` compiles to NOT is_closed, which the index above
            # cannot search; this partial index can.
            models.Index(
                fields=["owner", "due_date"],
                condition=models.Q(is_closed=False),
                name="success_cta_open_owner_due",
            ),
            # The overdue badge's COUNT read from the index alone: every column it tests
            # (is_closed last, so SQLite knows it covers), no table row per CTA. A separate
            # index, as the one above keeps (owner, due_date, id) order for the Cockpit.
            models.Index(
                fields=[
                    "owner",
                    "due_date",
                    "snoozed_until",
                    "partner",
                    "relationship",
                    "is_closed",
                ],
                condition=models.Q(is_closed=False),
                name="success_cta_overdue_cover",
            ),
            # Everyone's open CTAs in the Cockpit's order, a bucket at a time
            # (success.selectors.cockpit._bucketed_rows): one due date and priority in id order.
            models.Index(
                fields=["due_date", "priority", "id"],
                condition=models.Q(is_closed=False),
                name="success_cta_open_due_priority",
            ),
            # ... and the buckets counted from the index alone (the snoozed test included;
            # is_closed last, so SQLite knows it covers).
            models.Index(
                fields=["due_date", "priority", "snoozed_until", "is_closed"],
                condition=models.Q(is_closed=False),
                name="success_cta_open_due_cov",
            ),
            # Everyone's open CTAs counted without those snoozed to a later day: a range.
            models.Index(
                fields=["snoozed_until"],
                condition=models.Q(is_closed=False, snoozed_until__isnull=False),
                name="success_cta_open_snoozed",
            ),
            # A partner's open CTAs in the Cockpit's order, a bucket at a time, and counted
            # from the index alone (as the two above, for everyone's).
            models.Index(
                fields=["partner", "due_date", "priority", "id"],
                condition=models.Q(is_closed=False),
                name="success_cta_partner_open_due",
            ),
            models.Index(
                fields=[
                    "partner",
                    "due_date",
                    "priority",
                    "snoozed_until",
                    "relationship",
                    "is_closed",
                ],
                condition=models.Q(is_closed=False),
                name="success_cta_partner_open_cov",
            ),
            models.Index(fields=["company", "is_closed", "due_date"]),
            models.Index(fields=["relationship", "is_closed"]),
            models.Index(fields=["is_closed", "due_date"]),
        ]

    def __str__(self) -> str:
        return self.name

    _subject_saved: tuple[Any, Any]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a new CTA, or one moved to another company or relationship, takes its
        partner from them first (one query)."""
        subject: tuple[Any, Any] = (self.company_id, self.relationship_id)
        if subject != getattr(self, "_subject_saved", None):
            from partners.services import work_partner_id

            self.partner_id = work_partner_id(
                company_id=self.company_id, relationship_id=self.relationship_id
            )
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "partner"}
        super().save(*args, **kwargs)
        self._subject_saved = subject

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> CTA:
        cta = super().from_db(db, field_names, values)
        cta._subject_saved = (cta.__dict__.get("company_id"), cta.__dict__.get("relationship_id"))
        return cta

    def clean(self) -> None:
        super().clean()
        reason = self.reason if self.reason_id is not None else None
        if reason is not None and reason.cta_type_id != self.cta_type_id:
            raise ValidationError({"reason": "Choose a reason of the CTA's type."})
        plan = self.success_plan if self.success_plan_id is not None else None
        if plan is not None and plan.company_id != self.company_id:
            raise ValidationError({"success_plan": "Choose a success plan of this company."})


class Task(models.Model):
    """One step of a CTA."""

    cta = models.ForeignKey(CTA, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    due_date = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["cta", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Playbook(models.Model):
    """A named list of tasks with day offsets, applied to a CTA to add its tasks."""

    name = models.CharField(max_length=80, unique=True)
    cta_type = models.ForeignKey(
        CTAType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="playbooks",
        help_text="Offered first for CTAs of this type; empty for any type.",
    )
    description = models.TextField(blank=True, validators=[MaxLengthValidator(1000)])
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlaybookTask(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    day_offset = models.PositiveIntegerField(
        default=0, help_text="Due this many days after the playbook is applied."
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["playbook", "order", "id"]
        verbose_name = "playbook task"

    def __str__(self) -> str:
        return self.title


# ---------- Scorecards ----------


class Scorecard(models.Model):
    """The company scorecard, or the scorecard of one relationship type."""

    name = models.CharField(max_length=80)
    relationship_type = models.OneToOneField(
        "relationships.RelationshipType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scorecard",
        help_text="Empty for the company scorecard.",
    )

    class Meta:
        ordering = ["relationship_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(relationship_type__isnull=True),
                name="scorecard_one_for_companies",
                violation_error_message="There is already a company scorecard.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.relationship_type_id is None:
            others = Scorecard.objects.filter(relationship_type__isnull=True).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError(
                    {"relationship_type": "There is already a company scorecard: choose a type."}
                )


class MeasureGroup(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=80)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["scorecard", "order", "name"]
        verbose_name = "measure group"

    def __str__(self) -> str:
        return self.name


class Measure(models.Model):
    """One scored aspect of health (e.g. Adoption), weighted against the others."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="measures")
    group = models.ForeignKey(
        MeasureGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="measures"
    )
    name = models.CharField(max_length=80)
    weight = models.PositiveIntegerField(
        default=1, validators=[MaxValueValidator(999_999)], help_text="0 to 999,999."
    )
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scorecard", "order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__lte=999_999),
                name="measure_weight_at_most_999999",
                violation_error_message="A weight is at most 999,999.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        group = self.group if self.group_id is not None else None
        if group is not None and group.scorecard_id != self.scorecard_id:
            raise ValidationError({"group": "Choose a group of the same scorecard."})


class GradeBand(models.Model):
    """One band of the grading scheme: scores from `low` to `high` get its label and colour."""

    label = models.CharField(max_length=40)
    low = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    high = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    colour = HexColourField(help_text="A hex colour, #rrggbb or #rgb.")

    class Meta:
        ordering = ["low"]
        verbose_name = "grade band"
        constraints = [
            models.CheckConstraint(
                condition=Q(low__lte=models.F("high")),
                name="grade_band_low_not_above_high",
                violation_error_message="The band's low end must not be above its high end.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.low}–{self.high})"

    def clean(self) -> None:
        super().clean()
        # The format is the field's validator's (it ran before this); #rgb is stored in full.
        if self.colour and HEX_COLOUR.fullmatch(self.colour):
            self.colour = full_hex_colour(self.colour)
        if self.low is None or self.high is None:
            return
        overlapping = GradeBand.objects.filter(low__lte=self.high, high__gte=self.low).exclude(
            pk=self.pk
        )
        other = overlapping.first()
        if other is not None:
            raise ValidationError(f"This band overlaps {other}.")


class Score(SubjectMixin):
    """The current score of one measure for a company or relationship."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="scores"
    )
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scores",
    )
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="scores")
    value = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    comment = models.CharField(max_length=500, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()  # the audit trail: a cleared score leaves a deletion

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "company"],
                condition=Q(relationship__isnull=True),
                name="score_one_per_measure_company",
            ),
            models.UniqueConstraint(
                fields=["measure", "relationship"],
                condition=Q(relationship__isnull=False),
                name="score_one_per_measure_relationship",
            ),
            models.CheckConstraint(
                condition=Q(value__lte=100),
                name="score_at_most_100",
                violation_error_message="A score is from 0 to 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.value}"


class ScoreSnapshot(SubjectMixin):
    """A subject's overall score on one day: the history behind trends and sparklines."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="score_snapshots"
    )
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="score_snapshots",
    )
    day = models.DateField()
    # None when no measure was scored that day: "not scored", never 0.
    overall = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "day"],
                condition=Q(relationship__isnull=True),
                name="snapshot_one_per_company_day",
            ),
            models.UniqueConstraint(
                fields=["relationship", "day"],
                condition=Q(relationship__isnull=False),
                name="snapshot_one_per_relationship_day",
            ),
        ]
        indexes = [models.Index(fields=["company", "relationship", "day"])]

    def __str__(self) -> str:
        return f"{self.day}: {self.overall}"


# ---------- Success plans ----------


class SuccessPlanType(models.Model):
    """A kind of success plan; it can carry template objectives copied into a new plan."""

    name = models.CharField(max_length=80, unique=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "success plan type"

    def __str__(self) -> str:
        return self.name


class TemplateObjective(models.Model):
    plan_type = models.ForeignKey(
        SuccessPlanType, on_delete=models.CASCADE, related_name="template_objectives"
    )
    name = models.CharField(max_length=80)
    day_offset = models.PositiveIntegerField(default=30, help_text="Due this many days after.")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan_type", "order", "id"]
        verbose_name = "template objective"

    def __str__(self) -> str:
        return self.name


class TemplateTask(models.Model):
    objective = models.ForeignKey(TemplateObjective, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    day_offset = models.PositiveIntegerField(default=0)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["objective", "order", "id"]
        verbose_name = "template task"

    def __str__(self) -> str:
        return self.title


class SuccessPlan(SubjectMixin):
    """A plan of objectives (CTAs of type Objective) agreed with the customer."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="success_plans"
    )
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="success_plans",
    )
    name = models.CharField(max_length=120)
    plan_type = models.ForeignKey(
        SuccessPlanType, on_delete=models.PROTECT, related_name="plans", verbose_name="type"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="success_plans",
    )
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who saved it last: plans keep no audit trail, and a stale edit names them.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        ordering = ["due_date", "name"]
        indexes = [
            models.Index(fields=["company", "status"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self) -> str:
        return self.name


# ---------- Usage and surveys ----------


class UsageMetric(models.Model):
    name = models.CharField(max_length=80, unique=True)
    unit = models.CharField(max_length=20, blank=True, help_text="e.g. users, logins, GB.")
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "usage metric"

    def __str__(self) -> str:
        return self.name


class UsageValue(SubjectMixin):
    """A metric's value for a company or relationship in one week (starting Monday)."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="usage_values"
    )
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="usage_values",
    )
    metric = models.ForeignKey(UsageMetric, on_delete=models.CASCADE, related_name="values")
    week = models.DateField(help_text="The Monday the week starts on.")
    value = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["week"]
        verbose_name = "usage value"
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "company", "week"],
                condition=Q(relationship__isnull=True),
                name="usage_one_per_company_week",
            ),
            models.UniqueConstraint(
                fields=["metric", "relationship", "week"],
                condition=Q(relationship__isnull=False),
                name="usage_one_per_relationship_week",
            ),
        ]
        indexes = [models.Index(fields=["company", "relationship", "metric", "week"])]

    def __str__(self) -> str:
        return f"{self.metric} {self.week}: {self.value}"

    def clean(self) -> None:
        super().clean()
        if self.week is not None and self.week.weekday() != 0:
            raise ValidationError({"week": "A usage week starts on a Monday."})


class SurveyResponse(SubjectMixin):
    """One NPS answer: how likely, 0 to 10, the person is to recommend us."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="survey_responses"
    )
    relationship = models.ForeignKey(
        "relationships.Relationship",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    person = models.ForeignKey(
        "companies.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(blank=True, validators=[MaxLengthValidator(5000)])
    responded_on = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["-responded_on", "-id"]
        verbose_name = "survey response"
        constraints = [
            models.CheckConstraint(
                condition=Q(score__lte=10),
                name="survey_score_0_to_10",
                violation_error_message="An NPS score is from 0 to 10.",
            )
        ]
        indexes = [models.Index(fields=["company", "-responded_on"])]

    def __str__(self) -> str:
        return f"{self.person or 'Anonymous'}: {self.score}"
