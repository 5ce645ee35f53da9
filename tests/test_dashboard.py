"""The managers' dashboard in the admin: who gets it, what it draws, what it costs."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import StatusChange
from projects.reporting import charts, dashboard
from tests import factories
from tests.conftest import make_user

URL = "/admin/dashboard/"
SECTORS = ["logistics-rail", "culture-heritage", "education", "trade-ecommerce", "agriculture"]
COUNTRIES = ["LA", "TH", "IN", "KZ", "VN", "PK"]
STATUSES = ["draft", "submitted", "screening", "selected", "in_progress", "not_selected"]


def build_pool(count: int, lead_units) -> None:
    start = datetime(2025, 1, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    for number in range(count):
        project = factories.ProjectFactory(
            lead_unit=lead_units[number % len(lead_units)],
            kind="project" if number % 3 else "activity",
            status=STATUSES[number % len(STATUSES)],
            countries=[(COUNTRIES[number % 6], 50), (COUNTRIES[(number + 1) % 6], 50)],
            sectors=[(SECTORS[number % 5], None)],
            currency=["CNY", "USD"][number % 2],
            created_at=start + timedelta(days=number * 7),
        )
        for step, to_status in enumerate(["submitted", "screening"][: number % 3]):
            StatusChange.objects.create(
                project=project,
                action=to_status,
                to_status=to_status,
                created_at=start + timedelta(days=number * 7 + step * 5),
            )


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    # Without DEBUG the manifest storage wants `collectstatic` to have run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def units(db):
    return [factories.PartnerFactory() for _ in range(3)]


def test_manager_sees_the_charts(client, manager, units):
    build_pool(12, units)
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    # Drawn by ECharts from one json_script element; the figures' tables carry the links.
    assert html.count('class="echart') >= 7
    assert 'id="dashboard-charts"' in html
    for section in ("chart-funnel", "chart-sectors", "chart-regions", "chart-trend",
                    "chart-balance"):  # fmt: skip
        assert f'id="{section}"' in html
    # Bars link to the filtered changelist.
    assert '/admin/projects/project/?status__exact=submitted"' in html
    assert "/admin/projects/project/?sector=logistics" in html
    assert "/admin/projects/project/?country_group=asean" in html
    assert "/admin/projects/project/?country=LA" in html
    assert f"/admin/projects/project/?lead_unit={units[0].pk}" in html
    assert "/admin/projects/project/?kind__exact=activity" in html
    # Drawn on the server: nothing fetched from elsewhere.
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)


def test_every_bar_opens_a_filtered_changelist(client, manager, units):
    """Each link is understood by the project admin's filters (no "?e=1" error page) and
    finds the projects its bar counts."""
    build_pool(12, units)
    client.force_login(manager)
    html = client.get(URL).content.decode()
    links = set(re.findall(r'href="(/admin/projects/project/\?[^"]+)"', html))
    assert len(links) > 10
    for link in sorted(links):
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        changelist = response.context["cl"]
        # The funnel draws every stage, empty ones too; every other bar counts something.
        assert changelist.result_count > 0 or "status__exact" in link, link


def test_dashboard_filters_are_kept_in_bar_links(client, manager, units):
    build_pool(6, units)
    client.force_login(manager)
    response = client.get(URL, {"country_group": "asean", "sector": "logistics"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "?country_group=asean&amp;sector=logistics&amp;status__exact=draft" in html


def test_bad_filter_shows_the_error(client, manager, units):
    client.force_login(manager)
    response = client.get(URL, {"period_start": "not-a-date"})
    assert response.status_code == 400
    assert 'class="errornote"' in response.content.decode()


def test_dashboard_selects_through_the_list_filters(client, manager, units):
    """Beyond the five fields it shows, the dashboard takes any filter of the project list
    in its address, meaning what it means there, and keeps it when the form is applied."""
    build_pool(12, units)
    client.force_login(manager)
    for query in ("kind=activity", "status=draft,submitted", "country=LA&sector=logistics"):
        listed = client.get(f"/api/v1/projects/?{query}").json()["count"]
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200
        assert response.context["summary"]["count"] == listed, query
    html = client.get(URL, {"kind": "activity", "sector": "education"}).content.decode()
    assert '<input type="hidden" name="kind" value="activity">' in html
    assert 'name="sector"' in html and 'type="hidden" name="sector"' not in html


@pytest.mark.parametrize(
    ("params", "shown_at_field"),
    [
        ({"period_start": "2026-03-01", "period_end": "2026-02-01"}, True),
        # The FilterSet's names of the period fill the same fields.
        ({"period_after": "2026-03-01", "period_before": "2026-02-01"}, True),
        ({"sector": "space-travel"}, True),
        ({"status": "dreaming"}, False),
        ({"colour": "red"}, False),
    ],
)
def test_bad_filters_are_named_on_the_page(client, manager, units, params, shown_at_field):
    client.force_login(manager)
    response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    name = {"period_before": "period_end"}.get(list(params)[-1], list(params)[-1])
    form = response.context["form"]
    if shown_at_field:
        assert form.errors[name]
        assert form[name].value() == "2026-02-01" or name != "period_end"
    else:
        assert name in response.context["filter_errors"]
        assert f"{name}: " in response.content.decode()


def test_partner_is_refused(client, partner_user):
    client.force_login(partner_user)
    assert client.get(URL).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_officer_sees_own_unit_only(client, units):
    officer = make_user("dash-officer", "officer", units[0])
    build_pool(6, units)
    client.force_login(officer)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["summary"]["count"] == 2


def count_queries(client, user) -> int:
    client.force_login(user)
    client.get(URL)  # warm caches (content types, sessions) out of the measurement
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_pool(client, manager, units):
    build_pool(5, units)
    small = count_queries(client, manager)
    build_pool(45, units)
    large = count_queries(client, manager)
    assert small == large
    assert large < 40


def test_bar_chart_scales_to_the_largest_value():
    bars = [
        charts.Bar("a", 10, "10", "/a"),
        charts.Bar("b", 5, "5", "/b"),
        charts.Bar("c", 0, "0", "/c"),
    ]
    chart = charts.bar_chart(bars, width=560, label_width=190)
    plot = 560 - 190 - 70
    assert [row["length"] for row in chart["rows"]] == [plot, plot / 2, 0]
    assert chart["height"] == 3 * 28


def test_gauge_marks_a_share_below_its_target():
    below = charts.gauge("p2p", 0.15, target=0.2)
    assert below["below_target"] and below["display"] == "15.0%"
    assert below["target_x"] == 72.0
    assert not charts.gauge("p2p", 0.25, target=0.2)["below_target"]
    assert charts.gauge("none", None)["display"] == "-"


def test_trend_months_run_without_gaps():
    assert charts.month_range("2025-11", "2026-02") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    flow = {
        "entries_by_month": [
            {"month": "2025-12", "entries": {"submitted": 2}},
            {"month": "2026-02", "entries": {"submitted": 1, "selected": 1}},
        ]
    }
    chart = dashboard._trend(flow)
    assert [tick["label"] for tick in chart["ticks"]] == ["2025-12", "2026-01", "2026-02"]
    submitted = chart["lines"][0]
    assert [dot["count"] for dot in submitted["dots"]] == [2, 0, 1]


def test_dashboard_map_counts_warehouses_per_region(client, manager, lead_unit, officer):
    """Distribution centres and overseas warehouses per corridor region (counted by the
    database), the regions without any, removed sites left out."""
    from projects.sites import services as site_services

    laos = factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", 50), ("TH", 50)])
    kazakhstan = factories.ProjectFactory(lead_unit=lead_unit, countries=[("KZ", 100)])

    def site(project, country, facility_type, latitude, longitude):
        return site_services.site_add(
            actor=officer,
            project=project,
            data={"name_en": f"{facility_type} {country}", "latitude": latitude,
                  "longitude": longitude, "country": country, "facility_type": facility_type},
        )  # fmt: skip

    site(laos, "LA", "distribution_centre", "17.9", "102.6")
    site(laos, "TH", "distribution_centre", "13.7", "100.5")
    site(laos, "TH", "overseas_warehouse", "13.1", "100.9")
    site(laos, "LA", "port", "18.0", "102.7")  # not a warehouse: not counted
    site(kazakhstan, "KZ", "overseas_warehouse", "44.2", "80.4")
    gone = site(kazakhstan, "KZ", "distribution_centre", "43.2", "76.9")
    site_services.site_remove(actor=officer, site=gone)
    client.force_login(manager)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    coverage = response.context["site_map"]["coverage"]
    regions = {r["code"]: r for r in coverage["regions"]}
    assert (regions["035"]["distribution_centres"], regions["035"]["overseas_warehouses"]) == (2, 1)
    assert (regions["143"]["distribution_centres"], regions["143"]["overseas_warehouses"]) == (0, 1)
    assert regions["034"]["total"] == regions["145"]["total"] == 0
    assert coverage["without"] == [regions["034"]["label"], regions["145"]["label"]]


def test_dashboard_map_points_newest_first_with_their_projects(
    client, manager, lead_unit, officer, monkeypatch
):
    from projects.sites import map as site_map
    from projects.sites import services as site_services

    older = factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", 100)])
    newer = factories.ProjectFactory(lead_unit=lead_unit, countries=[("TH", 100)])
    for project, country, name, latitude, longitude in (
        (older, "LA", "Vientiane dry port", "17.881200", "102.693900"),
        (newer, "TH", "Laem Chabang", "13.083331", "100.883339"),
        (newer, "TH", "Rayong park", "12.9236", "101.2510"),
    ):
        site = site_services.site_add(
            actor=officer,
            project=project,
            data={"name_en": name, "name_zh": "", "latitude": latitude,
                  "longitude": longitude, "country": country},
        )  # fmt: skip
    site_services.site_remove(actor=officer, site=site)  # Rayong: removed, not drawn
    factories.ProjectFactory(lead_unit=lead_unit, countries=[("KZ", 100)])  # no sites
    client.force_login(manager)
    site_map_context = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").context["site_map"]
    points = site_map_context["config"]["sites"]
    assert [(p["name"], p["value"], p["project"], p["url"]) for p in points] == [
        ("Laem Chabang", [100.883339, 13.083331], newer.code,
         f"/admin/projects/project/{newer.pk}/change/"),
        ("Vientiane dry port", [102.6939, 17.8812], older.code,
         f"/admin/projects/project/{older.pk}/change/"),
    ]  # fmt: skip
    assert site_map_context["truncated"] is False
    monkeypatch.setattr(site_map, "MAX_MAP_SITES", 1)
    site_map_context = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").context["site_map"]
    assert [p["name"] for p in site_map_context["config"]["sites"]] == ["Laem Chabang"]
    assert site_map_context["truncated"] is True
