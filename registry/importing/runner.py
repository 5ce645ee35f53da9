"""All or nothing, in batches: the one code path for the dry run and the commit.

Every row runs inside one transaction. The dry run (and any run that met an error) then
rolls the transaction back, so the preview shows exactly what the commit would do: same
functions, same checks, same generated codes, only the last step differs.
"""

from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import connection, transaction

from registry.importing.report import ImportReport

DEFAULT_BATCH_SIZE = 500

Progress = Callable[[int, int], None]


class _Rollback(Exception):
    pass


def batch_size() -> int:
    return getattr(settings, "REGISTRY_IMPORT_BATCH_SIZE", DEFAULT_BATCH_SIZE)


def run_all_or_nothing(
    rows: Sequence,
    handle_batch: Callable[[Sequence], None],
    report: ImportReport,
    *,
    commit: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Feed `rows` to `handle_batch` in batches inside one transaction; keep the writes
    only when `commit` is asked and no row produced an error."""
    size = batch_size()
    if not commit and connection.vendor == "sqlite":
        return _preview_batch_by_batch(rows, handle_batch, report, size, progress)
    try:
        with transaction.atomic():
            for start in range(0, len(rows), size):
                batch = rows[start : start + size]
                handle_batch(batch)
                report.rows_processed += len(batch)
                if progress:
                    progress(report.rows_processed, report.total_rows)
            if report.errors or not commit:
                raise _Rollback
            report.committed = True
    except _Rollback:
        pass
    return report


def _preview_batch_by_batch(rows, handle_batch, report, size, progress) -> ImportReport:
    """SQLite has one writer at a time: a preview run in one transaction would hold the
    write lock for all of it (25 s for 12,000 rows) and every other writer would fail.
    Each batch is run and rolled back in a transaction of its own instead, so others
    write between batches (they wait at most one batch). Batches of one file are
    independent rows, checked against the committed data as the commit will be."""
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        try:
            with transaction.atomic():
                handle_batch(batch)
                raise _Rollback
        except _Rollback:
            pass
        report.rows_processed += len(batch)
        if progress:
            progress(report.rows_processed, report.total_rows)
    return report
