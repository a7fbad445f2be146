"""factory-boy factories: the one way tests and `seed_demo` build records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
import factory.random
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, User
from factory.django import DjangoModelFactory

from companies.models import Company, CompanyPerson, Person
from layouts.models import Layout, Section
from layouts.sections import REGISTRY
from partners.models import Partner, PartnerUser
from partners.services import partner_grants_sync, partner_group_ensure, partner_user_add
from relationships.models import (
    Relationship,
    RelationshipPerson,
    RelationshipType,
    RelationshipTypeField,
)
from success.models import (
    CTA,
    Activity,
    ActivityType,
    CTAPriority,
    CTAReason,
    CTAStatus,
    CTAType,
    Measure,
    MeasureGroup,
    Playbook,
    PlaybookTask,
    Score,
    Scorecard,
    ScoreSnapshot,
    SuccessPlan,
    SuccessPlanType,
    SurveyResponse,
    Task,
    TemplateObjective,
    TemplateTask,
    UsageMetric,
    UsageValue,
)


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("password")

    @factory.post_generation
    def groups(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """`groups=["CSM"]` puts the user in those role groups."""
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


class PartnerFactory(DjangoModelFactory[Partner]):
    class Meta:
        model = Partner
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner {n}")
    region = factory.Faker("random_element", elements=["EMEA", "NA", "APAC", "LATAM"])
    contact_name = factory.Faker("name")
    contact_email = factory.Faker("company_email")

    @factory.post_generation
    def partner_group(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """The partner's own group, as partners.services.partner_create makes it."""
        if create:
            partner_group_ensure(partner=self)


class PartnerUserFactory(DjangoModelFactory[PartnerUser]):
    """A partner user made by the service: in the partner's group and their bundle."""

    class Meta:
        model = PartnerUser

    partner = factory.SubFactory(PartnerFactory)
    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[PartnerUser], *args: Any, **kwargs: Any) -> PartnerUser:
        return partner_user_add(**kwargs)


