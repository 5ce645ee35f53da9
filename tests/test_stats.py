"""Pipeline figures against a small data set whose every number was worked out by hand.

The pool (values in units; countries and sectors with shares; created in Asia/Shanghai):

    p1 project  selected      A  1,000,000 CNY  LA 60, TH 40  logistics-rail 100
       created 2026-01-10 12:00
    p2 project  in_progress   A  500,000 USD    IN            culture-heritage 50,
       trade-ecommerce 50; created 2026-02-05 12:00
    p3 activity submitted     B  200,000 CNY    LA, KZ        education; created 2026-02-28 23:30
    p4 project  withdrawn     B  -              VN 100        logistics-shipping 70,
       logistics-road 30; created 2026-03-01 00:30
    p5 activity draft         A  300,000 CNY    -             -; created 2026-03-15 12:00
    p6 project  not_selected  B  -              -             -; created 2026-01-05 12:00
"""

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from projects.api.filters import StatsFilter
from projects.models import Project, StatusChange
from projects.reporting import stats
from tests import factories
from tests.conftest import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def everything():
    return stats.Selection.of(Project.objects.all())


def select(params: dict) -> stats.Selection:
    """The figures' selection for these filters, as the API and the dashboard build it."""
    filterset = StatsFilter(QueryDict(urlencode(params)), queryset=Project.objects.all())
    assert filterset.is_valid(), filterset.errors
    return filterset.selection()


