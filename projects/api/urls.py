from django.urls import path
from rest_framework.routers import SimpleRouter

from projects.api.views import ProjectViewSet
from projects.results.api import PeriodActionView, ProjectResultsView, StandardIndicatorViewSet
from projects.risk.api import WarningViewSet
from projects.sites import api as sites_api

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("indicators", StandardIndicatorViewSet, basename="standardindicator")
router.register("warnings", WarningViewSet, basename="warning")
urlpatterns = [
    path("sites.geojson", sites_api.SitesGeoJSONView.as_view(), name="sites-geojson"),
    path(
        "projects/<str:code>/sites/",
        sites_api.ProjectSitesView.as_view(),
        name="project-sites",
    ),
    path(
        "projects/<str:code>/sites/<int:site_id>/",
        sites_api.ProjectSiteView.as_view(),
        name="project-site",
    ),
    path("projects/<str:code>/results/", ProjectResultsView.as_view(), name="project-results"),
    path(
        "projects/<str:code>/results/periods/<int:pk>/",
        PeriodActionView.as_view(),
        name="project-result-period",
    ),
    *router.urls,
]
