"""The project import's `sites` and `targets` columns, through the front doors: the
`import_projects` command and the admin's upload → preview → confirm, on CSV and XLSX,
valid and invalid rows, errors in both languages; the template carries the columns and
their codes."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from projects.models import Project
from projects.results import services as results_services
from projects.results.models import Indicator, Period, Result
from projects.sites.models import Site
from registry.jobs.models import Job

HEADERS = [
    "中文名称 title_zh",
    "牵头单位 lead_unit",
    "国家及比例 countries",
    "地点 sites",
    "指标目标 targets",
]
SITES = (
    "万象南站|Vientiane South Station|rail_terminal|17.9012|102.7065|LA; "
    "林查班港||港口|13.0827|100.883|泰国"
)
TARGETS = "containers-moved 2026 5000; 培训人数 2027 1,200"
VALID = ["中老铁路冷链物流班列", "广西国际博览事务局", "LA:60; TH:40", SITES, TARGETS]
# Each invalid row has one error, in the sites (D) or targets (E) column.
INVALID = [
    ["甲", "广西国际博览事务局", "LA", "万象港||spaceport|17.9|102.7|LA", ""],
    ["乙", "广西国际博览事务局", "LA", "万象港||port|95|102.7|LA", ""],
    ["丙", "广西国际博览事务局", "LA", "林查班港||port|13.08|100.88|TH", ""],
    ["丁", "广西国际博览事务局", "LA", "", "CONTAINERS 2026 5000"],
    ["戊", "广西国际博览事务局", "LA", "", "jobs-created 2026 lots"],
    ["己", "广西国际博览事务局", "LA", "万象港|Vientiane|port|17.9", ""],
]
EXPECTED_ERRORS = {
    "en": [
        ("row 3, column D 地点 sites", "spaceport is not a facility type"),
        ("row 4, column D 地点 sites", "latitude 95 is out of range (from -90 to 90)"),
        ("row 5, column D 地点 sites", "must be one of the project's countries (LA)"),
        ("row 6, column E 指标目标 targets", "Unknown indicator CONTAINERS"),
        ("row 7, column E 指标目标 targets", "the target lots is not a number"),
        ("row 8, column D 地点 sites", "write a site as name_zh|name_en|facility type"),
    ],
    "zh-hans": [
        ("第 3 行", "spaceport 不是设施类型"),
        ("第 4 行", "纬度 95 超出范围"),
        ("第 5 行", "地点所在国家必须是项目的国家之一（LA）"),  # noqa: RUF001
        ("第 6 行", "未知指标 CONTAINERS"),
        ("第 7 行", "目标值 lots 不是数字"),
        ("第 8 行", "地点应写作"),
    ],
}


def csv_file(path, rows, headers=HEADERS):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([headers, *rows])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    for values in [headers, *rows]:
        workbook.active.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def call(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def assert_written(project, officer):
    sites = {s.name_zh: s for s in project.sites.current()}
    assert set(sites) == {"万象南站", "林查班港"}
    station = sites["万象南站"]
    assert (station.name_en, station.facility_type, station.country_id) == (
        "Vientiane South Station",
        "rail_terminal",
        "LA",
    )
    assert (station.latitude, station.longitude) == (Decimal("17.9012"), Decimal("102.7065"))
    port = sites["林查班港"]
    assert (port.facility_type, port.country_id, port.name_en) == ("port", "TH", "")
    assert station.history.get().history_user == officer
    targets = {
        (p.indicator.standard.code, p.period_start, p.period_end): p.target_value
        for p in Period.objects.filter(indicator__result__project=project).select_related(
            "indicator__standard"
        )
    }
    assert targets == {
        ("containers-moved", date(2026, 1, 1), date(2026, 12, 31)): Decimal(5000),
        ("people-trained", date(2027, 1, 1), date(2027, 12, 31)): Decimal(1200),
    }
    result = Result.objects.get(project=project)
    assert (result.title_en, result.type) == ("Standard indicator targets", "outcome")
    assert result.history.get().history_user == officer


def test_command_imports_sites_and_targets_then_reimport_changes_nothing(
    officer, lead_unit, tmp_path
):
    path = csv_file(tmp_path / "p.csv", [VALID])
    out = call("import_projects", str(path), "--user", officer.username, "--language", "en")
    assert "1 to create" in out and "0 with errors" in out
    assert not Site.objects.exists() and not Period.objects.exists()

    call("import_projects", str(path), "--user", officer.username, "--commit")
    project = Project.objects.get()
    assert_written(project, officer)

    # The same rows with the project's code: nothing changes, no history is written.
    with_code = ["项目编号 code", *HEADERS]
    again = csv_file(tmp_path / "again.csv", [[project.code, *VALID]], headers=with_code)
    version = project.version
    histories = Site.history.count() + Period.history.count() + Indicator.history.count()
    out = call("import_projects", str(again), "--user", officer.username, "--commit")
    project.refresh_from_db()
    assert project.version == version
    assert Site.history.count() + Period.history.count() + Indicator.history.count() == histories

    # A changed target and a moved site change those rows; an added target adds a period;
    # a site left out is kept.
    changed = [
        project.code,
        *VALID[:3],
        "万象南站||dry_port|17.95|102.7065|LA",
        "containers-moved 2026 6000; containers-moved 2027 7000",
    ]
    out = call(
        "import_projects",
        str(csv_file(tmp_path / "changed.csv", [changed], headers=with_code)),
        "--user",
        officer.username,
        "--commit",
        "--language",
        "en",
    )
    assert "1 to update" in out
    station = Site.objects.get(name_zh="万象南站")
    assert (station.facility_type, station.latitude) == ("dry_port", Decimal("17.95"))
    assert station.name_en == ""  # an empty cell in a site's field clears it, as elsewhere
    assert project.sites.current().count() == 2
    containers = Indicator.objects.get(result__project=project, standard__code="containers-moved")
    assert dict(containers.periods.values_list("period_start__year", "target_value")) == {
        2026: Decimal(6000),
        2027: Decimal(7000),
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_command_reports_each_bad_cell_and_writes_nothing(officer, lead_unit, tmp_path, language):
    path = csv_file(tmp_path / "bad.csv", [VALID, *INVALID])
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_projects",
            str(path),
            "--user",
            officer.username,
            "--commit",
            "--language",
            language,
            stdout=(out := io.StringIO()),
            stderr=io.StringIO(),
        )
    assert raised.value.returncode == 1
    lines = out.getvalue().splitlines()
    for where, message in EXPECTED_ERRORS[language]:
        assert any(line.startswith(where) and message in line for line in lines), (
            where,
            message,
            lines,
        )
    assert not Project.objects.exists()
    assert not Site.objects.exists() and not Result.objects.exists()


def test_approved_target_is_final(officer, lead_unit, tmp_path):
    path = csv_file(tmp_path / "p.csv", [VALID])
    call("import_projects", str(path), "--user", officer.username, "--commit")
    project = Project.objects.get()
    period = Period.objects.get(indicator__standard__code="containers-moved")
    period = results_services.period_report(period=period, actor=officer, actual_value=4000)
    results_services.period_approve(period=period, actor=officer)
    row = [project.code, *VALID[:4], "containers-moved 2026 9999"]
    bad = csv_file(tmp_path / "b.csv", [row], headers=["项目编号 code", *HEADERS])
    with pytest.raises(CommandError):
        call_command(
            "import_projects",
            str(bad),
            "--user",
            officer.username,
            "--commit",
            "--language",
            "en",
            stdout=(out := io.StringIO()),
        )
    assert "Target containers-moved 2026: The figures of an approved period are final." in (
        out.getvalue()
    )
    period.refresh_from_db()
    assert period.target_value == Decimal(5000)


# --- The admin -------------------------------------------------------------------------


@pytest.fixture
def admin_site_urls(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.test_import_admin"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "imports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "imports")},
        },
    }


def upload(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def test_admin_xlsx_preview_then_confirm(client, officer, lead_unit, admin_site_urls):
    client.force_login(officer)
    preview = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload(xlsx_bytes([VALID]), "p.xlsx"), "encoding": "auto"},
    )
    assert preview.status_code == 200
    assert preview.context["report"].created == 1 and preview.context["report"].ok
    assert not Site.objects.exists() and not Period.objects.exists()
    client.post(
        reverse("admin:projects_project_import_confirm"),
        {"token": preview.context["signed_token"]},
    )
    assert Job.objects.get().status == Job.Status.SUCCEEDED
    assert_written(Project.objects.get(), officer)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "is not a facility type"), ("zh-hans", "不是设施类型")],
)
@pytest.mark.parametrize("name", ["bad.csv", "bad.xlsx"])
def test_admin_preview_shows_errors_and_offers_no_confirm(
    client, officer, lead_unit, admin_site_urls, name, language, shown
):
    client.force_login(officer)
    rows = [VALID, *INVALID]
    data = xlsx_bytes(rows)
    if name.endswith(".csv"):
        buffer = io.StringIO()
        csv.writer(buffer).writerows([HEADERS, *rows])
        data = buffer.getvalue().encode("gb18030")
    preview = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload(data, name), "encoding": "auto"},
        headers={"accept-language": language},
    )
    report = preview.context["report"]
    # Cells that cannot be read come first, then what the services refuse (row 5).
    assert sorted((e.row, e.column.split()[0]) for e in report.errors) == [
        (3, "D"),
        (4, "D"),
        (5, "D"),
        (6, "E"),
        (7, "E"),
        (8, "D"),
    ]
    assert shown in preview.content.decode()
    assert preview.context["signed_token"] == "" and b'name="token"' not in preview.content
    assert not Project.objects.exists() and not Site.objects.exists()


def test_template_and_codes_carry_sites_and_targets(client, officer, lead_unit, admin_site_urls):
    client.force_login(officer)
    template = client.get(reverse("admin:projects_project_import_template", args=["xlsx"]))
    workbook = load_workbook(io.BytesIO(template.content))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert "地点 sites" in headers and "指标目标 targets" in headers
    example = dict(zip(headers, (c.value for c in workbook.worksheets[0][2]), strict=True))
    assert "|rail_terminal|" in example["地点 sites"]
    codes = {(row[0].value, row[1].value) for row in workbook["代码 codes"].iter_rows(min_row=2)}
    assert ("facility type", "overseas_warehouse") in codes or (
        "设施类型",
        "overseas_warehouse",
    ) in codes
    codes_csv = client.get(reverse("admin:projects_project_import_codes")).content
    text = codes_csv.decode("utf-8-sig")
    assert "containers-moved" in text and "dry_port" in text and "海外仓" in text
    template_csv = client.get(reverse("admin:projects_project_import_template", args=["csv"]))
    assert "指标目标 targets" in template_csv.content.decode("utf-8-sig").splitlines()[0]