def at(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def cny(total):
    return {"currency": "CNY", "total": total}


def usd(total):
    return {"currency": "USD", "total": total}


@pytest.fixture
def units(db):
    return (
        factories.PartnerFactory(name_zh="甲单位", name_en="Unit A"),
        factories.PartnerFactory(name_zh="乙单位", name_en="Unit B"),
    )


@pytest.fixture
def pool(units):
    unit_a, unit_b = units
    make = factories.ProjectFactory
    projects = {
        "p1": make(
            kind="project",
            status="selected",
            lead_unit=unit_a,
            estimated_value=Decimal("1000000"),
            currency="CNY",
            countries=[("LA", 60), ("TH", 40)],
            sectors=[("logistics-rail", 100)],
            created_at=at(2026, 1, 10),
            next_review_due=date(2026, 1, 1),
        ),
        "p2": make(
            kind="project",
            status="in_progress",
            lead_unit=unit_a,
            estimated_value=Decimal("500000"),
            currency="USD",
            countries=[("IN", None)],
            sectors=[("culture-heritage", 50), ("trade-ecommerce", 50)],
            created_at=at(2026, 2, 5),
            next_review_due=date(2099, 1, 1),
        ),
        "p3": make(
            kind="activity",
            status="submitted",
            lead_unit=unit_b,
            estimated_value=Decimal("200000"),
            currency="CNY",
            countries=[("LA", None), ("KZ", None)],
            sectors=[("education", None)],
            created_at=at(2026, 2, 28, 23, 30),
            next_review_due=date(2020, 1, 1),
        ),
        "p4": make(
            kind="project",
            status="withdrawn",
            lead_unit=unit_b,
            estimated_value=None,
            countries=[("VN", 100)],
            sectors=[("logistics-shipping", 70), ("logistics-road", 30)],
            created_at=at(2026, 3, 1, 0, 30),
        ),
        "p5": make(
            kind="activity",
            status="draft",
            lead_unit=unit_a,
            estimated_value=Decimal("300000"),
            currency="CNY",
            created_at=at(2026, 3, 15),
        ),
        "p6": make(
            kind="project",
            status="not_selected",
            lead_unit=unit_b,
            estimated_value=None,
            created_at=at(2026, 1, 5),
        ),
    }
    history = {
        "p1": [("submitted", at(2026, 1, 10)), ("screening", at(2026, 1, 12)),
               ("selected", at(2026, 2, 11))],
        "p2": [("submitted", at(2026, 2, 5)), ("screening", at(2026, 2, 9)),
               ("selected", at(2026, 3, 1)), ("in_progress", at(2026, 3, 11))],
        "p3": [("submitted", at(2026, 2, 20))],
        "p4": [("submitted", at(2026, 3, 1)), ("withdrawn", at(2026, 3, 4))],
        "p6": [("submitted", at(2026, 1, 5)), ("screening", at(2026, 1, 6)),
               ("not_selected", at(2026, 1, 26))],
    }  # fmt: skip
    for name, steps in history.items():
        previous = "draft"
        for to_status, when in steps:
            StatusChange.objects.create(
                project=projects[name],
                action=to_status,
                from_status=previous,
                to_status=to_status,
                created_at=when,
            )
            previous = to_status
    return projects


def rows_by_key(rows):
    return {row["key"]: row for row in rows}


def test_summary_counts_and_values_per_currency(pool, units):
    figures = stats.summary(everything())
    assert figures["count"] == 6
    assert figures["value"] == [cny("1500000.00"), usd("500000.00")]

    status = rows_by_key(figures["by_status"])
    assert [row["key"] for row in figures["by_status"]] == [s.value for s in stats.PIPELINE_ORDER]
    assert {key: row["count"] for key, row in status.items()} == {
        "draft": 1, "submitted": 1, "screening": 0, "selected": 1, "in_progress": 1,
        "completed": 0, "not_selected": 1, "suspended": 0, "withdrawn": 1, "archived": 0,
    }  # fmt: skip
    assert status["selected"]["value"] == [cny("1000000.00")]
    assert status["in_progress"]["value"] == [usd("500000.00")]
    assert status["withdrawn"]["value"] == []

    kind = rows_by_key(figures["by_kind"])
    assert kind["project"]["count"] == 4
    assert kind["project"]["value"] == [cny("1000000.00"), usd("500000.00")]
    assert kind["activity"]["count"] == 2
    assert kind["activity"]["value"] == [cny("500000.00")]

    unit_a, unit_b = units
    lead = rows_by_key(figures["by_lead_unit"])
    assert lead[unit_a.pk]["count"] == 3
    assert lead[unit_a.pk]["value"] == [cny("1300000.00"), usd("500000.00")]
    assert lead[unit_b.pk]["count"] == 3
    assert lead[unit_b.pk]["value"] == [cny("200000.00")]


def test_sectors_count_under_their_top_level_with_attributed_value(pool):
    rows = stats.summary(everything())["by_sector"]
    assert [(r["key"], r["count"], r["weight"]) for r in rows] == [
        ("logistics", 2, 2.0),  # p1 rail, p4 shipping+road: once each
        ("education", 1, 1.0),
        ("culture", 1, 0.5),
        ("trade", 1, 0.5),
    ]
    by_key = rows_by_key(rows)
    assert by_key["logistics"]["value"] == [cny("1000000.00")]
    assert by_key["culture"]["value"] == [usd("250000.00")]
    assert by_key["trade"]["value"] == [usd("250000.00")]
    assert by_key["education"]["value"] == [cny("200000.00")]


def test_countries_and_groups_weighted_by_share_or_equal_split(pool):
    figures = stats.summary(everything())
    countries = figures["by_country"]
    assert [(r["key"], r["count"], r["weight"]) for r in countries] == [
        ("LA", 2, 1.1),
        ("IN", 1, 1.0),
        ("VN", 1, 1.0),
        ("KZ", 1, 0.5),
        ("TH", 1, 0.4),
    ]
    by_country = rows_by_key(countries)
    assert by_country["LA"]["value"] == [cny("700000.00")]  # 60% of p1 + half of p3
    assert by_country["TH"]["value"] == [cny("400000.00")]
    assert by_country["KZ"]["value"] == [cny("100000.00")]
    assert by_country["IN"]["value"] == [usd("500000.00")]
    assert by_country["VN"]["value"] == []

    groups = rows_by_key(figures["by_country_group"])
    assert (groups["asean"]["count"], groups["asean"]["weight"]) == (3, 2.5)
    assert groups["asean"]["value"] == [cny("1100000.00")]
    assert (groups["sco"]["count"], groups["sco"]["weight"]) == (2, 1.5)
    assert groups["sco"]["value"] == [cny("100000.00"), usd("500000.00")]
    assert (groups["southern-asia"]["count"], groups["southern-asia"]["weight"]) == (1, 1.0)
    assert (groups["central-asia"]["count"], groups["central-asia"]["weight"]) == (1, 0.5)
    assert "eastern-asia" not in groups


def test_link_weights_normalise_shares_or_split_equally(db):
    # Shares given but adding up to 60: normalised to 1/2 each. Shares partly missing:
    # equal split.
    factories.ProjectFactory(countries=[("LA", 30), ("TH", 30)], estimated_value=Decimal(100))
    factories.ProjectFactory(countries=[("LA", 50), ("VN", None)], estimated_value=Decimal(100))
    rows = rows_by_key(stats.summary(everything())["by_country"])
    assert {key: row["weight"] for key, row in rows.items()} == {"LA": 1.0, "TH": 0.5, "VN": 0.5}
    assert rows["LA"]["value"] == [cny("100.00")]


def test_balance_indicators(pool, settings):
    settings.REGISTRY_PEOPLE_TO_PEOPLE_TARGET = 0.45
    figures = stats.balance(everything())
    assert figures["projects"] == 5  # p4 withdrawn has left the pool
    assert figures["people_to_people"] == {
        "count": 2,  # p2 culture-heritage, p3 education
        "share": 0.4,
        "target": 0.45,
        "meets_target": False,
    }
    assert figures["kind"] == {
        "substantive": 3,
        "events": 2,
        "substantive_share": 0.6,
        "events_share": 0.4,
    }
    # Country weights in the pool: LA 1.1, IN 1.0, KZ 0.5, TH 0.4 over 3 projects.
    concentration = figures["concentration"]
    assert concentration["countries"] == 4
    assert [(row["key"], row["share"]) for row in concentration["top_three"]] == [
        ("LA", 0.3667),
        ("IN", 0.3333),
        ("KZ", 0.1667),
    ]
    assert concentration["top_three_share"] == 0.8667  # 2.6 / 3
    assert concentration["hhi"] == 2911.1  # 10,000 x (1.21 + 1 + 0.25 + 0.16) / 9
    assert figures["coverage"] == {
        "southern-asia": {"count": 1, "share": 0.2},
        "central-asia": {"count": 1, "share": 0.2},
    }


def test_balance_of_an_empty_selection_has_no_shares(db):
    figures = stats.balance(everything())
    assert figures["projects"] == 0
    assert figures["people_to_people"]["share"] is None
    assert figures["concentration"]["hhi"] is None


def test_flow_entries_selection_medians_and_overdue(pool):
    figures = stats.flow(everything(), today=date(2026, 6, 1))
    assert figures["entries_by_month"] == [
        {"month": "2026-01", "entries": {"submitted": 2, "screening": 2, "not_selected": 1}},
        {"month": "2026-02", "entries": {"submitted": 2, "screening": 1, "selected": 1}},
        {
            "month": "2026-03",
            "entries": {"submitted": 1, "selected": 1, "in_progress": 1, "withdrawn": 1},
        },
    ]
    assert figures["selection"] == {"selected": 2, "not_selected": 1, "rate": 0.6667}
    medians = {row["stage"]: (row["median_days"], row["stays"]) for row in figures[
        "median_days_in_stage"]}  # fmt: skip
    # submitted: 1, 2, 3, 4 days -> 2.5; screening: 20, 20, 30 -> 20; selected: 10.
    assert medians == {"submitted": (2.5, 4), "screening": (20.0, 3), "selected": (10.0, 1)}
    assert figures["overdue_reviews"] == {
        "count": 1,
        "oldest": [{"code": pool["p1"].code, "next_review_due": "2026-01-01"}],
    }


def test_flow_period_counts_transitions_made_in_it(pool):
    figures = stats.flow(select({"period_start": "2026-02-01", "period_end": "2026-02-28"}))
    assert figures["entries_by_month"] == [
        {"month": "2026-02", "entries": {"submitted": 2, "screening": 1, "selected": 1}},
    ]
    assert figures["selection"] == {"selected": 1, "not_selected": 0, "rate": 1.0}
    # p2's screening ended on 1 March, outside the period, and still counts.
    medians = {row["stage"]: row["median_days"] for row in figures["median_days_in_stage"]}
    assert medians == {"submitted": 4.0, "screening": 20.0}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"country_group": "southern-asia"}, {"p2"}),
        ({"country_group": "asean"}, {"p1", "p3", "p4"}),
        ({"sector": "logistics"}, {"p1", "p4"}),  # top level takes its sub-sectors
        ({"sector": "logistics-shipping"}, {"p4"}),
        ({"lead_unit": "B"}, {"p3", "p4", "p6"}),
        # Whole local days: p3 at 23:30 on the 28th is in, p4 at 00:30 on 1 March is out
        # (though both fall on 28 February in UTC).
        ({"period_start": "2026-02-01", "period_end": "2026-02-28"}, {"p2", "p3"}),
        ({"period_start": "2026-03-01"}, {"p4", "p5"}),
    ],
)
def test_filters_select_projects(pool, units, filters, expected):
    if filters.get("lead_unit") == "B":
        filters = {**filters, "lead_unit": str(units[1].pk)}
    selection = select(filters)
    assert set(selection.projects.values_list("code", flat=True)) == {
        pool[name].code for name in expected
    }
    assert stats.summary(selection)["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"period_start": "2026-13-01"}, "period_start"),
        ({"period_start": "2026-03-01", "period_end": "2026-02-01"}, "period_end"),
        ({"country_group": "atlantis"}, "country_group"),
        ({"sector": "space-travel"}, "sector"),
        ({"lead_unit": "abc"}, "lead_unit"),
        ({"status": "dreaming"}, "status"),
        ({"page": "2"}, "page"),  # figures are no page
    ],
)
def test_bad_filters_are_refused_by_name(client, manager, params, field):
    client.force_login(manager)
    response = client.get("/api/v1/stats/summary/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


# --- API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["summary", "balance", "flow"])
def test_api_serves_figures_to_managers(client, pool, manager, endpoint):
    client.force_login(manager)
    response = client.get(f"/api/v1/stats/{endpoint}/", {"country_group": "southern-asia"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["filters"] == {"country_group": "southern-asia"}
    if endpoint == "summary":
        assert body["count"] == 1
        assert body["value"] == [usd("500000.00")]
    elif endpoint == "balance":
        assert body["people_to_people"]["count"] == 1
    else:
        assert body["selection"] == {"selected": 1, "not_selected": 0, "rate": 1.0}


def test_api_figures_cover_only_what_an_officer_sees(client, pool, units):
    officer = make_user("unit-b-officer", "officer", units[1])
    client.force_login(officer)
    body = client.get("/api/v1/stats/summary/").json()
    assert body["count"] == 3  # p3, p4, p6
    assert body["value"] == [cny("200000.00")]


@pytest.mark.parametrize("endpoint", ["summary", "balance", "flow"])
def test_api_officer_of_no_unit_gets_empty_figures(client, pool, endpoint):
    client.force_login(make_user("unitless-officer", "officer"))
    response = client.get(f"/api/v1/stats/{endpoint}/")
    assert response.status_code == 200
    body = response.json()
    if endpoint == "flow":
        assert body["median_days_in_stage"] == [] and body["entries_by_month"] == []
    else:
        assert body.get("count", body.get("projects")) == 0


@pytest.mark.parametrize("endpoint", ["summary", "balance", "flow"])
def test_api_refuses_partners_and_anonymous(client, pool, partner_user, endpoint):
    assert client.get(f"/api/v1/stats/{endpoint}/").status_code in (401, 403)
    client.force_login(partner_user)
    assert client.get(f"/api/v1/stats/{endpoint}/").status_code == 403


def test_api_bad_filter_is_400_naming_the_parameter(client, pool, manager):
    client.force_login(manager)
    response = client.get("/api/v1/stats/summary/", {"period_start": "yesterday"})
    assert response.status_code == 400
    assert "period_start" in response.content.decode()
    response = client.get("/api/v1/stats/balance/", {"region": "asia"})
    assert response.status_code == 400
    assert "region" in response.content.decode()
