"""The admin: who may open which page, what an officer sees, how saving obeys the pool's
rules, and that the project list costs the same number of queries however long it is."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import Membership, Partner
from projects.models import Project, Tag
from registry.models import CountryGroup, Sector
from tests import factories
from tests.conftest import make_user

# --- The role-by-page matrix -------------------------------------------------------------

ROLES = ("anonymous", "partner", "officer", "reviewer", "manager", "admin")
MODELS = (
    "registry.country",
    "registry.countrygroup",
    "registry.sector",
    "partners.partner",
    "partners.contact",
    "partners.membership",
    "projects.project",
    "projects.tag",
)
VIEWS = ("changelist", "add", "change")

OK, NO = 200, 403
# For each staff role and model: changelist, add, change. Anonymous visitors and partner
# users (not staff: they use the API) are sent to the login page everywhere; superusers
# open everything.
EXPECTED = {
    "officer": {
        "registry.country": (OK, NO, OK),
        "registry.countrygroup": (OK, NO, OK),
        "registry.sector": (OK, NO, OK),
        "partners.partner": (OK, OK, OK),
        "partners.contact": (OK, OK, OK),
        "partners.membership": (NO, NO, NO),
        "projects.project": (OK, OK, OK),
        "projects.tag": (OK, OK, OK),
    },
    "reviewer": {
        "registry.country": (OK, NO, OK),
        "registry.countrygroup": (OK, NO, OK),
        "registry.sector": (OK, NO, OK),
        "partners.partner": (OK, NO, OK),
        "partners.contact": (OK, NO, OK),
        "partners.membership": (NO, NO, NO),
        "projects.project": (OK, NO, OK),
        "projects.tag": (OK, NO, OK),
    },
    "manager": {
        "registry.country": (OK, NO, OK),
        "registry.countrygroup": (OK, OK, OK),
        "registry.sector": (OK, NO, OK),
        "partners.partner": (OK, OK, OK),
        "partners.contact": (OK, OK, OK),
        "partners.membership": (OK, NO, OK),
        "projects.project": (OK, NO, OK),
        "projects.tag": (OK, NO, OK),
    },
}


def expected_status(role: str, model: str | None, view: str) -> int:
    if role in ("anonymous", "partner"):
        return 302
    if role == "admin" or model is None:
        return OK
    return EXPECTED[role][model][VIEWS.index(view)]


@pytest.fixture
def staff_login_partner(foreign_partner):
    """A partner user as the demo sets one up: a member of its institution, not staff."""
    return make_user("partner-api", "partner", foreign_partner, is_staff=False)


@pytest.fixture
def role_users(officer, reviewer, manager, admin_user, staff_login_partner):
    return {
        "anonymous": None,
        "partner": staff_login_partner,
        "officer": officer,
        "reviewer": reviewer,
        "manager": manager,
        "admin": admin_user,
    }


@pytest.fixture
def sample_objects(project, lead_unit, officer):
    tag = Tag.objects.create(name="走廊")
    project.tags.add(tag)
    return {
        "registry.country": "LA",
        "registry.countrygroup": CountryGroup.objects.get(code="asean").pk,
        "registry.sector": Sector.objects.get(code="logistics").pk,
        "partners.partner": lead_unit.pk,
        "partners.contact": factories.ContactFactory(partner=lead_unit).pk,
        "partners.membership": Membership.objects.get(user=officer).pk,
        "projects.project": project.pk,
        "projects.tag": tag.pk,
    }


PAGES = [("index", None, "index")] + [
    (f"{model}:{view}", model, view) for model in MODELS for view in VIEWS
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "model", "view"), PAGES, ids=[p[0] for p in PAGES])
def test_admin_page_opens_only_for_its_roles(
    client, role_users, sample_objects, role, page, model, view
):
    if role_users[role] is not None:
        client.force_login(role_users[role])
    if model is None:
        url = reverse("admin:index")
    else:
        app_label, model_name = model.split(".")
        name = f"admin:{app_label}_{model_name}_{view}"
        url = reverse(name, args=[sample_objects[model]]) if view == "change" else reverse(name)
    response = client.get(url)
    assert response.status_code == expected_status(role, model, view), url
    if response.status_code == 302:
        assert response.url.startswith(reverse("admin:login"))


def test_partner_marked_as_staff_still_cannot_see_projects(client, foreign_partner, project):
    user = make_user("partner-staff", "partner", foreign_partner, is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:projects_project_changelist")).status_code == 403
    url = reverse("admin:projects_project_change", args=[project.pk])
    assert client.get(url).status_code == 403


# --- Officers and other units' projects -------------------------------------------------


def test_officer_list_shows_only_own_units_projects(client, officer, project, other_unit):
    foreign = factories.ProjectFactory(lead_unit=other_unit, title_zh="别的单位的项目")
    client.force_login(officer)
    response = client.get(reverse("admin:projects_project_changelist"))
    assert response.status_code == 200
    assert project.code in response.text
    assert foreign.code not in response.text
    assert list(response.context["cl"].result_list) == [project]


def test_officer_cannot_open_or_change_another_units_project(client, officer, other_unit):
    foreign = factories.ProjectFactory(lead_unit=other_unit, title_zh="别的单位的项目")
    client.force_login(officer)
    url = reverse("admin:projects_project_change", args=[foreign.pk])

    response = client.get(url)
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert any(str(foreign.pk) in str(m) for m in get_messages(response.wsgi_request))

    response = client.post(url, {"title_zh": "改掉"})
    assert response.status_code == 302
    foreign.refresh_from_db()
    assert (foreign.title_zh, foreign.version) == ("别的单位的项目", 1)

    history = reverse("admin:projects_project_history", args=[foreign.pk])
    assert client.get(history).status_code == 403


def test_reviewer_sees_every_project_read_only(client, reviewer, project, other_unit):
    factories.ProjectFactory(lead_unit=other_unit)
    client.force_login(reviewer)
    response = client.get(reverse("admin:projects_project_changelist"))
    assert response.context["cl"].result_count == 2
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="title_zh"' not in response.text
    response = client.post(url, {"title_zh": "评审改的"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.title_zh != "评审改的"


# --- Saving through the admin -----------------------------------------------------------


SITE_COLUMNS = (
    "name_zh",
    "name_en",
    "facility_type",
    "country",
    "latitude",
    "longitude",
    "exactness",
    "admin_area",
)


def project_post(
    *,
    lead_unit,
    title="中老泰产业园区合作",
    countries=(),
    sectors=(),
    partners=(),
    sites=(),
    existing=None,
    **fields,
):
    """The POST body of the project form with its inline formsets."""
    data = {
        "title_zh": title,
        "title_en": "",
        "kind": "project",
        "lead_unit": lead_unit.pk,
        "risk_level": "medium",
        "currency": "CNY",
        "estimated_value": "5000000",
        **fields,
    }
    existing = existing or {}
    for prefix, rows, columns in (
        ("project_countries", countries, ("country", "share")),
        ("project_sectors", sectors, ("sector", "share")),
        ("participations", partners, ("partner", "role")),
        ("sites", sites, SITE_COLUMNS),
    ):
        initial = existing.get(prefix, [])
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = len(initial)
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for index, row in enumerate(rows):
            for column, value in zip(columns, row, strict=True):
                data[f"{prefix}-{index}-{column}"] = "" if value is None else value
            if index < len(initial):
                data[f"{prefix}-{index}-id"] = initial[index]
    return data


def sector_pk(code):
    return Sector.objects.get(code=code).pk


def test_officer_adds_project_through_the_services(client, officer, lead_unit, foreign_partner):
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(
            lead_unit=lead_unit,
            countries=[("LA", 60), ("TH", 40)],
            sectors=[(sector_pk("industry-parks"), 100)],
            partners=[(foreign_partner.pk, "partner")],
        ),
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    project = Project.objects.get(title_zh="中老泰产业园区合作")
    assert project.code.startswith("P") and project.status == "draft" and project.version == 1
    assert project.created_by == officer
    assert sorted(project.project_countries.values_list("country_id", "share")) == [
        ("LA", Decimal("60.00")),
        ("TH", Decimal("40.00")),
    ]
    assert project.participations.get().partner == foreign_partner
    assert project.history.get().history_user == officer
    assert response.url == reverse("admin:projects_project_changelist")


def test_shares_not_adding_up_show_an_error_and_write_nothing(client, officer, lead_unit):
    client.force_login(officer)
    before = Project.objects.count()
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(lead_unit=lead_unit, countries=[("LA", 60), ("TH", 30)]),
    )
    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["errors"])
    assert "90" in errors and "100" in errors
    assert Project.objects.count() == before


def test_duplicate_country_is_a_form_error(client, officer, lead_unit):
    client.force_login(officer)
    before = Project.objects.count()
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(lead_unit=lead_unit, countries=[("LA", 50), ("LA", 50)]),
    )
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert Project.objects.count() == before


def test_officer_cannot_enter_a_project_for_another_unit(client, officer, other_unit):
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_project_add"), project_post(lead_unit=other_unit)
    )
    assert response.status_code == 200
    assert "lead_unit" in response.context["adminform"].form.errors
    assert not Project.objects.filter(title_zh="中老泰产业园区合作").exists()


def test_lead_unit_autocomplete_offers_only_own_units(client, officer, lead_unit, other_unit):
    client.force_login(officer)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "projects", "model_name": "project", "field_name": "lead_unit", "term": ""},
    )
    assert response.status_code == 200
    assert [int(r["id"]) for r in response.json()["results"]] == [lead_unit.pk]


def change_post(project, **overrides):
    countries = list(project.project_countries.order_by("country_id"))
    sectors = list(project.project_sectors.all())
    partners = list(project.participations.all())
    data = project_post(
        lead_unit=project.lead_unit,
        title=overrides.pop("title", project.title_zh),
        countries=overrides.pop("countries", [(r.country_id, r.share) for r in countries]),
        sectors=[(r.sector_id, r.share) for r in sectors],
        partners=[(r.partner_id, r.role) for r in partners],
        existing={
            "project_countries": [r.pk for r in countries],
            "project_sectors": [r.pk for r in sectors],
            "participations": [r.pk for r in partners],
        },
        expected_version=overrides.pop("expected_version", project.version),
        **overrides,
    )
    return data


def test_admin_change_bumps_the_version_and_records_history(client, officer, project):
    client.force_login(officer)
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = client.post(url, change_post(project, title="中老铁路冷链班列修订版"))
    assert response.status_code == 302, response.context and response.context["errors"]
    project.refresh_from_db()
    assert (project.title_zh, project.version) == ("中老铁路冷链班列修订版", 2)
    assert project.history.latest().history_user == officer


def test_admin_change_over_a_newer_version_is_refused(client, officer, project):
    client.force_login(officer)
    url = reverse("admin:projects_project_change", args=[project.pk])
    Project.objects.filter(pk=project.pk).update(version=5)
    response = client.post(url, change_post(project, title="旧页面的修改", expected_version=1))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    project.refresh_from_db()
    assert project.title_zh != "旧页面的修改"


def test_admin_change_with_bad_shares_changes_nothing(client, officer, project):
    client.force_login(officer)
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = client.post(url, change_post(project, title="新", countries=[("LA", 120)]))
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.title_zh != "新" and project.version == 1
    assert project.project_countries.get().share == 100


def test_status_cannot_be_set_from_the_form(client, officer, project):
    client.force_login(officer)
    url = reverse("admin:projects_project_change", args=[project.pk])
    client.post(url, change_post(project, status="selected", code="X1"))
    project.refresh_from_db()
    assert project.status == "draft" and project.code.startswith("P")


# --- List, search and filters -----------------------------------------------------------


def make_projects(count, lead_unit, partner):
    tag, _ = Tag.objects.get_or_create(name="演示")
    for _index in range(count):
        project = factories.ProjectFactory(
            lead_unit=lead_unit,
            countries=[("LA", 50), ("TH", 50)],
            sectors=[("logistics-rail", 70), ("trade-facilitation", 30)],
            partners=[(partner, "partner"), (lead_unit, "lead")],
        )
        project.tags.add(tag)


def changelist_queries(client):
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("admin:projects_project_changelist"))
    assert response.status_code == 200
    return len(context), response


@pytest.mark.parametrize("who", ["admin_user", "officer"])
def test_changelist_query_count_does_not_grow_with_rows(
    client, request, who, lead_unit, foreign_partner
):
    client.force_login(request.getfixturevalue(who))
    make_projects(5, lead_unit, foreign_partner)
    few, response = changelist_queries(client)
    assert response.context["cl"].result_count == 5
    make_projects(45, lead_unit, foreign_partner)
    many, response = changelist_queries(client)
    assert response.context["cl"].result_count == 50
    assert "老挝" in response.text or "Laos" in response.text
    assert many == few


def test_search_by_partner_name_gives_each_project_once(
    client, admin_user, lead_unit, foreign_partner
):
    other = factories.PartnerFactory(country_id="LA", name_zh="老挝国立大学", name_en="Lao Uni")
    project = factories.ProjectFactory(
        lead_unit=lead_unit, partners=[(foreign_partner, "partner"), (other, "supporting")]
    )
    factories.ProjectFactory(lead_unit=lead_unit)
    client.force_login(admin_user)
    url = reverse("admin:projects_project_changelist")
    for term in ("老挝", "Lao Uni", project.code, "Expo Bureau"):
        result = list(client.get(url, {"q": term}).context["cl"].result_list)
        expected = [project] if term != "Expo Bureau" else list(Project.objects.all())
        assert sorted(p.pk for p in result) == sorted(p.pk for p in expected), term


def test_top_level_sector_filter_includes_sub_sectors(client, admin_user, lead_unit):
    rail = factories.ProjectFactory(lead_unit=lead_unit, sectors=[("logistics-rail", 100)])
    shipping = factories.ProjectFactory(lead_unit=lead_unit, sectors=[("logistics-shipping", 100)])
    factories.ProjectFactory(lead_unit=lead_unit, sectors=[("education-vocational", 100)])
    client.force_login(admin_user)
    url = reverse("admin:projects_project_changelist")
    logistics = client.get(url, {"sector": "logistics"}).context["cl"]
    assert {p.pk for p in logistics.result_list} == {rail.pk, shipping.pk}
    only_rail = client.get(url, {"sector": "logistics-rail"}).context["cl"]
    assert [p.pk for p in only_rail.result_list] == [rail.pk]


def test_country_group_and_partner_filters(client, admin_user, lead_unit, foreign_partner):
    laos = factories.ProjectFactory(
        lead_unit=lead_unit, countries=[("LA", 100)], partners=[(foreign_partner, "partner")]
    )
    factories.ProjectFactory(lead_unit=lead_unit, countries=[("KZ", 100)])
    client.force_login(admin_user)
    url = reverse("admin:projects_project_changelist")
    assert list(client.get(url, {"country_group": "asean"}).context["cl"].result_list) == [laos]
    assert list(client.get(url, {"partner": foreign_partner.pk}).context["cl"].result_list) == [
        laos
    ]
    response = client.get(url, {"partner": "not-a-number"})
    assert response.status_code == 302 and "e=1" in response.url


# --- Partners and reference data --------------------------------------------------------


def test_partners_are_deactivated_not_deleted(client, manager, foreign_partner, project):
    client.force_login(manager)
    url = reverse("admin:partners_partner_changelist")
    response = client.post(url, {"action": "deactivate", "_selected_action": [foreign_partner.pk]})
    assert response.status_code == 302
    foreign_partner.refresh_from_db()
    assert not foreign_partner.active
    assert foreign_partner.history.latest().history_user == manager
    delete_url = reverse("admin:partners_partner_delete", args=[foreign_partner.pk])
    assert client.get(delete_url).status_code == 403
    response = client.post(
        url, {"action": "delete_selected", "_selected_action": [foreign_partner.pk]}
    )
    assert Partner.objects.filter(pk=foreign_partner.pk).exists()


def test_reference_data_in_use_cannot_be_deleted_even_by_admin(client, admin_user, project):
    client.force_login(admin_user)
    sector = Sector.objects.get(code="logistics-rail")
    response = client.post(
        reverse("admin:registry_sector_delete", args=[sector.pk]), {"post": "yes"}
    )
    assert response.status_code == 200  # Django's "cannot delete: protected" page
    assert Sector.objects.filter(pk=sector.pk).exists()
    response = client.post(
        reverse("admin:registry_country_changelist"),
        {"action": "delete_selected", "_selected_action": ["LA"], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert project.project_countries.filter(country_id="LA").exists()


def test_officer_cannot_delete_reference_data(client, officer):
    client.force_login(officer)
    url = reverse("admin:registry_country_delete", args=["LA"])
    assert client.get(url).status_code == 403


# --- Languages --------------------------------------------------------------------------


def test_language_switch_renders_admin_in_english_and_chinese(client, officer):
    client.force_login(officer)
    index = reverse("admin:index")
    response = client.get(index)
    assert '<html lang="zh-hans"' in response.text
    assert 'id="language-switch"' in response.text and "English" in response.text

    response = client.post(reverse("set_language"), {"language": "en", "next": index})
    assert response.status_code == 302 and response.url == index
    response = client.get(index)
    assert '<html lang="en"' in response.text

    client.post(reverse("set_language"), {"language": "zh-hans", "next": index})
    assert '<html lang="zh-hans"' in client.get(index).text


def test_login_page_has_the_language_switch(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert 'id="language-switch"' in response.text and "中文" in response.text


# --- Sites inline ---------------------------------------------------------------------------


def test_officer_adds_a_project_with_a_site_in_one_save(client, officer, lead_unit):
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(
            lead_unit=lead_unit,
            countries=[("LA", 100)],
            sites=[
                ("万象陆港", "Thanaleng Dry Port", "dry_port", "LA", "17.88", "102.69", "exact", "")
            ],
        ),
    )
    assert response.status_code == 302
    project = Project.objects.get(title_zh="中老泰产业园区合作")
    (site,) = project.sites.current()
    assert (site.name_en, site.facility_type, site.latitude) == (
        "Thanaleng Dry Port",
        "dry_port",
        Decimal("17.880000"),
    )
    assert site.history.get().history_user == officer
    # The project page shows the inline and its map's data (json_script), no inline code.
    page = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    html = page.content.decode()
    assert 'id="sites-map-config"' in html and "site_map.js" in html
    assert "Thanaleng Dry Port" in html


def test_a_site_outside_the_projects_countries_is_refused_in_the_admin(client, officer, lead_unit):
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(
            lead_unit=lead_unit,
            countries=[("LA", 100)],
            sites=[("罗勇", "Rayong", "industrial_park", "TH", "12.9", "101.2", "exact", "")],
        ),
        follow=True,
    )
    assert "地点所在国家必须是项目的国家之一" in response.content.decode()
    assert not Project.objects.filter(title_zh="中老泰产业园区合作").exists()


def test_a_point_out_of_range_is_a_form_error(client, officer, lead_unit):
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(
            lead_unit=lead_unit,
            countries=[("LA", 100)],
            sites=[("万象", "Vientiane", "office", "LA", "97", "102.6", "exact", "")],
        ),
    )
    assert response.status_code == 200
    sites_formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "sites"
    )
    assert "latitude" in sites_formset.errors[0]
    assert not Project.objects.filter(title_zh="中老泰产业园区合作").exists()


def test_deleting_a_site_row_removes_it_but_keeps_the_row(client, officer, project):
    from projects.sites.services import site_add

    site = site_add(
        actor=officer,
        project=project,
        data={"name_en": "Depot", "latitude": "17.9", "longitude": "102.6", "country": "LA"},
    )
    project.refresh_from_db()
    client.force_login(officer)
    data = project_post(
        lead_unit=project.lead_unit,
        title=project.title_zh,
        countries=[("LA", "100")],
        sectors=[(sector_pk("logistics-rail"), "100")],
        partners=[(p.partner_id, p.role) for p in project.participations.all()],
        sites=[("", "Depot", "other", "LA", "17.9", "102.6", "exact", "")],
        existing={
            "project_countries": list(project.project_countries.values_list("pk", flat=True)),
            "project_sectors": list(project.project_sectors.values_list("pk", flat=True)),
            "participations": list(project.participations.values_list("pk", flat=True)),
            "sites": [site.pk],
        },
        expected_version=project.version,
    )
    data["sites-0-DELETE"] = "on"
    data["sites-0-project"] = project.pk
    response = client.post(reverse("admin:projects_project_change", args=[project.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    site.refresh_from_db()
    assert site.removed_at is not None
