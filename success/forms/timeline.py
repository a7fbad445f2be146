"""Forms of the timeline: its filters (a GET form that never fails) and logging an activity,
with the log dialog that both the /timeline/ page and the 360 timeline section answer with."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from companies.models import Company, CompanyPerson
from companies.selectors import company_people_choices
from gainsight_lite.forms import (
    QuickSelect,
    ReadyChoices,
    RelationshipChoiceField,
    add_service_errors,
)
from gainsight_lite.http import dialog_saved, parse_id
from partners.access import AnyUser
from relationships.models import Relationship
from success.events import ACTIVITY_LOGGED
from success.models import Activity, ActivityType
from success.selectors.timeline import (
    ADD,
    Author,
    TimelineFilters,
    activity_types_for,
    company_for_log,
    relationships_for_log,
)
from success.services import activity_log

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class TimelineFilterForm(forms.Form):
    """Reads a timeline's query string; a value it does not accept is ignored, never an error.

    The choices come from lists the caller already read, so checking a value costs no query.
    """

    type = forms.TypedChoiceField(
        label="Type", required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    author = forms.TypedChoiceField(
        label="Author", required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        types: list[ActivityType],
        authors: list[Author],
        company: Company | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._types = {kind.pk: kind for kind in types}
        self._authors = {user.pk: user for user in authors}
        self._company = company
        self.fields["type"].choices = ReadyChoices(  # type: ignore[attr-defined]
            [("", "All types"), *((kind.pk, kind.name) for kind in types)]
        )
        self.fields["author"].choices = ReadyChoices(  # type: ignore[attr-defined]
            [("", "Anyone"), *authors]
        )

    def filters(self) -> TimelineFilters:
        """The accepted filters; a field with a value the form refused is left out."""
        self.is_valid()
        data = self.cleaned_data
        return TimelineFilters(
            activity_type=self._types.get(data.get("type")),  # type: ignore[arg-type]
            author=self._authors.get(data.get("author")),  # type: ignore[arg-type]
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            company=self._company,
        )


class AttendeeChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> QuerySet[CompanyPerson]:
        # A value that is no id never reaches the `pk__in` query (SQLite cannot bind one
        # above 2**63-1): it is a choice that is not on the list.
        for pk in value if isinstance(value, list | tuple) else []:
            if parse_id(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        cleaned: QuerySet[CompanyPerson] = super().clean(value)
        return cleaned

    def label_from_instance(self, obj: CompanyPerson) -> str:
        name = obj.person.full_name
        return f"{name} · {obj.title}" if obj.title else name


class ActivityForm(forms.Form):
    """Log or edit an activity on a company, or on one of its relationships.

    The company is given (the 360 page's, the activity's or the one picked on /timeline/).
    The relationship is either fixed (an R360) or chosen among the company's relationships the
    user may see; the types offered follow the relationship chosen.
    """

    relationship = RelationshipChoiceField(
        label="Relationship",
        required=False,
        queryset=Relationship.objects.none(),
        empty_label="None — about the company itself",
        error_messages={"invalid_choice": "Choose one of this company's relationships."},
    )
    activity_type = forms.ModelChoiceField(
        label="Type",
        queryset=ActivityType.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Choose what kind of activity this was.",
            "invalid_choice": "This type cannot be logged here: choose one from the list.",
        },
    )
    subject = forms.CharField(
        label="Subject",
        max_length=200,
        error_messages={
            "required": "Give the activity a subject, e.g. “Quarterly business review”.",
            "max_length": "Keep the subject under 200 characters (it has %(show_value)d).",
        },
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain text; web addresses become links.",
        error_messages={
            "max_length": "Notes can be at most 20,000 characters (these have %(show_value)d)."
        },
    )
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(format=DATETIME_LOCAL, attrs={"type": "datetime-local"}),
        error_messages={
            "required": "Say when it happened.",
            "invalid": "Enter a date and time, e.g. 2025-03-14 09:30.",
        },
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        required=False,
        min_value=0,
        max_value=24 * 60,
        error_messages={
            "invalid": "Enter the duration as a whole number of minutes.",
            "min_value": "The duration cannot be negative.",
            "max_value": "An activity lasts at most 24 hours (1,440 minutes).",
        },
    )
    attendees = AttendeeChoiceField(
        label="Attendees",
        required=False,
        queryset=CompanyPerson.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Attendees must be people of this company."},
    )

    def __init__(
        self,
        *args: Any,
        user: AnyUser,
        company: Company | None,
        relationship: Relationship | None = None,
        fixed_relationship: bool = False,
        refresh_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.fixed_relationship = fixed_relationship
        if fixed_relationship or company is None:
            # On an R360 the relationship is the page's; before a company is picked there is
            # nothing to choose from.
            del self.fields["relationship"]
            chosen = relationship if fixed_relationship else None
        else:
            choices = relationships_for_log(user=user, company=company)
            self.fields["relationship"].queryset = choices  # type: ignore[attr-defined]
            if refresh_url:
                # Choosing a relationship redraws the type list from the dialog's own URL.
                self.fields["relationship"].widget.attrs.update(
                    {
                        "hx-get": refresh_url,
                        "hx-include": "closest form",
                        "hx-trigger": "change",
                        "hx-target": "#activity-type-field",
                        "hx-select": "#activity-type-field",
                        "hx-swap": "outerHTML",
                    }
                )
            chosen = self._chosen_relationship(choices, default=relationship)
        self.chosen_relationship = chosen
        self.fields["activity_type"].queryset = activity_types_for(relationship=chosen)  # type: ignore[attr-defined]
        if company is None:
            del self.fields["attendees"]
        else:
            self.fields["attendees"].queryset = company_people_choices(company=company)  # type: ignore[attr-defined]

    def _chosen_relationship(
        self, choices: Any, *, default: Relationship | None
    ) -> Relationship | None:
        """The relationship the submitted (or initial) data names, so types can follow it."""
        if self.is_bound:
            wanted = self.data.get("relationship")
        else:
            wanted = self.initial.get("relationship", default.pk if default else None)
            if isinstance(wanted, Relationship):
                wanted = wanted.pk
        if not wanted:
            return None
        try:
            found: Relationship | None = choices.filter(pk=wanted).first()
        except (ValueError, TypeError):
            return None
        return found

    def activity_values(self) -> dict[str, Any]:
        """The cleaned values as the services take them (attendees apart)."""
        data = self.cleaned_data
        relationship = (
            self.chosen_relationship if self.fixed_relationship else data.get("relationship")
        )
        return {
            "relationship": relationship,
            "activity_type": data["activity_type"],
            "subject": data["subject"],
            "notes": data.get("notes") or "",
            "occurred_at": data["occurred_at"],
            "duration_minutes": data.get("duration_minutes"),
        }

    def attendee_values(self) -> list[CompanyPerson]:
        return list(self.cleaned_data.get("attendees") or [])


def activity_initial(activity: Activity | None = None) -> dict[str, Any]:
    """The starting values of the form: the activity's, or now for a new one."""
    if activity is None:
        now = timezone.localtime().replace(second=0, microsecond=0)
        return {"occurred_at": now}
    return {
        "relationship": activity.relationship_id,
        "activity_type": activity.activity_type_id,
        "subject": activity.subject,
        "notes": activity.notes,
        "occurred_at": timezone.localtime(activity.occurred_at).replace(second=0, microsecond=0),
        "duration_minutes": activity.duration_minutes,
        "attendees": [person.pk for person in activity.attendees.all()],
    }


