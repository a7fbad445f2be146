"""The open-CTA covering indexes of 0008 with is_closed last, so SQLite knows they cover
(the partial index's condition alone does not tell it: it read each CTA's table row); and
statistics for the open-CTA indexes on a SQLite database analyzed before.

A large book is analyzed once seeded (`ANALYZE`); an index added since has no row in
`sqlite_stat1`, and SQLite's planner, comparing it with indexes it has figures for, passes it
over (a partner's Cockpit counted its CTAs through the plain company index, a table row each,
instead of the covering one). Each new index is analyzed alone (its own entries, under a second
for the large book). A database never analyzed stays so; PostgreSQL's autovacuum analyzes.
"""

from django.db import migrations, models

INDEXES = (
    "success_cta_open_due_priority",
    "success_cta_open_due_cov",
    "success_cta_open_snoozed",
    "success_cta_open_company_cov",
)


def analyze(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        for index in INDEXES:
            cursor.execute(f'ANALYZE "{index}"')


class Migration(migrations.Migration):
    dependencies = [
        ("success", "0008_cta_open_cockpit_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="cta",
            name="success_cta_open_due_cover",
        ),
        migrations.RemoveIndex(
            model_name="cta",
            name="success_cta_open_company_cover",
        ),
        migrations.AddIndex(
            model_name="cta",
            index=models.Index(
                condition=models.Q(("is_closed", False)),
                fields=["due_date", "priority", "snoozed_until", "is_closed"],
                name="success_cta_open_due_cov",
            ),
        ),
        migrations.AddIndex(
            model_name="cta",
            index=models.Index(
                condition=models.Q(("is_closed", False)),
                fields=[
                    "company",
                    "relationship",
                    "due_date",
                    "priority",
                    "snoozed_until",
                    "is_closed",
                ],
                name="success_cta_open_company_cov",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
