from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from projects.dashboard import admin_dashboard_view
from registry.api.fallback import api_not_found, server_error
from registry.api.schema import SchemaView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before admin/, or the admin's catch-all would answer it.
    path("admin/dashboard/", admin_dashboard_view, name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("registry.api.urls", namespace="api")),
    path("api/v1/", include("projects.reports_urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other address under /api/ is a JSON 404, never an HTML page.
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found"),
]

handler500 = server_error
