"""Background work of the risk early warning (Django's own tasks framework)."""

from django.tasks import task

from projects.risk.warnings import compute_warnings


@task()
def compute_warnings_task(project_ids: list[int] | None = None, kinds: list[str] | None = None):
    """The daily job (no arguments), or one event's recomputation (a few projects or one
    kind of warning). Returns the counts per kind."""
    return compute_warnings(project_ids=project_ids, kinds=kinds)
