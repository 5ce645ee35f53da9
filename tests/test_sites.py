"""Sites: validation (ranges, the project's countries), the services' rights, versions and
history, the API (detail, child routes, If-Match), sites.geojson (RFC 7946 shape, the
list's filters and visibility, the cap) and IATI `<location>`."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree
from rest_framework.renderers import JSONRenderer

from projects.errors import InvalidData, NotAllowed, StaleWrite
from projects.models import Project, ProjectSector, Site
from projects.reporting import iati
from projects.services import CountryShare, project_update
from projects.sites import api as sites_api
from projects.sites import services
from projects.sites.map import MAX_MAP_SITES
from tests import factories
from tests.conftest import make_user

API = "/api/v1"
pytestmark = pytest.mark.usefixtures("english")

VIENTIANE = {
    "name_zh": "万象赛色塔综合开发区",
    "name_en": "Vientiane Saysettha Development Zone",
    "latitude": "17.9757",
    "longitude": "102.6331",
    "country": "LA",
    "facility_type": "industrial_park",
}


def add(project, actor, **changes):
    return services.site_add(actor=actor, project=project, data={**VIENTIANE, **changes})


def etag(project):
    project.refresh_from_db()
    return f'"{project.code}-v{project.version}"'


# --- Validation and services -------------------------------------------------------------


def test_a_site_is_added_with_history_and_a_new_version(project, officer):
    version = project.version
    site = add(project, officer)
    assert site.latitude == Decimal("17.975700") and site.country_id == "LA"
    project.refresh_from_db()
    assert project.version == version + 1
    (record,) = site.history.all()
    assert record.history_type == "+" and record.history_user == officer


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", "90.0001"),
        ("latitude", "-91"),
        ("longitude", "180.5"),
        ("longitude", "-181"),
        ("latitude", "north"),
        ("latitude", "NaN"),
        ("facility_type", "spaceport"),
        ("exactness", "roughly"),
    ],
)
def test_points_out_of_range_and_unknown_choices_are_refused(project, officer, field, value):
    with pytest.raises(InvalidData) as error:
        add(project, officer, **{field: value})
    assert field in error.value.errors
    assert not Site.objects.exists()


def test_the_country_must_be_one_of_the_projects(project, officer):
    with pytest.raises(InvalidData) as error:
        add(project, officer, country="TH")
    assert "one of the project's countries" in error.value.errors["country"][0]
    with pytest.raises(InvalidData) as error:
        add(project, officer, country="ZZ")
    assert "country" in error.value.errors
    assert not Site.objects.exists()


def test_a_site_needs_a_name(project, officer):
    with pytest.raises(InvalidData) as error:
        add(project, officer, name_zh="", name_en=" ")
    assert "name_zh" in error.value.errors


def test_the_edges_of_the_ranges_are_accepted(project, officer):
    site = add(project, officer, latitude="-90", longitude="180")
    assert (site.latitude, site.longitude) == (Decimal("-90"), Decimal("180"))
    # More decimals than kept are rounded, not refused.
    site = add(project, officer, latitude="17.97572919", longitude="102.63313333")
    assert site.latitude == Decimal("17.975729")


def test_only_editors_of_the_project_write_sites(project, other_officer, partner_user, manager):
    for actor in (other_officer, partner_user, manager):
        with pytest.raises(NotAllowed):
            add(project, actor)
    assert not Site.objects.exists()


def test_a_stale_version_is_refused(project, officer):
    with pytest.raises(StaleWrite):
        services.site_add(
            actor=officer, project=project, data=VIENTIANE, expected_version=project.version - 1
        )


def test_change_and_remove_keep_the_row_and_history(project, officer):
    site = add(project, officer)
    site, changed = services.site_change(
        actor=officer, site=site, data={"facility_type": "dry_port"}
    )
    assert changed and site.facility_type == "dry_port"
    _same, changed = services.site_change(actor=officer, site=site, data={"admin_area": ""})
    assert not changed
    services.site_remove(actor=officer, site=site)
    site.refresh_from_db()
    assert site.removed_at is not None
    assert not Site.objects.current().exists()
    assert [r.history_type for r in site.history.order_by("history_id")] == ["+", "~", "~"]


def test_a_country_with_sites_cannot_leave_the_project(project, officer):
    add(project, officer)
    with pytest.raises(InvalidData) as error:
        project_update(
            actor=officer, project=project, data={}, countries=[CountryShare("TH", None)]
        )
    assert "LA" in error.value.errors["countries"][0]
    assert list(project.project_countries.values_list("country_id", flat=True)) == ["LA"]


# --- API ------------------------------------------------------------------------------------


def submitted(*projects):
    """Partners see a project from submission on (a draft is the office's working copy)."""
    Project.objects.filter(pk__in=[p.pk for p in projects]).update(status="submitted")


def test_project_detail_holds_its_sites_for_partners_too(
    api_client, partner_user, project, officer
):
    site = add(project, officer)
    submitted(project)
    removed = add(project, officer, name_en="Old depot")
    services.site_remove(actor=officer, site=removed)
    body = api_client(partner_user).get(f"{API}/projects/{project.code}/").json()
    assert [s["id"] for s in body["sites"]] == [site.pk]
    assert body["sites"][0] | {"latitude": None} == {
        "id": site.pk,
        "name_zh": VIENTIANE["name_zh"],
        "name_en": VIENTIANE["name_en"],
        "latitude": None,
        "longitude": "102.633100",
        "country": "LA",
        "facility_type": "industrial_park",
        "facility_type_label": "industrial park",
        "admin_area": "",
        "exactness": "exact",
    }
    # The list keeps its shape: no sites there.
    listed = api_client(partner_user).get(f"{API}/projects/").json()["results"][0]
    assert "sites" not in listed


def test_api_adds_changes_and_removes_a_site_with_if_match(api_client, officer, project):
    client = api_client(officer)
    url = f"{API}/projects/{project.code}/sites/"
    assert client.post(url, VIENTIANE, format="json").status_code == 428
    response = client.post(url, VIENTIANE, format="json", HTTP_IF_MATCH=etag(project))
    assert response.status_code == 201, response.json()
    site_id = response.json()["id"]
    assert response["ETag"] == etag(project)
    # The old ETag is now stale.
    stale = f'"{project.code}-v{project.version - 1}"'
    patch = client.patch(f"{url}{site_id}/", {"exactness": "approximate"}, HTTP_IF_MATCH=stale)
    assert patch.status_code == 412
    patch = client.patch(
        f"{url}{site_id}/", {"exactness": "approximate"}, HTTP_IF_MATCH=etag(project)
    )
    assert patch.status_code == 200 and patch.json()["exactness"] == "approximate"
    delete = client.delete(f"{url}{site_id}/", HTTP_IF_MATCH=etag(project))
    assert delete.status_code == 204
    assert client.get(f"{url}{site_id}/").status_code == 404
    assert Site.objects.get(pk=site_id).removed_at is not None


def test_api_bad_input_is_a_400_in_the_one_error_shape(api_client, officer, project):
    client = api_client(officer)
    url = f"{API}/projects/{project.code}/sites/"
    bad = {**VIENTIANE, "latitude": "95", "country": "TH"}
    response = client.post(url, bad, format="json", HTTP_IF_MATCH=etag(project))
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) >= {"latitude", "country"}
    unknown = client.post(
        url, {**VIENTIANE, "project": 1}, format="json", HTTP_IF_MATCH=etag(project)
    )
    assert unknown.status_code == 400 and "project" in unknown.json()["error"]["fields"]
    assert not Site.objects.exists()


