"""Counts that do not scan (`registry.counting`): exact up to REGISTRY_EXACT_COUNT_LIMIT,
the planner's estimate above it, marked as one in the API (`count_is_estimate`) and in
the admin's changelist ("about N"). The tests set the limit to a few rows."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import Project, Status
from registry import counting
from tests import factories

API = "/api/v1"
LIMIT = 3


@pytest.fixture
def pool(lead_unit):
    """Six projects, two of them submitted."""
    projects = factories.ProjectFactory.create_batch(6, lead_unit=lead_unit)
    Project.objects.filter(pk__in=[p.pk for p in projects[:2]]).update(status=Status.SUBMITTED)
    return projects


@pytest.fixture
def tiny_limit(settings):
    settings.REGISTRY_EXACT_COUNT_LIMIT = LIMIT
    settings.REGISTRY_ADMIN_EXACT_COUNT_LIMIT = LIMIT


def count_statements(queries) -> list[str]:
    """The counts of projects (the admin's header counts the user's notifications too)."""
    return [
        q["sql"]
        for q in queries
        if re.match(r"SELECT COUNT\(\*\)", q["sql"]) and "projects_project" in q["sql"]
    ]


# --- The rule ------------------------------------------------------------------------------


def test_exact_up_to_the_limit(pool, tiny_limit):
    assert counting.count_rows(Project.objects.filter(status=Status.SUBMITTED)) == (
        counting.Count(2, is_estimate=False)
    )
    assert counting.count_rows(Project.objects.filter(pk__in=[p.pk for p in pool[:3]])) == (
        counting.Count(3, is_estimate=False)
    )
    assert counting.count_rows(Project.objects.none()) == counting.Count(0)


@pytest.mark.postgres
def test_above_the_limit_the_planners_estimate_never_below_the_limit(on_postgres, pool, tiny_limit):
    with CaptureQueriesContext(connection) as queries:
        counted = counting.count_rows(Project.objects.all())
    assert counted.is_estimate is True
    assert counted.value > LIMIT
    # Rows were counted only up to the limit (the LIMIT inside the counted subquery),
    # then the plan was asked for, not run.
    (capped,) = count_statements(queries.captured_queries)
    assert f"LIMIT {LIMIT + 1}" in capped
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)


def test_sqlite_counts_exactly(pool, tiny_limit):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite has no planner figure to give")
    assert counting.count_rows(Project.objects.all()) == counting.Count(6, is_estimate=False)


# --- The API -------------------------------------------------------------------------------


def test_api_count_is_exact_below_the_limit(pool, tiny_limit, api_client, manager):
    body = api_client(manager).get(f"{API}/projects/?status=submitted").json()
    assert (body["count"], body["count_is_estimate"]) == (2, False)
    assert list(body)[:2] == ["count", "count_is_estimate"]


def test_api_count_above_the_limit_is_marked_and_pages_still_walk(
    pool, tiny_limit, api_client, manager
):
    client = api_client(manager)
    body = client.get(f"{API}/projects/?page_size=4").json()
    if connection.vendor == "postgresql":
        assert body["count_is_estimate"] is True and body["count"] > LIMIT
    else:
        assert (body["count"], body["count_is_estimate"]) == (6, False)
    assert len(body["results"]) == 4 and body["next"]
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 2
    assert {row["code"] for row in body["results"] + second["results"]} == {p.code for p in pool}


def test_other_lists_carry_the_mark_too(tiny_limit, api_client, manager):
    body = api_client(manager).get(f"{API}/sectors/").json()
    assert body["count_is_estimate"] is (connection.vendor == "postgresql")
    assert body["count"] > LIMIT


def test_the_schema_documents_the_mark(client):
    schema = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()
    page = schema["components"]["schemas"]["PaginatedProjectList"]
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert "estimate" in page["properties"]["count_is_estimate"]["description"]
    assert "count_is_estimate" in page["required"]
    chinese = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    description = chinese["components"]["schemas"]["PaginatedProjectList"]["properties"][
        "count_is_estimate"
    ]["description"]
    assert "估计值" in description


# --- The admin's changelist -------------------------------------------------------------------


def changelist(client, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:projects_project_changelist") + query)
    assert response.status_code == 200
    return response, queries.captured_queries


@pytest.mark.parametrize(
    ("language", "about"), [("en", "about"), ("zh-hans", "约")], ids=["en", "zh-hans"]
)
def test_changelist_shows_an_estimate_as_about(client, manager, pool, tiny_limit, language, about):
    client.force_login(manager)
    client.post(reverse("set_language"), {"language": language, "next": "/admin/"})
    response, _queries = changelist(client)
    cl = response.context["cl"]
    if connection.vendor == "postgresql":
        assert cl.paginator.count_is_estimate is True
        shown = re.search(r'class="estimated-count"[^>]*>([^<]*)<', response.text).group(1)
        assert shown.startswith(about)
        assert f"{cl.result_count:,}".replace(",", "") in shown.replace(",", "")
    else:
        assert cl.result_count == 6 and "estimated-count" not in response.text
    # A filter below the limit: exact, no "about".
    response, _queries = changelist(client, "?status__exact=submitted")
    assert response.context["cl"].result_count == 2
    assert "estimated-count" not in response.text


@pytest.mark.parametrize("query", ["", "?status__exact=submitted", "?q=railway"])
def test_changelist_never_counts_the_whole_table(client, manager, pool, tiny_limit, query):
    """No "N total" count of the table, and the pages' count reads at most the limit
    plus one row; the number of queries does not grow with the pool."""
    client.force_login(manager)
    response, queries = changelist(client, query)
    counts = count_statements(queries)
    assert len(counts) == 1
    if connection.vendor == "postgresql":
        assert f"LIMIT {LIMIT + 1}" in counts[0]
    assert response.context["cl"].full_result_count is None
    few = len(queries)
    factories.ProjectFactory.create_batch(10, lead_unit=pool[0].lead_unit)
    _response, queries = changelist(client, query)
    assert len(queries) == few


@pytest.mark.postgres
def test_admin_counts_to_its_own_lower_limit(client, manager, pool, settings):
    """The admin's lists count exactly only up to REGISTRY_ADMIN_EXACT_COUNT_LIMIT (a
    person needs no exact figure above a thousand); the API keeps its own limit."""
    if connection.vendor != "postgresql":
        pytest.skip("the capped count is PostgreSQL's")
    settings.REGISTRY_EXACT_COUNT_LIMIT = 1000
    settings.REGISTRY_ADMIN_EXACT_COUNT_LIMIT = LIMIT
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:projects_project_changelist"))
    assert response.context["cl"].paginator.count_is_estimate
    assert any(f"LIMIT {LIMIT + 1}" in sql for sql in count_statements(captured))
