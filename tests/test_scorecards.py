"""Member-unit scorecards (admin page and XLSX) and the results figures of the dashboard."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from projects.models import Project, StatusChange
from projects.results import services
from projects.results.models import StandardIndicator
from projects.risk.warnings import compute_warnings
from tests import factories

pytestmark = pytest.mark.usefixtures("english")

TODAY = timezone.localdate()
YEAR = TODAY.year
URL = "/admin/projects/result/scorecards/"


def approved_period(project, officer, *, target, actual, standard="people-trained"):
    result = services.result_create(
        project=project,
        actor=officer,
        type="output",
        title_en="Training",
        indicators=[
            services.IndicatorData(
                standard=StandardIndicator.objects.get(code=standard),
                periods=[
                    services.PeriodData(
                        period_start=datetime.date(YEAR, 1, 1),
                        period_end=datetime.date(YEAR, 1, 31),
                        target_value=Decimal(target),
                    )
                ],
            )
        ],
    )
    period = result.indicators.get().periods.get()
    services.period_report(period=period, actor=officer, actual_value=actual)
    services.period_approve(period=period, actor=officer)
    return period


@pytest.fixture
def pool(lead_unit, other_unit, officer, other_officer, foreign_partner):
    culture = factories.ProjectFactory(
        lead_unit=lead_unit, status="in_progress", sectors=[("culture-tourism", 100)]
    )
    logistics = factories.ProjectFactory(
        lead_unit=lead_unit,
        status="in_progress",
        sectors=[("logistics-rail", 100)],
        next_review_due=TODAY - datetime.timedelta(days=1),
    )
    rejected = factories.ProjectFactory(lead_unit=lead_unit, status="not_selected")
    StatusChange.objects.create(
        project=culture, action="select", from_status="screening", to_status="selected"
    )
    StatusChange.objects.create(
        project=rejected, action="reject", from_status="screening", to_status="not_selected"
    )
    other = factories.ProjectFactory(lead_unit=other_unit, status="in_progress")
    approved_period(culture, officer, target="100", actual="50")
    approved_period(logistics, officer, target="10", actual="12")
    approved_period(other, other_officer, target="10", actual="10")
    compute_warnings()
    return culture, logistics, other


def test_scorecard_figures_for_a_manager(client, manager, pool, lead_unit, other_unit):
    client.force_login(manager)
    response = client.get(URL, {"year": YEAR})
    assert response.status_code == 200
    rows = {row[0]: dict(zip([k for k, _ in response.context["columns"]], row, strict=True))
            for row in response.context["rows"]}  # fmt: skip
    mine = rows[lead_unit.name]
    assert mine["total"] == 3
    assert mine["status:in_progress"] == 2 and mine["status:not_selected"] == 1
    assert mine["selection_rate"] == "50.0%"
    assert mine["people_to_people_share"] == "33.3%"
    assert mine["p2p_results"] == 1
    # 50% and 120% achieved: mean 85%, one of two met.
    assert (mine["achievement"], mine["periods_met"], mine["periods"]) == ("85.0%", 1, 2)
    # The overdue review, and the culture project's training under 80% of its target.
    assert mine["overdue_reviews"] == 1 and mine["open_warnings"] == 2
    assert rows[other_unit.name]["achievement"] == "100.0%"


def test_officer_sees_own_unit_and_downloads_xlsx(client, officer, pool, lead_unit, other_unit):
    client.force_login(officer)
    response = client.get(URL, {"year": YEAR})
    assert [row[0] for row in response.context["rows"]] == [lead_unit.name]
    download = client.get(URL, {"year": YEAR, "quarter": 1, "format": "xlsx"})
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith(f'scorecards-{YEAR}-01-01-{YEAR}-03-31.xlsx"')
    sheet = load_workbook(io.BytesIO(download.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    # The page speaks the interface language (Chinese by default).
    assert values[1][0] == "牵头单位"
    assert [row[0] for row in values[2:]] == [lead_unit.name]
    assert other_unit.name not in str(values)


def test_bad_period_and_partners_refused(client, manager, partner_user, pool):
    client.force_login(manager)
    assert client.get(URL, {"year": "soon"}).status_code == 400
    assert client.get(URL, {"year": YEAR, "quarter": 7}).status_code == 400
    client.force_login(partner_user)
    assert client.get(URL, {"year": YEAR}).status_code in (302, 403)


def test_dashboard_shows_target_against_actual(client, manager, pool):
    culture, _logistics, _other = pool
    client.force_login(manager)
    response = client.get("/admin/dashboard/")
    table = response.context["indicator_table"]
    trained = [row for row in table if row["code"] == "people-trained"]
    assert len(trained) == 1
    assert (trained[0]["target"], trained[0]["actual"]) == (Decimal("120"), Decimal("72"))
    assert trained[0]["rate"] == pytest.approx(0.6)
    # Mean of 50%, 120% and 100%.
    assert response.context["achievement"]["rate"] == pytest.approx(0.9)
    assert 'id="table-indicators"' in response.content.decode()
    counts = {row["kind"]: row["count"] for row in response.context["warning_counts"]}
    assert counts == {"review_overdue": 1, "under_target": 1}
    by_sector = client.get("/admin/dashboard/", {"sector": "culture-tourism"})
    row = next(r for r in by_sector.context["indicator_table"] if r["code"] == "people-trained")
    assert (row["target"], row["actual"]) == (Decimal("100"), Decimal("50"))
    Project.objects.filter(pk=culture.pk).update(status="completed")
    later = client.get("/admin/dashboard/")
    assert later.context["achievement"]["periods"] == 2
