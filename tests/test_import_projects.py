"""Importing projects from spreadsheets: same result from every format, all or nothing,
idempotent re-import, access per row."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from partners.models import Partner
from projects.importing.projects import import_projects
from projects.importing.template import PROJECT_COLUMNS, template_csv, template_xlsx
from projects.models import (
    CodeSequence,
    Participation,
    Project,
    ProjectCountry,
    ProjectSector,
)
from registry.importing.formats import read_table
from tests import factories

# Messages are asserted in English; the default interface language is Chinese.
pytestmark = pytest.mark.usefixtures("english")

DATA = Path(__file__).parent / "data"
HEADERS = [c.header for c in PROJECT_COLUMNS]


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(**values) -> list[str]:
    defaults = {
        "title_zh": "中老铁路冷链物流班列",
        "lead_unit": "广西国际博览事务局",
        "countries": "LA:60; TH:40",
        "sectors": "logistics-rail",
    }
    defaults.update(values)
    return [defaults.get(c.key, "") for c in PROJECT_COLUMNS]


def run(data: bytes, actor, *, name="projects.csv", commit=True, **options):
    return import_projects(read_table(data, name), actor=actor, commit=commit, **options)


def snapshot(project: Project) -> dict:
    """Everything the import sets, comparable across projects."""
    fields = {
        name: getattr(project, name)
        for name in (
            "title_zh",
            "title_en",
            "summary_zh",
            "summary_en",
            "kind",
            "lead_unit_id",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "estimated_value",
            "currency",
            "support_requested",
            "risk_level",
            "risk_notes",
            "internal_notes",
            "next_review_due",
            "status",
            "created_by_id",
        )
    }
    fields["countries"] = sorted(project.project_countries.values_list("country_id", "share"))
    fields["sectors"] = sorted(project.project_sectors.values_list("sector__code", "share"))
    fields["partners"] = sorted(project.participations.values_list("partner_id", "role"))
    fields["tags"] = sorted(project.tags.values_list("name", flat=True))
    return fields


def history_rows() -> int:
    return sum(
        model.history.count()
        for model in (Project, ProjectCountry, ProjectSector, Participation, Partner)
    )


def test_template_and_chinese_files_give_identical_projects(officer, lead_unit, foreign_partner):
    files = [
        ("template.csv", template_csv(PROJECT_COLUMNS, officer)),
        ("template.xlsx", template_xlsx(PROJECT_COLUMNS, officer)),
        ("projects_gb18030.csv", (DATA / "projects_gb18030.csv").read_bytes()),
        ("projects_utf8_bom.csv", (DATA / "projects_utf8_bom.csv").read_bytes()),
        ("projects_zh.xlsx", (DATA / "projects_zh.xlsx").read_bytes()),
    ]
    snapshots = {}
    for name, data in files:
        report = run(data, officer, name=name)
        assert report.committed, (name, [str(e) for e in report.errors])
        assert report.created == 1
        snapshots[name] = snapshot(Project.objects.get(code=report.results[0].code))
    expected = snapshots["template.csv"]
    assert expected["countries"] == [("LA", Decimal(60)), ("TH", Decimal(40))]
    assert expected["sectors"] == [
        ("logistics-rail", Decimal(70)),
        ("trade-facilitation", Decimal(30)),
    ]
    assert expected["partners"] == [(foreign_partner.pk, "partner")]
    assert expected["tags"] == ["冷链", "陆海新通道"]
    assert expected["estimated_value"] == Decimal("12000000")
    assert expected["status"] == "draft" and expected["created_by_id"] == officer.pk
    for name, fields in snapshots.items():
        assert fields == expected, name
    assert read_table(files[2][1], files[2][0]).encoding == "gb18030"
    assert read_table(files[3][1], files[3][0]).encoding == "utf-8-sig"


def test_one_bad_row_among_500_writes_nothing_and_names_the_row(officer, lead_unit):
    rows = [row(title_zh=f"项目{n}") for n in range(500)]
    rows[376] = row(title_zh="坏行", countries="LA:60; XX:40")
    projects, history, sequence = (
        Project.objects.count(),
        history_rows(),
        CodeSequence.objects.first(),
    )
    report = run(csv_bytes(rows), officer)
    assert not report.committed
    assert report.rows_processed == 500 and report.created == 499
    [error] = report.errors
    assert error.row == 378  # header is row 1, first data row is row 2
    assert error.column == "F 国家及比例 countries"
    assert "XX" in error.message
    assert Project.objects.count() == projects
    assert history_rows() == history
    # The commit reserved its block of codes before its transaction (so the sequence is
    # not locked for the whole import): a failed import leaves a gap, never a reuse.
    assert CodeSequence.objects.get().last_value >= (sequence.last_value if sequence else 0)


def test_dry_run_reports_the_same_as_commit_and_writes_nothing(officer, lead_unit):
    data = csv_bytes([row(title_zh=f"项目{n}") for n in range(5)])
    history = history_rows()
    dry = run(data, officer, commit=False)
    assert not dry.committed and dry.created == 5 and dry.ok
    assert Project.objects.count() == 0 and history_rows() == history
    committed = run(data, officer)
    assert committed.committed and committed.created == 5
    assert Project.objects.count() == 5


def _codes_file(officer) -> bytes:
    """The template imported, then written back with the generated codes filled in."""
    report = run(template_csv(PROJECT_COLUMNS, officer), officer)
    code = report.results[0].code
    rows = list(csv.reader(io.StringIO(template_csv(PROJECT_COLUMNS, officer).decode("utf-8-sig"))))
    rows[1][0] = code
    return code, csv_bytes(rows[1:], headers=rows[0])


def test_reimport_changes_nothing(officer, lead_unit, foreign_partner):
    code, data = _codes_file(officer)
    project = Project.objects.get(code=code)
    before = (history_rows(), project.version, snapshot(project))
    report = run(data, officer)
    assert report.committed and report.unchanged == 1 and report.updated == 0
    project.refresh_from_db()
    assert (history_rows(), project.version, snapshot(project)) == before


def test_edited_reimport_updates_exactly_the_edited_projects(officer, lead_unit):
    run(csv_bytes([row(title_zh=f"项目{n}") for n in range(3)]), officer)
    projects = list(Project.objects.order_by("code"))
    rows = [
        row(code=p.code, title_zh=p.title_zh, countries="LA:60; TH:40", sectors="logistics-rail")
        for p in projects
    ]
    rows[1] = row(code=projects[1].code, title_zh="改名", countries="VN", sectors="logistics-rail")
    versions = {p.code: p.version for p in projects}
    history_before = {p.code: p.history.count() for p in projects}
    report = run(csv_bytes(rows), officer)
    assert (report.updated, report.unchanged) == (1, 2)
    for project in Project.objects.all():
        changed = project.code == projects[1].code
        assert project.version == versions[project.code] + changed
        assert project.history.count() == history_before[project.code] + changed
    edited = Project.objects.get(code=projects[1].code)
    assert edited.title_zh == "改名"
    assert list(edited.project_countries.values_list("country_id", "share")) == [("VN", None)]
    latest = edited.history.first()
    assert latest.history_user == officer and latest.title_zh == "改名"
    # The countries replaced are in history too, under the importing user.
    assert ProjectCountry.history.filter(country_id="LA", history_type="-").count() == 1
    assert ProjectCountry.history.filter(history_type="-").first().history_user == officer


def test_reimport_without_codes_warns_of_twins(officer, lead_unit):
    data = csv_bytes([row(), row()])
    report = run(data, officer)
    assert "Row 2" in report.results[1].warnings[0]
    again = run(data, officer, commit=False)
    assert "P" in again.results[0].warnings[0]


def test_reviewer_may_not_import(reviewer, lead_unit):
    report = run(csv_bytes([row()]), reviewer)
    assert not report.committed and report.errors[0].row == 0
    assert Project.objects.count() == 0


def test_officer_cannot_import_for_another_unit_per_row(
    officer, lead_unit, other_unit, other_officer
):
    theirs = factories.ProjectFactory(lead_unit=other_unit)
    rows = [
        row(),
        row(lead_unit="钦州港务局"),
        row(code=theirs.code, lead_unit="钦州港务局"),
    ]
    report = run(csv_bytes(rows), officer)
    assert not report.committed and Project.objects.count() == 1
    errors = {(e.row, e.column.split()[-1]) for e in report.errors}
    assert errors == {(3, "lead_unit"), (4, "code")}
    assert "No project has the code" in report.errors[1].message


def test_officer_cannot_hand_own_project_to_another_unit(officer, lead_unit, other_unit):
    mine = factories.ProjectFactory(lead_unit=lead_unit)
    report = run(csv_bytes([row(code=mine.code, lead_unit="钦州港务局")]), officer)
    [error] = report.errors
    assert error.row == 2 and error.column.endswith("lead_unit")
    mine.refresh_from_db()
    assert mine.lead_unit == lead_unit


def test_row_errors_name_row_column_and_reason(officer, lead_unit):
    rows = [
        row(countries="LA:60; TH:30"),
        row(kind="bogus"),
        row(planned_start="2026-02-30"),
        row(estimated_value="很多"),
        row(partners="没有这个机构:partner"),
        row(lead_unit=""),
        row(title_zh=""),
        row(code="P999999"),
        row(sectors="logistics-rail:50; logistics-rail:50"),
        row(estimated_value="100", currency=""),
    ]
    report = run(csv_bytes(rows), officer)
    found = {e.row: (e.column.split()[-1], e.message) for e in report.errors}
    assert found[2][0] == "countries" and "100" in found[2][1]
    assert found[3][0] == "kind" and "project, activity" in found[3][1]
    assert found[4][0] == "planned_start"
    assert found[5][0] == "estimated_value"
    assert found[6][0] == "partners" and "没有这个机构" in found[6][1]
    assert found[7][0] == "lead_unit"
    assert found[8][0] == "title_zh"
    assert found[9][0] == "code"
    assert found[10][0] == "sectors"
    assert found[11][0] == "currency"
    assert Project.objects.count() == 0


def test_messages_follow_the_users_language(officer, lead_unit):
    from django.utils import translation

    with translation.override("en"):
        report = run(csv_bytes([row(countries="XX")]), officer)
    assert report.errors[0].message.startswith("Unknown country")


def test_status_column_is_refused(officer, lead_unit):
    data = csv_bytes([[*row(), "selected"]], headers=[*HEADERS, "状态 status"])
    report = run(data, officer)
    assert report.errors[0].row == 1 and "draft" in report.errors[0].message
    assert Project.objects.count() == 0


def test_unknown_and_duplicate_columns_are_reported(officer, lead_unit):
    data = csv_bytes([["x", "y", "z"]], headers=["中文名称", "title_zh", "budget"])
    report = run(data, officer)
    assert [(e.row, e.column) for e in report.errors] == [(1, "B title_zh"), (1, "C budget")]


def test_duplicate_code_in_file_is_an_error(officer, lead_unit):
    mine = factories.ProjectFactory(lead_unit=lead_unit)
    report = run(csv_bytes([row(code=mine.code), row(code=mine.code.lower())]), officer)
    assert [(e.row, "row 2" in e.message) for e in report.errors] == [(3, True)]


def test_missing_partners_created_only_when_asked(officer, lead_unit):
    rows = [row(countries="LA", partners="万象物流公司:implementing; Vientiane Bank@LA:资助")]
    refused = run(csv_bytes(rows), officer)
    assert not refused.committed and Partner.objects.count() == 1
    report = run(csv_bytes(rows), officer, create_partners=True)
    assert report.committed and len(report.created_partners) == 2
    project = Project.objects.get()
    assert sorted(project.participations.values_list("partner__name_zh", "role")) == [
        ("Vientiane Bank", "funding"),
        ("万象物流公司", "implementing"),
    ]
    bank = Partner.objects.get(name_zh="Vientiane Bank")
    assert (bank.country_id, bank.name_en, bank.history.get().history_user) == (
        "LA",
        "Vientiane Bank",
        officer,
    )


def test_partner_to_create_needs_a_country(officer, lead_unit):
    report = run(
        csv_bytes([row(countries="LA; TH", partners="新机构")]), officer, create_partners=True
    )
    assert "@LA" in report.errors[0].message and Partner.objects.count() == 1


def test_same_name_in_two_countries_needs_the_country(officer, lead_unit):
    factories.PartnerFactory(name_zh="工商会", country_id="LA")
    thai = factories.PartnerFactory(name_zh="工商会", country_id="TH")
    ambiguous = run(csv_bytes([row(partners="工商会")]), officer)
    assert "工商会@LA" in ambiguous.errors[0].message
    report = run(csv_bytes([row(partners="工商会@泰国:supporting")]), officer)
    assert report.committed
    assert list(Project.objects.get().participations.values_list("partner", "role")) == [
        (thai.pk, "supporting")
    ]


def test_absent_column_leaves_field_empty_cell_clears(officer, lead_unit):
    project = factories.ProjectFactory(
        lead_unit=lead_unit, countries=[("LA", 100)], summary_zh="原简介"
    )
    headers = ["code", "title_zh", "countries"]
    report = run(csv_bytes([[project.code, project.title_zh, ""]], headers=headers), officer)
    assert report.updated == 1
    project.refresh_from_db()
    assert project.summary_zh == "原简介"
    assert not project.project_countries.exists()


def test_lookups_are_loaded_once_not_per_cell(officer, lead_unit, django_assert_max_num_queries):
    few = csv_bytes([row(countries="LA; TH; VN; KH; MM") for _ in range(2)])
    many = csv_bytes([row(countries="LA; TH; VN; KH; MM") for _ in range(12)])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        run(few, officer, commit=False)
    with CaptureQueriesContext(connection) as large:
        run(many, officer, commit=False)
    per_row = (len(large) - len(small)) / 10
    lookup_queries = [q for q in large.captured_queries if '"registry_country"' in q["sql"]]
    assert len(lookup_queries) == 1
    assert per_row < 60  # the services' own writes: 5 countries, history, checks


def history_trail(project: Project) -> list:
    """The history rows a project and its links left: (model, type, user)."""
    trail = [("project", h.history_type, h.history_user_id) for h in project.history.all()]
    for model in (ProjectCountry, ProjectSector, Participation):
        trail += sorted(
            (model.__name__, h.history_type, h.history_user_id)
            for h in model.history.filter(project_id=project.pk)
        )
    trail.append(("tags", sorted(project.history.first().tags.values_list("tag__name", flat=True))))
    return sorted(trail, key=str)


@pytest.mark.parametrize("name", ["projects_gb18030.csv", "projects_zh.xlsx"])
def test_bulk_path_leaves_what_the_services_leave(
    name, officer, lead_unit, foreign_partner, settings
):
    data = (DATA / name).read_bytes()
    settings.REGISTRY_IMPORT_BULK = False
    by_service = Project.objects.get(code=run(data, officer, name=name).results[0].code)
    settings.REGISTRY_IMPORT_BULK = True
    by_bulk = Project.objects.get(code=run(data, officer, name=name).results[0].code)
    assert snapshot(by_bulk) == snapshot(by_service)
    assert history_trail(by_bulk) == history_trail(by_service)
    assert by_bulk.version == by_service.version
    assert by_bulk.code == f"P{int(by_service.code[1:]) + 1:06d}"


@pytest.mark.parametrize("bulk", [True, False])
def test_both_paths_refuse_the_same_rows(bulk, officer, lead_unit, other_unit, settings):
    settings.REGISTRY_IMPORT_BULK = bulk
    rows = [
        row(lead_unit="钦州港务局"),
        row(planned_start="2027-01-01", planned_end="2026-01-01"),
        row(estimated_value="-5", currency="CNY"),
        row(currency="XYZ"),
        row(title_zh="x" * 301),
    ]
    report = run(csv_bytes(rows), officer)
    assert sorted((e.row, e.column.split()[-1]) for e in report.errors) == [
        (2, "lead_unit"),
        (3, "planned_end"),
        (4, "estimated_value"),
        (5, "currency"),
        (6, "title_zh"),
    ]
