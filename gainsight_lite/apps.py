from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GainsightLiteConfig(AppConfig):
    """The project itself: home, health check, demo data and project-wide commands."""

    name = "gainsight_lite"
    verbose_name = "Gainsight Lite"

    def ready(self) -> None:
        from django.apps import apps

        from gainsight_lite.search_index import restore_after_migrate

        # Once per migrate (post_migrate is sent for each app with models: relationships is
        # one of the two whose tables the search index reads).
        post_migrate.connect(
            restore_after_migrate,
            sender=apps.get_app_config("relationships"),
            dispatch_uid="search_index_restore",
        )
