"""Stats and IATI endpoints; included under `api/v1/` by the project's URLconf."""

from django.urls import path

from projects.reporting import api

urlpatterns = [
    path("stats/summary/", api.SummaryView.as_view(), name="stats-summary"),
    path("stats/balance/", api.BalanceView.as_view(), name="stats-balance"),
    path("stats/flow/", api.FlowView.as_view(), name="stats-flow"),
    path("iati/activities.xml", api.IatiActivitiesView.as_view(), name="iati-activities"),
    path("iati/report/", api.IatiReportView.as_view(), name="iati-report"),
]
