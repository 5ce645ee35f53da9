from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from projects.dashboard import admin_dashboard_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before admin/, or the admin's catch-all would answer it.
    path("admin/dashboard/", admin_dashboard_view, name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("registry.api.urls", namespace="api")),
    path("api/v1/", include("projects.reports_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
