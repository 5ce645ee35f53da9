"""IATI 2.03 export: valid against the official XSD, and projects breaking a rule the XSD
cannot check are reported and left out."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from lxml import etree

from projects.models import Project
from projects.reporting import iati
from registry.models import Sector
from tests import factories
from tests.conftest import make_user

# Messages are asserted in English; the default interface language is Chinese.
pytestmark = pytest.mark.usefixtures("english")

LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PAST = date(2025, 3, 1)


@pytest.fixture
def published(db):
    """A representative set: every status that is published, every optional part."""
    lead = factories.PartnerFactory(
        name_zh="广西国际商务促进中心",
        name_en="Expo Bureau",
        kind="government",
        org_id="CN-USCI-11450000MB1234567X",
    )
    funder = factories.PartnerFactory(
        name_zh="老挝国家工商总会", name_en="Lao Chamber", kind="chamber", country_id="LA",
        org_id="LA-COA-12345",
    )  # fmt: skip
    implementer = factories.PartnerFactory(
        name_zh="泰国物流公司", name_en="", kind="enterprise", country_id="TH"
    )
    full = factories.ProjectFactory(
        status="in_progress",
        lead_unit=lead,
        title_zh="中老铁路冷链班列",
        title_en="China-Laos cold-chain trains",
        summary_zh="冷链物流示范",
        summary_en="Cold-chain logistics pilot",
        planned_start=date(2025, 1, 1),
        planned_end=date(2027, 12, 31),
        actual_start=PAST,
        estimated_value=Decimal("12500000.50"),
        currency="CNY",
        countries=[("LA", 60), ("TH", 40)],
        sectors=[("logistics-rail", 50), ("trade-ecommerce", 50)],
        partners=[(funder, "funding"), (implementer, "implementing"), (lead, "lead")],
    )
    chinese_only = factories.ProjectFactory(
        status="selected",
        title_zh="东盟文化交流周",
        title_en="",
        summary_zh="文化交流",
        planned_start=date(2026, 9, 1),
        estimated_value=None,
        countries=[("VN", None)],
        # Both map to DAC 16061: merged into one sector at 100%.
        sectors=[("culture", 50), ("culture-heritage", 50)],
    )
    completed = factories.ProjectFactory(
        status="completed",
        planned_start=date(2024, 1, 1),
        planned_end=date(2024, 12, 31),
        actual_start=date(2024, 2, 1),
        actual_end=date(2024, 12, 15),
        estimated_value=Decimal("300000"),
        currency="USD",
        countries=[("KZ", 100)],
        sectors=[("education-vocational", 100)],
    )
    draft = factories.ProjectFactory(status="draft", planned_start=PAST)
    return {"full": full, "chinese_only": chinese_only, "completed": completed, "draft": draft}


def export(queryset=None, today=None):
    output = io.BytesIO()
    result = iati.write_activities(output, queryset, today=today)
    return result, etree.fromstring(output.getvalue())


def activity(document, project):
    identifier = f"CN-GXFAO-{project.code}"
    (element,) = document.xpath(f"iati-activity[iati-identifier='{identifier}']")
    return element


def test_export_validates_against_the_xsd(published):
    result, document = export()
    assert iati.schema_errors(document) == []
    assert result.problems == []
    assert sorted(result.published) == sorted(
        p.code for name, p in published.items() if name != "draft"
    )
    assert document.get("version") == "2.03"
    assert len(document) == 3


def test_full_activity_content(published):
    _result, document = export()
    element = activity(document, published["full"])
    assert element.find("reporting-org").get("ref") == "CN-GXFAO"
    title = {n.get(LANG): n.text for n in element.find("title")}
    assert title == {"zh": "中老铁路冷链班列", "en": "China-Laos cold-chain trains"}
    description = {n.get(LANG): n.text for n in element.find("description")}
    assert description == {"zh": "冷链物流示范", "en": "Cold-chain logistics pilot"}
    organisations = [
        (org.get("role"), org.get("ref"), org.get("type"), org.find("narrative").text)
        for org in element.findall("participating-org")
    ]
    # The lead unit once as accountable (2), though also listed with the lead role.
    assert organisations == [
        ("2", "CN-USCI-11450000MB1234567X", "10", "广西国际商务促进中心"),
        ("1", "LA-COA-12345", "90", "老挝国家工商总会"),
        ("4", None, "70", "泰国物流公司"),
    ]
    assert element.find("activity-status").get("code") == "2"
    dates = [(d.get("type"), d.get("iso-date")) for d in element.findall("activity-date")]
    assert dates == [("1", "2025-01-01"), ("2", "2025-03-01"), ("3", "2027-12-31")]
    countries = [(c.get("code"), c.get("percentage")) for c in element.findall("recipient-country")]
    assert countries == [("LA", "60"), ("TH", "40")]
    sectors = [
        (s.get("vocabulary"), s.get("code"), s.get("percentage")) for s in element.findall("sector")
    ]
    assert sorted(sectors) == [("1", "21030", "50"), ("1", "33110", "50")]
    budget = element.find("budget")
    assert budget.find("period-start").get("iso-date") == "2025-01-01"
    assert budget.find("period-end").get("iso-date") == "2027-12-31"
    value = budget.find("value")
    assert (value.text, value.get("currency"), value.get("value-date")) == (
        "12500000.50",
        "CNY",
        "2025-01-01",
    )


def test_other_activities_content(published):
    _result, document = export()
    chinese_only = activity(document, published["chinese_only"])
    assert [n.get(LANG) for n in chinese_only.find("title")] == ["zh"]
    assert chinese_only.find("activity-status").get("code") == "1"
    # A single country without a share is the whole activity.
    assert chinese_only.find("recipient-country").attrib == {"code": "VN", "percentage": "100"}
    assert [(s.get("code"), s.get("percentage")) for s in chinese_only.findall("sector")] == [
        ("16061", "100")
    ]
    assert chinese_only.find("budget") is None  # no value known
    completed = activity(document, published["completed"])
    assert completed.find("activity-status").get("code") == "4"
    assert [d.get("type") for d in completed.findall("activity-date")] == ["1", "2", "3", "4"]
    assert completed.find("budget/value").get("currency") == "USD"


def test_shares_not_adding_up_are_reported_not_exported(published):
    broken = factories.ProjectFactory(
        status="selected",
        planned_start=PAST,
        countries=[("LA", 60), ("TH", 30)],
        sectors=[("logistics-rail", 100)],
    )
    result, document = export()
    assert iati.schema_errors(document) == []
    assert broken.code not in result.published
    assert not document.xpath(f"iati-activity[iati-identifier='CN-GXFAO-{broken.code}']")
    (problem,) = result.problems
    assert problem.code == broken.code
    assert problem.reasons == ["recipient countries: percentages add up to 90, not 100."]


def test_other_rule_breakers_are_reported_with_reasons(published):
    future = timezone.localdate() + timedelta(days=30)
    in_future = factories.ProjectFactory(
        status="in_progress", planned_start=PAST, actual_start=future, sectors=[]
    )
    no_start = factories.ProjectFactory(status="selected", summary_zh="", summary_en="")
    unmapped = Sector.objects.create(code="space", name_zh="航天", name_en="Space")
    no_dac = factories.ProjectFactory(status="selected", planned_start=PAST)
    no_dac.project_sectors.create(sector=unmapped, share=None)
    two_countries = factories.ProjectFactory(
        status="completed", planned_start=PAST, countries=[("LA", None), ("TH", None)]
    )
    result, document = export()
    assert iati.schema_errors(document) == []
    reasons = {problem.code: problem.reasons for problem in result.problems}
    assert reasons == {
        in_future.code: [f"actual_start {future} is in the future"],
        no_start.code: [
            "no summary in either language (IATI needs a description)",
            "no planned or actual start date",
        ],
        no_dac.code: ["sectors without a DAC code: space"],
        two_countries.code: [
            "recipient countries: several without percentages; give each a share."
        ],
    }
    assert len(result.published) == 3


def test_end_before_start_is_reported(published):
    # The database refuses such dates; the export checks them anyway.
    project = published["completed"]
    project = iati.publishable_projects(Project.objects.filter(pk=project.pk)).get()
    project.actual_end = date(2024, 1, 1)
    problems, _prepared = iati.check_project(project, today=date(2026, 1, 1))
    assert problems == ["actual_end 2024-01-01 is before actual_start 2024-02-01"]


def test_command_writes_to_stdout_and_reports_on_stderr(published):
    factories.ProjectFactory(status="selected", planned_start=PAST, countries=[("LA", 10)])
    out, err = io.StringIO(), io.StringIO()
    call_command("export_iati", stdout=out, stderr=err)
    document = etree.fromstring(out.getvalue().encode("utf-8"))
    assert iati.schema_errors(document) == []
    assert len(document) == 3
    assert "percentages add up to 10, not 100" in err.getvalue()
    assert "3 activities published, 1 left out." in err.getvalue()


def test_command_writes_a_file(published, tmp_path):
    target = tmp_path / "activities.xml"
    call_command("export_iati", output=str(target), stdout=io.StringIO(), stderr=io.StringIO())
    assert iati.schema_errors(etree.parse(str(target))) == []


def test_command_fails_when_nothing_can_be_published(db, tmp_path):
    factories.ProjectFactory(status="selected", countries=[("LA", 10)])
    target = tmp_path / "activities.xml"
    with pytest.raises(CommandError, match="No project could be published"):
        call_command("export_iati", output=str(target), stderr=io.StringIO())
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_api_serves_the_file_to_managers(client, published, manager):
    factories.ProjectFactory(status="selected", planned_start=PAST, countries=[("LA", 10)])
    client.force_login(manager)
    response = client.get("/api/v1/iati/activities.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["X-IATI-Left-Out"] == "1"
    document = etree.fromstring(b"".join(response.streaming_content))
    assert iati.schema_errors(document) == []
    report = client.get("/api/v1/iati/report/").json()
    assert len(report["published"]) == 3
    assert [item["code"] for item in report["left_out"]] == [
        Project.objects.get(status="selected", project_countries__share=10).code
    ]


def test_api_conflict_when_nothing_to_publish(client, manager, db):
    client.force_login(manager)
    response = client.get("/api/v1/iati/activities.xml")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_to_publish"


def test_api_refuses_partners_and_officers(client, published, partner_user, lead_unit):
    assert client.get("/api/v1/iati/activities.xml").status_code in (401, 403)
    client.force_login(partner_user)
    assert client.get("/api/v1/iati/activities.xml").status_code == 403
    client.force_login(make_user("iati-officer", "officer", lead_unit))
    assert client.get("/api/v1/iati/activities.xml").status_code == 403
    assert client.get("/api/v1/iati/report/").status_code == 403


def test_a_large_pool_gets_its_file_from_a_worker(client, published, manager, settings, tmp_path):
    settings.REGISTRY_BACKGROUND_ROWS = 1
    settings.REGISTRY_JOB_FILES_DIR = str(tmp_path)
    client.force_login(manager)
    response = client.get("/api/v1/iati/activities.xml")
    assert response.status_code == 202
    status = client.get(response["Location"]).json()
    assert status["status"] == "succeeded" and status["file_url"]
    download = client.get(status["file_url"])
    document = etree.fromstring(b"".join(download.streaming_content))
    assert iati.schema_errors(document) == []
