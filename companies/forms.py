"""The companies list's search, filter and sort form (a plain GET form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from companies.models import Company
from companies.selectors import DEFAULT_SORT, SORTS, CompanyFilters, csm_choices
from partners.access import AnyUser

SEARCH_MAX = 100


class CsmChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class CompanyFilterForm(forms.Form):
    """Reads the list's query string; a value it does not accept is ignored, never an error."""

    # The search box itself is written in the template: it carries its own htmx trigger.
    q = forms.CharField(label="Search", required=False)
    segment = forms.ChoiceField(
        required=False, choices=[("", "All segments"), *Company.Segment.choices]
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *Company.Status.choices]
    )
    csm = CsmChoiceField(
        label="CSM", required=False, queryset=User.objects.none(), empty_label="All CSMs"
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
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
