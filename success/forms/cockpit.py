"""Forms of the Cockpit and of CTAs: the Cockpit's filters, a CTA, its tasks, its status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse

from companies.models import Company
from gainsight_lite.forms import (
    QuickSelect,
    ReadyChoices,
    RelationshipChoiceField,
    UserChoiceField,
)
from gainsight_lite.http import parse_id
from gainsight_lite.versions import VersionField, version_of
from partners.access import (
    AnyUser,
    companies_visible_to,
    relationships_visible_to,
    users_choosable_by,
)
from relationships.models import Relationship
from success.models import CTA, Activity, CTAPriority, CTAReason, CTAStatus, CTAType, Playbook
from success.selectors.cockpit import (
    GROUP_BY_DUE,
    GROUP_BY_PRIORITY,
    OWNER_ANYONE,
    OWNER_ME,
    OWNER_NOBODY,
    PRIORITY,
    RELATIONSHIP_NONE,
    RELATIONSHIP_TYPE,
    STATUS,
    STATUS_CLOSED,
    STATUS_OPEN,
    TYPE,
    CockpitFilters,
    CTALookups,
)

NAME_MAX = 80
# Who may be given a CTA (or one of its tasks): someone who may work it.
CTA_OWNER_PERMISSION = "success.change_cta"
TASK_OWNER_PERMISSION = "success.change_task"
COMPANY_SEARCH_MAX = 100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


# ---------- the Cockpit's filters ----------


class CockpitFilterForm(forms.Form):
    """Reads the Cockpit's query string; a value it does not accept is ignored, never an error.

    The choices come from the lookups the view already read (`cta_lookups`: one query for
    them all), so checking a value costs no query.
    """

    group = forms.ChoiceField(
        label="Group by",
        required=False,
        choices=[(GROUP_BY_DUE, "Due date"), (GROUP_BY_PRIORITY, "Priority")],
        widget=forms.RadioSelect,
    )
    owner = forms.ChoiceField(label="Owner", required=False, widget=QuickSelect)
    type = forms.ChoiceField(label="Type", required=False, widget=QuickSelect)
    priority = forms.ChoiceField(label="Priority", required=False, widget=QuickSelect)
    status = forms.ChoiceField(label="Status", required=False, widget=QuickSelect)
    company = forms.CharField(label="Company", required=False)
    relationship_type = forms.ChoiceField(
        label="Relationship type", required=False, widget=QuickSelect
    )
    snoozed = forms.BooleanField(label="Show snoozed", required=False)

    def __init__(
        self,
        *args: Any,
        lookups: CTALookups,
        owners: Sequence[tuple[int, str]],
        default_owner: str = OWNER_ME,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.default_owner = default_owner
        self.lookups = lookups
        types, priorities = lookups.choices(TYPE), lookups.choices(PRIORITY)
        self._types = {str(pk): pk for pk, _ in types}
        self._priorities = {str(pk): pk for pk, _ in priorities}
        fields = self.fields
        fields["owner"].choices = ReadyChoices(  # type: ignore[attr-defined]
            [
                (OWNER_ME, "Me"),
                (OWNER_ANYONE, "Anyone"),
                (OWNER_NOBODY, "Nobody (unassigned)"),
                *((str(pk), label) for pk, label in owners),
            ]
        )
        fields["owner"].initial = default_owner
        fields["type"].choices = [  # type: ignore[attr-defined]
            ("", "All types"),
            *((str(pk), name) for pk, name in types),
        ]
        fields["priority"].choices = [  # type: ignore[attr-defined]
            ("", "All priorities"),
            *((str(pk), name) for pk, name in priorities),
        ]
        fields["status"].choices = [  # type: ignore[attr-defined]
            (STATUS_OPEN, "Open"),
            *((str(pk), name) for pk, name in lookups.choices(STATUS)),
            (STATUS_CLOSED, "Closed (any)"),
        ]
        fields["relationship_type"].choices = [  # type: ignore[attr-defined]
            ("", "Any relationship"),
            (RELATIONSHIP_NONE, "Company only"),
            *((str(pk), name) for pk, name in lookups.choices(RELATIONSHIP_TYPE)),
        ]
        fields["group"].initial = GROUP_BY_DUE

    def clean_company(self) -> str:
        # Searching is forgiving: a very long text is cut, not refused.
        return " ".join(str(self.cleaned_data.get("company") or "").split())[:COMPANY_SEARCH_MAX]

    def filters(self) -> CockpitFilters:
        """The accepted filters; a field with a value the form refused is left out."""
        self.is_valid()
        data = self.cleaned_data
        return CockpitFilters(
            group=data.get("group") or GROUP_BY_DUE,
            owner=data.get("owner") or self.default_owner,
            cta_type=self._types.get(data.get("type") or ""),
            priority=self._priorities.get(data.get("priority") or ""),
            status=data.get("status") or STATUS_OPEN,
            company=data.get("company") or "",
            relationship_type=data.get("relationship_type") or "",
            show_snoozed=bool(data.get("snoozed")),
            default_owner=self.default_owner,
        )


# ---------- a CTA ----------


class FirstChosenSelect(QuickSelect):
    """The select of a required choice with no empty option (`empty_label=None`): its first
    option has a value, so Django never draws `required` on it — said here instead of found
    out by reading the first choice, a query per field on each dialog."""

    def use_required_attribute(self, initial: Any) -> bool:
        return False


class CTAForm(forms.Form):
    """Open or edit a CTA on a company, or on one of its relationships.

    The company is one the user may see: picked by a search when opened from the Cockpit,
    fixed when opened from a 360 page or a timeline activity, never changed on edit. The
    relationships, reasons and playbooks offered follow the company and type chosen.
    """

    company = forms.ModelChoiceField(
        label="Company",
        queryset=Company.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose the company this CTA is for: search for it by name.",
            "invalid_choice": "Choose the company from the search results.",
        },
    )
    relationship = RelationshipChoiceField(
        label="Relationship",
        required=False,
        queryset=Relationship.objects.none(),
        empty_label="None — about the company itself",
        widget=QuickSelect,
        error_messages={"invalid_choice": "Choose a relationship of this company."},
    )
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX,
        error_messages={
            "required": "Give the CTA a name, e.g. “Renewal at risk: low usage”.",
            "max_length": f"A CTA name is at most {NAME_MAX} characters "
            "(this one has %(show_value)d).",
        },
    )
    cta_type = forms.ModelChoiceField(
        label="Type",
        queryset=CTAType.objects.none(),
        widget=FirstChosenSelect,
        empty_label=None,
        error_messages={
            "required": "Choose the CTA's type.",
            "invalid_choice": "This type is no longer in use: choose one from the list.",
        },
    )
    reason = forms.ModelChoiceField(
        label="Reason",
        required=False,
        queryset=CTAReason.objects.none(),
        widget=QuickSelect,
        empty_label="No reason given",
        error_messages={"invalid_choice": "Choose a reason of the CTA's type."},
    )
    priority = forms.ModelChoiceField(
        label="Priority",
        queryset=CTAPriority.objects.order_by("order", "name"),
        widget=FirstChosenSelect,
        empty_label=None,
        error_messages={
            "required": "Choose a priority.",
            "invalid_choice": "Choose a priority from the list.",
        },
    )
    status = forms.ModelChoiceField(
        label="Status",
        queryset=CTAStatus.objects.none(),
        widget=FirstChosenSelect,
        empty_label=None,
        error_messages={
            "required": "Choose a status.",
            "invalid_choice": "Choose a status from the list.",
        },
    )
    owner = UserChoiceField(
        label="Owner",
        required=False,
        queryset=User.objects.none(),
        empty_label="Nobody yet",
        error_messages={"invalid_choice": "Choose the owner from the list of colleagues."},
    )
    due_date = forms.DateField(
        label="Due date",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter the due date as a date, e.g. 2026-03-31."},
    )
    snoozed_until = forms.DateField(
        label="Snooze until",
        required=False,
        widget=DateInput(),
        help_text="Hidden from the Cockpit until this day.",
        error_messages={"invalid": "Enter the snooze date as a date, e.g. 2026-03-31."},
    )
    playbook = forms.ModelChoiceField(
        label="Playbook",
        required=False,
        queryset=Playbook.objects.none(),
        widget=QuickSelect,
        empty_label="No playbook",
        help_text="Its tasks are added to the CTA, each due its number of days from today.",
        error_messages={"invalid_choice": "This playbook is no longer in use: choose another."},
    )
    source_activity = forms.ModelChoiceField(
        queryset=Activity.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "The activity this follows up is no longer there."},
    )
    confirm_open_tasks = forms.BooleanField(label="Close with open tasks", required=False)
    # Edit only: the CTA's version the form was drawn from (gainsight_lite.versions).
    version = VersionField()

    def __init__(self, *args: Any, user: AnyUser, cta: CTA | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.cta = cta
        self.needs_confirmation = False
        fields = self.fields
        company_id = cta.company_id if cta else parse_id(self._raw("company"))
        type_id = parse_id(self._raw("cta_type"))
        if cta is not None:
            # The company of a CTA never changes; what is created about it stays with it.
            for name in ("company", "playbook", "source_activity"):
                del fields[name]
            fields["version"].initial = version_of(cta)
        else:
            del fields["confirm_open_tasks"]
            del fields["version"]
            fields["company"].queryset = companies_visible_to(user)  # type: ignore[attr-defined]
            fields["source_activity"].queryset = Activity.objects.filter(  # type: ignore[attr-defined]
                Q(relationship__isnull=True) | Q(relationship__in=relationships_visible_to(user)),
                company__in=companies_visible_to(user),
            )
            fields["playbook"].queryset = (  # type: ignore[attr-defined]
                Playbook.objects.filter(active=True)
                .annotate(
                    for_type=Case(
                        When(cta_type_id=type_id, then=Value(0)),
                        default=Value(1),
                        output_field=IntegerField(),
                    )
                )
                .order_by("for_type", "name")
            )
        self.company_id = company_id
        fields["relationship"].queryset = (  # type: ignore[attr-defined]
            relationships_visible_to(user)
            .filter(company_id=company_id)
            .select_related("relationship_type")
            .order_by("name")
            if company_id is not None
            else Relationship.objects.none()
        )
        keep_type = Q(pk=cta.cta_type_id) if cta else Q(pk__in=[])
        fields["cta_type"].queryset = CTAType.objects.filter(  # type: ignore[attr-defined]
            Q(active=True) | keep_type
        ).order_by("order", "name")
        # A type chosen redraws the fields that follow it (relationship, reason, playbook).
        fields["cta_type"].widget.attrs.update(
            {
                "hx-get": reverse("success:cta_form_options"),
                "hx-trigger": "change",
                "hx-include": "closest form",
                "hx-target": "#cta-dependent",
                "hx-swap": "outerHTML",
            }
        )
        fields["reason"].queryset = (  # type: ignore[attr-defined]
            CTAReason.objects.filter(cta_type_id=type_id).order_by("order", "name")
            if type_id is not None
            else CTAReason.objects.none()
        )
        statuses = CTAStatus.objects.order_by("order", "name")
        # A new CTA starts open; closing one goes through its "Close" dialog or the edit.
        fields["status"].queryset = statuses if cta else statuses.filter(is_closed=False)  # type: ignore[attr-defined]
        # A partner user gives CTAs to their partner's users or the record's CSM only; an
        # internal user to colleagues who may work CTAs (no read-only user).
        fields["owner"].queryset = users_choosable_by(  # type: ignore[attr-defined]
            user,
            company_id=company_id,
            relationship_id=parse_id(self._raw("relationship")),
            current_id=cta.owner_id if cta else None,
            permission=CTA_OWNER_PERMISSION,
        )

    def _raw(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(name)
        value = self.initial.get(name)
        return getattr(value, "pk", value)

    @property
    def chosen_company(self) -> Company | None:
        """The company chosen (or fixed), for the template; None when none is valid yet."""
        if self.cta is not None:
            return self.cta.company
        if self.company_id is None:
            return None
        queryset: QuerySet[Company] = self.fields["company"].queryset  # type: ignore[attr-defined]
        return queryset.filter(pk=self.company_id).first()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None
        company = self.cta.company if self.cta else data.get("company")
        activity = data.get("source_activity")
        if activity is not None and company is not None and activity.company_id != company.pk:
            self.add_error(None, "The activity this follows up is at another company.")
        status = data.get("status")
        cta = self.cta
        if cta is not None and status is not None and status.is_closed and not cta.is_closed:
            open_tasks = cta.tasks.filter(done=False).count()
            if open_tasks and not data.get("confirm_open_tasks"):
                self.needs_confirmation = True
                self.add_error(
                    "status",
                    f"{open_tasks} open task{'s' if open_tasks != 1 else ''} — close anyway? "
                    "Tick “Close with open tasks” to confirm.",
                )
        return data

    def values(self) -> dict[str, Any]:
        """The CTA's fields for `cta_create` / `cta_update`."""
        data = self.cleaned_data
        values = {
            name: data.get(name)
            for name in (
                "relationship",
                "name",
                "cta_type",
                "reason",
                "priority",
                "status",
                "owner",
                "due_date",
                "snoozed_until",
            )
        }
        if self.cta is None:
            values["company"] = data["company"]
            values["source_activity"] = data.get("source_activity")
        return values


