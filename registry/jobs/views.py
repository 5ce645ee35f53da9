"""Following a job: its admin page (a progress bar), its JSON status, cancel, its file.

Only the user who started a job sees it; anyone else gets 404, as for a job that does
not exist. The status and cancel endpoints are API views, so a token holder who started
an export through the API follows it the same way the admin page does (by session)."""

import mimetypes

from django.contrib import admin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.errors import error_responses
from registry.jobs import running
from registry.jobs.files import job_storage
from registry.jobs.models import Job


def own_job(user, job_id) -> Job:
    if not user.is_authenticated:
        raise Http404
    return running.refresh_stale(get_object_or_404(Job, pk=job_id, owner=user))


def job_status(job: Job) -> dict:
    """What a progress bar needs: rows done of total, seconds elapsed, an estimate of the
    seconds left, and how the job ended."""
    now = timezone.now()
    if job.status == Job.Status.RUNNING:
        found = running.live(job)
        done, total = found.get("done", 0), found.get("total", 0)
    else:
        done, total = job.rows_done, job.rows_total
    end = job.finished_at or now
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0.0
    estimate = None
    if job.status == Job.Status.RUNNING and done and total:
        estimate = round(elapsed * (total - done) / done, 1)
    file_ready = bool(job.file_name) and job.status == Job.Status.SUCCEEDED
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "label": job.label,
        "status": job.status,
        "status_display": job.get_status_display(),
        "done": done,
        "total": total,
        "elapsed": round(elapsed, 1),
        "estimate": estimate,
        "finished": job.status in Job.FINISHED,
        "error": job.error,
        "summary": job.result.get("summary", "") if isinstance(job.result, dict) else "",
        "file_url": reverse("job-file", args=[job.pk]) if file_ready else None,
        "file_expires_at": job.file_expires_at.isoformat() if file_ready else None,
        "cancel_url": reverse("job-cancel", args=[job.pk]),
    }


@extend_schema(
    tags=["jobs"],
    summary=gettext_lazy("A background job: status, rows done of total, elapsed, estimate"),
    responses={200: OpenApiTypes.OBJECT, **error_responses(404)},
)
class JobStatusView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, job_id):
        return Response(job_status(own_job(request.user, job_id)))


@extend_schema(
    tags=["jobs"],
    summary=gettext_lazy("Cancel a background job (nothing of it is written)"),
    request=None,
    responses={202: OpenApiTypes.OBJECT, **error_responses(404)},
)
class JobCancelView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request, job_id):
        job = own_job(request.user, job_id)
        if job.status not in Job.FINISHED:
            running.request_cancel(job)
            job.refresh_from_db()
        return Response(job_status(job), status=202)


@extend_schema(
    tags=["jobs"],
    summary=gettext_lazy("The file a job built (for the user who started it, for 24 hours)"),
    responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **error_responses(404)},
)
class JobFileView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, job_id):
        job = own_job(request.user, job_id)
        storage = job_storage()
        if (
            not job.file_name
            or job.file_expires_at is None
            or job.file_expires_at < timezone.now()
            or not storage.exists(job.file_name)
        ):
            raise Http404(_("This file is no longer kept; start the export again."))
        filename = job.result.get("download_name") or job.file_name
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return FileResponse(
            storage.open(job.file_name, "rb"),
            as_attachment=True,
            filename=filename,
            content_type=content_type,
        )


def job_page(request, job_id):
    job = own_job(request.user, job_id)
    context = {
        **admin.site.each_context(request),
        "title": job.label or job.kind,
        "job": job,
        "status": job_status(job),
        "status_url": reverse("job-status", args=[job.pk]),
    }
    return TemplateResponse(request, "jobs/job.html", context)


admin_job_page = admin.site.admin_view(job_page)
