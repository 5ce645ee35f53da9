"""Rules written once and used everywhere: the sector and country-group filters of the
API and the admin agree, names follow the active language the same way on every model,
a project's lists come in one order in the API and the exports, a user's institutions
and a project's lead unit are one schema component, and the pipeline's order is the
workflow's."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from projects import workflow
from projects.models import Project, ProjectCountry, ProjectSector, ShareLink, Status
from projects.reporting import exports
from projects.results.models import StandardIndicator
from registry.models import Country, CountryGroup, Sector
from tests import factories

API = "/api/v1"


@pytest.fixture
def spread(lead_unit):
    """Projects in a sector, its sub-sectors, another sector; in and out of ASEAN."""
    return [
        factories.ProjectFactory(
            lead_unit=lead_unit, sectors=[("logistics-rail", 100)], countries=[("LA", 100)]
        ),
        factories.ProjectFactory(
            lead_unit=lead_unit, sectors=[("logistics", 100)], countries=[("KZ", 100)]
        ),
        factories.ProjectFactory(
            lead_unit=lead_unit,
            sectors=[("education-vocational", 100)],
            countries=[("TH", 50), ("KZ", 50)],
        ),
    ]


def _api_codes(client, **params) -> set[str]:
    response = client.get(f"{API}/projects/", params)
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def _admin_codes(client, **params) -> set[str]:
    response = client.get(reverse("admin:projects_project_changelist"), params)
    assert response.status_code == 200
    return {project.code for project in response.context["cl"].result_list}


@pytest.mark.parametrize(
    "params",
    [
        {"sector": "logistics"},
        {"sector": "logistics-rail"},
        {"sector": "education"},
        {"country_group": "asean"},
        {"country_group": "central-asia"},
    ],
)
def test_admin_and_api_filters_agree(client, api_client, admin_user, spread, params):
    client.force_login(admin_user)
    expected = _api_codes(api_client(admin_user), **params)
    assert expected  # each case matches something
    assert _admin_codes(client, **params) == expected


def test_the_reference_querysets_say_what_a_sector_and_a_group_cover(db):
    logistics = Sector.objects.get(code="logistics")
    family = set(Sector.objects.filter(pk__in=Sector.objects.family_ids(logistics)))
    assert family == {logistics, *logistics.children.all()}
    rail = Sector.objects.get(code="logistics-rail")
    assert set(Sector.objects.filter(pk__in=Sector.objects.family_ids(rail))) == {rail}
    asean = CountryGroup.objects.get(code="asean")
    members = set(Country.objects.filter(pk__in=CountryGroup.objects.country_ids(asean)))
    assert members == set(asean.members.all())


def test_an_unknown_code_is_the_changelists_bad_lookup(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:projects_project_changelist")
    for params in ({"sector": "no-such-sector"}, {"country_group": "no-such-group"}):
        response = client.get(url, params)
        assert response.status_code == 302 and "e=1" in response.url


def test_names_follow_the_active_language_the_same_way(db, lead_unit):
    project = factories.ProjectFactory(lead_unit=lead_unit, title_zh="陆海新通道", title_en="")
    laos = Country.objects.get(pk="LA")
    indicator = StandardIndicator.objects.create(
        code="teu", name_zh="集装箱", name_en="Containers", unit="TEU"
    )
    with translation.override("en"):
        assert laos.name == laos.name_en
        assert indicator.name == "Containers"
        # No English title: the Chinese one rather than nothing.
        assert project.title == "陆海新通道"
    with translation.override("zh-hans"):
        assert laos.name == laos.name_zh
        assert indicator.name == "集装箱"
        assert project.title == "陆海新通道"


def test_a_projects_lists_come_in_one_order_in_the_api_and_the_export(
    api_client, admin_user, lead_unit
):
    project = factories.ProjectFactory(
        lead_unit=lead_unit,
        sectors=[("logistics-rail", 50), ("education-vocational", 50)],
        countries=[("TH", 50), ("LA", 50)],
    )
    detail = api_client(admin_user).get(f"{API}/projects/{project.code}/").json()
    api_sectors = [row["sector"] for row in detail["sectors"]]
    api_countries = [row["country"] for row in detail["countries"]]
    expected_sectors = list(
        ProjectSector.objects.filter(project=project).values_list("sector__code", flat=True)
    )
    assert api_sectors == expected_sectors
    assert api_countries == ["LA", "TH"]
    with translation.override("en"):
        (row,) = exports.project_rows(Project.objects.filter(pk=project.pk))
        header = [str(h) for h in exports.headers()]
    countries_cell = row[header.index("countries (share %)")]
    sectors_cell = row[header.index("sectors (share %)")]
    assert [part.split(" ")[0] for part in countries_cell.split("; ")] == api_countries
    assert [part.split(" ")[0] for part in sectors_cell.split("; ")] == api_sectors


def test_a_users_institutions_and_a_lead_unit_are_one_component(api_client, admin_user):
    schema = api_client(admin_user).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    lead_unit = components["Project"]["properties"]["lead_unit"]
    lead_ref = lead_unit["allOf"][0]["$ref"] if "allOf" in lead_unit else lead_unit["$ref"]
    me = next(
        body for name, body in components.items() if "institutions" in body.get("properties", {})
    )
    assert me["properties"]["institutions"]["items"]["$ref"] == lead_ref


def test_share_links_are_one_kind_of_row(lead_unit):
    assert issubclass(ProjectCountry, ShareLink) and issubclass(ProjectSector, ShareLink)
    project = factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", 60), ("TH", 40)])
    row = ProjectCountry.objects.get(project=project, country_id="LA")
    assert row.share == Decimal(60)
    assert ProjectCountry.link_id() == "country_id" and ProjectSector.link_id() == "sector_id"


def test_the_pipeline_order_is_the_workflows(api_client, manager):
    assert set(workflow.PIPELINE_ORDER) == set(Status.values)
    assert workflow.PIPELINE_ORDER[: len(workflow.PIPELINE_PATH)] == workflow.PIPELINE_PATH
    response = api_client(manager).get(f"{API}/stats/summary/")
    assert response.status_code == 200, response.content
    keys = [row["key"] for row in response.json()["by_status"]]
    assert keys == list(workflow.PIPELINE_ORDER)
