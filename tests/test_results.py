"""Results framework: targets set by the lead unit's officers, actuals reported by them or
by a partner taking part, approved or returned by the officers; API, admin and IATI."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from projects.models import Project
from projects.reporting import iati
from projects.results import services
from projects.results.models import Indicator, Period, Result, StandardIndicator
from projects.results.standard import STANDARD_INDICATORS
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("english")

API = "/api/v1"


def etag(project: Project) -> str:
    project.refresh_from_db()
    return f'"{project.code}-v{project.version}"'


RESULT_BODY = {
    "type": "output",
    "title_zh": "冷链班列开行",
    "title_en": "Cold-chain trains running",
    "indicators": [
        {
            "standard": "containers-moved",
            "baseline_year": 2024,
            "baseline_value": "1200",
            "periods": [
                {"period_start": "2025-01-01", "period_end": "2025-12-31", "target_value": "5000"}
            ],
        },
        {
            "title_zh": "通关便利化",
            "measure": "qualitative",
            "periods": [
                {
                    "period_start": "2025-01-01",
                    "period_end": "2025-06-30",
                    "target_comment": "一站式通关",
                }
            ],
        },
    ],
}


@pytest.fixture
def running(project):
    Project.objects.filter(pk=project.pk).update(status="in_progress")
    project.refresh_from_db()
    return project


def create_result(api_client, officer, project, body=RESULT_BODY):
    return api_client(officer).post(
        f"{API}/projects/{project.code}/results/", body, HTTP_IF_MATCH=etag(project)
    )


def period_action(client, project, period, **body):
    return client.post(
        f"{API}/projects/{project.code}/results/periods/{period.pk}/",
        body,
        HTTP_IF_MATCH=etag(project),
    )


def test_standard_indicators_seeded_by_migration(db):
    codes = set(StandardIndicator.objects.values_list("code", flat=True))
    assert {row[0] for row in STANDARD_INDICATORS} <= codes
    teu = StandardIndicator.objects.get(code="containers-moved")
    assert (teu.unit, teu.ascending) == ("TEU", True)
    assert StandardIndicator.objects.get(code="logistics-cost-change").ascending is False


def test_indicators_endpoint_lists_the_library(api_client, partner_user):
    response = api_client(partner_user).get(f"{API}/indicators/?page_size=100")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["results"]]
    assert "people-trained" in codes
    assert api_client(partner_user).get(f"{API}/indicators/?unit=TEU").status_code == 400
    assert api_client().get(f"{API}/indicators/").status_code == 401


def test_targets_to_approved_actuals_by_partner_and_officer(
    api_client, officer, partner_user, running, foreign_partner
):
    created = create_result(api_client, officer, running)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["indicators"][0]["standard"] == "containers-moved"
    # A standard indicator's unit and direction are the library's.
    assert body["indicators"][0]["unit"] == "TEU"
    quantitative = Period.objects.get(pk=body["indicators"][0]["periods"][0]["id"])

    # The partner taking part reports the actual, on behalf of its institution.
    reported = period_action(
        api_client(partner_user), running, quantitative, action="report", actual_value="5200"
    )
    assert reported.status_code == 200, reported.content
    assert reported.json()["status"] == "reported"
    assert reported.json()["reporting_partner"] == foreign_partner.pk

    # The partner may not approve its own figure.
    refused = period_action(api_client(partner_user), running, quantitative, action="approve")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_allowed"

    approved = period_action(api_client(officer), running, quantitative, action="approve")
    assert approved.status_code == 200, approved.content
    quantitative.refresh_from_db()
    assert quantitative.status == "approved"
    assert quantitative.approved_by == officer
    assert quantitative.actual_value == Decimal("5200")
    # An approved figure is final.
    again = period_action(
        api_client(partner_user), running, quantitative, action="report", actual_value="1"
    )
    assert again.status_code == 409

    # History records who did what.
    users = [record.history_user for record in quantitative.history.order_by("history_id")]
    assert users == [officer, partner_user, officer]

    listing = api_client(partner_user).get(f"{API}/projects/{running.code}/results/")
    assert listing.status_code == 200
    period = listing.json()["results"][0]["indicators"][0]["periods"][0]
    assert (period["status"], period["actual_value"]) == ("approved", "5200.0000")


def test_return_needs_a_comment_and_allows_reporting_again(
    api_client, officer, partner_user, running
):
    created = create_result(api_client, officer, running).json()
    qualitative = Period.objects.get(pk=created["indicators"][1]["periods"][0]["id"])
    # A qualitative indicator takes words, not figures.
    figure = period_action(
        api_client(partner_user), running, qualitative, action="report", actual_value="3"
    )
    assert figure.status_code == 400
    assert set(figure.json()["error"]["fields"]) == {"actual_value", "actual_comment"}
    period_action(
        api_client(partner_user), running, qualitative, action="report", actual_comment="已实现"
    )
    no_reason = period_action(api_client(officer), running, qualitative, action="return")
    assert no_reason.status_code == 400
    assert "comment" in no_reason.json()["error"]["fields"]
    qualitative.refresh_from_db()
    assert qualitative.status == "reported"
    returned = period_action(
        api_client(officer), running, qualitative, action="return", comment="请补充证明"
    )
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_comment"] == "请补充证明"
    # Approving a returned figure is not possible until it is reported again.
    assert (
        period_action(api_client(officer), running, qualitative, action="approve").status_code
        == 409
    )
    again = period_action(
        api_client(partner_user), running, qualitative, action="report", actual_comment="附证明"
    )
    assert again.json()["status"] == "reported"


def test_writes_need_the_right_role_and_the_current_etag(
    api_client, officer, other_officer, partner_user, running
):
    url = f"{API}/projects/{running.code}/results/"
    assert api_client(officer).post(url, RESULT_BODY).status_code == 428
    stale = f'"{running.code}-v{running.version + 5}"'
    assert api_client(officer).post(url, RESULT_BODY, HTTP_IF_MATCH=stale).status_code == 412
    # Partners report actuals; they do not set results.
    partner = api_client(partner_user).post(url, RESULT_BODY, HTTP_IF_MATCH=etag(running))
    assert partner.status_code == 403
    # An officer of another unit does not see the project at all.
    assert api_client(other_officer).get(url).status_code == 404
    assert Result.objects.count() == 0


def test_bad_results_are_refused_whole(api_client, officer, running):
    bad = {
        **RESULT_BODY,
        "indicators": [
            RESULT_BODY["indicators"][0],
            {
                "title_en": "Customs",
                "measure": "qualitative",
                "baseline_year": 2024,
                "baseline_value": "3",
                "periods": [{"period_start": "2025-06-01", "period_end": "2025-01-01"}],
            },
        ],
    }
    response = create_result(api_client, officer, running, bad)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "indicators.1.baseline_value" in fields
    assert "indicators.1.periods.0.period_end" in fields
    assert (Result.objects.count(), Indicator.objects.count(), Period.objects.count()) == (0, 0, 0)
    unknown = create_result(api_client, officer, running, {**RESULT_BODY, "status": "approved"})
    assert unknown.status_code == 400
    standard = create_result(
        api_client, officer, running, {**RESULT_BODY, "indicators": [{"standard": "nope"}]}
    )
    assert standard.status_code == 400


def test_partner_not_taking_part_cannot_reach_results(api_client, officer, running):
    stranger = make_user("stranger", "partner", factories.PartnerFactory(country_id="TH"))
    period = _period(officer, running)
    assert api_client(stranger).get(f"{API}/projects/{running.code}/results/").status_code == 404
    response = api_client(stranger).post(
        f"{API}/projects/{running.code}/results/periods/{period.pk}/",
        {"action": "report", "actual_value": "1"},
        HTTP_IF_MATCH=etag(running),
    )
    assert response.status_code == 404
    period.refresh_from_db()
    assert period.status == "open"


def test_results_list_reads_in_a_fixed_number_of_queries(api_client, officer, running):
    client = api_client(officer)
    url = f"{API}/projects/{running.code}/results/"
    create_result(api_client, officer, running)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(3):
        create_result(api_client, officer, running)
    with CaptureQueriesContext(connection) as four:
        assert client.get(url).status_code == 200
    assert len(four) == len(one)


def _period(officer, project, *, measure="quantitative", target="100", standard=None):
    result = services.result_create(
        project=project,
        actor=officer,
        type="outcome",
        title_en="Trade",
        indicators=[
            services.IndicatorData(
                title_en="Trade value",
                measure=measure,
                standard=standard,
                baseline_year=2024,
                baseline_value=None if measure == "qualitative" else Decimal("10"),
                periods=[
                    services.PeriodData(
                        period_start=date(2025, 1, 1),
                        period_end=date(2025, 12, 31),
                        target_value=None if measure == "qualitative" else Decimal(target),
                        target_comment="目标" if measure == "qualitative" else "",
                    )
                ],
            )
        ],
    )
    return Period.objects.get(indicator__result=result)


@pytest.fixture
def iati_project(lead_unit, foreign_partner):
    return factories.ProjectFactory(
        status="in_progress",
        lead_unit=lead_unit,
        title_zh="中老铁路冷链班列",
        summary_zh="冷链物流示范",
        planned_start=date(2025, 1, 1),
        planned_end=date(2027, 12, 31),
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
        partners=[(foreign_partner, "partner")],
    )


def test_iati_results_valid_with_approved_actuals_only(officer, partner_user, iati_project):
    standard = StandardIndicator.objects.get(code="containers-moved")
    approved = _period(officer, iati_project, standard=standard, target="5000")
    services.period_report(period=approved, actor=partner_user, actual_value="5200")
    services.period_approve(period=approved, actor=officer)
    pending = _period(officer, iati_project, target="7")
    services.period_report(period=pending, actor=officer, actual_value="8")
    qualitative = _period(officer, iati_project, measure="qualitative")
    services.period_report(period=qualitative, actor=officer, actual_comment="做到了")
    services.period_approve(period=qualitative, actor=officer)
    # A result without indicators cannot be published (the XSD needs one) and is left out.
    services.result_create(project=iati_project, actor=officer, type="impact", title_en="Empty")

    output = io.BytesIO()
    exported = iati.write_activities(output, Project.objects.filter(pk=iati_project.pk))
    assert exported.published == [iati_project.code], exported.problems
    document = etree.fromstring(output.getvalue())
    assert iati.schema_errors(document) == []
    results = document.findall(".//result")
    assert [r.get("type") for r in results] == ["2", "2", "2"]
    first = results[0].find("indicator")
    assert first.get("measure") == "1" and first.get("ascending") == "1"
    assert first.find("reference").get("code") == "containers-moved"
    assert first.find("baseline").get("value") == "10"
    assert first.find("period/target").get("value") == "5000"
    assert first.find("period/actual").get("value") == "5200"
    # The figure still under review is not published.
    assert results[1].find("indicator/period/actual") is None
    words = results[2].find("indicator")
    assert words.get("measure") == "5" and words.get("ascending") is None
    assert all(e.get("value") is None for e in words.iter("baseline", "target", "actual"))
    assert words.find("period/actual/comment/narrative").text == "做到了"


def test_export_iati_command_includes_results(officer, iati_project, tmp_path):
    _period(officer, iati_project)
    path = tmp_path / "iati.xml"
    call_command("export_iati", output=str(path), verbosity=0)
    document = etree.parse(str(path))
    assert iati.schema_errors(document) == []
    assert document.find(".//result/indicator/baseline").get("year") == "2024"


# --- Admin ------------------------------------------------------------------------------


def test_managers_keep_the_library_officers_only_read_it(client, manager, officer):
    client.force_login(manager)
    response = client.post(
        "/admin/projects/standardindicator/add/",
        {
            "code": "ports-connected",
            "name_zh": "联通港口数",
            "name_en": "Ports connected",
            "unit": "ports",
            "ascending": "on",
            "sort_order": "20",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    added = StandardIndicator.objects.get(code="ports-connected")
    assert added.history.get().history_user == manager
    client.force_login(officer)
    assert client.get("/admin/projects/standardindicator/").status_code == 200
    assert client.get("/admin/projects/standardindicator/add/").status_code == 403
    assert client.get(f"/admin/projects/standardindicator/{added.pk}/delete/").status_code == 403


def test_officer_sets_targets_and_decides_in_the_admin(client, officer, partner_user, running):
    client.force_login(officer)
    response = client.post(
        "/admin/projects/result/add/",
        {"project": running.pk, "type": "output", "title_zh": "培训", "title_en": ""},
    )
    assert response.status_code == 302, response.content
    result = Result.objects.get(project=running)
    response = client.post(
        "/admin/projects/indicator/add/",
        {
            "result": result.pk,
            "standard": StandardIndicator.objects.get(code="people-trained").pk,
            "title_zh": "",
            "title_en": "",
            "measure": "quantitative",
            "unit": "",
            "ascending": "on",
            "baseline_year": "",
            "baseline_value": "",
            "baseline_comment": "",
        },
    )
    assert response.status_code == 302, response.content
    indicator = Indicator.objects.get(result=result)
    assert indicator.unit == "people"
    # A period ending before it starts is refused on the page, nothing saved.
    bad = client.post(
        "/admin/projects/period/add/",
        {
            "indicator": indicator.pk,
            "period_start": "2025-06-01",
            "period_end": "2025-01-01",
            "target_value": "50",
        },
    )
    assert bad.status_code == 200
    assert Period.objects.count() == 0
    client.post(
        "/admin/projects/period/add/",
        {
            "indicator": indicator.pk,
            "period_start": "2025-01-01",
            "period_end": "2025-06-30",
            "target_value": "50",
        },
    )
    period = Period.objects.get()
    services.period_report(period=period, actor=partner_user, actual_value="40")
    response = client.post(
        f"/admin/projects/period/{period.pk}/change/",
        {"target_value": "50", "target_comment": "", "decision": "return", "decision_comment": ""},
    )
    assert response.status_code == 200  # the comment is missing
    period.refresh_from_db()
    assert period.status == "reported"
    response = client.post(
        f"/admin/projects/period/{period.pk}/change/",
        {"target_value": "50", "target_comment": "", "decision": "approve", "decision_comment": ""},
    )
    assert response.status_code == 302, response.content
    period.refresh_from_db()
    assert (period.status, period.approved_by) == ("approved", officer)


def test_partner_accounts_never_reach_results_admin(client, partner_user, running):
    client.force_login(partner_user)
    assert client.get("/admin/projects/period/").status_code in (302, 403)
