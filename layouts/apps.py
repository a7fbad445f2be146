from django.apps import AppConfig


class LayoutsConfig(AppConfig):
    name = "layouts"
    verbose_name = "360 layouts"
