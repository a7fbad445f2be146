from django.db import migrations


def create_default_bundle(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from partners.models import DEFAULT_BUNDLE, default_bundle_permission_rows

    # Permissions are created after all migrations unless asked for: ask, as 0002_roles does.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    bundle, created = Group.objects.get_or_create(name=DEFAULT_BUNDLE)
    if created:
        # Admins may change the bundle later: only a new one gets the starting permissions.
        bundle.permissions.set(default_bundle_permission_rows(Permission))


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0003_roles_success"),
        ("companies", "0002_company_health_score"),
        ("relationships", "0002_relationship_health_score"),
        ("success", "0002_defaults"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_default_bundle, migrations.RunPython.noop)]
