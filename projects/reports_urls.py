"""Stats and IATI endpoints; included under `api/v1/` by the project's URLconf."""

from django.urls import path

from projects import reports_api

urlpatterns = [
    path("stats/summary/", reports_api.SummaryView.as_view(), name="stats-summary"),
    path("stats/balance/", reports_api.BalanceView.as_view(), name="stats-balance"),
    path("stats/flow/", reports_api.FlowView.as_view(), name="stats-flow"),
    path("iati/activities.xml", reports_api.IatiActivitiesView.as_view(), name="iati-activities"),
    path("iati/report/", reports_api.IatiReportView.as_view(), name="iati-report"),
]
