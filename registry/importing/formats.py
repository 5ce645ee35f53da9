"""Reading spreadsheets: XLSX and CSV (UTF-8 with or without BOM, GB18030/GBK).

Every file becomes a `Table`: the header row and the data rows as strings, each row
numbered as the user sees it in the spreadsheet (the header is row 1). Problems with the
whole file (size, format, encoding) raise `ImportFileError`; problems with one cell (a
formula without a stored value, an Excel error value) are attached to the row so they
are reported like any other cell error.

Formulas are never evaluated and macros never run: XLSX is read with openpyxl in
read-only, values-only mode, and macro-enabled workbooks are refused.
"""

import codecs
import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 20_000
# An .xlsx is a zip archive: 600 KB can unpack to 600 MB. Before anything parses it, the
# sizes its members declare (zipfile never reads past them) must stay under this total,
# and each worksheet's declared dimension under the row limit and DEFAULT_MAX_COLUMNS.
DEFAULT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_COLUMNS = 100

AUTO = "auto"
ENCODINGS = {
    AUTO: AUTO,
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "gb18030": "gb18030",
    # GBK and GB2312 are subsets of GB18030: decoding with the superset is always right.
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
}

_XLSX_MAGIC = b"PK\x03\x04"
# A formula element in sheet XML, with or without a namespace prefix: <f>, <x:f t="shared"/>.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?f[\s>/]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def max_bytes() -> int:
    return getattr(settings, "REGISTRY_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "REGISTRY_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def max_unpacked_bytes() -> int:
    return getattr(settings, "REGISTRY_IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES)


def max_columns() -> int:
    return getattr(settings, "REGISTRY_IMPORT_MAX_COLUMNS", DEFAULT_MAX_COLUMNS)


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing in it is imported."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class SheetRow:
    number: int  # as the spreadsheet shows it; the header is row 1
    values: list[str]
    cell_errors: dict[int, str] = field(default_factory=dict)  # column index → message

    def is_blank(self) -> bool:
        return not self.cell_errors and not any(v.strip() for v in self.values)


@dataclass
class Table:
    headers: list[str]
    rows: list[SheetRow]
    format: str  # "csv" or "xlsx"
    encoding: str = ""  # the encoding a CSV was read with


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the letters a spreadsheet shows above the column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise ImportFileError(
            _("The file is %(size)s MB; the largest file accepted is %(limit)s MB. Split it.")
            % {"size": round(size / 1024 / 1024, 1), "limit": round(limit / 1024 / 1024, 1)}
        )


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s data rows; split it into smaller files.")
        % {"limit": max_rows()}
    )


def read_table(data: bytes, filename: str, encoding: str = AUTO) -> Table:
    """Read an uploaded file. `encoding` applies to CSV only: "auto" detects it."""
    check_size(len(data))
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsm":
        raise ImportFileError(
            _("Macro-enabled workbooks (.xlsm) are not accepted; save the file as .xlsx.")
        )
    if suffix == ".xls":
        raise ImportFileError(
            _("The old Excel format (.xls) is not supported; save the file as .xlsx or CSV.")
        )
    if suffix == ".xlsx" or (suffix not in {".csv", ".txt"} and data[:4] == _XLSX_MAGIC):
        return read_xlsx(data)
    if suffix in {".csv", ".txt", ""}:
        return read_csv(data, encoding)
    raise ImportFileError(
        _("Files of type %(suffix)s are not supported; use .xlsx or .csv.") % {"suffix": suffix}
    )


# --- CSV ---------------------------------------------------------------------------------


def decode(data: bytes, encoding: str = AUTO) -> tuple[str, str]:
    """Decode CSV bytes strictly; return the text and the encoding used.

    Auto-detection: a BOM decides; otherwise strict UTF-8; otherwise strict GB18030.
    Anything else (or a result that looks garbled) asks the user to choose."""
    chosen = ENCODINGS.get((encoding or AUTO).strip().lower())
    if chosen is None:
        raise ImportFileError(
            _("Unknown encoding %(encoding)s; choose UTF-8 or GB18030.") % {"encoding": encoding}
        )
    if data.startswith(codecs.BOM_UTF8):
        if chosen not in {AUTO, "utf-8", "utf-8-sig"}:
            raise ImportFileError(
                _("The file starts with a UTF-8 mark but %(encoding)s was chosen; choose UTF-8.")
                % {"encoding": encoding}
            )
        return _strict(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and chosen == AUTO:
        # Excel's "Unicode text" export.
        return _strict(data, "utf-16"), "utf-16"
    if chosen == AUTO:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError(
                _(
                    "Unknown encoding: the file is neither UTF-8 nor GB18030/GBK. Choose the "
                    "encoding it was saved in, or save it again as UTF-8 CSV."
                )
            ) from None
        if _PRIVATE_USE.search(text):
            # GB18030 decodes almost any byte sequence; private-use characters mean the
            # file was something else (Big5, Shift-JIS…) and the text would be garbled.
            raise ImportFileError(
                _("Unknown encoding: the file does not read as GB18030 cleanly; choose one.")
            )
        return text, "gb18030"
    if chosen == "gb18030" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Valid UTF-8 Chinese almost always "decodes" as GB18030 too, into nonsense.
            raise ImportFileError(
                _(
                    "The file is UTF-8 but GB18030 was chosen; reading it so would garble "
                    "the Chinese text. Choose UTF-8 or automatic detection."
                )
            )
    return _strict(data, chosen), chosen


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFileError(
            _(
                "The file is not valid %(encoding)s (line %(line)s, byte %(byte)s); choose "
                "the encoding it was saved in."
            )
            % {"encoding": encoding.upper(), "line": line, "byte": error.start}
        ) from None


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(data: bytes, encoding: str = AUTO) -> Table:
    text, used = decode(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    limit = max_rows()
    headers: list[str] | None = None
    rows: list[SheetRow] = []
    try:
        for number, values in enumerate(reader, start=1):
            if headers is None:
                headers = [v.strip() for v in values]
                continue
            row = SheetRow(number, values)
            if row.is_blank():
                continue
            if len(rows) >= limit:
                raise _too_many_rows()
            rows.append(row)
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file cannot be read near line %(line)s: %(error)s")
            % {"line": reader.line_num, "error": error}
        ) from None
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    return Table(_trim(headers), rows, "csv", used)


# --- XLSX --------------------------------------------------------------------------------


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether any worksheet holds a formula, scanning the XML in pieces."""
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with archive.open(name) as handle:
            tail = b""
            while chunk := handle.read(1 << 20):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-32:]
    return False


# The sheet's <dimension ref="A1:P20001"/>, near the start of its XML.
_DIMENSION = re.compile(
    rb"<(?:[A-Za-z0-9_]+:)?dimension\s+ref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\""
)
_DIMENSION_SCAN_BYTES = 64 * 1024


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook that would unpack too large or declares too big a sheet, from
    the archive's directory and the first bytes of each sheet, before any parsing."""
    members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_unpacked_bytes():
        raise ImportFileError(
            _(
                "The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed. "
                "Split it into several files."
            )
            % {
                "size": f"{unpacked / 1024 / 1024:.0f}",
                "limit": f"{max_unpacked_bytes() / 1024 / 1024:.0f}",
            }
        )
    for member in members:
        name = member.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with archive.open(member) as handle:
            head = handle.read(_DIMENSION_SCAN_BYTES)
        match = _DIMENSION.search(head)
        if not match:
            continue
        last_column = (match.group(3) or match.group(1) or b"A").decode()
        last_row = int(match.group(4) or match.group(2) or 1)
        # The same messages as when reading finds too many rows or columns.
        if last_row > max_rows() + 1:
            raise _too_many_rows()
        if _column_number(last_column) > max_columns():
            raise _too_wide(_column_number(last_column))


def _too_wide(columns: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The worksheet has %(columns)s columns; at most %(max_columns)s are accepted. "
            "Delete the unused columns."
        )
        % {"columns": columns, "max_columns": max_columns()}
    )


def _is_macro_enabled(archive: zipfile.ZipFile) -> bool:
    try:
        content_types = archive.read("[Content_Types].xml")
    except KeyError:
        return False
    return b"macroEnabled" in content_types


def cell_text(value) -> str:
    """A cell value as the text the user typed, so CSV and XLSX parse the same way."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFileError(_("The file is not a valid .xlsx workbook.")) from None
    with archive:
        check_archive(archive)
        if _is_macro_enabled(archive):
            raise ImportFileError(
                _("Macro-enabled workbooks (.xlsm) are not accepted; save the file as .xlsx.")
            )
        formulas = _has_formulas(archive)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl raises many different exceptions for damaged files.
        raise ImportFileError(_("The file is not a valid .xlsx workbook.")) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no worksheet."))
        sheet = workbook.worksheets[0]
        formula_cells = _formula_cells(data, 0) if formulas else set()
        return _read_sheet(sheet, formula_cells)
    finally:
        workbook.close()


def _formula_cells(data: bytes, sheet_index: int) -> set[tuple[int, int]]:
    """(row, column) of every formula in the sheet, read without values."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        found = set()
        for row in workbook.worksheets[sheet_index].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    found.add((cell.row, cell.column))
        return found
    finally:
        workbook.close()


def _read_sheet(sheet, formula_cells: set[tuple[int, int]]) -> Table:
    limit = max_rows()
    headers: list[str] | None = None
    rows: list[SheetRow] = []
    widest = max_columns()
    for index, cells in enumerate(sheet.iter_rows(), start=1):
        if len(cells) > widest:
            # A sheet without a dimension can still hold a cell far to the right.
            raise _too_wide(len(cells))
        number = next((c.row for c in cells if getattr(c, "row", None)), index)
        values, errors = [], {}
        for position, cell in enumerate(cells):
            value = cell.value
            if getattr(cell, "data_type", None) == "e":
                errors[position] = _("The cell holds the Excel error %(value)s.") % {"value": value}
                value = None
            elif value is None and (number, position + 1) in formula_cells:
                errors[position] = _(
                    "The cell holds a formula without a stored result; formulas are not "
                    "calculated on import. Open and save the file in Excel, or paste values."
                )
            values.append(cell_text(value).strip() if isinstance(value, str) else cell_text(value))
        if headers is None:
            headers = [v.strip() for v in values]
            continue
        row = SheetRow(number, values, errors)
        if row.is_blank():
            continue
        if len(rows) >= limit:
            raise _too_many_rows()
        rows.append(row)
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    return Table(_trim(headers), rows, "xlsx")


def _trim(headers: list[str]) -> list[str]:
    while headers and not headers[-1]:
        headers.pop()
    return headers