def test_api_partners_read_but_do_not_write(api_client, partner_user, other_officer, project):
    submitted(project)
    url = f"{API}/projects/{project.code}/sites/"
    assert api_client(partner_user).get(url).status_code == 200
    response = api_client(partner_user).post(
        url, VIENTIANE, format="json", HTTP_IF_MATCH=etag(project)
    )
    assert response.status_code == 403
    # Another unit's officer does not even see the project.
    assert api_client(other_officer).get(url).status_code == 404


# --- sites.geojson ---------------------------------------------------------------------------


@pytest.fixture
def two_partners_sites(project, officer, lead_unit):
    """`project` (the partner's, submitted: partners see no drafts) with a site in Laos;
    another project, without the partner, with a site in Thailand."""
    Project.objects.filter(pk=project.pk).update(status="submitted")
    add(project, officer)
    other = factories.ProjectFactory(
        lead_unit=lead_unit, countries=[("TH", 100)], status="selected"
    )
    add(
        other,
        officer,
        name_zh="罗勇工业园",
        name_en="Rayong Industrial Park",
        latitude="12.9236",
        longitude="101.2510",
        country="TH",
    )
    return project, other


def test_geojson_is_an_rfc7946_feature_collection(api_client, manager, two_partners_sites):
    response = api_client(manager).get(f"{API}/sites.geojson")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["truncated"] is False and body["limit"] == sites_api.geojson_limit() == 2000
    assert len(body["features"]) == 2
    for feature in body["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], int)
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert isinstance(lon, float) and isinstance(lat, float)
        assert set(feature["properties"]) >= {"name_zh", "facility_type", "project", "country"}
    rayong = next(f for f in body["features"] if f["properties"]["country"] == "TH")
    assert rayong["geometry"]["coordinates"] == [101.251, 12.9236]  # longitude first


def test_a_partners_geojson_holds_only_its_projects(api_client, partner_user, two_partners_sites):
    project, other = two_partners_sites
    submitted(project, other)
    body = api_client(partner_user).get(f"{API}/sites.geojson").json()
    assert {f["properties"]["project"] for f in body["features"]} == {project.code}
    # Filtering for the other project's country gives nothing, not its site.
    body = api_client(partner_user).get(f"{API}/sites.geojson?country=TH").json()
    assert body["features"] == []


def test_geojson_takes_the_lists_filters(api_client, manager, two_partners_sites):
    project, other = two_partners_sites
    client = api_client(manager)
    for query, expected in (
        ("status=selected", {other.code}),
        ("country=LA", {project.code}),
        ("country_group=asean", {project.code, other.code}),
    ):
        body = client.get(f"{API}/sites.geojson?{query}").json()
        listed = client.get(f"{API}/projects/?{query}").json()["results"]
        assert {f["properties"]["project"] for f in body["features"]} == expected
        assert {p["code"] for p in listed} >= expected
    bad = client.get(f"{API}/sites.geojson?colour=red")
    assert bad.status_code == 400 and "colour" in bad.json()["error"]["fields"]
    assert client.get(f"{API}/sites.geojson?status=flying").status_code == 400


def test_geojson_is_capped(api_client, manager, two_partners_sites, settings):
    _project, other = two_partners_sites
    settings.SITES_GEOJSON_LIMIT = 1
    body = api_client(manager).get(f"{API}/sites.geojson").json()
    assert body["truncated"] is True and body["limit"] == 1
    # The newest project's site is the one kept.
    assert [f["properties"]["project"] for f in body["features"]] == [other.code]
    settings.SITES_GEOJSON_LIMIT = 2  # exactly as many as there are: not truncated
    body = api_client(manager).get(f"{API}/sites.geojson").json()
    assert len(body["features"]) == 2 and body["truncated"] is False and body["limit"] == 2


def test_geojson_default_cap_is_the_dashboard_maps(settings):
    del settings.SITES_GEOJSON_LIMIT  # unset: the default
    assert sites_api.geojson_limit() == MAX_MAP_SITES == 2000


def test_geojson_query_count_does_not_grow_with_the_sites(
    api_client, manager, two_partners_sites, officer
):
    """One query for the features whatever their number (no per-feature ORM access)."""
    _project, other = two_partners_sites
    client = api_client(manager)
    client.get(f"{API}/sites.geojson")  # warm: session, user, groups

    def queries_for_one_answer():
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"{API}/sites.geojson").json()
        return len(captured), len(body["features"])

    few, features = queries_for_one_answer()
    assert features == 2
    for n in range(12):
        add(other, officer, name_en=f"Depot {n}", latitude="13.1", longitude="100.9", country="TH")
    many, features = queries_for_one_answer()
    assert features == 14 and many == few
    with CaptureQueriesContext(connection) as captured:
        client.get(f"{API}/sites.geojson")
    reading_sites = [q["sql"] for q in captured if '"projects_site"' in q["sql"]]
    assert len(reading_sites) == 1 and "LIMIT 2001" in reading_sites[0]


