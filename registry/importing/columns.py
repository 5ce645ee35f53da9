"""Import files' columns and the downloadable templates, for any kind of import.

Headers are bilingual (`项目编号 code`); a file may also use only the Chinese part or only
the code (`项目编号` or `code`), in any order. Columns left out of a file are left
unchanged on update; an empty cell in a column that is present clears the value.

Each kind of import describes itself with `Columns`: its columns, its example row and
the code lists of its coded columns (the base adds the countries).
"""

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.importing.formats import column_letter
from registry.models import Country


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    help: str

    @property
    def header(self) -> str:
        return f"{self.zh} {self.key}"


class Columns(tuple):
    """The columns of one kind of import (a tuple of `Column`), with `example(actor)`,
    the template's example row, and `codes()`, the (list, code, Chinese, English) rows
    of its coded columns."""

    def __new__(
        cls,
        columns: Iterable[Column],
        *,
        example: Callable[[object], dict[str, str]],
        codes: Callable[[], list[tuple]] = list,
    ):
        instance = super().__new__(cls, columns)
        instance.example = example
        instance.codes = codes
        return instance


# Columns people sometimes add that the import deliberately refuses, with the reason.
REFUSED_COLUMNS = {
    "status": gettext_lazy(
        "Status cannot be imported: imported projects start as drafts and change status "
        "only through the workflow."
    ),
    "状态": gettext_lazy(
        "Status cannot be imported: imported projects start as drafts and change status "
        "only through the workflow."
    ),
}


def _header_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def match_headers(headers: list[str], columns) -> tuple[dict[int, Column], list[tuple]]:
    """Map header positions to columns; return (mapping, [(index, header, message)])."""
    forms = {}
    for column in columns:
        for form in (
            column.key,
            column.zh,
            column.header,
            f"{column.zh}({column.key})",
            column.key.replace("_", " "),
        ):
            forms[_header_key(form)] = column
    refused = {_header_key(k): v for k, v in REFUSED_COLUMNS.items()}
    mapping: dict[int, Column] = {}
    errors = []
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header.strip():
            continue
        key = _header_key(header)
        # "状态 status" → either half decides.
        parts = [key, *(_header_key(p) for p in header.split())]
        column = next((forms[p] for p in parts if p in forms), None)
        if column is None:
            reason = next((refused[p] for p in parts if p in refused), None)
            errors.append(
                (
                    index,
                    header,
                    str(reason)
                    if reason
                    else _("Unknown column; use the headers of the template."),
                )
            )
            continue
        if column.key in seen:
            errors.append(
                (
                    index,
                    header,
                    _("This column appears twice (also column %(letter)s).")
                    % {"letter": column_letter(seen[column.key])},
                )
            )
            continue
        seen[column.key] = index
        mapping[index] = column
    if not mapping and not errors:
        errors.append((0, "", _("The first row holds no column headers.")))
    return mapping, errors


# --- Templates ---------------------------------------------------------------------------


def code_lists(columns: Columns) -> list[tuple[str, str, str, str]]:
    """(list, code, Chinese, English) rows: the allowed values of the coded columns."""
    rows = list(columns.codes())
    for iso2, iso3, name_zh, name_en in Country.objects.order_by("iso2").values_list(
        "iso2", "iso3", "name_zh", "name_en"
    ):
        rows.append((_("country"), f"{iso2} / {iso3}", name_zh, name_en))
    return rows


def template_csv(columns, actor) -> bytes:
    """UTF-8 with a BOM, which Excel needs to show Chinese correctly."""
    example = columns.example(actor)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    writer.writerow([example.get(c.key, "") for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def codes_csv(columns) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["列表 list", "代码 code", "中文 Chinese", "英文 English"])
    writer.writerows(code_lists(columns))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(columns, actor) -> bytes:
    """Sheet 1: headers and one example row (the sheet that is imported); sheet 2: what
    each column means; sheet 3: the allowed codes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    bold = Font(bold=True)
    sheet = workbook.active
    sheet.title = "导入 import"
    example = columns.example(actor)
    sheet.append([c.header for c in columns])
    sheet.append([example.get(c.key, "") for c in columns])
    for index, column in enumerate(columns):
        sheet.cell(row=1, column=index + 1).font = bold
        sheet.column_dimensions[column_letter(index)].width = max(14, len(column.header) + 6)
        # Text cells, so Excel does not turn codes or dates into numbers.
        sheet.cell(row=2, column=index + 1).number_format = "@"
    sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet("说明 help")
    help_sheet.append(["列 column", "说明 meaning"])
    for column in columns:
        help_sheet.append([column.header, str(column.help)])
    help_sheet.append([])
    help_sheet.append(
        [
            "",
            _(
                "Only the first sheet is imported. Imported projects start as drafts; "
                "status cannot be imported. Formulas are not calculated: paste values."
            ),
        ]
    )
    help_sheet.column_dimensions["A"].width = 24
    help_sheet.column_dimensions["B"].width = 100
    for cell in help_sheet[1]:
        cell.font = bold

    codes = workbook.create_sheet("代码 codes")
    codes.append(["列表 list", "代码 code", "中文 Chinese", "英文 English"])
    for row in code_lists(columns):
        codes.append([str(v) for v in row])
    for letter, width in zip("ABCD", (18, 26, 30, 40), strict=True):
        codes.column_dimensions[letter].width = width
    for cell in codes[1]:
        cell.font = bold

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
