from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gainsight_lite import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("companies/", include("companies.urls")),
    path("search/", views.search_view, name="search"),
    # The C360 and R360 pages and their sections.
    path("", include("layouts.urls")),
    # Timeline, Cockpit, Success Plans.
    path("", include("success.urls")),
    # Viewing the application as a partner user (admins).
    path("partners/", include("partners.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/auth", views.healthz_auth, name="healthz_auth"),
    # CSV downloads of the lists (exports/) and the admin's import page (admin/import/).
    path("", include("gainsight_lite.csvio.views")),
    path("admin/", admin.site.urls),
]