class CompanyFactory(DjangoModelFactory[Company]):
    class Meta:
        model = Company
        skip_postgeneration_save = True

    name = factory.Faker("company")
    external_id = factory.Sequence(lambda n: f"ACC-{n:06d}")
    industry = factory.Faker(
        "random_element",
        elements=["Software", "Manufacturing", "Healthcare", "Retail", "Finance", "Logistics"],
    )
    segment = factory.Faker("random_element", elements=[c.value for c in Company.Segment])
    stage = factory.Faker("random_element", elements=[c.value for c in Company.Stage])
    status = Company.Status.ACTIVE
    arr = factory.LazyFunction(lambda: Decimal(factory.random.randgen.randint(5, 500) * 1000))
    mrr = factory.LazyAttribute(lambda c: (c.arr / 12).quantize(Decimal("0.01")))
    renewal_date = factory.Faker("date_between", start_date="+1d", end_date="+400d")
    original_contract_date = factory.Faker("date_between", start_date="-5y", end_date="-30d")

    @factory.post_generation
    def partner_grants(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """`managed_by=partner` grants the partner's group, as the services do."""
        if create and self.managed_by_id is not None:
            partner_grants_sync(records=[self])


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@customer.example")
    phone = factory.Faker("numerify", text="+1 555 ### ####")


class CompanyPersonFactory(DjangoModelFactory[CompanyPerson]):
    class Meta:
        model = CompanyPerson

    company = factory.SubFactory(CompanyFactory)
    person = factory.SubFactory(PersonFactory)
    title = factory.Faker("job")
    role = factory.Faker("random_element", elements=[c.value for c in CompanyPerson.Role])
    sentiment = factory.Faker("random_element", elements=[c.value for c in CompanyPerson.Sentiment])


class RelationshipTypeFactory(DjangoModelFactory[RelationshipType]):
    class Meta:
        model = RelationshipType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Product {n}")
    description = factory.Faker("sentence")


class RelationshipTypeFieldFactory(DjangoModelFactory[RelationshipTypeField]):
    class Meta:
        model = RelationshipTypeField

    relationship_type = factory.SubFactory(RelationshipTypeFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.LazyAttribute(lambda f: f.key.replace("_", " ").capitalize())
    kind = RelationshipTypeField.Kind.TEXT
    order = factory.Sequence(lambda n: n)


class RelationshipFactory(DjangoModelFactory[Relationship]):
    class Meta:
        model = Relationship
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    relationship_type = factory.SubFactory(RelationshipTypeFactory)
    name = factory.Sequence(lambda n: f"Relationship {n}")
    status = Relationship.Status.ACTIVE
    arr = factory.LazyFunction(lambda: Decimal(factory.random.randgen.randint(1, 200) * 1000))
    mrr = factory.LazyAttribute(lambda r: (r.arr / 12).quantize(Decimal("0.01")))
    start_date = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=200))
    attributes = factory.LazyFunction(dict)

    @factory.post_generation
    def partner_grants(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Its own partner's group, or its company's, gets its permissions (services do too)."""
        if create and (self.managed_by_id is not None or self.company.managed_by_id is not None):
            partner_grants_sync(records=[self])


class RelationshipPersonFactory(DjangoModelFactory[RelationshipPerson]):
    class Meta:
        model = RelationshipPerson

    relationship = factory.SubFactory(RelationshipFactory)
    company_person = factory.SubFactory(
        CompanyPersonFactory, company=factory.SelfAttribute("..relationship.company")
    )
    role = RelationshipPerson.Role.USER


class LayoutFactory(DjangoModelFactory[Layout]):
    class Meta:
        model = Layout

    name = factory.Sequence(lambda n: f"Layout {n}")
    target = Layout.Target.COMPANY
    priority = factory.Sequence(lambda n: n + 1)


class SectionFactory(DjangoModelFactory[Section]):
    class Meta:
        model = Section

    layout = factory.SubFactory(LayoutFactory)
    kind = "summary"
    title = factory.LazyAttribute(lambda s: s.kind.replace("_", " ").capitalize())
    order = factory.Sequence(lambda n: n)
    config = factory.LazyAttribute(
        lambda s: REGISTRY[s.kind].default_config(s.layout) if s.kind in REGISTRY else {}
    )


# ---------- the CSM's work (success app) ----------


class ActivityFactory(DjangoModelFactory[Activity]):
    class Meta:
        model = Activity

    company = factory.SubFactory(CompanyFactory)
    activity_type = factory.LazyFunction(lambda: ActivityType.objects.get(name="Call"))
    subject = factory.Faker("sentence", nb_words=5)
    notes = factory.Faker("paragraph")
    author = factory.SubFactory(UserFactory)
    duration_minutes = 30


class CTAFactory(DjangoModelFactory[CTA]):
    class Meta:
        model = CTA

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Follow up {n}")
    cta_type = factory.LazyFunction(lambda: CTAType.objects.get(name="Risk"))
    priority = factory.LazyFunction(lambda: CTAPriority.objects.get(name="Medium"))
    status = factory.LazyFunction(lambda: CTAStatus.objects.get(name="New"))
    is_closed = factory.LazyAttribute(lambda c: c.status.is_closed)
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=7))


class TaskFactory(DjangoModelFactory[Task]):
    class Meta:
        model = Task

    cta = factory.SubFactory(CTAFactory)
    title = factory.Faker("sentence", nb_words=4)
    owner = factory.SelfAttribute("cta.owner")
    due_date = factory.SelfAttribute("cta.due_date")


class ScorecardFactory(DjangoModelFactory[Scorecard]):
    class Meta:
        model = Scorecard

    name = factory.Sequence(lambda n: f"Scorecard {n}")


class MeasureFactory(DjangoModelFactory[Measure]):
    class Meta:
        model = Measure

    scorecard = factory.SubFactory(ScorecardFactory)
    name = factory.Sequence(lambda n: f"Measure {n}")
    weight = 1
    order = factory.Sequence(lambda n: n)


class SuccessPlanTypeFactory(DjangoModelFactory[SuccessPlanType]):
    class Meta:
        model = SuccessPlanType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Plan type {n}")


class SuccessPlanFactory(DjangoModelFactory[SuccessPlan]):
    class Meta:
        model = SuccessPlan

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Success plan {n}")
    plan_type = factory.SubFactory(SuccessPlanTypeFactory)
    status = SuccessPlan.Status.ACTIVE
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=60))


class UsageMetricFactory(DjangoModelFactory[UsageMetric]):
    class Meta:
        model = UsageMetric
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Metric {n}")
    unit = "users"


class UsageValueFactory(DjangoModelFactory[UsageValue]):
    class Meta:
        model = UsageValue

    company = factory.SubFactory(CompanyFactory)
    metric = factory.SubFactory(UsageMetricFactory)
    week = factory.Sequence(
        lambda n: dt.date(2026, 1, 5) + dt.timedelta(weeks=n)  # Mondays
    )
    value = factory.LazyFunction(lambda: Decimal(factory.random.randgen.randint(10, 500)))


class SurveyResponseFactory(DjangoModelFactory[SurveyResponse]):
    class Meta:
        model = SurveyResponse

    company = factory.SubFactory(CompanyFactory)
    person = factory.SubFactory(PersonFactory)
    score = factory.LazyFunction(lambda: factory.random.randgen.randint(0, 10))
    comment = factory.Faker("sentence")


class ActivityTypeFactory(DjangoModelFactory[ActivityType]):
    class Meta:
        model = ActivityType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Activity type {n}")
    order = factory.Sequence(lambda n: 100 + n)


class CTAReasonFactory(DjangoModelFactory[CTAReason]):
    class Meta:
        model = CTAReason

    cta_type = factory.LazyFunction(lambda: CTAType.objects.get(name="Risk"))
    name = factory.Sequence(lambda n: f"Reason {n}")
    order = factory.Sequence(lambda n: n)


class PlaybookFactory(DjangoModelFactory[Playbook]):
    class Meta:
        model = Playbook
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Playbook {n}")
    description = factory.Faker("sentence")


class PlaybookTaskFactory(DjangoModelFactory[PlaybookTask]):
    class Meta:
        model = PlaybookTask

    playbook = factory.SubFactory(PlaybookFactory)
    title = factory.Faker("sentence", nb_words=4)
    day_offset = factory.Sequence(lambda n: n % 30)
    order = factory.Sequence(lambda n: n)


class MeasureGroupFactory(DjangoModelFactory[MeasureGroup]):
    class Meta:
        model = MeasureGroup

    scorecard = factory.SubFactory(ScorecardFactory)
    name = factory.Sequence(lambda n: f"Group {n}")
    order = factory.Sequence(lambda n: n)


class ScoreFactory(DjangoModelFactory[Score]):
    class Meta:
        model = Score

    company = factory.SubFactory(CompanyFactory)
    measure = factory.SubFactory(MeasureFactory)
    value = factory.LazyFunction(lambda: factory.random.randgen.randint(0, 100))
    comment = factory.Faker("sentence")


class ScoreSnapshotFactory(DjangoModelFactory[ScoreSnapshot]):
    class Meta:
        model = ScoreSnapshot

    company = factory.SubFactory(CompanyFactory)
    day = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    overall = factory.LazyFunction(lambda: Decimal(factory.random.randgen.randint(0, 100)))


class TemplateObjectiveFactory(DjangoModelFactory[TemplateObjective]):
    class Meta:
        model = TemplateObjective

    plan_type = factory.SubFactory(SuccessPlanTypeFactory)
    name = factory.Sequence(lambda n: f"Objective {n}")
    day_offset = 30
    order = factory.Sequence(lambda n: n)


class TemplateTaskFactory(DjangoModelFactory[TemplateTask]):
    class Meta:
        model = TemplateTask

    objective = factory.SubFactory(TemplateObjectiveFactory)
    title = factory.Faker("sentence", nb_words=4)
    day_offset = 7
    order = factory.Sequence(lambda n: n)


# Sign-in throttling records (django-axes), which its admin lists.


class AccessAttemptFactory(DjangoModelFactory[AccessAttempt]):
    class Meta:
        model = AccessAttempt

    username = factory.Sequence(lambda n: f"user{n}")
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"
    http_accept = "text/html"
    path_info = "/accounts/login/"
    get_data = ""
    post_data = "username=user"
    failures_since_start = 1


class AccessFailureLogFactory(DjangoModelFactory[AccessFailureLog]):
    class Meta:
        model = AccessFailureLog

    username = factory.Sequence(lambda n: f"user{n}")
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"
    http_accept = "text/html"
    path_info = "/accounts/login/"


class AccessLogFactory(DjangoModelFactory[AccessLog]):
    class Meta:
        model = AccessLog

    username = factory.Sequence(lambda n: f"user{n}")
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"
    http_accept = "text/html"
    path_info = "/accounts/login/"
