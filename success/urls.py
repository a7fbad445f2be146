from django.urls import URLPattern

from success.views import cockpit, plans, timeline

app_name = "success"

urlpatterns: list[URLPattern] = [
    *timeline.urlpatterns,
    *cockpit.urlpatterns,
    *plans.urlpatterns,
]
