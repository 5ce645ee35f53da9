"""CSV and XLSX exports: same columns and rows, Chinese survives Excel's reading, the
CSV streams in chunks, and the admin side exports what the user may see."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from projects import selectors
from projects.admin import exports as admin_exports
from projects.models import Project, ProjectCountry
from projects.reporting import exports
from tests import factories
from tests.conftest import make_user


@pytest.fixture
def listed(lead_unit, foreign_partner):
    first = factories.ProjectFactory(
        lead_unit=lead_unit,
        title_zh="中老铁路冷链班列",
        title_en="China-Laos cold-chain trains",
        kind="project",
        countries=[("LA", 60), ("TH", 40)],
        sectors=[("logistics-rail", 100)],
        planned_start=date(2026, 1, 1),
        planned_end=date(2026, 12, 31),
        estimated_value=Decimal("1234567.89"),
        currency="CNY",
        risk_level="high",
        next_review_due=date(2027, 1, 1),
    )
    second = factories.ProjectFactory(
        lead_unit=lead_unit,
        title_zh='=HYPERLINK("http://example.org")',
        title_en="",
        kind="activity",
        estimated_value=None,
        countries=[("KZ", None)],
        sectors=[],
    )
    return first, second


def csv_rows(response) -> list[list[str]]:
    """Read the body the way Excel does with a UTF-8 file: BOM first, then UTF-8."""
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def xlsx_rows(response) -> list[list]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    # Empty trailing cells are not stored; read every row to the full width.
    width = len(exports.headers())
    return [list(row) for row in workbook.active.iter_rows(max_col=width, values_only=True)]


def as_text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and callable(value.date):
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def test_csv_round_trips_chinese_with_bom(listed):
    first, second = listed
    response = exports.stream_projects_csv(Project.objects.all(), language="zh-hans")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="projects-')
    header, *rows = csv_rows(response)
    with translation.override("zh-hans"):
        assert header == exports.headers()
    by_code = {row[0]: row for row in rows}
    row = by_code[first.code]
    assert row[1] == "中老铁路冷链班列"
    assert row[5] == "广西国际博览事务局"
    assert row[6] == "LA 老挝 (60%); TH 泰国 (40%)"
    assert row[7].startswith("logistics-rail ") and row[7].endswith("(100%)")
    assert row[8:12] == ["1234567.89", "CNY", "2026-01-01", "2026-12-31"]
    assert row[15] == "2027-01-01"
    # A title that a spreadsheet would run as a formula is quoted.
    assert by_code[second.code][1] == '\'=HYPERLINK("http://example.org")'
    assert by_code[second.code][8] == ""


def test_csv_labels_follow_the_language(listed):
    header, *rows = csv_rows(exports.stream_projects_csv(Project.objects.all(), language="en"))
    assert header[0] == "code"
    by_code = {row[0]: row for row in rows}
    row = by_code[listed[0].code]
    assert row[3:5] == ["substantive project", "draft"]
    assert row[5] == "Expo Bureau"
    assert row[6] == "LA Laos (60%); TH Thailand (40%)"
    assert row[14] == "high"


def test_xlsx_has_the_same_rows_as_csv(listed):
    csv_data = csv_rows(exports.stream_projects_csv(Project.objects.all(), language="zh-hans"))
    response = exports.projects_xlsx_response(Project.objects.all(), language="zh-hans")
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    xlsx_data = xlsx_rows(response)
    assert len(xlsx_data) == len(csv_data) == 3
    assert xlsx_data[0] == csv_data[0]
    for xlsx_row, csv_row in zip(xlsx_data[1:], csv_data[1:], strict=True):
        assert [as_text(value) for value in xlsx_row] == csv_row


def test_big_export_streams_in_chunks(lead_unit):
    """2,000 projects: the response is a stream, produced chunk by chunk with a fixed
    number of queries per chunk (1 for the projects, 2 prefetches)."""
    projects = Project.objects.bulk_create(
        Project(code=f"B{number:06d}", title_zh=f"项目{number}", lead_unit=lead_unit)
        for number in range(2000)
    )
    ProjectCountry.objects.bulk_create(
        ProjectCountry(project=project, country_id="LA", share=Decimal(100)) for project in projects
    )
    response = exports.stream_projects_csv(Project.objects.all(), language="en", chunk_size=500)
    assert response.streaming
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 2000 // 500  # header, then one chunk per 500 projects
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 2001
    assert b"LA Laos (100%)" in chunks[-1]
    prefetches = [q for q in queries.captured_queries if "projects_projectcountry" in q["sql"]]
    assert len(prefetches) == 4
    assert len(queries) <= 4 * 3 + 2


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 6])
def test_every_project_is_exported_once_in_code_order_whatever_the_chunk(
    lead_unit, chunk_size, django_assert_max_num_queries
):
    """Chunks follow each other by code (each starts after the last code of the one
    before): a chunk boundary neither repeats nor skips a project, a full last chunk
    included (5 projects in chunks of 1 or 5)."""
    projects = Project.objects.bulk_create(
        Project(code=f"C{number:03d}", title_zh=f"项目{number}", lead_unit=lead_unit)
        for number in (4, 1, 5, 3, 2)
    )
    ProjectCountry.objects.bulk_create(
        ProjectCountry(project=project, country_id="LA", share=Decimal(100)) for project in projects
    )
    chunks = -(-5 // chunk_size)
    # A statement per chunk, plus one per list (countries, sectors) where lists are read
    # apart; never one that finds nothing after the last chunk.
    per_chunk = 1 if selectors.lists_in_page() else 3
    with translation.override("en"), django_assert_max_num_queries(chunks * per_chunk):
        rows = list(exports.project_rows(Project.objects.all(), chunk_size=chunk_size))
    assert [row[0] for row in rows] == ["C001", "C002", "C003", "C004", "C005"]
    assert {row[6] for row in rows} == {"LA Laos (100%)"}


def test_the_export_reads_the_rows_the_list_reads(listed, admin_user, api_client):
    """One read for both: the export's countries are the list's, in the list's order."""
    first, _second = listed
    listed_page = api_client(admin_user).get("/api/v1/projects/?ordering=code").json()
    with translation.override("en"):
        rows = {row[0]: row for row in exports.project_rows(Project.objects.all())}
    for project in listed_page["results"]:
        countries = [f"{c['country']} {c['name_en']}" for c in project["countries"]]
        assert [part.split(" (")[0] for part in rows[project["code"]][6].split("; ")] == (
            countries or [""]
        )
    assert rows[first.code][6] == "LA Laos (60%); TH Thailand (40%)"


