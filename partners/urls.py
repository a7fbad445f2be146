from __future__ import annotations

from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("view-as/<int:user_id>/", views.view_as_begin, name="view_as_start"),
    path("view-as/stop/", views.view_as_end, name="view_as_stop"),
    path("view-as/banner/", views.view_as_banner, name="view_as_banner"),
]
