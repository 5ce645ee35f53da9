"""The pool's background work, as `django.tasks` tasks run by the workers.

Each task takes a job id (`registry.jobs`): the job row holds what the task needs (the
uploaded file, the export's query), and the task reports progress through it. The work
itself calls the same functions as the admin, the API and the commands.
"""

import csv
import io
import pickle
import tempfile

from django.conf import settings
from django.core.files import File
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from projects.importing.projects import import_projects
from projects.models import Project
from projects.reporting import exports, iati
from registry.importing.jobs import import_work
from registry.jobs.files import job_storage, new_file_name
from registry.jobs.running import JobError, run_job, start_job

PROGRESS_EVERY = 500


# --- Import ---------------------------------------------------------------------------------


def _run_project_import(table, *, actor, commit: bool, params: dict, progress):
    return import_projects(
        table,
        actor=actor,
        commit=commit,
        create_partners=params.get("create_partners", False),
        progress=progress,
    )


def _import_work(job, progress) -> dict:
    return import_work(job, progress, _run_project_import)


@task()
def import_file(job_id: str) -> dict:
    """A project import (commit or preview) of a spreadsheet kept in the job's payload."""
    return run_job(job_id, _import_work)


# --- Exports ----------------------------------------------------------------------------------


def export_payload(queryset) -> bytes:
    """The export's query, kept with the job. Django documents pickling `QuerySet.query`
    to rebuild a queryset elsewhere; a pickle is only read back by the same release."""
    return pickle.dumps(queryset.query)


def _counted(rows, total: int, progress):
    done = 0
    progress(0, total)
    for row in rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done, total)
    progress(done, total)


def _export_work(job, progress) -> dict:
    queryset = Project.objects.all()
    queryset.query = pickle.loads(bytes(job.payload))
    file_format = job.params["format"]
    total = queryset.count()
    with tempfile.TemporaryFile() as output, translation.override(job.params["language"]):
        rows = _counted(exports.project_rows(queryset), total, progress)
        if file_format == "xlsx":
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(title=_("projects"))
            sheet.append(exports.headers())
            for row in rows:
                sheet.append(row)
            workbook.save(output)
        else:
            text = io.TextIOWrapper(output, encoding="utf-8", newline="")
            writer = csv.writer(text)
            text.write(exports.BOM)
            writer.writerow(exports.headers())
            for row in rows:
                writer.writerow([exports.csv_cell(value) for value in row])
            text.flush()
            text.detach()
        output.seek(0)
        name = job_storage().save(new_file_name(job, file_format), File(output))
    download = f"projects-{timezone.localdate():%Y%m%d}.{file_format}"
    return {
        "summary": _("%(count)s projects exported.") % {"count": total},
        "file_name": name,
        "download_name": download,
    }


@task()
def export_projects(job_id: str) -> dict:
    """A CSV or XLSX export too large to build inside a request."""
    return run_job(job_id, _export_work)


def background_export(*, user, queryset, file_format: str, language: str):
    """A job building the export when it has more than REGISTRY_BACKGROUND_ROWS
    projects, else None (the caller answers with the file at once)."""
    if queryset[: settings.REGISTRY_BACKGROUND_ROWS + 1].count() <= (
        settings.REGISTRY_BACKGROUND_ROWS
    ):
        return None
    return start_job(
        kind=f"export_{file_format}",
        task=export_projects,
        owner=user,
        label=_("Export of projects (%(format)s)") % {"format": file_format.upper()},
        payload=export_payload(queryset),
        params={"format": file_format, "language": language},
    )


# --- IATI -------------------------------------------------------------------------------------


def _iati_work(job, progress) -> dict:
    with tempfile.TemporaryFile() as output:
        result = iati.write_activities(output)
        if not result.published:
            raise JobError(
                _("No project can be published (%(count)s left out).")
                % {"count": len(result.problems)}
            )
        output.seek(0)
        name = job_storage().save(new_file_name(job, "xml"), File(output))
    progress(len(result.published), len(result.published))
    return {
        "summary": _("%(published)s activities published, %(left_out)s left out.")
        % {"published": len(result.published), "left_out": len(result.problems)},
        "file_name": name,
        "download_name": "activities.xml",
    }


@task()
def iati_file(job_id: str) -> dict:
    """The IATI activity file, built by a worker."""
    return run_job(job_id, _iati_work)


# --- Daily ------------------------------------------------------------------------------------


def _overdue_work(job, progress) -> dict:
    today = timezone.localdate()
    overdue = list(
        Project.objects.review_overdue(today)
        .order_by("next_review_due", "code")
        .values_list("code", "next_review_due")
    )
    progress(len(overdue), len(overdue))
    return {
        "summary": _("%(count)s projects overdue for review as of %(day)s.")
        % {"count": len(overdue), "day": today.isoformat()},
        "projects": [{"code": code, "due": due.isoformat()} for code, due in overdue],
    }


@task()
def overdue_reviews(job_id: str) -> dict:
    """The daily list of projects whose periodic review is overdue."""
    return run_job(job_id, _overdue_work)
