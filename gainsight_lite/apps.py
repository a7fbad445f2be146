from django.apps import AppConfig


class GainsightLiteConfig(AppConfig):
    """The project itself: home, health check, demo data and project-wide commands."""

    name = "gainsight_lite"
    verbose_name = "Gainsight Lite"
