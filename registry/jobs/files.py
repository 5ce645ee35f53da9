"""Files built by jobs (large exports, the IATI file): kept 24 hours, given only to the
user who asked.

They go to `STORAGES["jobs"]` when configured (a storage every web server can read: a
shared volume or an object store), else to REGISTRY_JOB_FILES_DIR on this machine, which
is enough when the web servers and workers share a disk.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone

from registry.jobs.models import Job


def job_storage():
    if "jobs" in settings.STORAGES:
        return storages["jobs"]
    return FileSystemStorage(location=Path(settings.REGISTRY_JOB_FILES_DIR))


def new_file_name(job: Job, extension: str) -> str:
    # Random, so a name seen in a log or a listing does not lead to the file.
    return f"{job.pk}-{secrets.token_urlsafe(12)}.{extension}"


def remove_expired_files() -> int:
    """Delete the files whose 24 hours are over (run daily); the job rows stay."""
    storage = job_storage()
    count = 0
    expired = Job.objects.exclude(file_name="").filter(file_expires_at__lt=timezone.now())
    for job in expired:
        if storage.exists(job.file_name):
            storage.delete(job.file_name)
        Job.objects.filter(pk=job.pk).update(file_name="")
        count += 1
    return count
