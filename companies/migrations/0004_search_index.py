"""The trigram search index of companies and people (see gainsight_lite.search_index)."""

from django.db import migrations, models

from gainsight_lite.search_index import search_index_install, search_index_uninstall

KEYS = ("company", "person")


def install(apps, schema_editor):
    search_index_install(keys=KEYS, using=schema_editor.connection.alias)


def uninstall(apps, schema_editor):
    search_index_uninstall(keys=KEYS, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("companies", "0003_history")]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                fields=["last_name", "first_name"], name="companies_person_name_idx"
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
