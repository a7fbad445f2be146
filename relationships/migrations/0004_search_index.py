"""The trigram search index of relationships (see gainsight_lite.search_index)."""

from django.db import migrations

from gainsight_lite.search_index import search_index_install, search_index_uninstall

KEYS = ("relationship",)


def install(apps, schema_editor):
    search_index_install(keys=KEYS, using=schema_editor.connection.alias)


def uninstall(apps, schema_editor):
    search_index_uninstall(keys=KEYS, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("relationships", "0003_history")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
