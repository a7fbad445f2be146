from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GainsightLiteConfig(AppConfig):
    """The project itself: home, health check, demo data and project-wide commands."""

    name = "gainsight_lite"
    verbose_name = "Gainsight Lite"

    def ready(self) -> None:
        from django.apps import apps

        from gainsight_lite import row_counts
        from gainsight_lite.search_index import restore_after_migrate

        # Once per migrate (post_migrate is sent for each app with models: relationships is
        # one of the two whose tables the search index reads).
        post_migrate.connect(
            restore_after_migrate,
            sender=apps.get_app_config("relationships"),
            dispatch_uid="search_index_restore",
        )
        # Once per migrate (and per flush, which empties the tables): the counts' triggers
        # put back where a table rebuild dropped them, and every count recounted.
        post_migrate.connect(
            row_counts.restore_after_migrate,
            sender=self,
            dispatch_uid="row_counts_restore",
        )
