"""The activities' author index carries the company and relationship: whether someone wrote
anything a partner may see (the timeline's author filter) is answered from the index and the
grant probes alone, without reading each activity's row (2.3k random row reads for partner-a's
~200 authors at the large scale). It replaces the (author, -occurred_at) index, its prefix.

As in 0009, the new index is analyzed alone on a SQLite database analyzed before, so the
planner has figures for it; a database never analyzed stays so.
"""

from django.conf import settings
from django.db import migrations, models

INDEX = "success_activity_author_cov"


def analyze(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        cursor.execute(f'ANALYZE "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0005_company_arr_index"),
        ("relationships", "0005_relationship_arr_index"),
        ("success", "0009_cta_open_covering_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["author", "-occurred_at", "company", "relationship"],
                name=INDEX,
            ),
        ),
        migrations.RemoveIndex(
            model_name="activity",
            name="success_act_author__bf8f58_idx",
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
