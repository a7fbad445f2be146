"""Writes of the CSM's work: activities, CTAs and tasks, scores, success plans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from companies.models import Company, CompanyPerson
from gainsight_lite.versions import version_check
from relationships.models import Relationship
from success.models import (
    CTA,
    Activity,
    CTAPriority,
    CTAStatus,
    CTAType,
    Measure,
    Playbook,
    Score,
    Scorecard,
    ScoreSnapshot,
    SuccessPlan,
    SuccessPlanType,
    Task,
)

# ---------- Timeline ----------


def _check_attendees(company: Company, attendees: Iterable[CompanyPerson]) -> list[CompanyPerson]:
    people = list(attendees)
    if any(person.company_id != company.pk for person in people):
        raise ValidationError({"attendees": "Attendees must be people of this company."})
    return people


def _check_activity_type(activity: Activity) -> None:
    kind = activity.activity_type
    if not kind.active:
        raise ValidationError({"activity_type": "This activity type is no longer in use."})
    allowed = list(kind.relationship_types.values_list("pk", flat=True))
    if not allowed:
        return
    if activity.relationship is None or activity.relationship.relationship_type_id not in allowed:
        raise ValidationError(
            {
                "activity_type": f"{kind.name} activities are logged only on relationships "
                "of certain types."
            }
        )


@transaction.atomic
def activity_log(*, by: User, attendees: Iterable[CompanyPerson] = (), **fields: Any) -> Activity:
    """Log an activity on the timeline; `by` becomes its author."""
    activity = Activity(author=by, **fields)
    activity.full_clean()
    _check_activity_type(activity)
    people = _check_attendees(activity.company, attendees)
    activity.save()
    activity.attendees.set(people)
    return activity


def _check_author(activity: Activity, by: User) -> None:
    if activity.author_id != by.pk:
        raise PermissionDenied("Only the author of an activity can change or delete it.")


@transaction.atomic
def activity_update(
    *,
    activity: Activity,
    by: User,
    attendees: Iterable[CompanyPerson] | None = None,
    **fields: Any,
) -> Activity:
    """Change an activity; only its author may."""
    _check_author(activity, by)
    for name, value in fields.items():
        setattr(activity, name, value)
    activity.full_clean()
    _check_activity_type(activity)
    if attendees is not None:
        people = _check_attendees(activity.company, attendees)
    activity.save()
    if attendees is not None:
        activity.attendees.set(people)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, by: User) -> None:
    """Delete an activity; only its author may."""
    _check_author(activity, by)
    activity.delete()


# ---------- CTAs and tasks ----------


def default_priority() -> CTAPriority:
    """The middle priority (Medium by default): what a CTA gets when nobody chose."""
    priorities = list(CTAPriority.objects.order_by("order", "pk"))
    if not priorities:
        raise ValidationError("No CTA priority is defined: an admin must add one.")
    return priorities[len(priorities) // 2]


def default_open_status() -> CTAStatus:
    status = CTAStatus.objects.filter(is_closed=False).order_by("order", "pk").first()
    if status is None:
        raise ValidationError("No open CTA status is defined: an admin must add one.")
    return status


@transaction.atomic
def cta_create(*, by: User | None, playbook: Playbook | None = None, **fields: Any) -> CTA:
    """Open a CTA (in the first open status unless given), optionally applying a playbook."""
    fields.setdefault("status", default_open_status())
    cta = CTA(created_by=by, **fields)
    cta.is_closed = cta.status.is_closed
    if cta.is_closed:
        cta.closed_at, cta.closed_by = timezone.now(), by
    cta.full_clean()
    cta.save()
    if playbook is not None:
        playbook_apply(cta=cta, playbook=playbook)
    return cta


@transaction.atomic
def cta_update(*, cta: CTA, by: User | None, version: str | None = None, **fields: Any) -> CTA:
    """Change a CTA's fields; a change of status goes through `cta_set_status`.

    `version`: the one the editing form was drawn from; a CTA saved since is refused
    ("Changed by NAME at TIME — reload to see it.") and nothing is written.
    """
    version_check(cta, version)
    status = fields.pop("status", None)
    for name, value in fields.items():
        setattr(cta, name, value)
    cta.full_clean()
    cta.save()
    if status is not None and status.pk != cta.status_id:
        cta_set_status(cta=cta, status=status, by=by, confirm_open_tasks=True)
    return cta


def open_task_count(cta: CTA) -> int:
    return cta.tasks.filter(done=False).count()


@transaction.atomic
def cta_set_status(
    *, cta: CTA, status: CTAStatus, by: User | None, confirm_open_tasks: bool = False
) -> CTA:
    """Move a CTA to `status`; closing records who and when.

    Closing a CTA that still has open tasks needs `confirm_open_tasks`: the caller asks first.
    """
    if status.is_closed and not cta.is_closed:
        open_tasks = open_task_count(cta)
        if open_tasks and not confirm_open_tasks:
            raise ValidationError(
                {
                    "status": f"{cta.name} still has {open_tasks} open "
                    f"task{'s' if open_tasks != 1 else ''}: confirm to close it anyway."
                }
            )
        cta.closed_at, cta.closed_by = timezone.now(), by
    elif not status.is_closed:
        cta.closed_at, cta.closed_by = None, None
    cta.status = status
    cta.is_closed = status.is_closed
    cta.save(update_fields=["status", "is_closed", "closed_at", "closed_by", "updated_at"])
    return cta


def default_closed_status() -> CTAStatus:
    status = CTAStatus.objects.filter(is_closed=True).order_by("order", "pk").first()
    if status is None:
        raise ValidationError("No closed CTA status is defined: an admin must add one.")
    return status


@transaction.atomic
def ctas_close(*, ctas: QuerySet[CTA], by: User, status: CTAStatus | None = None) -> int:
    """Close many CTAs at once (bulk close confirms open tasks); returns how many closed."""
    status = status or default_closed_status()
    closed = 0
    for cta in ctas.filter(is_closed=False).select_for_update():
        cta_set_status(cta=cta, status=status, by=by, confirm_open_tasks=True)
        closed += 1
    return closed


@transaction.atomic
def ctas_reassign(*, ctas: QuerySet[CTA], owner: User, by: User) -> int:
    """Give many CTAs a new owner; returns how many changed (each with its audit row)."""
    moving = list(ctas.exclude(owner=owner).values_list("pk", flat=True))
    changed = CTA.objects.filter(pk__in=moving).update(owner=owner, updated_at=timezone.now())
    # update() writes no audit rows: one "changed" row per CTA, by `by`, as saved.
    CTA.history.bulk_history_create(
        list(CTA.objects.filter(pk__in=moving)), update=True, default_user=by
    )
    return changed


@transaction.atomic
def playbook_apply(*, cta: CTA, playbook: Playbook, today: dt.date | None = None) -> list[Task]:
    """Add the playbook's tasks to the CTA, each due its day offset after today."""
    if not playbook.active:
        raise ValidationError({"playbook": "This playbook is no longer in use."})
    today = today or timezone.localdate()
    start = cta.tasks.count()
    tasks = [
        Task(
            cta=cta,
            title=item.title,
            owner=cta.owner,
            due_date=today + dt.timedelta(days=item.day_offset),
            order=start + index,
        )
        for index, item in enumerate(playbook.tasks.all())
    ]
    return Task.objects.bulk_create(tasks)


