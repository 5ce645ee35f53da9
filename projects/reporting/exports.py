"""The project list as CSV and XLSX, in constant memory.

Both formats have the same columns and the same rows (`project_rows`), made from the
rows the list pages read (`projects.selectors.export_rows`): a chunk of projects at a
time, each chunk one statement with its countries and sectors (one more query per list
on SQLite), so memory stays flat however many projects are exported. The admin
(projects.admin.exports) and the API call the two response functions below; they check
nothing themselves: callers pass a queryset already limited to what the user may see.
"""

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from projects.models import Kind, RiskLevel, Status
from projects.selectors import export_rows, list_key
from registry.language import pick_name

CHUNK_SIZE = 500
BOM = "\ufeff"
# A cell starting with one of these is run as a formula by spreadsheet programs
# (CSV injection): such text gets a leading apostrophe, the usual way to quote it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def headers() -> list[str]:
    return [
        _("code"),
        _("title (Chinese)"),
        _("title (English)"),
        _("kind"),
        _("status"),
        _("lead unit"),
        _("countries (share %)"),
        _("sectors (share %)"),
        _("estimated value"),
        _("currency"),
        _("planned start"),
        _("planned end"),
        _("actual start"),
        _("actual end"),
        _("risk level"),
        _("next review due"),
    ]


def _text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _with_share(name: str, share: Decimal | None) -> str:
    return f"{name} ({share.normalize():f}%)" if share is not None else name


def project_rows(queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list]:
    """One list per project (by code): text as str, money as Decimal, dates as date (or
    None). Call inside `translation.override(language)` for the labels and names."""
    # Labels translated once per export, not once per row (get_FOO_display re-translates
    # every choice on each call).
    kinds = {value: str(label) for value, label in Kind.choices}
    statuses = {value: str(label) for value, label in Status.choices}
    risks = {value: str(label) for value, label in RiskLevel.choices}
    countries, sectors = list_key("countries"), list_key("sectors")
    for row in export_rows(queryset, chunk_size=chunk_size):
        yield [
            row["code"],
            _text(row["title_zh"]),
            _text(row["title_en"]),
            kinds.get(row["kind"], row["kind"]),
            statuses.get(row["status"], row["status"]),
            _text(pick_name(row["lead_unit__name_zh"], row["lead_unit__name_en"])),
            _text(
                "; ".join(
                    _with_share(
                        f"{link['country_id']} "
                        f"{pick_name(link['country__name_zh'], link['country__name_en'])}",
                        link["share"],
                    )
                    for link in row[countries]
                )
            ),
            _text(
                "; ".join(
                    _with_share(
                        f"{link['sector__code']} "
                        f"{pick_name(link['sector__name_zh'], link['sector__name_en'])}",
                        link["share"],
                    )
                    for link in row[sectors]
                )
            ),
            row["estimated_value"],
            row["currency"],
            row["planned_start"],
            row["planned_end"],
            row["actual_start"],
            row["actual_end"],
            risks.get(row["risk_level"], row["risk_level"]),
            row["next_review_due"],
        ]


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_chunks(queryset: QuerySet, language: str, chunk_size: int) -> Iterator[bytes]:
    writer = csv.writer(_Echo())
    with translation.override(language):
        # Excel detects UTF-8 only from the byte-order mark; without it Chinese is garbled.
        yield (BOM + writer.writerow(headers())).encode("utf-8")
        buffer = io.StringIO()
        buffered = 0
        for row in project_rows(queryset, chunk_size=chunk_size):
            buffer.write(writer.writerow([csv_cell(value) for value in row]))
            buffered += 1
            if buffered == chunk_size:
                yield buffer.getvalue().encode("utf-8")
                buffer = io.StringIO()
                buffered = 0
        if buffered:
            yield buffer.getvalue().encode("utf-8")


def _filename(extension: str) -> str:
    return f"projects-{timezone.localdate():%Y%m%d}.{extension}"


def stream_projects_csv(
    queryset: QuerySet, *, language: str, chunk_size: int = CHUNK_SIZE
) -> StreamingHttpResponse:
    """CSV (UTF-8 with BOM, CRLF lines), streamed one chunk of projects at a time."""
    response = StreamingHttpResponse(
        _csv_chunks(queryset, language, chunk_size), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def write_projects_xlsx(
    queryset: QuerySet, output, *, language: str, chunk_size: int = CHUNK_SIZE
) -> None:
    """Write the workbook to a binary file object. The write-only workbook keeps its
    rows in a temporary file, not in memory."""
    workbook = Workbook(write_only=True)
    with translation.override(language):
        sheet = workbook.create_sheet(title=_("projects"))
        sheet.append(headers())
        for row in project_rows(queryset, chunk_size=chunk_size):
            sheet.append(row)
    workbook.save(output)


def projects_xlsx_response(
    queryset: QuerySet, *, language: str, chunk_size: int = CHUNK_SIZE
) -> FileResponse:
    """XLSX built in a temporary file (deleted when the response closes it), then
    streamed from disk."""
    # Not a `with` block: FileResponse closes (and so deletes) the file once it is sent.
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        write_projects_xlsx(queryset, output, language=language, chunk_size=chunk_size)
        output.seek(0)
    except BaseException:
        output.close()
        raise
    return FileResponse(
        output,
        as_attachment=True,
        filename=_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