# ---------- tasks, playbooks, status ----------


class TaskForm(forms.Form):
    title = forms.CharField(
        label="Task",
        max_length=200,
        error_messages={
            "required": "Say what needs doing, e.g. “Send the adoption report”.",
            "max_length": "Keep a task under 200 characters (it has %(show_value)d).",
        },
    )
    owner = UserChoiceField(
        label="Owner",
        required=False,
        queryset=User.objects.none(),
        empty_label="Nobody yet",
        error_messages={"invalid_choice": "Choose the owner from the list of colleagues."},
    )
    due_date = forms.DateField(
        label="Due",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter the due date as a date, e.g. 2026-03-31."},
    )

    def __init__(
        self, *args: Any, user: AnyUser | None = None, cta: CTA | None = None, **kwargs: Any
    ) -> None:
        # The dialog's ids: "task-owner" (the owner select is the field's own widget).
        kwargs.setdefault("auto_id", "task-%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users_choosable_by(  # type: ignore[attr-defined]
            user,
            company_id=cta.company_id if cta else None,
            relationship_id=cta.relationship_id if cta else None,
            permission=TASK_OWNER_PERMISSION,
        )


class PlaybookForm(forms.Form):
    playbook = forms.ModelChoiceField(
        label="Playbook",
        queryset=Playbook.objects.none(),
        empty_label="Choose a playbook…",
        error_messages={
            "required": "Choose a playbook to apply.",
            "invalid_choice": "This playbook is no longer in use: choose another.",
        },
    )

    def __init__(self, *args: Any, cta_type_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = (  # type: ignore[attr-defined]
            Playbook.objects.filter(active=True)
            .annotate(
                for_type=Case(
                    When(cta_type_id=cta_type_id, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("for_type", "name")
        )


class StatusForm(forms.Form):
    """Close a CTA (a closed status) or reopen it (an open one)."""

    status = forms.ModelChoiceField(
        label="Status",
        queryset=CTAStatus.objects.order_by("order", "name"),
        empty_label=None,
        error_messages={
            "required": "Choose a status.",
            "invalid_choice": "Choose a status from the list.",
        },
    )
    confirm = forms.BooleanField(required=False)


class BulkForm(forms.Form):
    """The Cockpit's bulk bar: close the selected CTAs or give them to someone."""

    action = forms.ChoiceField(choices=[("close", "Close"), ("reassign", "Reassign")])
    status = forms.ModelChoiceField(
        label="Close as",
        required=False,
        queryset=CTAStatus.objects.filter(is_closed=True).order_by("order", "name"),
        empty_label=None,
        error_messages={"invalid_choice": "Choose a closed status from the list."},
    )
    owner = UserChoiceField(
        label="New owner",
        required=False,
        queryset=User.objects.none(),
        empty_label="Choose an owner…",
        error_messages={"invalid_choice": "Choose the new owner from the list of colleagues."},
    )
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args: Any, user: AnyUser | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users_choosable_by(  # type: ignore[attr-defined]
            user, permission=CTA_OWNER_PERMISSION
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None
        if (
            data.get("action") == "reassign"
            and data.get("owner") is None
            and "owner" not in self.errors
        ):
            self.add_error("owner", "Choose who the selected CTAs go to.")
        return data
