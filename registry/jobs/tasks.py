"""The registry's own background tasks (`django.tasks`: the one way to run work later)."""

from django.tasks import task

from registry.jobs.daily import housekeeping_work
from registry.jobs.running import run_job


@task()
def housekeeping(job_id: str) -> dict:
    return run_job(job_id, housekeeping_work)
