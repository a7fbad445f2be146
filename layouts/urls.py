from django.urls import path

from layouts import views

app_name = "layouts"

urlpatterns = [
    path("companies/<int:pk>/", views.company_page, name="company"),
    path(
        "companies/<int:pk>/sections/<int:section_id>/",
        views.company_section,
        name="company_section",
    ),
    path(
        "companies/<int:pk>/sections/<int:section_id>/<slug:action>/",
        views.company_section_action,
        name="company_section_action",
    ),
    path("relationships/<int:pk>/", views.relationship_page, name="relationship"),
    path(
        "relationships/<int:pk>/sections/<int:section_id>/",
        views.relationship_section,
        name="relationship_section",
    ),
    path(
        "relationships/<int:pk>/sections/<int:section_id>/<slug:action>/",
        views.relationship_section_action,
        name="relationship_section_action",
    ),
]
