"""Contract tests of /api/v1/: each resource, each filter, pagination, safe writes, query
counts. The routes that call the workflow services (transitions, reviews, decisions,
progress) and the history/export modules are exercised in `test_api_matrix.py` and at
the end of this file."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from partners.models import Partner
from projects import selectors, services
from projects.models import Project
from projects.reporting import exports
from registry.models import Sector
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"


def etag(project: Project) -> str:
    project.refresh_from_db()
    return f'"{project.code}-v{project.version}"'


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


# --- Reading projects ----------------------------------------------------------------------


def test_project_detail_has_relations_and_etag(api_client, manager, project):
    response = api_client(manager).get(f"{API}/projects/{project.code}/")
    assert response.status_code == 200
    assert response["ETag"] == f'"{project.code}-v1"'
    body = response.json()
    assert body["code"] == project.code and body["status"] == "draft"
    assert body["countries"] == [
        {"country": "LA", "name_zh": "老挝", "name_en": "Laos", "share": "100.00"}
    ]
    assert body["sectors"][0]["sector"] == "logistics-rail"
    assert body["sectors"][0]["parent"] == "logistics"
    assert body["participations"][0]["role"] == "partner"
    assert body["lead_unit"]["id"] == project.lead_unit_id
    assert "internal_notes" in body and "risk_notes" in body


def test_if_none_match_gives_304(api_client, manager, project):
    client = api_client(manager)
    tag = client.get(f"{API}/projects/{project.code}/")["ETag"]
    assert client.get(f"{API}/projects/{project.code}/", HTTP_IF_NONE_MATCH=tag).status_code == 304


def test_partner_sees_no_internal_fields(api_client, partner_user, project):
    Project.objects.filter(pk=project.pk).update(
        internal_notes="秘密", risk_notes="风险", status="submitted"
    )
    client = api_client(partner_user)
    detail = client.get(f"{API}/projects/{project.code}/").json()
    listed = client.get(f"{API}/projects/").json()["results"][0]
    for body in (detail, listed):
        assert "internal_notes" not in body and "risk_notes" not in body
        assert "秘密" not in str(body) and "风险" not in str(body)


def test_partner_lists_only_projects_of_its_institution(
    api_client, partner_user, project, lead_unit
):
    factories.ProjectFactory(lead_unit=lead_unit)  # the partner takes no part in this one
    # Drafts are the office's working copies: the partner follows a project from submission.
    assert codes(api_client(partner_user).get(f"{API}/projects/")) == []
    Project.objects.filter(pk=project.pk).update(status="submitted")
    assert codes(api_client(partner_user).get(f"{API}/projects/")) == [project.code]


def test_officer_lists_only_own_unit(api_client, officer, other_officer, project, other_unit):
    theirs = factories.ProjectFactory(lead_unit=other_unit)
    assert codes(api_client(officer).get(f"{API}/projects/")) == [project.code]
    assert codes(api_client(other_officer).get(f"{API}/projects/")) == [theirs.code]


# --- Writing projects ----------------------------------------------------------------------


def test_officer_creates_project_through_the_service(api_client, officer, lead_unit):
    response = api_client(officer).post(
        f"{API}/projects/",
        {
            "title_zh": "中老铁路冷链班列",
            "lead_unit": lead_unit.pk,
            "estimated_value": "2500000.00",
            "currency": "USD",
            "countries": [{"country": "LA", "share": "60"}, {"country": "TH", "share": "40"}],
            "sectors": [{"sector": "logistics-rail"}],
            "tags": ["冷链"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(code=body["code"])
    assert response["Location"].endswith(f"/projects/{project.code}/")
    assert response["ETag"] == f'"{project.code}-v1"'
    assert project.status == "draft" and project.created_by == officer
    assert {row.history_user for row in project.history.all()} == {officer}
    assert [c["country"] for c in body["countries"]] == ["LA", "TH"]
    assert body["tags"] == ["冷链"]


def test_create_with_bad_shares_is_400_with_fields_and_writes_nothing(
    api_client, officer, lead_unit
):
    before = Project.objects.count()
    response = api_client(officer).post(
        f"{API}/projects/",
        {
            "title_zh": "x",
            "lead_unit": lead_unit.pk,
            "countries": [{"country": "LA", "share": "60"}, {"country": "TH", "share": "30"}],
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "countries" in response.json()["error"]["fields"]
    assert Project.objects.count() == before


@pytest.mark.parametrize("field", ["status", "code", "version", "created_by", "nonsense"])
def test_read_only_and_unknown_fields_are_refused(api_client, officer, project, field):
    response = api_client(officer).patch(
        f"{API}/projects/{project.code}/",
        {field: "selected", "title_en": "changed"},
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    project.refresh_from_db()
    assert (project.status, project.version, project.title_en) == (
        "draft",
        1,
        project.title_en,
    ) and project.title_en != "changed"


def test_patch_with_current_etag_changes_and_bumps_etag(api_client, officer, project):
    client = api_client(officer)
    response = client.patch(
        f"{API}/projects/{project.code}/", {"title_en": "Cold chain"}, HTTP_IF_MATCH=etag(project)
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{project.code}-v2"'
    assert response.json()["title_en"] == "Cold chain"
    project.refresh_from_db()
    assert project.history.latest().history_user == officer
    # PATCH keeps the lists it was not given
    assert project.project_countries.count() == 1


def test_write_without_if_match_is_428_and_changes_nothing(api_client, officer, project):
    response = api_client(officer).patch(f"{API}/projects/{project.code}/", {"title_en": "x"})
    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"
    project.refresh_from_db()
    assert project.version == 1 and project.title_en != "x"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_stale_if_match_is_412_and_changes_nothing(api_client, officer, project, lead_unit, method):
    client = api_client(officer)
    stale = etag(project)
    first = client.patch(f"{API}/projects/{project.code}/", {"title_en": "A"}, HTTP_IF_MATCH=stale)
    assert first.status_code == 200
    response = getattr(client, method)(
        f"{API}/projects/{project.code}/",
        {"title_en": "B", "lead_unit": lead_unit.pk},
        HTTP_IF_MATCH=stale,
    )
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "stale_write"
    project.refresh_from_db()
    assert (project.title_en, project.version) == ("A", 2)


@pytest.mark.parametrize("header", ['"P999999-v1"', "garbage", 'W/"x"'])
def test_if_match_of_something_else_is_412(api_client, officer, project, header):
    response = api_client(officer).patch(
        f"{API}/projects/{project.code}/", {"title_en": "x"}, HTTP_IF_MATCH=header
    )
    assert response.status_code == 412


def test_if_match_star_is_not_enough(api_client, officer, project):
    response = api_client(officer).patch(
        f"{API}/projects/{project.code}/", {"title_en": "x"}, HTTP_IF_MATCH="*"
    )
    assert response.status_code == 428


def test_race_lost_under_the_lock_is_412(api_client, officer, project, monkeypatch):
    """Another writer commits between the view's If-Match check and the service's lock:
    the service sees the newer version under the lock and refuses."""
    from projects import services

    real_update = services.project_update

    def update_after_someone_else(**kwargs):
        Project.objects.filter(pk=project.pk).update(version=7)
        return real_update(**kwargs)

    monkeypatch.setattr(services, "project_update", update_after_someone_else)
    response = api_client(officer).patch(
        f"{API}/projects/{project.code}/", {"title_en": "late"}, HTTP_IF_MATCH=etag(project)
    )
    assert response.status_code == 412
    project.refresh_from_db()
    assert project.title_en != "late"


def test_put_replaces_everything(api_client, officer, project, lead_unit):
    response = api_client(officer).put(
        f"{API}/projects/{project.code}/",
        {"title_zh": "全新", "lead_unit": lead_unit.pk, "sectors": [{"sector": "trade"}]},
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title_zh"] == "全新" and body["title_en"] == ""
    assert body["countries"] == [] and [s["sector"] for s in body["sectors"]] == ["trade"]
    assert body["participations"] == [] and body["estimated_value"] is None


def test_put_without_lead_unit_is_400(api_client, officer, project):
    response = api_client(officer).put(
        f"{API}/projects/{project.code}/", {"title_zh": "x"}, HTTP_IF_MATCH=etag(project)
    )
    assert response.status_code == 400
    assert "lead_unit" in response.json()["error"]["fields"]


def test_officer_cannot_hand_project_to_foreign_unit(api_client, officer, project, other_unit):
    response = api_client(officer).patch(
        f"{API}/projects/{project.code}/", {"lead_unit": other_unit.pk}, HTTP_IF_MATCH=etag(project)
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    project.refresh_from_db()
    assert project.lead_unit_id != other_unit.pk


# --- Filters -------------------------------------------------------------------------------


@pytest.fixture
def pool(lead_unit, foreign_partner):
    """Four projects that differ in every filtered attribute."""
    thai = factories.PartnerFactory(country_id="TH", name_zh="泰国港务集团", name_en="Thai Port")
    rail = factories.ProjectFactory(
        code="P100001",
        title_zh="中老铁路冷链",
        kind="project",
        lead_unit=lead_unit,
        estimated_value=Decimal("100"),
        risk_level="low",
        planned_start=datetime.date(2026, 1, 1),
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
        partners=[(foreign_partner, "partner")],
    )
    port = factories.ProjectFactory(
        code="P100002",
        title_zh="钦州港航线",
        kind="project",
        lead_unit=lead_unit,
        estimated_value=Decimal("5000"),
        risk_level="high",
        planned_start=datetime.date(2026, 6, 1),
        countries=[("TH", 100)],
        sectors=[("logistics-shipping", 100)],
        partners=[(thai, "implementing")],
    )
    forum = factories.ProjectFactory(
        code="P100003",
        title_zh="东盟教育论坛",
        kind="activity",
        lead_unit=lead_unit,
        estimated_value=None,
        currency="",
        countries=[("KZ", 100)],
        sectors=[("education", 100)],
    )
    selected = factories.ProjectFactory(
        code="P100004",
        title_zh="跨境电商园区",
        lead_unit=lead_unit,
        estimated_value=Decimal("900"),
        countries=[("VN", 100)],
        sectors=[("trade", 100)],
    )
    Project.objects.filter(pk=selected.pk).update(
        status="selected", next_review_due=datetime.date(2020, 1, 1)
    )
    Project.objects.filter(pk=port.pk).update(status="submitted")
    return {"rail": rail, "port": port, "forum": forum, "selected": selected, "thai": thai}


def listed(client, query: str) -> set[str]:
    response = client.get(f"{API}/projects/?{query}")
    assert response.status_code == 200, response.content
    return {row["title_zh"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=draft", {"中老铁路冷链", "东盟教育论坛"}),
        ("status=submitted,selected", {"钦州港航线", "跨境电商园区"}),
        ("status=submitted&status=selected", {"钦州港航线", "跨境电商园区"}),
        ("kind=activity", {"东盟教育论坛"}),
        ("sector=logistics", {"中老铁路冷链", "钦州港航线"}),
        ("sector=logistics-rail", {"中老铁路冷链"}),
        ("country=TH", {"钦州港航线"}),
        ("country_group=asean", {"中老铁路冷链", "钦州港航线", "跨境电商园区"}),
        ("country_group=central-asia", {"东盟教育论坛"}),
        ("value_min=900", {"钦州港航线", "跨境电商园区"}),
        ("value_max=900", {"中老铁路冷链", "跨境电商园区"}),
        ("value_min=100&value_max=900", {"中老铁路冷链", "跨境电商园区"}),
        ("planned_start_after=2026-03-01", {"钦州港航线"}),
        ("planned_start_before=2026-03-01", {"中老铁路冷链"}),
        ("risk=high", {"钦州港航线"}),
        ("risk=low,high", {"中老铁路冷链", "钦州港航线"}),
        ("review_overdue=true", {"跨境电商园区"}),
        ("review_overdue=false", {"中老铁路冷链", "钦州港航线", "东盟教育论坛"}),
        ("search=冷链", {"中老铁路冷链"}),
        ("search=港", {"钦州港航线"}),
        ("search=thai port", {"钦州港航线"}),  # a participating partner's English name
        ("search=老挝工商", {"中老铁路冷链"}),  # a participating partner's Chinese name
        ("search=博览事务", {"中老铁路冷链", "钦州港航线", "东盟教育论坛", "跨境电商园区"}),
        ("search=p100003", {"东盟教育论坛"}),
        ("search=铁路 冷链", {"中老铁路冷链"}),
        ("search=铁路 航线", set()),
    ],
)
def test_project_filters(api_client, manager, pool, query, expected):
    assert listed(api_client(manager), query) == expected


def test_partner_and_lead_unit_filters(api_client, manager, pool, foreign_partner, lead_unit):
    client = api_client(manager)
    assert listed(client, f"partner={foreign_partner.pk}") == {"中老铁路冷链"}
    assert listed(client, f"partner={pool['thai'].pk}") == {"钦州港航线"}
    assert len(listed(client, f"lead_unit={lead_unit.pk}")) == 4
    assert listed(client, f"lead_unit={pool['thai'].pk}") == set()


def test_date_time_filters(api_client, manager, pool):
    client = api_client(manager)
    old = timezone.now() - datetime.timedelta(days=30)
    Project.objects.filter(pk=pool["forum"].pk).update(created_at=old, updated_at=old)
    cut = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert listed(client, f"created_before={cut.replace('+', '%2B')}") == {"东盟教育论坛"}
    assert "东盟教育论坛" not in listed(client, f"created_after={cut.replace('+', '%2B')}")
    assert "东盟教育论坛" not in listed(client, f"updated_since={cut.replace('+', '%2B')}")


@pytest.mark.parametrize(
    "query",
    [
        "colour=red",
        "status=draft&title_zh__icontains=x",
        "status=nonsense",
        "sector=no-such-sector",
        "country=XX",
        "value_min=abc",
        "planned_start_after=yesterday",
        "ordering=internal_notes",
        "review_overdue=perhaps",
    ],
)
def test_unknown_or_invalid_filter_is_400(api_client, manager, pool, query):
    response = api_client(manager).get(f"{API}/projects/?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"unknown_parameter", "invalid"} and error["fields"]


@pytest.mark.parametrize(
    "path",
    ["/partners/", "/contacts/", "/countries/", "/country-groups/", "/sectors/"],
)
def test_unknown_parameter_is_400_on_every_list(api_client, manager, path):
    response = api_client(manager).get(f"{API}{path}?bogus=1")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_parameter"


def test_unknown_parameter_is_400_on_sub_resources(api_client, manager, project):
    for sub in ("reviews", "support-decisions", "progress-updates", "transitions"):
        response = api_client(manager).get(f"{API}/projects/{project.code}/{sub}/?bogus=1")
        assert response.status_code == 400, sub


def test_ordering_on_declared_fields(api_client, manager, pool):
    client = api_client(manager)
    assert codes(client.get(f"{API}/projects/?ordering=code")) == [
        "P100001",
        "P100002",
        "P100003",
        "P100004",
    ]
    assert codes(client.get(f"{API}/projects/?ordering=-estimated_value&value_min=0")) == [
        "P100002",
        "P100004",
        "P100001",
    ]


# --- Pagination ----------------------------------------------------------------------------


def test_page_size_is_capped_at_100(api_client, manager, lead_unit):
    Project.objects.bulk_create(
        Project(code=f"B{i:05d}", title_zh=f"项目{i}", lead_unit=lead_unit) for i in range(105)
    )
    body = api_client(manager).get(f"{API}/projects/?page_size=1000").json()
    assert body["count"] == 105 and len(body["results"]) == 100 and body["next"]


def test_page_out_of_range_is_404_in_error_shape(api_client, manager, project):
    response = api_client(manager).get(f"{API}/projects/?page=99")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_sync_cursor_walks_changes_in_update_order(api_client, partner_user, foreign_partner):
    projects = [
        factories.ProjectFactory(status="submitted", partners=[(foreign_partner, "partner")])
        for _ in range(5)
    ]
    base = timezone.now() - datetime.timedelta(hours=1)
    for minutes, project in enumerate(reversed(projects)):
        Project.objects.filter(pk=project.pk).update(
            updated_at=base + datetime.timedelta(minutes=minutes)
        )
    client = api_client(partner_user)
    since = (base + datetime.timedelta(minutes=1)).isoformat().replace("+", "%2B")
    page = client.get(f"{API}/projects/sync/?updated_since={since}&page_size=2").json()
    seen = [row["code"] for row in page["results"]]
    assert "count" not in page
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["code"] for row in page["results"]]
    assert seen == [p.code for p in reversed(projects)][1:]
    # The next sync starts from the last row's updated_at and sees only later changes.
    last = client.get(f"{API}/projects/{seen[-1]}/").json()["updated_at"]
    Project.objects.filter(pk=projects[4].pk).update(updated_at=timezone.now())
    since = last.replace("+", "%2B")
    later = client.get(f"{API}/projects/sync/?updated_since={since}").json()["results"]
    assert [row["code"] for row in later] == [seen[-1], projects[4].code]


def test_partner_sync_endpoint(api_client, manager, lead_unit, foreign_partner):
    body = api_client(manager).get(f"{API}/partners/sync/?page_size=1").json()
    assert len(body["results"]) == 1 and "cursor=" in body["next"]


# --- Query counts --------------------------------------------------------------------------


@pytest.fixture
def big_pool(lead_unit, foreign_partner):
    """100 projects, each with 2 countries, 2 sectors, 3 participations and 2 tags, all
    visible to the officer, reviewer, manager and the partner user."""
    from projects.models import Participation, ProjectCountry, ProjectSector, Tag

    extra = factories.PartnerFactory(country_id="TH")
    Project.objects.bulk_create(
        Project(code=f"Q{i:05d}", title_zh=f"项目{i}", lead_unit=lead_unit, status="submitted")
        for i in range(100)
    )
    projects = list(Project.objects.filter(code__startswith="Q"))
    rail, port = Sector.objects.filter(code__in=["logistics-rail", "logistics-shipping"])
    tags = [Tag.objects.create(name="冷链"), Tag.objects.create(name="RCEP")]
    for project in projects:
        ProjectCountry.objects.bulk_create(
            [
                ProjectCountry(project=project, country_id="LA", share=50),
                ProjectCountry(project=project, country_id="TH", share=50),
            ]
        )
        ProjectSector.objects.bulk_create(
            [
                ProjectSector(project=project, sector=rail),
                ProjectSector(project=project, sector=port),
            ]
        )
        Participation.objects.bulk_create(
            [
                Participation(project=project, partner=foreign_partner, role="partner"),
                Participation(project=project, partner=extra, role="funding"),
                Participation(project=project, partner=lead_unit, role="lead"),
            ]
        )
        project.tags.set(tags)
    return projects


# Per request: the role groups (none for a superuser) and the memberships (only for
# users whose visibility depends on their institutions) are read once.
AUTH_QUERIES = {"officer": 2, "reviewer": 1, "manager": 1, "partner_user": 2, "admin_user": 0}
ROLE_FIXTURES = list(AUTH_QUERIES)
NESTED_LISTS = 3  # countries, sectors, participations


@pytest.mark.parametrize("role", ROLE_FIXTURES)
def test_list_query_count_is_constant_in_page_size(
    request, api_client, big_pool, django_assert_num_queries, role
):
    user_id = request.getfixturevalue(role).pk

    def fetch(size):
        # A fresh user object per request, as in production.
        client = api_client(get_user_model().objects.get(pk=user_id))
        with django_assert_num_queries(expected):
            response = client.get(f"{API}/projects/?page_size={size}&status=submitted")
        assert response.status_code == 200
        return response

    # auth data, count, the page's ids, the page (with the lead unit, the tag names and
    # the nested lists, or one query per nested list where the database cannot order
    # inside an aggregate: `selectors.lists_in_page`). The count is capped
    # (`registry.counting`): one query below the exact-count limit.
    expected = AUTH_QUERIES[role] + 3 + (0 if selectors.lists_in_page() else NESTED_LISTS)
    one = fetch(1)
    hundred = fetch(100)
    assert len(one.json()["results"]) == 1 and len(hundred.json()["results"]) == 100
    assert len(hundred.json()["results"][0]["participations"]) == 3
    assert hundred.json()["results"][0]["tags"] == ["RCEP", "冷链"]


@pytest.mark.parametrize("role", ROLE_FIXTURES)
def test_sync_query_count_is_constant_in_page_size(
    request, api_client, big_pool, django_assert_num_queries, role
):
    user_id = request.getfixturevalue(role).pk
    for size in (1, 100):
        client = api_client(get_user_model().objects.get(pk=user_id))
        # auth data, the page (with its nested lists, or one query each); no count
        nested = 0 if selectors.lists_in_page() else NESTED_LISTS
        with django_assert_num_queries(AUTH_QUERIES[role] + 1 + nested):
            response = client.get(f"{API}/projects/sync/?page_size={size}")
        assert len(response.json()["results"]) == size


@pytest.mark.parametrize("role", ROLE_FIXTURES)
def test_detail_query_count_is_fixed(
    request, api_client, big_pool, lead_unit, django_assert_num_queries, role
):
    user_id = request.getfixturevalue(role).pk
    small = factories.ProjectFactory(
        lead_unit=lead_unit,
        status="submitted",
        partners=[(Partner.objects.get(name_en="Lao Chamber"), "partner")],
    )
    expected = AUTH_QUERIES[role] + 5  # the project (with its tag names), 3 prefetches, sites
    for project in (small, big_pool[0]):
        client = api_client(get_user_model().objects.get(pk=user_id))
        with django_assert_num_queries(expected):
            assert client.get(f"{API}/projects/{project.code}/").status_code == 200


# --- Other resources -----------------------------------------------------------------------


def test_reference_resources(api_client, partner_user):
    client = api_client(partner_user)
    la = client.get(f"{API}/countries/LA/").json()
    assert (la["iso3"], la["name_zh"]) == ("LAO", "老挝")
    assert client.get(f"{API}/countries/?group=asean&page_size=100").json()["count"] == 11
    assert client.get(f"{API}/countries/?region_code=142&page_size=1").json()["count"] > 40
    asean = client.get(f"{API}/country-groups/asean/").json()
    assert "LA" in asean["members"]
    assert client.get(f"{API}/country-groups/?kind=bloc").status_code == 200
    rail = client.get(f"{API}/sectors/logistics-rail/").json()
    assert rail["parent"] == "logistics"
    children = client.get(f"{API}/sectors/?parent=logistics&page_size=100").json()["results"]
    assert children and all(row["parent"] == "logistics" for row in children)
    top = client.get(f"{API}/sectors/?top_level=true&page_size=100").json()["results"]
    assert top and all(row["parent"] is None for row in top)
    assert client.get(f"{API}/sectors/?people_to_people=true").json()["count"] > 0
    assert client.get(f"{API}/countries/XX/").status_code == 404


def test_me(api_client, officer, lead_unit, partner_user):
    body = api_client(officer).get(f"{API}/me/").json()
    assert body["username"] == "officer" and body["roles"] == ["officer"]
    assert [i["id"] for i in body["institutions"]] == [lead_unit.pk]
    assert api_client(partner_user).get(f"{API}/me/").json()["roles"] == ["partner"]


def test_partners_visible_to_a_partner_user_are_those_of_its_projects(
    api_client, partner_user, project, foreign_partner, lead_unit, manager
):
    stranger = factories.PartnerFactory(country_id="VN", name_zh="越南某公司")
    Project.objects.filter(pk=project.pk).update(status="submitted")
    ids = {row["id"] for row in api_client(partner_user).get(f"{API}/partners/").json()["results"]}
    assert ids == {foreign_partner.pk, lead_unit.pk}
    assert api_client(partner_user).get(f"{API}/partners/{stranger.pk}/").status_code == 404
    staff_ids = {row["id"] for row in api_client(manager).get(f"{API}/partners/").json()["results"]}
    assert stranger.pk in staff_ids


def test_partner_filters(api_client, manager, lead_unit, foreign_partner):
    client = api_client(manager)

    def ids(query):
        return {row["id"] for row in client.get(f"{API}/partners/?{query}").json()["results"]}

    assert ids("country=LA") == {foreign_partner.pk}
    assert ids("search=博览") == {lead_unit.pk}
    assert ids("search=lao") == {foreign_partner.pk}
    assert ids("kind=enterprise") == {lead_unit.pk, foreign_partner.pk}
    Partner.objects.filter(pk=foreign_partner.pk).update(active=False)
    assert ids("active=false") == {foreign_partner.pk}


def test_contacts_are_for_staff_only(api_client, officer, partner_user, foreign_partner):
    contact = factories.ContactFactory(partner=foreign_partner, phone="+856 20 1234")
    body = api_client(officer).get(f"{API}/contacts/?partner={foreign_partner.pk}").json()
    assert [row["id"] for row in body["results"]] == [contact.pk]
    for path in (f"{API}/contacts/", f"{API}/contacts/{contact.pk}/"):
        response = api_client(partner_user).get(path)
        assert response.status_code == 403
        assert "1234" not in response.content.decode()


# --- Sub-resources that need the workflow/history/export modules of other branches --------


def test_history_and_partner_view(api_client, officer, manager, partner_user, project):
    """Staff read every change; partners read the trail without internal fields."""
    services.project_update(actor=officer, project=project, data={"internal_notes": "秘密"})
    services.project_transition(project=project, actor=officer, action="submit")
    staff = api_client(manager).get(f"{API}/projects/{project.code}/history/").json()
    actions = [row["action"] for row in staff["results"]]
    assert actions[-2:] == ["changed", "submit"]
    assert staff["results"][-2]["changes"][0]["new"] == "秘密"
    assert staff["results"][-2]["actor"] == "officer"
    partner = api_client(partner_user).get(f"{API}/projects/{project.code}/history/")
    assert partner.status_code == 200
    assert [row["action"] for row in partner.json()["results"]][-1] == "submit"
    assert "秘密" not in partner.content.decode()


def test_export_wiring(api_client, manager, partner_user, pool, monkeypatch):
    """The export passes the filtered, visible queryset and the request's language."""
    seen = {}

    real_stream = exports.stream_projects_csv

    def stream(queryset, *, language):
        seen["codes"] = sorted(queryset.values_list("code", flat=True))
        seen["language"] = language
        return real_stream(queryset, language=language)

    monkeypatch.setattr(exports, "stream_projects_csv", stream)
    response = api_client(manager, "zh-hans").get(
        f"{API}/projects/export/?format=csv&kind=activity"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["P100003"]
    assert seen == {"codes": ["P100003"], "language": "zh-hans"}
    assert api_client(manager).get(f"{API}/projects/export/?format=pdf").status_code == 400
    bad = api_client(manager).get(f"{API}/projects/export/?colour=red")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_parameter"
    assert api_client(partner_user).get(f"{API}/projects/export/").status_code == 403


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_files(api_client, manager, pool, file_format):
    """Needs projects/reporting/exports.py (another branch)."""
    response = api_client(manager).get(f"{API}/projects/export/?format={file_format}&kind=project")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if file_format == "csv":
        assert "P100001" in content.decode("utf-8-sig") and "P100003" not in content.decode(
            "utf-8-sig"
        )
    else:
        assert content[:2] == b"PK"


def test_history_lists_api_writes(api_client, officer, project):
    """Needs projects/history.py (another branch)."""
    client = api_client(officer)
    client.patch(
        f"{API}/projects/{project.code}/", {"title_en": "Cold"}, HTTP_IF_MATCH=etag(project)
    )
    rows = client.get(f"{API}/projects/{project.code}/history/").json()["results"]
    changes = [c for row in rows for c in row["changes"] if c["field"] == "title_en"]
    assert any(change["new"] == "Cold" for change in changes)


def test_transition_submit_and_stale_transition(api_client, officer, project):
    """Needs projects.workflow and services.project_transition (another branch)."""
    client = api_client(officer)
    offered = client.get(f"{API}/projects/{project.code}/transitions/").json()
    assert "submit" in [t["action"] for t in offered]
    stale = etag(project)
    response = client.post(
        f"{API}/projects/{project.code}/transitions/", {"action": "submit"}, HTTP_IF_MATCH=stale
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    assert response["ETag"] != stale
    again = client.post(
        f"{API}/projects/{project.code}/transitions/",
        {"action": "withdraw", "reason": "x"},
        HTTP_IF_MATCH=stale,
    )
    assert again.status_code == 412
    project.refresh_from_db()
    assert project.status == "submitted"


def test_transition_from_wrong_state_is_409(api_client, manager, project):
    """Needs the workflow (another branch): `complete` is not possible from draft."""
    response = api_client(manager).post(
        f"{API}/projects/{project.code}/transitions/",
        {"action": "complete"},
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code in {403, 409}
    project.refresh_from_db()
    assert project.status == "draft"


def test_review_and_support_and_progress_flow(
    api_client, reviewer, manager, partner_user, project, foreign_partner
):
    """Needs review_record, support_decide and progress_post (another branch)."""
    Project.objects.filter(pk=project.pk).update(status="screening", screening_round=1)
    review = api_client(reviewer).post(
        f"{API}/projects/{project.code}/reviews/",
        {
            **dict.fromkeys(
                [
                    "strategic_fit",
                    "supply_chain_linkage",
                    "feasibility",
                    "partner_capacity",
                    "regional_balance",
                    "risk",
                ],
                4,
            ),
            "recommendation": "select",
            "conflict_declaration": "none",
            "comment": "好",
        },
        HTTP_IF_MATCH=etag(project),
    )
    assert review.status_code == 201, review.content
    assert review.json()["reviewer"] == "reviewer"
    assert api_client(manager).get(f"{API}/projects/{project.code}/reviews/").json()["count"] == 1

    Project.objects.filter(pk=project.pk).update(status="selected")
    decision = api_client(manager).post(
        f"{API}/projects/{project.code}/support-decisions/",
        {"kind": "funding", "amount": "50000.00", "currency": "CNY", "conditions": "按季度报告"},
        HTTP_IF_MATCH=etag(project),
    )
    assert decision.status_code == 201, decision.content
    seen_by_partner = api_client(partner_user).get(
        f"{API}/projects/{project.code}/support-decisions/"
    )
    assert seen_by_partner.json()["results"][0]["kind"] == "funding"
    assert "conditions" not in seen_by_partner.json()["results"][0]
    assert "按季度报告" not in seen_by_partner.content.decode()

    Project.objects.filter(pk=project.pk).update(status="in_progress")
    update = api_client(partner_user).post(
        f"{API}/projects/{project.code}/progress-updates/",
        {"note": "首批货物已发运"},
        HTTP_IF_MATCH=etag(project),
    )
    assert update.status_code == 201, update.content
    listed_updates = api_client(manager).get(f"{API}/projects/{project.code}/progress-updates/")
    assert listed_updates.json()["results"][0]["note"] == "首批货物已发运"


def test_child_post_with_stale_etag_writes_nothing(api_client, manager, project):
    """The If-Match check of child POSTs happens under the project lock, before the
    service runs (so this passes before and after the workflow branch is merged)."""
    Project.objects.filter(pk=project.pk).update(status="selected")
    stale = etag(project)
    Project.objects.filter(pk=project.pk).update(version=5)
    response = api_client(manager).post(
        f"{API}/projects/{project.code}/support-decisions/",
        {"kind": "promotion"},
        HTTP_IF_MATCH=stale,
    )
    assert response.status_code == 412
    assert project.support_decisions.count() == 0
    no_header = api_client(manager).post(
        f"{API}/projects/{project.code}/support-decisions/", {"kind": "promotion"}
    )
    assert no_header.status_code == 428


def test_other_officer_cannot_create_for_foreign_unit(api_client, other_officer, lead_unit):
    response = api_client(other_officer).post(
        f"{API}/projects/", {"title_zh": "x", "lead_unit": lead_unit.pk}
    )
    assert response.status_code == 403
    assert not Project.objects.filter(title_zh="x").exists()


def test_superuser_sees_everything(api_client, admin_user, project):
    assert api_client(admin_user).get(f"{API}/projects/{project.code}/").status_code == 200


def test_inactive_user_sees_nothing(api_client, project):
    ghost = make_user("ghost", "manager", is_active=False)
    response = api_client(ghost).get(f"{API}/projects/")
    assert response.status_code == 200 and response.json()["count"] == 0