@transaction.atomic
def task_create(*, cta: CTA, **fields: Any) -> Task:
    """Add a task to a CTA."""
    fields.setdefault("order", cta.tasks.count())
    task = Task(cta=cta, **fields)
    task.full_clean()
    task.save()
    return task


@transaction.atomic
def task_set_done(*, task: Task, done: bool) -> Task:
    """Tick a task off (or back on)."""
    task.done = done
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done", "done_at"])
    return task


@transaction.atomic
def task_delete(*, task: Task, by: User | None) -> None:
    """Take a task off its CTA."""
    task.delete()


# ---------- Scorecards ----------

HUNDREDTH = Decimal("0.01")


def overall_score(scores: Iterable[tuple[int, int]]) -> Decimal | None:
    """The weight-normalised mean of (weight, value) pairs of scored measures.

    None when nothing is scored or every scored measure weighs 0: "not scored", never 0.
    """
    pairs = list(scores)
    total_weight = sum(weight for weight, _ in pairs)
    if not pairs or total_weight == 0:
        return None
    weighted = sum(Decimal(weight) * Decimal(value) for weight, value in pairs)
    return (weighted / Decimal(total_weight)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def scorecard_for(subject: Company | Relationship) -> Scorecard | None:
    """The company scorecard, or the scorecard of the relationship's type."""
    if isinstance(subject, Company):
        return Scorecard.objects.filter(relationship_type__isnull=True).first()
    return Scorecard.objects.filter(relationship_type_id=subject.relationship_type_id).first()


def _subject_filter(subject: Company | Relationship) -> dict[str, Any]:
    if isinstance(subject, Company):
        return {"company": subject, "relationship__isnull": True}
    return {"relationship": subject}


def subject_overall(subject: Company | Relationship) -> Decimal | None:
    """The subject's overall score from its scores on its current scorecard (one query).

    Only the active measures of the scorecard the subject has now count: a relationship that
    changed type keeps its old type's scores (they come back if it changes back), but they
    are not part of its health.
    """
    if isinstance(subject, Company):
        current = Q(measure__scorecard__relationship_type__isnull=True)
    else:
        current = Q(measure__scorecard__relationship_type_id=subject.relationship_type_id)
    rows = Score.objects.filter(
        current, **_subject_filter(subject), measure__active=True
    ).values_list("measure__weight", "value")
    return overall_score(rows)


@transaction.atomic
def snapshot_take(*, subject: Company | Relationship, day: dt.date | None = None) -> ScoreSnapshot:
    """Write (or rewrite) the subject's snapshot for `day` and keep its health score."""
    day = day or timezone.localdate()
    overall = subject_overall(subject)
    company = subject if isinstance(subject, Company) else subject.company
    relationship = subject if isinstance(subject, Relationship) else None
    snapshot, _ = ScoreSnapshot.objects.update_or_create(
        company=company,
        relationship=relationship,
        day=day,
        defaults={"overall": overall},
    )
    type(subject).objects.filter(pk=subject.pk).update(health_score=overall)
    subject.health_score = overall
    return snapshot


@transaction.atomic
def score_set(
    *,
    subject: Company | Relationship,
    measure: Measure,
    value: int | None,
    comment: str = "",
    by: User | None,
) -> Score | None:
    """Set (or, with None, clear) a measure's score with a comment, then snapshot the day."""
    scorecard = scorecard_for(subject)
    if scorecard is None or measure.scorecard_id != scorecard.pk:
        raise ValidationError({"measure": "This measure is not on this record's scorecard."})
    if not measure.active:
        raise ValidationError({"measure": "This measure is no longer in use."})
    company = subject if isinstance(subject, Company) else subject.company
    relationship = subject if isinstance(subject, Relationship) else None
    existing = Score.objects.filter(measure=measure, **_subject_filter(subject)).first()
    if value is None:
        if existing is not None:
            existing.delete()
        snapshot_take(subject=subject)
        return None
    score = existing or Score(measure=measure, company=company, relationship=relationship)
    score.value = value
    score.comment = comment
    score.updated_by = by
    score.full_clean()
    score.save()
    snapshot_take(subject=subject)
    return score


# ---------- Success plans ----------


@transaction.atomic
def success_plan_create(
    *, by: User | None, plan_type: SuccessPlanType, **fields: Any
) -> SuccessPlan:
    """Create a plan and copy its type's template objectives (CTAs of type Objective)."""
    plan = SuccessPlan(plan_type=plan_type, updated_by=by, **fields)
    plan.full_clean()
    plan.save()
    templates = list(plan_type.template_objectives.prefetch_related("tasks"))
    if not templates:
        return plan
    objective_type = CTAType.objects.get(name=CTAType.OBJECTIVE)
    priority = default_priority()
    today = timezone.localdate()
    for template in templates:
        objective = cta_create(
            by=by,
            company=plan.company,
            relationship=plan.relationship,
            name=template.name,
            cta_type=objective_type,
            priority=priority,
            owner=plan.owner,
            due_date=today + dt.timedelta(days=template.day_offset),
            success_plan=plan,
        )
        Task.objects.bulk_create(
            Task(
                cta=objective,
                title=task.title,
                owner=plan.owner,
                due_date=today + dt.timedelta(days=task.day_offset),
                order=index,
            )
            for index, task in enumerate(template.tasks.all())
        )
    return plan


@transaction.atomic
def success_plan_update(
    *, plan: SuccessPlan, by: User | None, version: str | None = None, **fields: Any
) -> SuccessPlan:
    """Change a plan's fields.

    `version`: the one the editing form was drawn from; a plan saved since is refused
    ("Changed by NAME at TIME — reload to see it.") and nothing is written.
    """
    version_check(plan, version)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.updated_by = by
    plan.full_clean()
    plan.save()
    return plan


def plan_progress(done: int, total: int) -> int | None:
    """Progress in whole percent: `done` objectives over `total`; None when none count.

    The rule, for every plan whatever its own status (a cancelled plan included): an objective
    is done when it is closed in a status whose outcome is "achieved" (Closed success); one
    closed "not achieved" (Closed lost) still counts in `total` but is not done, so a plan whose
    objectives were lost never shows 100%; one closed "not applicable" is left out of both,
    as if it had never been set. Open objectives count in `total` only.
    See `objective_done` and `objective_counts` for how they are counted.
    """
    if total == 0:
        return None
    return round(100 * done / total)


def objective_done(objective: CTA) -> bool:
    """Whether an objective counts as done in its plan's progress (see `plan_progress`)."""
    return objective.is_closed and objective.status.outcome == CTAStatus.Outcome.ACHIEVED


def objective_counted(objective: CTA) -> bool:
    """Whether an objective counts in its plan's progress at all (see `plan_progress`)."""
    return not (
        objective.is_closed and objective.status.outcome == CTAStatus.Outcome.NOT_APPLICABLE
    )


# ---------- Surveys ----------


def nps(scores: Iterable[int]) -> int | None:
    """Net promoter score: % promoters (9–10) − % detractors (0–6), rounded; None if no answer."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    return round(100 * (promoters - detractors) / len(values))
