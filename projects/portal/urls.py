"""Project routes of the portal (included by the root URLconf under /portal/, namespace
`portal`, together with `partners.portal.urls`)."""

from django.urls import path

from projects.portal import views

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("projects/<str:code>/", views.project_detail, name="project"),
    path(
        "projects/<str:code>/periods/<int:pk>/report/",
        views.period_report,
        name="period-report",
    ),
]
