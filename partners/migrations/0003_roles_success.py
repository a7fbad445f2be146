from django.db import migrations


def sync_roles(apps, schema_editor):
    from partners.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_roles"),
        ("success", "0002_defaults"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
