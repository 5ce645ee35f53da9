"""Reading import files: encodings without mojibake, XLSX without evaluating formulas or
running macros, limits on size and rows, row numbers as the spreadsheet shows them."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from projects.importing.projects import import_projects
from projects.models import Project
from registry.importing.formats import ImportFileError, read_table

# Messages are asserted in English; the default interface language is Chinese.
pytestmark = pytest.mark.usefixtures("english")

CHINESE = "项目编号 code,中文名称 title_zh\r\n,中老铁路冷链物流班列\r\n"


def xlsx(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite_in_zip(data: bytes, member: str, old: bytes, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == member:
                assert old in content
                content = content.replace(old, new)
            target.writestr(item, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (CHINESE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CHINESE.encode("utf-8"), "utf-8-sig"),
        (CHINESE.encode("gb18030"), "gb18030"),
        (CHINESE.encode("gbk"), "gb18030"),
        (CHINESE.encode("utf-16"), "utf-16"),
    ],
)
def test_encodings_are_detected(data, expected):
    table = read_table(data, "projects.csv")
    assert table.encoding == expected
    assert table.headers == ["项目编号 code", "中文名称 title_zh"]
    assert table.rows[0].values[1] == "中老铁路冷链物流班列"


def test_chosen_encoding_is_used_and_checked():
    gbk = CHINESE.encode("gbk")
    assert read_table(gbk, "p.csv", "gbk").rows[0].values[1] == "中老铁路冷链物流班列"
    with pytest.raises(ImportFileError, match="line 1, byte 0"):
        read_table(gbk, "p.csv", "utf-8")
    # UTF-8 bytes "decode" as GB18030 into nonsense: refused, not garbled.
    with pytest.raises(ImportFileError, match="UTF-8"):
        read_table(CHINESE.encode("utf-8"), "p.csv", "gb18030")
    with pytest.raises(ImportFileError, match="UTF-8"):
        read_table(b"\xef\xbb\xbf" + CHINESE.encode("utf-8"), "p.csv", "gb18030")


def test_undetectable_encoding_asks_the_user_to_choose():
    latin1 = "title_en\r\nCafé, résumé\r\n".encode("latin-1")
    with pytest.raises(ImportFileError, match="Unknown encoding"):
        read_table(latin1, "p.csv")


def test_row_numbers_are_spreadsheet_rows():
    data = 'title_zh,summary_zh\r\n甲,"两行\r\n简介"\r\n,\r\n乙,x\r\n'.encode()
    table = read_table(data, "p.csv")
    assert [(r.number, r.values[0]) for r in table.rows] == [(2, "甲"), (4, "乙")]


def test_semicolon_and_tab_separated_files():
    assert read_table("title_zh;title_en\r\n甲;A\r\n".encode(), "p.csv").rows[0].values == [
        "甲",
        "A",
    ]
    assert read_table("title_zh\ttitle_en\r\n甲\tA\r\n".encode(), "p.txt").rows[0].values == [
        "甲",
        "A",
    ]


def test_xlsx_values_dates_and_numbers_become_text():
    import datetime

    table = read_table(
        xlsx(
            ["title_zh", "planned_start", "estimated_value"], ["甲", datetime.date(2026, 3, 1), 1.5]
        ),
        "p.xlsx",
    )
    assert table.rows[0].values == ["甲", "2026-03-01", "1.5"]


def test_formula_without_stored_value_is_a_cell_error(officer, lead_unit):
    # openpyxl saves formulas without a computed result, as a script or LibreOffice
    # export with recalculation off would.
    data = xlsx(["title_zh", "lead_unit", "estimated_value"], ["甲", lead_unit.name_zh, "=1+1"])
    table = read_table(data, "p.xlsx")
    assert table.rows[0].cell_errors and 2 in table.rows[0].cell_errors
    report = import_projects(table, actor=officer, commit=True)
    [error] = report.errors
    assert (error.row, error.column) == (2, "C estimated_value") and "formula" in error.message
    assert Project.objects.count() == 0


def test_formula_with_stored_value_uses_the_value_without_evaluating():
    data = xlsx(["title_zh", "estimated_value"], ["甲", "=1+1"])
    # The stored result says 40, which 1+1 is not: only the stored value is read.
    data = rewrite_in_zip(data, "xl/worksheets/sheet1.xml", b"<v></v>", b"<v>40</v>")
    table = read_table(data, "p.xlsx")
    assert table.rows[0].values == ["甲", "40"] and not table.rows[0].cell_errors


def test_excel_error_values_are_cell_errors():
    data = xlsx(["title_zh", "estimated_value"], ["甲", "x"])
    data = rewrite_in_zip(
        data,
        "xl/worksheets/sheet1.xml",
        b'<c r="B2" t="inlineStr"><is><t>x</t></is></c>',
        b'<c r="B2" t="e"><v>#DIV/0!</v></c>',
    )
    table = read_table(data, "p.xlsx")
    assert "#DIV/0!" in table.rows[0].cell_errors[1]


def test_macro_workbooks_and_old_formats_are_refused():
    data = xlsx(["title_zh"], ["甲"])
    with pytest.raises(ImportFileError, match=r"\.xlsm"):
        read_table(data, "p.xlsm")
    with pytest.raises(ImportFileError, match=r"\.xls"):
        read_table(b"\xd0\xcf\x11\xe0", "p.xls")
    macro = rewrite_in_zip(
        data,
        "[Content_Types].xml",
        b"spreadsheetml.sheet.main+xml",
        b"sheet.macroEnabled.main+xml",
    )
    with pytest.raises(ImportFileError, match=r"\.xlsm"):
        read_table(macro, "renamed.xlsx")
    with pytest.raises(ImportFileError, match="not a valid"):
        read_table(b"PK\x03\x04 broken", "p.xlsx")
    with pytest.raises(ImportFileError, match=r"\.pdf"):
        read_table(b"%PDF", "p.pdf")


def test_file_size_limit(settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 1024
    with pytest.raises(ImportFileError, match="largest file"):
        read_table(b"title_zh\r\n" + "甲\r\n".encode() * 400, "p.csv")


@pytest.mark.parametrize("name", ["p.csv", "p.xlsx"])
def test_row_limit(settings, name):
    settings.REGISTRY_IMPORT_MAX_ROWS = 3
    rows = [["title_zh"], *[[f"项目{n}"] for n in range(4)]]
    data = xlsx(*rows) if name.endswith("xlsx") else "\r\n".join(r[0] for r in rows).encode()
    with pytest.raises(ImportFileError, match="more than 3"):
        read_table(data, name)
    settings.REGISTRY_IMPORT_MAX_ROWS = 4
    assert len(read_table(data, name).rows) == 4


def test_empty_file():
    with pytest.raises(ImportFileError, match="empty"):
        read_table(b"", "p.csv")
