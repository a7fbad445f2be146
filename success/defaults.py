"""The lookups every installation starts with (created by a data migration)."""

from __future__ import annotations

from typing import Any

ACTIVITY_TYPES = ["Update", "Call", "Meeting", "Email", "Milestone"]
CTA_TYPES = ["Risk", "Lifecycle", "Expansion", "Objective", "Activity"]
CTA_PRIORITIES = [("High", "#b4231b"), ("Medium", "#9a5800"), ("Low", "#4d5766")]
CTA_STATUSES = [
    ("New", False),
    ("Work in progress", False),
    ("Closed success", True),
    ("Closed lost", True),
]
# How a plan's progress counts an objective closed in each default status (CTAStatus.outcome).
CTA_STATUS_OUTCOMES = {"Closed lost": "not_achieved"}
GRADE_BANDS = [
    ("Red", 0, 49, "#d14343"),
    ("Yellow", 50, 74, "#e0a100"),
    ("Green", 75, 100, "#2f9e55"),
]


def defaults_create(apps: Any) -> None:
    """Create the default lookups that are missing (idempotent; `apps`: a registry)."""

    def model(name: str) -> Any:
        return apps.get_model("success", name)

    for order, name in enumerate(ACTIVITY_TYPES):
        model("ActivityType").objects.get_or_create(
            name=name, defaults={"order": order, "is_system": True}
        )
    for order, name in enumerate(CTA_TYPES):
        model("CTAType").objects.get_or_create(
            name=name, defaults={"order": order, "is_system": True}
        )
    for order, (name, colour) in enumerate(CTA_PRIORITIES):
        model("CTAPriority").objects.get_or_create(
            name=name, defaults={"order": order, "colour": colour}
        )
    statuses = model("CTAStatus")
    # The data migration that first runs this knows CTAStatus before it had `outcome`.
    has_outcome = any(field.name == "outcome" for field in statuses._meta.get_fields())
    for order, (name, closed) in enumerate(CTA_STATUSES):
        defaults: dict[str, Any] = {"order": order, "is_closed": closed}
        if has_outcome:
            defaults["outcome"] = CTA_STATUS_OUTCOMES.get(name, "achieved")
        statuses.objects.get_or_create(name=name, defaults=defaults)
    if not model("GradeBand").objects.exists():
        for label, low, high, colour in GRADE_BANDS:
            model("GradeBand").objects.create(label=label, low=low, high=high, colour=colour)
