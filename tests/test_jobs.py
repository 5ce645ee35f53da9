"""Background jobs: status for their owner only, cancel, files kept 24 hours for the
requester only, failures shown with their error, stale workers, daily jobs once a day."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from projects.models import Project
from projects.tasks import iati_file, import_file
from registry.jobs import running
from registry.jobs.daily import enqueue_due
from registry.jobs.models import DailyRun, Job
from tests import factories

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def job_files(settings, tmp_path):
    settings.REGISTRY_JOB_FILES_DIR = str(tmp_path / "jobs")
    return tmp_path / "jobs"


@pytest.fixture
def pool(lead_unit):
    return [
        factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", 100)]) for _ in range(3)
    ]


def test_large_export_is_built_in_the_background_for_its_requester_only(
    api_client, manager, reviewer, pool, job_files, settings
):
    settings.REGISTRY_BACKGROUND_ROWS = 2
    client = api_client(manager)
    response = client.get("/api/v1/projects/export/?format=csv")
    assert response.status_code == 202
    status = response.json()
    assert response["Location"] == reverse("job-status", args=[status["id"]])
    job = Job.objects.get(pk=status["id"])
    assert job.owner == manager and job.status == Job.Status.SUCCEEDED
    assert (job.rows_done, job.rows_total) == (3, 3)
    assert job.file_expires_at - timezone.now() > timedelta(hours=23)

    followed = client.get(reverse("job-status", args=[job.pk])).json()
    assert followed["status"] == "succeeded" and followed["done"] == followed["total"] == 3
    assert followed["finished"] and followed["file_url"] == reverse("job-file", args=[job.pk])
    download = client.get(followed["file_url"])
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert all(project.code in text for project in pool)

    # Someone else: neither the job nor its file exist for them.
    other = api_client(reviewer)
    assert other.get(reverse("job-status", args=[job.pk])).status_code == 404
    assert other.get(followed["file_url"]).status_code == 404
    assert other.post(reverse("job-cancel", args=[job.pk])).status_code == 404

    # After 24 hours the file is gone, for its owner too.
    Job.objects.filter(pk=job.pk).update(file_expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(followed["file_url"]).status_code == 404
    call_command("scheduler", "--once", stdout=io.StringIO())
    assert not any(job_files.iterdir())


def test_small_export_answers_at_once(api_client, manager, pool, settings):
    settings.REGISTRY_BACKGROUND_ROWS = 3
    response = api_client(manager).get("/api/v1/projects/export/?format=csv")
    assert response.status_code == 200 and not Job.objects.exists()


def test_failed_job_is_shown_with_its_error(client, manager, job_files):
    """No project is publishable: the IATI job fails and says why, on its page."""
    client.force_login(manager)
    job = running.start_job(kind="iati", task=iati_file, owner=manager)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "No project can be published" in job.error
    page = client.get(reverse("job-page", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert job.error.encode() in page.content and b"jobs/progress.js" in page.content
    listing = client.get(reverse("admin:jobs_job_changelist"))
    assert listing.status_code == 200 and str(job.pk).encode() in listing.content


# The worker closes its connection between tasks, as in production: committed data.
@pytest.mark.django_db(transaction=True)
def test_cancelling_a_queued_job_means_it_never_runs(api_client, officer, lead_unit, settings):
    settings.TASKS = DATABASE_TASKS
    job = running.start_job(
        kind="import_projects",
        task=import_file,
        owner=officer,
        payload="title_zh,lead_unit\n新项目,广西国际博览事务局\n".encode(),
        params={"target": "projects", "filename": "p.csv", "encoding": "auto"},
    )
    assert job.status == Job.Status.QUEUED and job.task_result_id
    answer = api_client(officer).post(reverse("job-cancel", args=[job.pk]))
    assert answer.status_code == 202 and answer.json()["status"] == "cancelled"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and Project.objects.count() == 0


def test_a_job_whose_worker_stopped_is_marked_failed(api_client, officer, settings):
    settings.REGISTRY_JOB_STALE_SECONDS = 60
    job = Job.objects.create(
        kind="import_projects",
        owner=officer,
        status=Job.Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    status = api_client(officer).get(reverse("job-status", args=[job.pk])).json()
    assert status["status"] == "failed" and status["error"]
    fresh = Job.objects.create(
        kind="import_projects", owner=officer, status="running", started_at=timezone.now()
    )
    assert api_client(officer).get(reverse("job-status", args=[fresh.pk])).json()["status"] == (
        "running"
    )


@pytest.mark.django_db(transaction=True)
def test_daily_jobs_are_enqueued_once_a_day(settings):
    settings.TASKS = DATABASE_TASKS
    today = timezone.localdate()
    first = enqueue_due(today)
    assert first == settings.REGISTRY_DAILY_TASKS
    # A second scheduler, or the same one a minute later: nothing more that day.
    assert enqueue_due(today) == []
    assert DailyRun.objects.filter(day=today).count() == len(first)
    assert Job.objects.count() == len(first)
    # The next day, again once.
    assert enqueue_due(today + timedelta(days=1)) == first
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"}
