from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from relationships.attributes import clean_attributes


class RelationshipType(models.Model):
    """A kind of relationship (a product, a business unit, a project) with its own fields."""

    name = models.CharField(max_length=40, unique=True)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(1000)])
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class RelationshipTypeField(models.Model):
    """One typed field of a relationship type, stored in `Relationship.attributes[key]`."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        NUMBER = "number", "Number"
        CURRENCY = "currency", "Currency"
        PERCENT = "percent", "Percent"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes/no"
        CHOICE = "choice", "Choice"
        URL = "url", "URL"
        EMAIL = "email", "Email"

    relationship_type = models.ForeignKey(
        RelationshipType, on_delete=models.CASCADE, related_name="fields"
    )
    key = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                "Use lowercase letters, digits and underscores, starting with a letter.",
            )
        ],
        help_text="The name the value is stored and imported under, e.g. seats or go_live.",
    )
    label = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(
        default=list,
        blank=True,
        help_text="For choice fields: the allowed values.",
    )
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    order = models.PositiveIntegerField(default=0)
    shown_in_lists = models.BooleanField(default=False)

    class Meta:
        ordering = ["relationship_type", "order", "id"]
        verbose_name = "field"
        constraints = [
            models.UniqueConstraint(
                fields=["relationship_type", "key"],
                name="relationship_type_field_key_unique",
                violation_error_message="This type already has a field with this key.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_kind_display()})"

    def clean(self) -> None:
        super().clean()
        choices = self.choices
        if self.kind == self.Kind.CHOICE:
            if not isinstance(choices, list) or not choices:
                raise ValidationError({"choices": "A choice field needs at least one choice."})
            if not all(isinstance(c, str) and c.strip() for c in choices):
                raise ValidationError({"choices": "Each choice must be a non-empty text."})
            if len(set(choices)) != len(choices):
                raise ValidationError({"choices": "Each choice must be listed once."})
        elif choices:
            raise ValidationError({"choices": "Only choice fields have choices."})


class Relationship(models.Model):
    """What the company has with a customer: one product sold, business unit or project."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        AT_RISK = "at_risk", "At risk"
        ON_HOLD = "on_hold", "On hold"
        CHURNED = "churned", "Churned"

    class Stage(models.TextChoices):
        ONBOARDING = "onboarding", "Onboarding"
        ADOPTION = "adoption", "Adoption"
        EXPANSION = "expansion", "Expansion"
        RENEWAL = "renewal", "Renewal"

    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="relationships"
    )
    relationship_type = models.ForeignKey(
        RelationshipType, on_delete=models.PROTECT, related_name="relationships"
    )
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="CSM",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="csm_relationships",
    )
    arr = models.DecimalField(
        "ARR", max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    mrr = models.DecimalField(
        "MRR", max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    start_date = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    managed_by = models.ForeignKey(
        "partners.Partner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="relationships",
        help_text="The partner that runs customer success for this relationship; "
        "empty means its company's partner.",
    )
    attributes = models.JSONField(default=dict, blank=True)
    # The overall score of the latest scorecard change, kept by success.services.
    health_score = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()  # the audit trail

    class Meta:
        ordering = ["company", "relationship_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "relationship_type", "name"],
                name="relationship_unique_name_per_company_type",
                violation_error_message=(
                    "This company already has a relationship of this type with this name."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(arr__gte=0) & models.Q(mrr__gte=0),
                name="relationship_revenue_not_negative",
                violation_error_message="ARR and MRR cannot be negative.",
            ),
        ]
        indexes = [
            models.Index(fields=["relationship_type", "status"]),
            models.Index(fields=["name"]),
            # The admin's "ARR" order: read in order, not 300k rows sorted.
            models.Index(fields=["arr"], name="relationships_rel_arr_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("layouts:relationship", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if self.relationship_type_id is None:
            return
        cleaned, errors = clean_attributes(self.relationship_type.fields.all(), self.attributes)
        if errors:
            labels = {f.key: f.label for f in self.relationship_type.fields.all()}
            raise ValidationError(
                {
                    "attributes": [
                        f"{labels.get(key, key)}: {message}" if key != "__all__" else message
                        for key, message in errors.items()
                    ]
                }
            )
        self.attributes = cleaned

    def attribute_rows(self) -> list[tuple[RelationshipTypeField, object]]:
        """The type's fields with this relationship's values, in the type's order."""
        return [(f, self.attributes.get(f.key)) for f in self.relationship_type.fields.all()]


class RelationshipPerson(models.Model):
    """A person of the relationship's company who plays a role in this relationship."""

    class Role(models.TextChoices):
        CHAMPION = "champion", "Champion"
        DECISION_MAKER = "decision_maker", "Decision maker"
        EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
        ADMIN = "admin", "Administrator"
        USER = "user", "User"

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="people")
    company_person = models.ForeignKey(
        "companies.CompanyPerson", on_delete=models.CASCADE, related_name="relationships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.USER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "relationship person"
        verbose_name_plural = "relationship people"
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "company_person"],
                name="relationship_person_unique",
                violation_error_message="This person is already on this relationship.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_person.person} on {self.relationship}"

    def clean(self) -> None:
        super().clean()
        if (
            self.relationship_id is not None
            and self.company_person_id is not None
            and self.company_person.company_id != self.relationship.company_id
        ):
            raise ValidationError(
                {"company_person": "Choose a person of the relationship's own company."}
            )
