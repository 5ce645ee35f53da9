"""Starting, running and following jobs.

    job = start_job(kind=..., owner=user, task=some_task, label=..., payload=b"...")
    # in the task:
    @task()
    def some_task(job_id: str):
        return run_job(job_id, work)   # work(job, progress) -> dict (the job's result)

`progress(done, total)` records how far the work got and raises `JobCancelled` once the
user has asked to cancel: the work runs in its own transaction, so that exception rolls
everything back and the data stays as it was.

A worker killed mid-job (SIGKILL, a lost machine) leaves the job "running" with no one
behind it. A thread beats in the `jobs` cache while the work runs; a running job whose
heartbeat is older than REGISTRY_JOB_STALE_SECONDS is marked failed when next looked at
(`refresh_stale`). Its transaction died with the worker's connection, so nothing of it
was written.
"""

import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.jobs.models import Job


class JobCancelled(Exception):
    """Raised by `progress()` when the user asked to cancel; rolls the work back."""


class JobError(Exception):
    """Raised by the work to end the job as failed with a message for its user (and a
    result to show, e.g. an import's row errors)."""

    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.message = message
        self.result = result or {}


def _cache():
    return caches["jobs"]


def _key(job_id, part: str) -> str:
    return f"job:{job_id}:{part}"


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "REGISTRY_JOB_STALE_SECONDS", 120))


def start_job(*, kind: str, task, owner=None, label: str = "", payload: bytes = b"", params=None):
    """Record the job and enqueue its task. With the database backend the task's row is
    written in the same database and transaction as the job's, so a worker finds both or
    neither."""
    job = Job.objects.create(
        kind=kind, owner=owner, label=label[:300], payload=payload, params=params or {}
    )
    result = task.enqueue(str(job.pk))
    Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id))
    job.refresh_from_db()
    return job


def live(job: Job) -> dict:
    """Rows done and total and the last heartbeat, as the worker last wrote them."""
    return _cache().get(_key(job.pk, "progress")) or {}


def request_cancel(job: Job) -> None:
    """Ask the worker to stop. A job not started yet is cancelled at once; a running one
    stops at its next progress report and rolls back."""
    _cache().set(_key(job.pk, "cancel"), True, 7 * 24 * 3600)
    if job.status == Job.Status.QUEUED:
        # Not written while running: on SQLite this row's writer would wait for the
        # job's transaction to end.
        Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now()
        )


def cancel_requested(job_id) -> bool:
    return bool(_cache().get(_key(job_id, "cancel")))


def refresh_stale(job: Job) -> Job:
    """Mark a running job failed when its worker stopped beating."""
    if job.status != Job.Status.RUNNING:
        return job
    beat = live(job).get("beat")
    last = datetime.fromisoformat(beat) if beat else job.started_at
    if last and timezone.now() - last > stale_after():
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            error=_(
                "The worker running this job stopped before it finished; nothing of it "
                "was written. Start it again."
            ),
        )
        job.refresh_from_db()
    return job


def mark_stale_jobs() -> int:
    """Every running job whose worker stopped, marked failed (run daily and by /ready/)."""
    count = 0
    for job in Job.objects.filter(status=Job.Status.RUNNING):
        if refresh_stale(job).status == Job.Status.FAILED:
            count += 1
    return count


class Progress:
    """The callable handed to the work: `progress(done, total)`."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.done = 0
        self.total = 0

    def beat(self) -> None:
        _cache().set(
            _key(self.job_id, "progress"),
            {"done": self.done, "total": self.total, "beat": timezone.now().isoformat()},
            7 * 24 * 3600,
        )

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.beat()
        if cancel_requested(self.job_id):
            raise JobCancelled


def _heartbeat(progress: Progress, stop: threading.Event) -> None:
    # Several beats within the time after which a silent job counts as abandoned.
    interval = min(5.0, stale_after().total_seconds() / 4)
    while not stop.wait(interval):
        progress.beat()


def run_job(job_id: str, work: Callable[[Job, Progress], dict]) -> dict:
    """Run `work` for the job once: a job already started, finished or cancelled is left
    alone (a task delivered twice runs once)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now
    )
    if not claimed:
        return {"skipped": True}
    job = Job.objects.get(pk=job_id)
    progress = Progress(job.pk)
    progress.beat()
    stop = threading.Event()
    beating = threading.Thread(target=_heartbeat, args=(progress, stop), daemon=True)
    beating.start()
    status, error, result = Job.Status.SUCCEEDED, "", {}
    try:
        if cancel_requested(job.pk):
            raise JobCancelled
        result = work(job, progress) or {}
    except JobCancelled:
        status = Job.Status.CANCELLED
    except JobError as exc:
        status, error, result = Job.Status.FAILED, str(exc.message), exc.result
    except Exception as exc:
        status = Job.Status.FAILED
        error = f"{type(exc).__name__}: {exc}"
        result = {"traceback": traceback.format_exc()[-4000:]}
    finally:
        stop.set()
        beating.join()
    Job.objects.filter(pk=job.pk).update(
        status=status,
        error=error,
        result=result,
        payload=b"",
        rows_done=progress.done,
        rows_total=progress.total,
        cancel_requested=status == Job.Status.CANCELLED,
        finished_at=timezone.now(),
        file_name=result.get("file_name", "") if isinstance(result, dict) else "",
        file_expires_at=(
            timezone.now() + timedelta(hours=24)
            if isinstance(result, dict) and result.get("file_name")
            else None
        ),
    )
    if status == Job.Status.FAILED:
        # The task result says failed too, with the same error.
        raise JobFailed(error)
    return {"status": status}


class JobFailed(Exception):
    """The job's work raised; its error is on the job."""
