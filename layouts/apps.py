from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class LayoutsConfig(AppConfig):
    name = "layouts"
    verbose_name = "360 layouts"

    def ready(self) -> None:
        from layouts.models import Layout, LayoutCondition, Section
        from layouts.selection import forget_candidates, touch_layout

        # layout_for keeps each page kind's layouts per process: any change forgets them.
        for model in (LayoutCondition, Section):
            post_save.connect(touch_layout, sender=model, dispatch_uid=f"touch-{model.__name__}")
            post_delete.connect(
                touch_layout, sender=model, dispatch_uid=f"touch-del-{model.__name__}"
            )
        post_save.connect(forget_candidates, sender=Layout, dispatch_uid="forget-layout")
        post_delete.connect(forget_candidates, sender=Layout, dispatch_uid="forget-del-layout")
