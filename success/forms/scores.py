"""The inline form of the scorecard section: one measure's score and comment, or clear it."""

from __future__ import annotations

from typing import Any

from django import forms

from success.models import Score

SCORE_RANGE = "A score is a whole number from 0 to 100."


class ScoreForm(forms.Form):
    """A measure's new score (0–100) with a comment; `clear` removes the score instead."""

    value = forms.IntegerField(
        label="Score",
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1, "inputmode": "numeric"}),
        error_messages={
            "invalid": SCORE_RANGE,
            "min_value": "A score cannot be below 0.",
            "max_value": "A score cannot be above 100.",
        },
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=Score._meta.get_field("comment").max_length,
        widget=forms.TextInput(attrs={"placeholder": "Why this score?"}),
        error_messages={"max_length": "Keep the comment to %(limit_value)d characters."},
    )
    clear = forms.BooleanField(required=False)

    def __init__(self, *args: Any, prefix_id: str, **kwargs: Any) -> None:
        kwargs["auto_id"] = f"{prefix_id}-%s"
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("clear"):
            cleaned["value"] = None
            cleaned["comment"] = ""
            # Clearing needs no valid score: drop an error about what was typed.
            self.errors.pop("value", None)
        elif cleaned.get("value") is None and not self.has_error("value"):
            self.add_error("value", "Enter a score from 0 to 100, or clear the score.")
        return cleaned

    def mark_invalid(self) -> None:
        """Point assistive technology at the error shown under the input."""
        for name in ("value", "comment"):
            if self.has_error(name):
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}-error"}
                )
