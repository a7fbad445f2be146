"""A CTA's `partner`: whose users see it (its company's partner, when its relationship, if
any, has no other partner of its own), filled in for the CTAs there are; the partner's
open-CTA indexes the Cockpit reads; the overdue badge's covering index tests the partner
instead of the company and relationship grants.

The rule is partners.services.work_partner's, written here as it stands today (migrations
do not import the code that changes after them). The index the grants-side count read
(success_cta_open_company_cov) goes. On a SQLite database analyzed before, the CTAs are
analyzed again (see 0009; two seconds for the large book's 500,000): the new column's foreign
key index too, which SQLite's planner, with no figures for it, took over the covering ones.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Case, OuterRef, Subquery, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact


def fill(apps, schema_editor):
    CTA = apps.get_model("success", "CTA")
    Company = apps.get_model("companies", "Company")
    Relationship = apps.get_model("relationships", "Relationship")
    company = Subquery(
        Company.objects.filter(pk=OuterRef("company_id")).values("managed_by_id")[:1]
    )
    own = Subquery(
        Relationship.objects.filter(pk=OuterRef("relationship_id")).values("managed_by_id")[:1]
    )
    CTA.objects.using(schema_editor.connection.alias).filter(
        company__managed_by__isnull=False
    ).update(
        partner=Case(
            When(relationship__isnull=True, then=company),
            When(Exact(Coalesce(own, company), company), then=company),
            default=None,
            output_field=models.IntegerField(),
        )
    )


def analyze(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        cursor.execute('ANALYZE "success_cta"')


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0005_company_arr_index"),
        ("partners", "0007_history"),
        ("relationships", "0005_relationship_arr_index"),
        ("success", "0010_activity_author_covering_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="cta",
            name="success_cta_overdue_cover",
        ),
        migrations.RemoveIndex(
            model_name="cta",
            name="success_cta_open_company_cov",
        ),
        migrations.AddField(
            model_name="cta",
            name="partner",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="partners.partner",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="cta",
            index=models.Index(
                condition=models.Q(("is_closed", False)),
                fields=[
                    "owner",
                    "due_date",
                    "snoozed_until",
                    "partner",
                    "relationship",
                    "is_closed",
                ],
                name="success_cta_overdue_cover",
            ),
        ),
        migrations.AddIndex(
            model_name="cta",
            index=models.Index(
                condition=models.Q(("is_closed", False)),
                fields=["partner", "due_date", "priority", "id"],
                name="success_cta_partner_open_due",
            ),
        ),
        migrations.AddIndex(
            model_name="cta",
            index=models.Index(
                condition=models.Q(("is_closed", False)),
                fields=[
                    "partner",
                    "due_date",
                    "priority",
                    "snoozed_until",
                    "relationship",
                    "is_closed",
                ],
                name="success_cta_partner_open_cov",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