def initial_from_query(query: Any) -> dict[str, Any]:
    """Values typed so far, sent back when the dialog redraws (a company picked, a type list
    refreshed): they become the new form's starting values, never errors."""
    initial: dict[str, Any] = {}
    for name in ("relationship", "activity_type", "subject", "notes", "duration_minutes"):
        if name in query:
            initial[name] = query.get(name)
    if query.get("occurred_at"):
        initial["occurred_at"] = query.get("occurred_at")
    if "attendees" in query:
        initial["attendees"] = [
            pk for pk in (parse_id(value) for value in query.getlist("attendees")) if pk
        ]
    return initial


# ---------- the log dialog (the /timeline/ page's and the 360 timeline section's) ----------

FORM = "success/timeline_form.html"


def _signed_in(request: HttpRequest) -> User:
    # Every caller is behind login_required: the user is never anonymous.
    return cast(User, request.user)


def log_dialog(
    request: HttpRequest,
    *,
    company: Company | None,
    relationship: Relationship | None = None,
    fixed_relationship: bool = False,
    action_url: str,
    picker: bool = False,
) -> HttpResponse:
    """Log an activity: the form (GET) or its submission (POST).

    With `picker` (on /timeline/) the company comes from the request: chosen in the dialog's
    company search, among the companies the user may see.
    """
    user = _signed_in(request)
    if not user.has_perm(ADD):
        raise PermissionDenied("Your role does not allow logging activities.")
    values = request.POST if request.method == "POST" else request.GET
    if picker:
        company = company_for_log(user=user, pk=values.get("company"))
    company_error = ""
    if request.method == "POST":
        form = ActivityForm(
            request.POST,
            user=user,
            company=company,
            relationship=relationship,
            fixed_relationship=fixed_relationship,
            refresh_url=action_url,
        )
        if company is None:
            company_error = "Choose the company this activity is about."
        valid = form.is_valid()
        if valid and company is not None:
            try:
                activity_log(
                    by=user,
                    company=company,
                    attendees=form.attendee_values(),
                    **form.activity_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return dialog_saved(ACTIVITY_LOGGED)
    else:
        initial = {**activity_initial(), **initial_from_query(request.GET)}
        form = ActivityForm(
            initial=initial,
            user=user,
            company=company,
            relationship=relationship,
            fixed_relationship=fixed_relationship,
            refresh_url=action_url,
        )
    return render(
        request,
        FORM,
        {
            "form": form,
            "adding": True,
            "company": company,
            "relationship": relationship if fixed_relationship else None,
            "picker": picker,
            "company_error": company_error,
            "action_url": action_url,
            "suggest_url": reverse("success:timeline_companies"),
        },
    )
