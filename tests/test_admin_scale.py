"""The admin's lists at pool scale: filters whose choices are rows of a big table (lead
unit, partner, country) are searched, never listed; the chosen row is named by one query
by its key; choices come page by page from the admin's autocomplete JSON; the changelist
counts through `registry.counting` only, and nothing offers counts per choice."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests import factories

CHANGELIST = "admin:projects_project_changelist"


def changelist(client, params=None, language="en"):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            reverse(CHANGELIST), params or {}, headers={"accept-language": language}
        )
    return response, [query["sql"] for query in captured.captured_queries]


def reads_table(sqls, table) -> list[str]:
    """The queries that read `table` on its own (not joined under another one)."""
    return [sql for sql in sqls if re.search(rf'\bFROM "{table}"', sql)]


@pytest.fixture
def pool(lead_unit, other_unit, foreign_partner):
    mine = factories.ProjectFactory(
        lead_unit=lead_unit, countries=[("LA", 100)], partners=[(foreign_partner, "partner")]
    )
    theirs = factories.ProjectFactory(lead_unit=other_unit, countries=[("KZ", 100)])
    return mine, theirs


def test_changelist_lists_no_institutions_or_countries(client, manager, pool):
    client.force_login(manager)
    response, sqls = changelist(client)
    assert response.status_code == 200
    # No choice list is built from the partners, countries or the big tables behind them.
    assert reads_table(sqls, "partners_partner") == []
    assert reads_table(sqls, "registry_country") == []
    body = response.content.decode()
    for name in ("lead_unit", "partner", "country"):
        assert f'name="{name}"' in body
    # Searched selects, started by the admin's own autocomplete script (no inline script).
    assert body.count("admin-autocomplete search-select") == 3
    assert "admin/js/autocomplete" in body and "projects/admin/search_select" in body
    assert "<script>" not in body


def test_chosen_lead_unit_is_named_by_one_query_by_its_key(client, manager, pool, lead_unit):
    mine, _theirs = pool
    client.force_login(manager)
    response, sqls = changelist(client, {"lead_unit": lead_unit.pk}, language="zh-hans")
    assert [p.pk for p in response.context["cl"].result_list] == [mine.pk]
    lookups = reads_table(sqls, "partners_partner")
    assert len(lookups) == 1, lookups
    assert re.search(rf'"partners_partner"\."id" = {lead_unit.pk}\b', lookups[0])
    body = response.content.decode()
    # The chosen unit is the select's one option besides the empty one, named in Chinese.
    assert f'<option value="{lead_unit.pk}" selected>{lead_unit.name_zh}</option>' in body
    select = re.search(r'<select name="lead_unit".*?</select>', body, re.S)[0]
    assert select.count("<option") == 2


def test_partner_and_country_filters(client, manager, pool, foreign_partner):
    mine, theirs = pool
    client.force_login(manager)
    for params, wanted in (
        ({"partner": foreign_partner.pk}, mine),
        ({"country": "la"}, mine),
        ({"country": "KZ"}, theirs),
    ):
        response, _sqls = changelist(client, params)
        assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk], params


@pytest.mark.parametrize(
    "params",
    [
        {"lead_unit": "999999"},
        {"lead_unit": "x"},
        {"partner": "-1"},
        {"country": "ZZ"},
        {"country": "LAO"},
    ],
)
def test_unknown_choice_is_a_bad_lookup_not_a_500(client, manager, pool, params):
    client.force_login(manager)
    response, _sqls = changelist(client, params)
    assert response.status_code == 302 and response.url.endswith("?e=1")


def test_filter_keeps_the_other_parameters(client, manager, pool, lead_unit):
    client.force_login(manager)
    response, _sqls = changelist(
        client, {"lead_unit": lead_unit.pk, "status__exact": "draft", "q": "铁路", "o": "1"}
    )
    form = re.search(
        r'<form method="get" class="search-filter-form">.*?name="partner".*?</form>',
        response.content.decode(),
        re.S,
    )[0]
    for name, value in (("lead_unit", lead_unit.pk), ("status__exact", "draft"), ("q", "铁路")):
        assert f'type="hidden" name="{name}" value="{value}"' in form
    assert 'name="p"' not in form


def test_no_counts_per_choice(client, manager, pool):
    client.force_login(manager)
    response, sqls = changelist(client, {"_facets": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Show counts" not in body and "Hide counts" not in body
    # One count: the paginator's (the unfiltered total is not shown).
    counts = [sql for sql in sqls if "COUNT(" in sql.upper() and "projects_project" in sql]
    assert len(counts) == 1


@pytest.mark.postgres
def test_filtered_count_reads_at_most_the_limit(client, manager, pool, lead_unit, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the capped count is PostgreSQL's")
    settings.REGISTRY_ADMIN_EXACT_COUNT_LIMIT = 1
    factories.ProjectFactory(lead_unit=lead_unit)
    client.force_login(manager)
    for params in ({}, {"lead_unit": lead_unit.pk}, {"status__exact": "draft"}):
        response, sqls = changelist(client, params)
        counts = [sql for sql in sqls if "COUNT(" in sql.upper() and "projects_project" in sql]
        assert len(counts) == 1, counts
        assert re.search(r"LIMIT 2\b", counts[0]), counts[0]
        # Past the limit: the planner's estimate, said as one ("about").
        assert response.context["cl"].paginator.count_is_estimate


# --- The choices' JSON ----------------------------------------------------------------------


def choices(client, source, **params):
    return client.get(
        reverse(
            "admin:projects_filter_choices"
            if source == "partner"
            else f"admin:projects_filter_choices_{source}"
        ),
        params,
    )


def test_choices_are_searched_and_paged(client, manager, lead_unit, other_unit, foreign_partner):
    for number in range(25):
        factories.PartnerFactory(country_id="CN", name_zh=f"港务集团{number:02d}", name_en="Port")
    client.force_login(manager)
    found = choices(client, "partner", term="钦州").json()
    assert found["results"] == [{"id": str(other_unit.pk), "text": str(other_unit)}]
    first = choices(client, "partner", term="港务集团").json()
    assert len(first["results"]) == 20 and first["pagination"]["more"]
    second = choices(client, "partner", term="港务集团", page=2).json()
    assert len(second["results"]) == 5 and not second["pagination"]["more"]
    with translation.override("en"):
        laos = choices(client, "country", term="lao").json()["results"]
    assert {"id": "LA", "text": "LA Laos"} in laos or any(r["id"] == "LA" for r in laos)


def test_choices_only_for_who_may_see_the_list(client, partner_user, officer):
    assert choices(client, "partner", term="x").status_code == 302  # to the login page
    client.force_login(partner_user)
    assert choices(client, "partner", term="x").status_code in (302, 403)
    client.force_login(officer)
    assert choices(client, "partner", term="x").status_code == 200


# --- The other lists over big tables ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "admin:projects_review_changelist",
        "admin:projects_statuschange_changelist",
        "admin:projects_supportdecision_changelist",
        "admin:projects_progressupdate_changelist",
        "admin:projects_warning_changelist",
    ],
)
def test_big_lists_build_no_choice_list_from_their_rows(client, manager, pool, url):
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(url))
    assert response.status_code == 200
    sqls = [query["sql"] for query in captured.captured_queries]
    # No DISTINCT over the table (a date hierarchy's years, a field's values in use).
    assert not [sql for sql in sqls if "DISTINCT" in sql.upper()], sqls
    assert reads_table(sqls, "partners_partner") == []
    body = response.content.decode()
    assert "Show counts" not in body and "显示计数" not in body


def test_review_list_filters_by_round_range_and_declaration(
    client, manager, reviewer, project, english
):
    from tests.test_reviews_support import in_status, review

    review(in_status(project, "screening"), reviewer)
    client.force_login(manager)
    url = reverse("admin:projects_review_changelist")
    assert len(client.get(url, {"round__gte": 1}).context["cl"].result_list) == 1
    assert len(client.get(url, {"round__gte": 2}).context["cl"].result_list) == 0
    declared = client.get(url, {"conflict_declaration__exact": "declared"})
    assert len(declared.context["cl"].result_list) == 0


def test_screening_queue_comes_a_page_at_a_time(client, manager, reviewer, lead_unit, monkeypatch):
    from projects.admin.project import ProjectAdmin

    monkeypatch.setattr(ProjectAdmin, "screening_queue_page_size", 2)
    made = [factories.ProjectFactory(lead_unit=lead_unit, status="screening") for _ in range(3)]
    queue = reverse("admin:projects_project_screening_queue")
    client.force_login(reviewer)
    first = client.get(queue, headers={"accept-language": "en"})
    second = client.get(queue, {"p": 2})
    assert [row["project"].code for row in first.context["rows"]] == [p.code for p in made[:2]]
    assert [row["project"].code for row in second.context["rows"]] == [made[2].code]
    assert "Page 1 of 2 (3 projects)" in first.content.decode()
    # A page number past the end or not a number: the nearest page, never an error.
    assert client.get(queue, {"p": "x"}).status_code == 200
    assert client.get(queue, {"p": 99}).context["rows"][0]["project"].code == made[2].code
    client.force_login(manager)
    assert len(client.get(queue).context["rows"]) == 2