def test_geojson_coordinates_keep_six_decimals(api_client, manager, two_partners_sites, officer):
    _project, other = two_partners_sites
    add(other, officer, name_en="Laem Chabang", latitude="13.083331", longitude="100.883339",
        country="TH")  # fmt: skip
    body = api_client(manager).get(f"{API}/sites.geojson").json()
    point = next(f for f in body["features"] if f["properties"]["name_en"] == "Laem Chabang")
    assert point["geometry"]["coordinates"] == [100.883339, 13.083331]


def test_geojson_needs_a_user(api_client, two_partners_sites):
    assert api_client(None).get(f"{API}/sites.geojson").status_code == 401


def test_geojson_is_in_the_schema(api_client, manager):
    schema = api_client(manager).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/sites.geojson"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"status", "country", "country_group", "search"} <= names
    assert "/api/v1/projects/{code}/sites/{site_id}/" in schema["paths"]


def test_geojson_body_is_what_the_json_renderer_writes(
    api_client, manager, two_partners_sites, officer
):
    """The features are written from their rows by a template: the body is byte for byte
    what DRF's JSONRenderer gives for the same data, whatever the strings hold."""
    _project, other = two_partners_sites
    awkward = 'Quay "7" \\ back\tslash\n</script>\u2028\u2029 \x01 码头 🚢'
    site = add(other, officer, name_en="Laem Chabang", latitude="13.083331",
               longitude="100.883339", country="TH")  # fmt: skip
    # Past the services' checks (as psql or an old import could write it).
    Site.objects.filter(pk=site.pk).update(name_en=awkward, admin_area='Chon "Buri"')
    Project.objects.filter(pk=other.pk).update(title_zh="林查班港\\“二期”")
    response = api_client(manager).get(f"{API}/sites.geojson")
    body = response.content
    data = json.loads(body)
    assert body == JSONRenderer().render(data)
    assert "\u2028" not in body.decode() and b"\\u2028" in body  # valid JavaScript too
    feature = next(f for f in data["features"] if f["id"] == site.pk)
    assert feature["properties"]["name_en"] == awkward
    assert feature["properties"]["admin_area"] == 'Chon "Buri"'
    assert feature["properties"]["project_title_zh"] == "林查班港\\“二期”"
    assert feature["properties"]["facility_type_label"] == "industrial park"
    assert feature["geometry"]["coordinates"] == [100.883339, 13.083331]


