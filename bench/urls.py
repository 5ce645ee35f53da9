from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench.baseline import ProjectViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="bench-baseline-project")

urlpatterns = [
    path("bench/baseline/", include(router.urls)),
    path("", include("registry.urls")),
]
