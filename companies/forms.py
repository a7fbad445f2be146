"""Forms of the companies pages: the list's filters, the people dialogs, "move under…"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from companies.models import Company, CompanyPerson, Person
from companies.selectors import (
    DEFAULT_SORT,
    SORTS,
    CompanyFilters,
    company_people_choices,
    csm_choices,
    person_by_email,
)
from gainsight_lite.forms import QuickSelect, UserChoiceField
from gainsight_lite.http import parse_id
from partners.access import AnyUser, companies_visible_to

SEARCH_MAX = 100
# The database rule's own sentence, so the dialog and the rule never say different things.
ALREADY_AT_COMPANY = next(
    str(constraint.violation_error_message)
    for constraint in CompanyPerson._meta.constraints
    if constraint.name == "company_person_unique"
)


class CompanyFilterForm(forms.Form):
    """Reads the list's query string; a value it does not accept is ignored, never an error."""

    # The search box itself is written in the template: it carries its own htmx trigger.
    q = forms.CharField(label="Search", required=False)
    segment = forms.ChoiceField(
        required=False,
        choices=[("", "All segments"), *Company.Segment.choices],
        widget=QuickSelect,
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All statuses"), *Company.Status.choices],
        widget=QuickSelect,
    )
    csm = UserChoiceField(
        label="CSM", required=False, queryset=User.objects.none(), empty_label="All CSMs"
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        widget=QuickSelect,
    )

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only CSMs of companies this user may see: a partner user never sees other names.
        self.fields["csm"].queryset = csm_choices(user=user)  # type: ignore[attr-defined]

    def clean_q(self) -> str:
        # Searching is forgiving: a very long text is cut, not refused.
        return str(self.cleaned_data.get("q") or "")[:SEARCH_MAX]

    def filters(self) -> CompanyFilters:
        """The accepted filters; fields with a value the form refused are left out."""
        self.is_valid()
        data = self.cleaned_data
        return CompanyFilters(
            q=data.get("q") or "",
            segment=data.get("segment") or "",
            status=data.get("status") or "",
            csm=data.get("csm"),
            sort=data.get("sort") or DEFAULT_SORT,
        )


class ManagerChoiceField(forms.ModelChoiceField):
    """A select of the company's people; a wrong choice is explained, not "invalid choice"."""

    def __init__(self, *, company: Company, member: CompanyPerson | None = None) -> None:
        people = company_people_choices(company=company)
        if member is not None:
            people = people.exclude(pk=member.pk)
        super().__init__(queryset=people, required=False, empty_label="No manager")
        self.member = member

    def label_from_instance(self, obj: CompanyPerson) -> str:
        label = obj.person.full_name
        return f"{label} · {obj.title}" if obj.title else label

    def to_python(self, value: Any) -> CompanyPerson | None:
        if value in self.empty_values:
            return None
        if self.member is not None and str(value) == str(self.member.pk):
            raise ValidationError("A person cannot be their own manager.", code="self")
        try:
            return super().to_python(value)  # type: ignore[no-any-return]
        except ValidationError:
            raise ValidationError(
                "The manager must be a person at the same company.", code="other_company"
            ) from None


class CompanyPersonFields(forms.Form):
    """What a person is at one company: the fields the add and edit dialogs share."""

    first_name = forms.CharField(max_length=80, required=False)
    last_name = forms.CharField(max_length=80, required=False)
    phone = forms.CharField(max_length=40, required=False)
    title = forms.CharField(max_length=120, required=False)
    role = forms.ChoiceField(choices=CompanyPerson.Role.choices, initial=CompanyPerson.Role.USER)
    is_sponsor = forms.BooleanField(
        label="Sponsor", required=False, help_text="Speaks for us inside the company."
    )
    sentiment = forms.ChoiceField(
        choices=CompanyPerson.Sentiment.choices, initial=CompanyPerson.Sentiment.UNKNOWN
    )
    manager: ManagerChoiceField

    PERSON_FIELDS = ("first_name", "last_name", "phone")
    MEMBER_FIELDS = ("title", "role", "is_sponsor", "sentiment", "manager")

    def person_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.PERSON_FIELDS}

    def member_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.MEMBER_FIELDS}


class CompanyPersonAddForm(CompanyPersonFields):
    """Add a person to a company: the email decides whether they are new or already known."""

    email = forms.EmailField(
        max_length=254, help_text="We look the person up by email, so nobody is added twice."
    )
    field_order = ["email", "first_name", "last_name", "phone", "title", "role"]

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["manager"] = ManagerChoiceField(company=company)
        self.existing_person: Person | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email = data.get("email")
        if not email:
            return data
        self.existing_person = person_by_email(email=email)
        if self.existing_person is None:
            if not data.get("first_name", "").strip():
                self.add_error("first_name", "Enter the person's first name.")
        elif self.existing_person.companies.filter(company=self.company).exists():
            # Caught here to point at the email; the database rule stays the last word.
            self.add_error("email", ALREADY_AT_COMPANY)
        return data


class CompanyPersonEditForm(CompanyPersonFields):
    """Change a person at a company, including their name and phone."""

    def __init__(self, *args: Any, member: CompanyPerson, **kwargs: Any) -> None:
        initial = {
            "first_name": member.person.first_name,
            "last_name": member.person.last_name,
            "phone": member.person.phone,
            "title": member.title,
            "role": member.role,
            "is_sponsor": member.is_sponsor,
            "sentiment": member.sentiment,
            "manager": member.manager_id,
        }
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["first_name"].required = True
        self.fields["first_name"].error_messages["required"] = "Enter the person's first name."
        self.fields["manager"] = ManagerChoiceField(company=member.company, member=member)


class CompanyMoveForm(forms.Form):
    """Where to move a company: one of the companies the user may see, or the top level."""

    TOP = "top"

    q = forms.CharField(label="Find a company", required=False, max_length=SEARCH_MAX)
    parent = forms.CharField(
        required=False, error_messages={"required": "Choose a company from the list."}
    )

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_parent(self) -> Company | None:
        value = str(self.cleaned_data.get("parent") or "").strip()
        if value == self.TOP:
            return None
        # A company the user may not see is answered exactly like one that does not exist.
        parent_id = parse_id(value)
        parent = (
            companies_visible_to(self.user).filter(pk=parent_id).first()
            if parent_id is not None
            else None
        )
        if parent is None:
            raise ValidationError("Choose a company from the list.", code="missing")
        return parent
