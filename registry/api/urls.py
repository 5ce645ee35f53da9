"""`/api/v1/…` (namespace "api")."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from partners.api import ContactViewSet, PartnerViewSet
from registry.api.views import (
    ApiRootView,
    CountryGroupViewSet,
    CountryViewSet,
    MeView,
    SectorViewSet,
)

app_name = "api"

router = SimpleRouter()
router.register("partners", PartnerViewSet, basename="partner")
router.register("contacts", ContactViewSet, basename="contact")
router.register("countries", CountryViewSet, basename="country")
router.register("country-groups", CountryGroupViewSet, basename="countrygroup")
router.register("sectors", SectorViewSet, basename="sector")

urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("me/", MeView.as_view(), name="me"),
    path("", include("projects.api.urls")),
    *router.urls,
]
