from __future__ import annotations

from django.urls import path

from relationships import views

app_name = "relationships"

urlpatterns = [
    path("<int:pk>/", views.relationship_detail, name="detail"),
]
