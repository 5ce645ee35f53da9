"""The dashboard's results figures as each user asks for them: the whole pool reads no
project row, a selection (an officer's unit, a filter) counts only its projects' periods,
and both give the same figures as adding up the periods by hand."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from projects.results import figures
from tests import factories
from tests.test_scorecards import YEAR, approved_period

pytestmark = pytest.mark.usefixtures("english")

URL = "/admin/dashboard/"


@pytest.fixture
def pool(lead_unit, other_unit, officer, other_officer):
    mine = factories.ProjectFactory(
        lead_unit=lead_unit, status="in_progress", sectors=[("culture-tourism", 100)]
    )
    done = factories.ProjectFactory(lead_unit=lead_unit, status="in_progress")
    theirs = factories.ProjectFactory(
        lead_unit=other_unit, status="selected", countries=[("LA", 100)]
    )
    approved_period(mine, officer, target="100", actual="50")
    approved_period(done, officer, target="10", actual="30")  # capped at 200%
    approved_period(theirs, other_officer, target="40", actual="40")
    # A project that has left the running: its period adds to the table, not the rate.
    Project.objects.filter(pk=done.pk).update(status="completed")
    return mine, done, theirs


def trained(table):
    (row,) = [row for row in table if row["code"] == "people-trained"]
    return row["year"], row["target"], row["actual"], row["periods"]


def test_manager_whole_pool_reads_no_project(client, manager, pool):
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    assert trained(response.context["indicator_table"]) == (
        YEAR,
        Decimal("150"),
        Decimal("120"),
        3,
    )
    # Running projects only: 50% (mine) and 100% (theirs).
    assert response.context["achievement"] == {"rate": pytest.approx(0.75), "periods": 2}
    table_sql = [q["sql"] for q in queries.captured_queries if 'SUM("projects_period' in q["sql"]]
    assert table_sql and all("projects_project" not in sql for sql in table_sql)


def test_officer_and_filters_count_their_selection_only(client, officer, manager, pool, other_unit):
    client.force_login(officer)
    own = client.get(URL).context
    assert trained(own["indicator_table"]) == (YEAR, Decimal("110"), Decimal("80"), 2)
    assert own["achievement"] == {"rate": pytest.approx(0.5), "periods": 1}
    client.force_login(manager)
    by_unit = client.get(URL, {"lead_unit": other_unit.pk}).context
    assert trained(by_unit["indicator_table"]) == (YEAR, Decimal("40"), Decimal("40"), 1)
    assert by_unit["achievement"] == {"rate": pytest.approx(1.0), "periods": 1}
    by_sector = client.get(URL, {"sector": "culture-tourism"}).context
    assert trained(by_sector["indicator_table"]) == (YEAR, Decimal("100"), Decimal("50"), 1)
    by_group = client.get(URL, {"country_group": "asean"}).context
    assert [row for row in by_group["indicator_table"] if row["code"] == "people-trained"]


def test_empty_selection_and_the_libraries_order(pool, officer):
    assert figures.indicator_table(Project.objects.none()) == []
    assert figures.achievement_rate(Project.objects.none()) == {"rate": None, "periods": 0}
    mine, _done, _theirs = pool
    # Containers come before people trained in the library (sort order), whatever the
    # order of the periods' rows.
    approved_period(mine, officer, target="5", actual="5", standard="containers-moved")
    assert [row["code"] for row in figures.indicator_table(None)] == [
        "containers-moved",
        "people-trained",
    ]