def test_geojson_as_plain_json_and_indented(api_client, manager, two_partners_sites):
    client = api_client(manager)
    geojson = client.get(f"{API}/sites.geojson")
    plain = client.get(f"{API}/sites.geojson?format=json")
    assert plain.status_code == 200 and plain["Content-Type"].startswith("application/json")
    assert plain.content == geojson.content
    indented = client.get(f"{API}/sites.geojson", HTTP_ACCEPT="application/geo+json; indent=2")
    assert indented.status_code == 200 and b'\n  "features"' in indented.content
    assert json.loads(indented.content) == json.loads(geojson.content)


def test_geojson_leaves_out_removed_sites_and_projects_without_sites(
    api_client, manager, two_partners_sites, officer, lead_unit
):
    project, other = two_partners_sites
    gone = add(other, officer, name_en="Old depot", latitude="13.5", longitude="100.5",
               country="TH")  # fmt: skip
    services.site_remove(actor=officer, site=gone)
    factories.ProjectFactory(lead_unit=lead_unit, countries=[("TH", 100)], status="selected")
    body = api_client(manager).get(f"{API}/sites.geojson").json()
    assert len(body["features"]) == 2 and gone.pk not in {f["id"] for f in body["features"]}
    assert all(f["id"] is not None for f in body["features"])
    assert {f["properties"]["project"] for f in body["features"]} == {project.code, other.code}


