"""People: the company's people (C360) or the relationship's people and roles (R360).

C360 adds a person (found by email, so nobody is added twice) and edits one; R360 puts one of
the company's people on the relationship with a role, or takes them off. Each write is a
dialog in the page's modal; a successful one closes it and refreshes the sections.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render

from companies.forms import CompanyPersonAddForm, CompanyPersonEditForm
from companies.models import CompanyPerson
from companies.selectors import company_people_section, company_person_of, person_by_email
from companies.services import company_person_add_by_email, company_person_update
from gainsight_lite.forms import add_service_errors
from gainsight_lite.http import dialog_saved
from layouts.sections.base import SUBJECT_CHANGED, SectionContext, SectionKind, register
from relationships.models import Relationship, RelationshipPerson
from relationships.selectors import (
    relationship_people_addable,
    relationship_people_section,
    relationship_person_of,
)
from relationships.services import relationship_person_add, relationship_person_remove

ADD_PERSON = "companies.add_companyperson"
CHANGE_PERSON = "companies.change_companyperson"
ADD_MEMBER = "relationships.add_relationshipperson"
# Taking someone off a relationship changes who is on it: the same right as adding them
# in the CSM role (which has no delete rights), not the admin-only delete permission.
REMOVE_MEMBER = "relationships.change_relationshipperson"

PERSON_FORM = "layouts/sections/people_person_form.html"
MEMBER_FORM = "layouts/sections/people_member_form.html"
MEMBER_REMOVE = "layouts/sections/people_member_remove.html"


class RelationshipMemberForm(forms.Form):
    """Put one of the company's people on a relationship with a role."""

    company_person = forms.ModelChoiceField(
        label="Person",
        queryset=CompanyPerson.objects.none(),
        empty_label="Choose a person…",
        error_messages={
            "required": "Choose a person from the list.",
            "invalid_choice": "Choose a person from the list.",
        },
    )
    role = forms.ChoiceField(
        label="Role on this relationship",
        choices=RelationshipPerson.Role.choices,
        initial=RelationshipPerson.Role.USER,
    )

    def __init__(self, *args: Any, relationship: Relationship, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["company_person"]
        field.queryset = relationship_people_addable(relationship=relationship)  # type: ignore[attr-defined]
        field.label_from_instance = _member_label  # type: ignore[attr-defined]


def _member_label(member: CompanyPerson) -> str:
    name = member.person.full_name
    return f"{name} · {member.title}" if member.title else name


def _require(ctx: SectionContext, permission: str) -> None:
    if not ctx.user.has_perm(permission):
        raise PermissionDenied("Your role does not allow this change.")


@register
class People(SectionKind):
    key = "people"
    label = "People"
    template = "layouts/sections/people.html"
    # About a bar and a table of four people: less jump when the section arrives.
    skeleton_height = 240
    actions = {"add": "add", "lookup": "lookup", "edit": "edit", "remove": "remove"}

    def config_form_class(self, layout: Any) -> type[forms.Form]:
        on_company = layout is None or layout.target == "company"

        class PeopleConfig(forms.Form):
            show_sentiment = forms.BooleanField(
                label="Show sentiment",
                required=False,
                initial=True,
                help_text="How each person feels about us: positive, neutral, negative.",
            )
            if on_company:
                sponsors_only = forms.BooleanField(
                    label="Show only sponsors",
                    required=False,
                    initial=False,
                    help_text="For short layouts: only the people marked as sponsors.",
                )

        return PeopleConfig

    def context(self, ctx: SectionContext) -> dict[str, Any]:
        show_sentiment = bool(ctx.config.get("show_sentiment", True))
        if isinstance(ctx.subject, Relationship):
            return {
                "on_relationship": True,
                "show_sentiment": show_sentiment,
                "can_add": ctx.user.has_perm(ADD_MEMBER),
                "can_remove": ctx.user.has_perm(REMOVE_MEMBER),
                "add_url": ctx.url("add"),
                "remove_url": ctx.url("remove"),
                **relationship_people_section(relationship=ctx.subject),
            }
        sponsors_only = bool(ctx.config.get("sponsors_only", False))
        return {
            "on_relationship": False,
            "show_sentiment": show_sentiment,
            "sponsors_only": sponsors_only,
            "can_add": ctx.user.has_perm(ADD_PERSON),
            "can_edit": ctx.user.has_perm(CHANGE_PERSON),
            "add_url": ctx.url("add"),
            "edit_url": ctx.url("edit"),
            **company_people_section(company=ctx.subject, sponsors_only=sponsors_only),
        }

    # ---------- C360: add a person (found by email) and edit one ----------

    def add(self, ctx: SectionContext) -> HttpResponse:
        if isinstance(ctx.subject, Relationship):
            return self._add_member(ctx)
        _require(ctx, ADD_PERSON)
        company = ctx.company
        request = ctx.request
        if request.method == "POST":
            form = CompanyPersonAddForm(request.POST, company=company)
            if form.is_valid():
                try:
                    company_person_add_by_email(
                        company=company,
                        email=form.cleaned_data["email"],
                        by=ctx.user,
                        **form.person_values(),
                        **form.member_values(),
                    )
                except ValidationError as error:
                    # Rule-wide errors (already at this company) are about the email.
                    add_service_errors(form, error, fallback="email")
                else:
                    return dialog_saved(SUBJECT_CHANGED)
        else:
            form = CompanyPersonAddForm(company=company)
        found = form.existing_person if form.is_bound else None
        return render(
            request,
            PERSON_FORM,
            {
                "form": form,
                "adding": True,
                "company": company,
                "found": found,
                "already_here": form.has_error("email") and found is not None,
                "action_url": ctx.url("add"),
                "lookup_url": ctx.url("lookup"),
            },
        )

    def lookup(self, ctx: SectionContext) -> HttpResponse:
        """As the email is typed: the person it belongs to, or the fields of a new person."""
        if isinstance(ctx.subject, Relationship):
            raise Http404("This section has no such action.")
        _require(ctx, ADD_PERSON)
        company = ctx.company
        values = ctx.request.GET
        found = None
        email = values.get("email", "").strip()
        if "@" in email:
            found = person_by_email(email=email)
        # Unbound, so half-typed values are kept without showing errors while typing.
        form = CompanyPersonAddForm(
            initial={name: values.get(name, "") for name in ("first_name", "last_name", "phone")},
            company=company,
        )
        already_here = found is not None and found.companies.filter(company_id=company.pk).exists()
        return render(
            ctx.request,
            f"{PERSON_FORM}#identity",
            {"form": form, "company": company, "found": found, "already_here": already_here},
        )

    def edit(self, ctx: SectionContext) -> HttpResponse:
        if isinstance(ctx.subject, Relationship):
            raise Http404("This section has no such action.")
        _require(ctx, CHANGE_PERSON)
        member = company_person_of(company=ctx.company, pk=ctx.request.GET.get("member"))
        if member is None:
            raise Http404("This person is not at this company.")
        request = ctx.request
        if request.method == "POST":
            form = CompanyPersonEditForm(request.POST, member=member)
            if form.is_valid():
                try:
                    company_person_update(
                        company_person=member,
                        person_fields=form.person_values(),
                        by=ctx.user,
                        **form.member_values(),
                    )
                except ValidationError as error:
                    add_service_errors(form, error, fallback=None)
                else:
                    return dialog_saved(SUBJECT_CHANGED)
        else:
            form = CompanyPersonEditForm(member=member)
        return render(
            request,
            PERSON_FORM,
            {
                "form": form,
                "adding": False,
                "company": ctx.company,
                "member": member,
                "action_url": f"{ctx.url('edit')}?member={member.pk}",
            },
        )

    # ---------- R360: put one of the company's people on the relationship, take them off ----

    def _add_member(self, ctx: SectionContext) -> HttpResponse:
        _require(ctx, ADD_MEMBER)
        relationship = ctx.subject
        assert isinstance(relationship, Relationship)
        request = ctx.request
        if request.method == "POST":
            form = RelationshipMemberForm(request.POST, relationship=relationship)
            if form.is_valid():
                try:
                    relationship_person_add(
                        relationship=relationship,
                        company_person=form.cleaned_data["company_person"],
                        role=form.cleaned_data["role"],
                    )
                except ValidationError as error:
                    add_service_errors(form, error, fallback="company_person")
                else:
                    return dialog_saved(SUBJECT_CHANGED)
        else:
            form = RelationshipMemberForm(relationship=relationship)
        choices = form.fields["company_person"].queryset  # type: ignore[attr-defined]
        return render(
            request,
            MEMBER_FORM,
            {
                "form": form,
                "relationship": relationship,
                "company": ctx.company,
                "nobody_left": not choices.exists(),
                "action_url": ctx.url("add"),
            },
        )

    def remove(self, ctx: SectionContext) -> HttpResponse:
        relationship = ctx.subject
        if not isinstance(relationship, Relationship):
            raise Http404("This section has no such action.")
        _require(ctx, REMOVE_MEMBER)
        member = relationship_person_of(relationship=relationship, pk=ctx.request.GET.get("member"))
        if member is None:
            raise Http404("This person is not on this relationship.")
        if ctx.request.method == "POST":
            relationship_person_remove(relationship_person=member, by=ctx.user)
            return dialog_saved(SUBJECT_CHANGED)
        return render(
            ctx.request,
            MEMBER_REMOVE,
            {
                "member": member,
                "relationship": relationship,
                "action_url": f"{ctx.url('remove')}?member={member.pk}",
            },
        )
