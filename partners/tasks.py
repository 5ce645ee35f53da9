"""The partner import as background work (`registry.jobs`)."""

from django.tasks import task

from partners.importing import import_partners
from registry.importing.jobs import import_work
from registry.jobs.running import run_job


def _run_partner_import(table, *, actor, commit: bool, params: dict, progress):
    return import_partners(table, actor=actor, commit=commit, progress=progress)


def _import_partners_work(job, progress) -> dict:
    return import_work(job, progress, _run_partner_import)


@task()
def import_partners_file(job_id: str) -> dict:
    """A partner import (commit or preview) of a spreadsheet kept in the job's payload."""
    return run_job(job_id, _import_partners_work)