@pytest.mark.parametrize("who", ["manager", "partner_user"])
def test_geojson_search_finds_what_the_list_finds(
    request, api_client, who, two_partners_sites, officer
):
    """The search goes through the list's search plan (PostgreSQL) or the plain condition
    (SQLite): the same projects either way, visibility kept."""
    project, other = two_partners_sites
    submitted(project, other)
    Project.objects.filter(pk=other.pk).update(title_en="Rayong cold chain hub")
    client = api_client(request.getfixturevalue(who))
    for text, expected in (
        ("cold chain", {other.code}),
        ("RAYONG", {other.code}),
        (project.title_en.split()[0], {project.code}),
        ("nowhere-at-all", set()),
    ):
        if who == "partner_user":
            expected = expected & {project.code}
        body = client.get(f"{API}/sites.geojson", {"search": text}).json()
        listed = client.get(f"{API}/projects/", {"search": text}).json()["results"]
        assert {f["properties"]["project"] for f in body["features"]} == expected, text
        assert {p["code"] for p in listed} == expected, text


@pytest.mark.parametrize(
    ("probe_rows", "how"), [(1, "walked, a common search"), (1000, "by ids, all probed")]
)
def test_geojson_search_plans_on_postgres(
    on_postgres,
    monkeypatch,
    api_client,
    manager,
    two_partners_sites,
    officer,
    lead_unit,
    probe_rows,
    how,
):
    """On PostgreSQL a search is read by the list's search plan: by the ids it found, or,
    for a common search, by a condition checked row by row (STRPOS, no index): the same
    features either way, newest first."""
    from projects.api import search

    project, other = two_partners_sites
    Project.objects.filter(pk__in=[project.pk, other.pk]).update(title_en="Cold chain hub")
    third = factories.ProjectFactory(
        lead_unit=lead_unit, title_en="Cold chain depot", countries=[("TH", 100)]
    )
    add(third, officer, name_en="Depot", latitude="13.2", longitude="100.7", country="TH")
    monkeypatch.setattr(search, "PROBE_ROWS", probe_rows)
    monkeypatch.setattr(search, "RARE_HITS", 1)
    client = api_client(manager)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(f"{API}/sites.geojson", {"search": "chain cold"}).json()
    (statement,) = [q["sql"] for q in captured if '"projects_site"' in q["sql"]]
    assert ("STRPOS" in statement) == how.startswith("walked")
    assert [f["properties"]["project"] for f in body["features"]] == [
        third.code,
        other.code,
        project.code,
    ]
    assert client.get(f"{API}/sites.geojson", {"search": "chain nowhere"}).json()["features"] == []


def test_country_group_and_sector_filters_follow_their_reference_rows(
    api_client, manager, two_partners_sites
):
    """A group's countries and a sector's sub-sectors are read as lists of constants (for
    the planner's estimates): a change to them shows in the next answer."""
    from registry.models import Country, CountryGroup, Sector

    project, other = two_partners_sites
    client = api_client(manager)
    group = CountryGroup.objects.create(code="mekong-test", name_zh="湄公河", name_en="Mekong")
    group.members.add(Country.objects.get(pk="LA"))

    def codes(query):
        return {f["properties"]["project"]
                for f in client.get(f"{API}/sites.geojson?{query}").json()["features"]}  # fmt: skip

    assert codes("country_group=mekong-test") == {project.code}
    group.members.add(Country.objects.get(pk="TH"))
    assert codes("country_group=mekong-test") == {project.code, other.code}
    with CaptureQueriesContext(connection) as captured:
        client.get(f"{API}/sites.geojson?country_group=mekong-test")
    (statement,) = [q["sql"] for q in captured if '"projects_site"' in q["sql"]]
    assert "countrygroup_members" not in statement  # the members are constants in it
    logistics = Sector.objects.get(code="logistics-rail").parent
    assert codes(f"sector={logistics.code}") == {project.code}
    drones = Sector.objects.create(
        code="logistics-drones", parent=logistics, name_zh="无人机物流", name_en="Drones"
    )
    ProjectSector.objects.create(project=other, sector=drones, share=100)
    assert codes(f"sector={logistics.code}") == {project.code, other.code}
    assert codes("sector=logistics-drones") == {other.code}