# --- Admin side ---------------------------------------------------------------------------


class ExportingAdmin(admin_exports.ProjectExportAdminMixin, admin.ModelAdmin):
    actions = admin_exports.ProjectExportAdminMixin.export_actions

    def get_queryset(self, request):
        from projects.access import visible_projects

        return visible_projects(request.user, super().get_queryset(request))


def admin_request(user, path="/", data=None):
    request = RequestFactory().get(path, data or {})
    request.user = user
    return request


def test_admin_action_exports_selected_rows_as_csv(listed, manager):
    model_admin = ExportingAdmin(Project, admin.site)
    request = admin_request(manager)
    actions = model_admin.get_actions(request)
    assert {"export_selected_csv", "export_selected_xlsx"} <= set(actions)
    response = admin_exports.export_selected_csv(
        model_admin, request, Project.objects.filter(pk=listed[0].pk)
    )
    assert [row[0] for row in csv_rows(response)[1:]] == [listed[0].code]


def test_admin_changelist_export_keeps_the_filters(listed, manager):
    model_admin = ExportingAdmin(Project, admin.site)
    request = admin_request(
        manager, "/admin/projects/project/export/xlsx/", {"kind__exact": "activity"}
    )
    response = model_admin.export_changelist_view(request, "xlsx")
    rows = xlsx_rows(response)
    assert [row[0] for row in rows[1:]] == [listed[1].code]


def test_admin_export_only_what_the_officer_sees(listed, other_officer):
    model_admin = ExportingAdmin(Project, admin.site)
    factories.ProjectFactory(lead_unit=other_officer.memberships.get().partner, title_zh="自己的")
    request = admin_request(other_officer, "/admin/projects/project/export/csv/")
    rows = csv_rows(model_admin.export_changelist_view(request, "csv"))
    assert [row[1] for row in rows[1:]] == ["自己的"]


def test_admin_export_refused_to_partners(listed, partner_user):
    from django.core.exceptions import PermissionDenied

    model_admin = ExportingAdmin(Project, admin.site)
    request = admin_request(partner_user, "/admin/projects/project/export/csv/")
    assert "export_selected_csv" not in model_admin.get_actions(request)
    with pytest.raises(PermissionDenied):
        model_admin.export_changelist_view(request, "csv")
    with pytest.raises(PermissionDenied):
        admin_exports.export_selected_csv(model_admin, request, Project.objects.all())


def test_admin_unknown_format_is_404(listed, manager):
    from django.http import Http404

    model_admin = ExportingAdmin(Project, admin.site)
    with pytest.raises(Http404):
        model_admin.export_changelist_view(admin_request(manager), "pdf")


def test_admin_user_without_a_role_is_refused(listed):
    user = make_user("nobody", None)
    model_admin = ExportingAdmin(Project, admin.site)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        model_admin.export_changelist_view(admin_request(user), "csv")
