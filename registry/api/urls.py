"""`/api/v1/…` (namespace "api"). With the root URLconf, the one module of the base that
names the domain apps: it composes their routes (import-linter allows these two only)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from partners.api import ContactViewSet, MeView, PartnerViewSet
from registry.api.views import (
    CountryGroupViewSet,
    CountryViewSet,
    SectorViewSet,
    api_root_view,
)

app_name = "api"

router = SimpleRouter()
router.register("partners", PartnerViewSet, basename="partner")
router.register("contacts", ContactViewSet, basename="contact")
router.register("countries", CountryViewSet, basename="country")
router.register("country-groups", CountryGroupViewSet, basename="countrygroup")
router.register("sectors", SectorViewSet, basename="sector")

# What the API root lists, in this order.
ROOT_RESOURCES = {
    "projects": "api:project-list",
    "partners": "api:partner-list",
    "contacts": "api:contact-list",
    "countries": "api:country-list",
    "country-groups": "api:countrygroup-list",
    "sectors": "api:sector-list",
    "me": "api:me",
}

urlpatterns = [
    path("", api_root_view(ROOT_RESOURCES), name="root"),
    path("me/", MeView.as_view(), name="me"),
    path("", include("projects.api.urls")),
    *router.urls,
]
