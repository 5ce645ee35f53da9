"""Included by the root URLconf under `api/v1/jobs/`."""

from django.urls import path

from registry.jobs import views

urlpatterns = [
    path("<uuid:job_id>/", views.JobStatusView.as_view(), name="job-status"),
    path("<uuid:job_id>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path("<uuid:job_id>/file/", views.JobFileView.as_view(), name="job-file"),
]
