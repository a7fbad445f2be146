from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from mptt.models import MPTTModel, TreeForeignKey
from simple_history.models import HistoricalRecords

# A hierarchy is at most five levels deep: MPTT levels 0 to 4.
MAX_LEVEL = 4


class Company(MPTTModel):
    """A customer account, placed in a parent/child hierarchy of at most five levels."""

    class Segment(models.TextChoices):
        ENTERPRISE = "enterprise", "Enterprise"
        MID_MARKET = "mid_market", "Mid-Market"
        SMB = "smb", "SMB"

    class Stage(models.TextChoices):
        ONBOARDING = "onboarding", "Onboarding"
        ADOPTION = "adoption", "Adoption"
        EXPANSION = "expansion", "Expansion"
        RENEWAL = "renewal", "Renewal"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        AT_RISK = "at_risk", "At risk"
        PROSPECT = "prospect", "Prospect"
        CHURNED = "churned", "Churned"

    name = models.CharField(max_length=200)
    parent = TreeForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The parent company. A hierarchy is at most five levels deep.",
    )
    external_id = models.CharField(
        "external ID",
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="The company's ID in your CRM; imports match on it.",
    )
    industry = models.CharField(max_length=80, blank=True)
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True)
    stage = models.CharField("lifecycle stage", max_length=16, choices=Stage.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    arr = models.DecimalField(
        "ARR", max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    mrr = models.DecimalField(
        "MRR", max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    renewal_date = models.DateField(null=True, blank=True)
    original_contract_date = models.DateField(null=True, blank=True)
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="CSM",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="csm_companies",
    )
    managed_by = models.ForeignKey(
        "partners.Partner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="companies",
        help_text="The partner that runs customer success for this company.",
    )
    # The overall score of the latest scorecard change, kept by success.services.
    health_score = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The audit trail: who changed what and when (the tree's own bookkeeping is left out).
    history = HistoricalRecords(excluded_fields=["lft", "rght", "tree_id", "level"])

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__lte=MAX_LEVEL),
                name="company_at_most_five_levels",
                violation_error_message="A company hierarchy is at most five levels deep.",
            ),
            models.CheckConstraint(
                condition=models.Q(arr__gte=0) & models.Q(mrr__gte=0),
                name="company_revenue_not_negative",
                violation_error_message="ARR and MRR cannot be negative.",
            ),
        ]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["segment", "status"]),
            models.Index(fields=["renewal_date"]),
            # The lists' and the admin's "ARR" order: read in order, not 100k rows sorted.
            models.Index(fields=["arr"], name="companies_company_arr_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("layouts:company", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        check_company_parent(self, self.parent)


def check_company_parent(company: Company, parent: Company | None) -> None:
    """Raise a ValidationError on `parent` when placing `company` under it breaks the hierarchy.

    Two rules: no cycles (a company is not its own ancestor) and at most five levels, counting
    the company's own subtree. Tree fields are read from the database, not from the instances,
    which may be stale.
    """
    if parent is None:
        return
    if company.pk is not None and parent.pk == company.pk:
        raise ValidationError({"parent": f"{company.name} cannot be its own parent."})
    parent_level = Company.objects.filter(pk=parent.pk).values_list("level", flat=True).first()
    if parent_level is None:
        raise ValidationError({"parent": "The chosen parent company no longer exists."})
    height = 0
    stored = (
        Company.objects.filter(pk=company.pk).values("tree_id", "lft", "rght", "level").first()
        if company.pk is not None
        else None
    )
    if stored is not None and stored["rght"] - stored["lft"] > 1:
        subtree = Company.objects.filter(
            tree_id=stored["tree_id"], lft__gt=stored["lft"], rght__lt=stored["rght"]
        )
        if subtree.filter(pk=parent.pk).exists():
            raise ValidationError(
                {
                    "parent": f"{company.name} cannot be moved under {parent.name}: "
                    f"{parent.name} is one of its own descendants."
                }
            )
        deepest = subtree.order_by("-level").values_list("level", flat=True).first()
        height = (deepest or stored["level"]) - stored["level"]
    new_level = parent_level + 1
    if new_level + height > MAX_LEVEL:
        # Levels are shown counting from 1, as a CSM counts them.
        if height == 0:
            detail = f"{company.name} would be at level {new_level + 1}."
        else:
            detail = (
                f"under {parent.name}, the deepest company below {company.name} "
                f"would be at level {new_level + height + 1}."
            )
        raise ValidationError(
            {"parent": f"A company hierarchy is at most five levels deep: {detail}"}
        )


class Person(models.Model):
    """A person on the customer side, one per email address."""

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "people"
        ordering = ["last_name", "first_name"]
        indexes = [
            # People are listed by name (the admin too): read from an index, not sorted.
            models.Index(fields=["last_name", "first_name"], name="companies_person_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="person_email_unique_ci",
                violation_error_message="A person with this email address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()


class CompanyPerson(models.Model):
    """A person at a company: their title, role and how they feel about us."""

    class Role(models.TextChoices):
        CHAMPION = "champion", "Champion"
        DECISION_MAKER = "decision_maker", "Decision maker"
        EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
        USER = "user", "User"
        OTHER = "other", "Other"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"
        UNKNOWN = "unknown", "Unknown"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="companies")
    title = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.USER)
    is_sponsor = models.BooleanField("sponsor", default=False)
    sentiment = models.CharField(
        max_length=10, choices=Sentiment.choices, default=Sentiment.UNKNOWN
    )
    manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "company person"
        verbose_name_plural = "company people"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "person"],
                name="company_person_unique",
                violation_error_message="This person is already at this company.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.company}"

    def clean(self) -> None:
        super().clean()
        if self.manager_id is None:
            return
        if self.pk is not None and self.manager_id == self.pk:
            raise ValidationError({"manager": "A person cannot be their own manager."})
        if (
            self.company_id is not None
            and self.manager
            and self.manager.company_id != self.company_id
        ):
            raise ValidationError({"manager": "The manager must be a person at the same company."})
