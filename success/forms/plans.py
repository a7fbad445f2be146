"""Forms of success plans: the list's filters, a plan (new or edited), an objective."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from companies.models import Company
from gainsight_lite.forms import RelationshipChoiceField, UserChoiceField
from gainsight_lite.versions import VersionField, version_of
from partners.access import AnyUser, companies_visible_to, users_choosable_by
from relationships.models import Relationship
from success.models import SuccessPlan, SuccessPlanType
from success.selectors.plans import (
    DEFAULT_SORT,
    OPEN,
    SEARCH_MAX,
    SORTS,
    PlanFilters,
    plan_relationship_choices,
    plan_type_choices,
)

DATE_ERROR = "Enter a date as YYYY-MM-DD."
MINE = "me"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PlanFilterForm(forms.Form):
    """Reads the list's query string; a value it does not accept is ignored, never an error."""

    q = forms.CharField(label="Company", required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All statuses"), (OPEN, "Draft or active"), *SuccessPlan.Status.choices],
    )
    plan_type = forms.ModelChoiceField(
        label="Type",
        required=False,
        queryset=SuccessPlanType.objects.order_by("order", "name"),
        empty_label="All types",
    )
    owner = forms.ChoiceField(required=False, choices=[("", "Anyone's plans"), (MINE, "My plans")])
    due_before = forms.DateField(label="Due before", required=False, widget=DateInput())
    company = forms.ModelChoiceField(
        required=False, queryset=Company.objects.none(), widget=forms.HiddenInput
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
    )

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Plans of one company" (the 360 section's link): only a company the user may see.
        self.fields["company"].queryset = companies_visible_to(user)  # type: ignore[attr-defined]

    def clean_q(self) -> str:
        # Searching is forgiving: a very long text is cut, not refused.
        return str(self.cleaned_data.get("q") or "").strip()[:SEARCH_MAX]

    def filters(self) -> PlanFilters:
        """The accepted filters; fields with a value the form refused are left out."""
        self.is_valid()
        data = self.cleaned_data
        return PlanFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            plan_type=data.get("plan_type"),
            mine=data.get("owner") == MINE,
            due_before=data.get("due_before"),
            company=data.get("company"),
            sort=data.get("sort") or DEFAULT_SORT,
        )


class SuccessPlanForm(forms.Form):
    """A plan's own fields. New plans also pick their company (unless it is fixed by the
    page they are made from) and, optionally, one of its relationships."""

    company = forms.ModelChoiceField(
        queryset=Company.objects.none(),
        error_messages={
            "required": "Choose the company this plan is for.",
            "invalid_choice": "Choose the company this plan is for.",
        },
    )
    relationship = RelationshipChoiceField(
        label="Relationship",
        required=False,
        queryset=Relationship.objects.none(),
        empty_label="The whole company",
        error_messages={"invalid_choice": "Choose one of the company's relationships."},
        help_text="Leave it on the whole company, or plan for one product or project.",
    )
    name = forms.CharField(
        max_length=120,
        error_messages={
            "required": "Give the plan a name.",
            "max_length": "A plan's name is at most 120 characters.",
        },
    )
    plan_type = forms.ModelChoiceField(
        label="Type",
        queryset=SuccessPlanType.objects.none(),
        empty_label="Choose a type…",
        error_messages={
            "required": "Choose the plan's type.",
            "invalid_choice": "Choose one of the plan types in use.",
        },
    )
    status = forms.ChoiceField(choices=SuccessPlan.Status.choices, initial=SuccessPlan.Status.DRAFT)
    owner = UserChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No owner",
        error_messages={"invalid_choice": "Choose an owner from the list."},
    )
    due_date = forms.DateField(
        label="Due date",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": DATE_ERROR},
    )
    # Edit only: the plan's version the form was drawn from (gainsight_lite.versions).
    version = VersionField()

    def __init__(
        self,
        *args: Any,
        user: AnyUser,
        plan: SuccessPlan | None = None,
        company: Company | None = None,
        relationship: Relationship | None = None,
        **kwargs: Any,
    ) -> None:
        """`plan`: edit it (company and relationship stay). `company`/`relationship`: a new
        plan for them. Neither: a new plan whose company is picked in the form."""
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fixed_company = plan.company if plan is not None else company
        self.fixed_relationship = plan.relationship if plan is not None else relationship
        self.fields["plan_type"].queryset = plan_type_choices(  # type: ignore[attr-defined]
            current=plan.plan_type if plan is not None else None
        )
        if self.fixed_company is not None:
            del self.fields["company"]
        else:
            self.fields["company"].queryset = companies_visible_to(user)  # type: ignore[attr-defined]
        chosen = self.chosen_company()
        if plan is not None or relationship is not None:
            del self.fields["relationship"]
        else:
            self.fields["relationship"].queryset = plan_relationship_choices(  # type: ignore[attr-defined]
                user=user, company=chosen
            )
        # A partner user gives plans to their partner's users or the record's CSM only.
        self.fields["owner"].queryset = users_choosable_by(  # type: ignore[attr-defined]
            user,
            company_id=chosen.pk if chosen is not None else None,
            relationship_id=self.fixed_relationship.pk if self.fixed_relationship else None,
            current_id=plan.owner_id if plan is not None else None,
        )
        if plan is None:
            del self.fields["version"]
        if plan is not None:
            self.initial.update(
                version=version_of(plan),
                name=plan.name,
                plan_type=plan.plan_type_id,
                status=plan.status,
                owner=plan.owner_id,
                due_date=plan.due_date,
            )

    def chosen_company(self) -> Company | None:
        """The fixed company, or the one picked in the posted data (if the user may see it)."""
        if self.fixed_company is not None:
            return self.fixed_company
        raw = self.data.get("company") if self.is_bound else self.initial.get("company")
        if not raw:
            return None
        field = self.fields["company"]
        try:
            company: Company = field.clean(raw)
        except forms.ValidationError:
            return None
        return company

    def plan_values(self) -> dict[str, Any]:
        """The cleaned values as the services take them."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"],
            "plan_type": data["plan_type"],
            "status": data["status"],
            "owner": data["owner"],
            "due_date": data["due_date"],
        }
        if self.plan is None:
            values["company"] = self.fixed_company or data["company"]
            values["relationship"] = (
                self.fixed_relationship
                if "relationship" not in self.fields
                else data.get("relationship")
            )
        return values


class ObjectiveForm(forms.Form):
    """A new objective of a plan: a CTA of type Objective on the plan's company."""

    name = forms.CharField(
        max_length=80,
        error_messages={
            "required": "Give the objective a name.",
            "max_length": "An objective's name is at most 80 characters.",
        },
    )
    owner = UserChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No owner",
        error_messages={"invalid_choice": "Choose an owner from the list."},
    )
    due_date = forms.DateField(
        label="Due date",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": DATE_ERROR},
    )

    def __init__(self, *args: Any, user: AnyUser, plan: SuccessPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An objective is a CTA: it goes to someone who may work CTAs.
        self.fields["owner"].queryset = users_choosable_by(  # type: ignore[attr-defined]
            user,
            company_id=plan.company_id,
            relationship_id=plan.relationship_id,
            permission="success.change_cta",
        )
        self.initial.setdefault("owner", plan.owner_id)
        self.initial.setdefault("due_date", plan.due_date)
