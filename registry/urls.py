from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerSplitView

from partners.portal.urls import urlpatterns as portal_account_urls
from projects.notifications.views import notifications_view
from projects.portal.urls import urlpatterns as portal_project_urls
from projects.reporting.dashboard import admin_dashboard_view
from registry.api.fallback import api_not_found, server_error
from registry.api.schema import SchemaView
from registry.health import health, ready
from registry.jobs.views import admin_job_page
from registry.views import set_language

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Before Django's own: also remembers a signed-in user's choice (registry.views).
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health, name="health"),
    path("ready/", ready, name="ready"),
    # Before admin/, or the admin's catch-all would answer it.
    path("admin/dashboard/", admin_dashboard_view, name="admin-dashboard"),
    path("admin/notifications/", notifications_view, name="admin-notifications"),
    path("admin/jobs/<uuid:job_id>/", admin_job_page, name="job-page"),
    path("admin/", admin.site.urls),
    # The partner portal: project pages (projects/portal) and account pages (login,
    # password reset, tokens, webhooks: partners/portal) under one namespace.
    path("portal/", include((portal_project_urls + portal_account_urls, "portal"))),
    path("api/v1/", include("registry.api.urls", namespace="api")),
    path("api/v1/", include("projects.reporting.urls")),
    path("api/v1/jobs/", include("registry.jobs.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other address under /api/ is a JSON 404, never an HTML page.
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found"),
]

handler500 = server_error
