"""Daily jobs: enqueued once a day by the one scheduler, run once by whichever worker.

REGISTRY_DAILY_TASKS lists them as dotted paths to `django.tasks` tasks that take a job
id (each app names its own; this module imports none of them). `enqueue_due()` records a
`DailyRun` per task and day before enqueuing: the unique (name, day) constraint lets only
one of any number of concurrent schedulers enqueue the day's run, and `run_job` lets only
one worker run it.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from registry.jobs.models import DailyRun, Job
from registry.jobs.running import start_job


def daily_tasks() -> dict:
    return {path: import_string(path) for path in getattr(settings, "REGISTRY_DAILY_TASKS", [])}


def enqueue_due(today=None) -> list[str]:
    """Enqueue today's run of every daily job not yet enqueued today; the names enqueued."""
    today = today or timezone.localdate()
    enqueued = []
    for name, task in daily_tasks().items():
        if DailyRun.objects.filter(name=name, day=today).exists():
            continue
        try:
            with transaction.atomic():
                job = start_job(kind=name, task=task, label=f"{name} {today.isoformat()}")
                DailyRun.objects.create(name=name, day=today, job=job)
        except IntegrityError:
            # Another scheduler enqueued it a moment ago; its run is the day's run.
            continue
        enqueued.append(name)
    return enqueued


def housekeeping_work(job: Job, progress) -> dict:
    """The registry's own daily job: expired job files removed, jobs of vanished
    workers marked failed."""
    from registry.jobs.files import remove_expired_files
    from registry.jobs.running import mark_stale_jobs

    removed = remove_expired_files()
    stale = mark_stale_jobs()
    return {"summary": f"{removed} expired files removed, {stale} stale jobs marked failed"}
