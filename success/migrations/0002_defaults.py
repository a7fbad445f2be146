from django.db import migrations


def create_defaults(apps, schema_editor):
    from success.defaults import defaults_create

    defaults_create(apps)


class Migration(migrations.Migration):
    dependencies = [("success", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
