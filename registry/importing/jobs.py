"""An import run by a background worker (`registry.jobs`): the generic part.

Each app's task reads the job's payload with `import_work`, handing it the function that
imports a table (`projects.importing.projects.import_projects`,
`partners.importing.import_partners`), so a worker obeys the same rules as the admin's
synchronous path and the commands.
"""

from collections.abc import Callable

from django.utils.translation import gettext as _

from registry.importing.formats import ImportFileError, read_table
from registry.jobs.running import JobError

# The errors a job keeps for its page; the counts are always complete.
ERRORS_KEPT = 500


def import_summary(report) -> str:
    if report.committed:
        return _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
    return report.as_text().splitlines()[0]


def import_work(job, progress, run_import: Callable) -> dict:
    """Read the job's file and run `run_import(table, actor=, commit=, params=, progress=)`.
    A file with errors fails the job with them (nothing is written: imports are atomic)."""
    params = job.params
    try:
        table = read_table(bytes(job.payload), params["filename"], params["encoding"])
    except ImportFileError as error:
        raise JobError(error.message) from None
    report = run_import(
        table,
        actor=job.owner,
        commit=params.get("commit", True),
        params=params,
        progress=progress,
    )
    result = {
        "summary": import_summary(report),
        "committed": report.committed,
        "total_rows": report.total_rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "error_rows": report.error_rows,
        "errors": [str(error) for error in report.errors[:ERRORS_KEPT]],
    }
    if report.errors:
        raise JobError(
            _("%(count)s errors; nothing was written.") % {"count": len(report.errors)}
            + "\n"
            + "\n".join(result["errors"][:50]),
            result,
        )
    return result