# --- IATI -------------------------------------------------------------------------------


def test_iati_locations_are_valid_and_mapped(db, officer, lead_unit):
    project = factories.ProjectFactory(
        lead_unit=lead_unit,
        status="in_progress",
        planned_start=date(2025, 1, 1),
        summary_en="Cold-chain pilot",
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
    )
    add(project, officer, admin_area="Vientiane Capital")
    add(
        project,
        officer,
        name_zh="万象南站",
        name_en="",
        latitude="17.8812",
        longitude="102.6939",
        facility_type="dry_port",
        exactness="approximate",
    )
    add(project, officer, name_en="Somewhere", facility_type="other")
    output = io.BytesIO()
    result = iati.write_activities(output, Project.objects.filter(pk=project.pk))
    document = etree.fromstring(output.getvalue())
    assert iati.schema_errors(document) == [] and result.problems == []
    locations = document.xpath("//iati-activity/location")
    assert len(locations) == 3
    first, second, third = locations
    assert first.xpath("point/@srsName") == ["http://www.opengis.net/def/crs/EPSG/0/4326"]
    assert first.xpath("point/pos/text()") == ["17.975700 102.633100"]
    assert first.xpath("exactness/@code") == ["1"]
    assert first.xpath("location-class/@code") == ["3"]
    assert first.xpath("feature-designation/@code") == ["INDS"]
    assert first.xpath("description/narrative/text()") == ["Vientiane Capital"]
    assert second.xpath("exactness/@code") == ["2"]
    assert second.xpath("feature-designation/@code") == ["RYD"]
    assert third.xpath("location-class/@code") == ["4"] and not third.xpath("feature-designation")
    # Locations come after the recipient countries and before the sectors.
    tags = [child.tag for child in document.xpath("//iati-activity")[0]]
    assert tags.index("recipient-country") < tags.index("location") < tags.index("sector")


def test_removed_sites_are_not_published(db, officer, lead_unit):
    project = factories.ProjectFactory(
        lead_unit=lead_unit,
        status="in_progress",
        planned_start=date(2025, 1, 1),
        summary_en="x",
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
    )
    services.site_remove(actor=officer, site=add(project, officer))
    output = io.BytesIO()
    iati.write_activities(output, Project.objects.filter(pk=project.pk))
    assert etree.fromstring(output.getvalue()).xpath("//location") == []


def test_partner_user_fixture_is_partner_only(partner_user):
    # Guards the visibility tests above: the partner is not staff.
    from projects import access

    assert access.is_partner_only(partner_user)
    assert make_user  # the helper is importable for other site tests


# --- Demo data ---------------------------------------------------------------------------


def test_demo_projects_get_their_sites_once(db):
    from io import StringIO

    from django.core.management import call_command

    from projects import demo

    expected = sum(len(rows) for rows in demo.demo_sites().values())
    out = StringIO()
    call_command("load_demo", "--drafts-only", stdout=out)
    assert f"{expected} sites added" in out.getvalue()
    assert Site.objects.current().count() == expected >= 15
    # At their real places: Jebel Ali in the UAE, Khorgos in Kazakhstan, Qinzhou in China.
    jebel_ali = Site.objects.get(name_en="Jebel Ali Port")
    assert jebel_ali.country_id == "AE" and 24.9 < float(jebel_ali.latitude) < 25.1
    assert Site.objects.get(name_en="Khorgos Gateway dry port").country_id == "KZ"
    assert Site.objects.get(name_en="Qinzhou Port").country_id == "CN"
    # Every demo site lies in one of its project's countries (the service checked it).
    for site in Site.objects.select_related("project"):
        assert site.project.project_countries.filter(country_id=site.country_id).exists()
    call_command("load_demo", "--drafts-only", stdout=StringIO())
    assert Site.objects.count() == expected
