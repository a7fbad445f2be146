"""The book's running counts, kept by triggers (see gainsight_lite.row_counts)."""

from django.db import migrations, models

from gainsight_lite.row_counts import row_counts_restore, row_counts_triggers_drop


def install(apps, schema_editor):
    row_counts_restore(using=schema_editor.connection.alias)


def uninstall(apps, schema_editor):
    row_counts_triggers_drop(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    initial = True

    # The counted tables (and their latest shape) exist first.
    dependencies = [
        ("companies", "0005_company_arr_index"),
        ("relationships", "0005_relationship_arr_index"),
        ("partners", "0007_history"),
        ("success", "0011_cta_partner"),
    ]

    operations = [
        migrations.CreateModel(
            name="RowCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=32)),
                ("owner", models.BigIntegerField(default=0)),
                ("detail", models.BigIntegerField(default=0)),
                ("shard", models.SmallIntegerField(default=0)),
                ("total", models.BigIntegerField(default=0)),
                ("arr_cents", models.BigIntegerField(default=0)),
                ("at_risk", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "owner", "detail", "shard"),
                        name="row_count_one_per_shard",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
