"""OWASP API4:2023 Unrestricted Resource Consumption: an .xlsx is a zip archive and XML.
A small upload that unpacks to hundreds of megabytes, a sheet that declares a million
rows or 16,384 columns, an XML entity bomb: each is refused with a clear error before
anything is parsed (memory stays flat), through the admin and the command alike."""

import io
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from projects.models import Project
from registry.importing import formats
from registry.importing.formats import ImportFileError, read_table

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


SHEET = "xl/worksheets/sheet1.xml"


def workbook_bytes(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, member: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == member:
                content = change(content)
            target.writestr(item.filename, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def zip_bomb(unpacked_mb: int = 60) -> bytes:
    """A valid workbook whose sheet is padded with whitespace: tiny packed, huge unpacked."""
    padding = b" " * (unpacked_mb * 1024 * 1024)
    return rewrite(
        workbook_bytes(["title_zh"], ["甲"]),
        SHEET,
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding),
    )


def test_defusedxml_is_used_by_openpyxl():
    assert openpyxl.DEFUSEDXML is True


def test_zip_bomb_is_refused_before_parsing():
    bomb = zip_bomb(60)
    assert len(bomb) < 1024 * 1024  # well under the upload limit
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError, match="unpacks to 60 MB, more than the 50 MB"):
            read_table(bomb, "bomb.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Nothing was unpacked: the refusal came from the archive's directory.
    assert peak < 5 * 1024 * 1024


def test_unpacked_limit_is_a_setting(settings):
    settings.REGISTRY_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    with pytest.raises(ImportFileError, match="more than the 1 MB allowed"):
        read_table(zip_bomb(2), "bomb.xlsx")


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ("A1:XFD1", "16384 columns; at most 100"),
        ("A1:B1048576", "more than 20000 data rows"),
    ],
)
def test_declared_sheet_dimension_over_the_limits_is_refused(dimension, message):
    data = rewrite(
        workbook_bytes(["title_zh", "title_en"], ["甲", "A"]),
        SHEET,
        lambda xml: xml.replace(
            b'<dimension ref="A1:B2"/>', f'<dimension ref="{dimension}"/>'.encode()
        ),
    )
    with pytest.raises(ImportFileError, match=message):
        read_table(data, "wide.xlsx")


def test_a_cell_far_to_the_right_without_a_dimension_is_refused():
    data = rewrite(
        workbook_bytes(["title_zh"], ["甲"]),
        SHEET,
        lambda xml: xml.replace(b'<dimension ref="A1:A2"/>', b"").replace(
            b"</row></sheetData>",
            b'<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
        ),
    )
    with pytest.raises(ImportFileError, match="at most 100"):
        read_table(data, "far.xlsx")


def test_entity_bomb_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]>"
    )
    data = rewrite(
        workbook_bytes(["title_zh"], ["甲"]),
        SHEET,
        lambda xml: laughs + xml.replace(b"<t>&#30002;</t>", b"<t>&lol9;</t>"),
    )
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError):
            read_table(data, "laughs.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_admin_upload_of_a_zip_bomb_answers_a_clear_error(client, officer, settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    client.force_login(officer)
    upload = io.BytesIO(zip_bomb(60))
    upload.name = "bomb.xlsx"
    response = client.post(
        reverse("admin:projects_project_import"), {"file": upload, "encoding": "auto"}
    )
    assert response.status_code == 200
    assert b"more than the 50 MB allowed" in response.content
    assert Project.objects.count() == 0


def test_limits_are_named_in_the_readme():
    from django.conf import settings as django_settings

    readme = (django_settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    for name in (
        "REGISTRY_IMPORT_MAX_UNPACKED_BYTES",
        "REGISTRY_IMPORT_MAX_COLUMNS",
        "REGISTRY_IMPORT_MAX_ROWS",
    ):
        assert name in readme
    assert formats.DEFAULT_MAX_UNPACKED_BYTES == 50 * 1024 * 1024
