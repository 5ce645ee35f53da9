"""Role by endpoint by method: the exact status code each user gets on every project route.

Users: the officer of the lead unit, a reviewer, a manager, a user of the partner
institution taking part in the project, a user of a partner institution taking part
in ANOTHER project only, an officer of another unit, and an anonymous client. Writes
carry the project's current ETag, so the codes are about who may do what. The rows
where the write is allowed call the workflow services (projects/services.py on the
workflow branch) and pass once that branch is merged.
"""

import pytest

from projects.models import Project
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"
ROLES = (
    "officer",
    "reviewer",
    "manager",
    "partner",
    "other_partner",
    "other_officer",
    "anonymous",
)

REVIEW = {
    "strategic_fit": 4,
    "supply_chain_linkage": 5,
    "feasibility": 3,
    "partner_capacity": 4,
    "regional_balance": 3,
    "risk": 4,
    "recommendation": "select",
    "conflict_declaration": "none",
    "comment": "供应链联动明显",
}


def _put_body(project):
    return {
        "title_zh": "中老铁路冷链班列",
        "lead_unit": project.lead_unit_id,
        "countries": [{"country": "LA", "share": "100"}],
        "sectors": [{"sector": "logistics-rail", "share": "100"}],
    }


# (method, route, status the project is put in first, body, {role: expected status})
# route: "list" = /projects/, "detail" = /projects/{code}/, otherwise a sub-resource.
SEES = {"officer": 200, "reviewer": 200, "manager": 200, "partner": 200}
HIDDEN = {"other_partner": 404, "other_officer": 404, "anonymous": 401}
# Drafts are the office's working copies: a partner of the project does not see them.
DRAFT = {"partner": 404}
MATRIX = [
    ("GET", "detail", "draft", None, {**SEES, **HIDDEN, **DRAFT}),
    ("GET", "history", "draft", None, {**SEES, **HIDDEN, **DRAFT}),
    ("GET", "support-decisions", "selected", None, {**SEES, **HIDDEN}),
    ("GET", "progress-updates", "in_progress", None, {**SEES, **HIDDEN}),
    ("GET", "transitions", "draft", None, {**SEES, **HIDDEN, **DRAFT}),
    (
        "GET",
        "reviews",
        "screening",
        None,
        {**SEES, "officer": 403, "partner": 403, **HIDDEN},
    ),
    (
        "PATCH",
        "detail",
        "draft",
        {"title_en": "Cold-chain trains"},
        {"officer": 200, "reviewer": 403, "manager": 403, **HIDDEN, **DRAFT},
    ),
    (
        "PUT",
        "detail",
        "draft",
        _put_body,
        {"officer": 200, "reviewer": 403, "manager": 403, **HIDDEN, **DRAFT},
    ),
    (
        "POST",
        "reviews",
        "screening",
        REVIEW,
        {"officer": 403, "reviewer": 201, "manager": 403, "partner": 403, **HIDDEN},
    ),
    (
        "POST",
        "support-decisions",
        "selected",
        {"kind": "matchmaking", "conditions": "季度报告"},
        {"officer": 403, "reviewer": 403, "manager": 201, "partner": 403, **HIDDEN},
    ),
    (
        "POST",
        "progress-updates",
        "in_progress",
        {"note": "首批班列已发运"},
        {"officer": 201, "reviewer": 403, "manager": 201, "partner": 201, **HIDDEN},
    ),
    (
        "POST",
        "transitions",
        "draft",
        {"action": "submit"},
        {"officer": 200, "reviewer": 403, "manager": 403, **HIDDEN, **DRAFT},
    ),
]

LIST_MATRIX = [
    (
        "GET",
        "/projects/",
        None,
        {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401},
    ),
    (
        "POST",
        "/projects/",
        "new_project",
        {
            "officer": 201,
            "reviewer": 403,
            "manager": 403,
            "partner": 403,
            "other_partner": 403,
            "other_officer": 403,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "/projects/sync/",
        None,
        {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401},
    ),
    (
        "GET",
        "/projects/export/?format=nonsense",  # staff pass the check and get the 400
        None,
        {
            "officer": 400,
            "reviewer": 400,
            "manager": 400,
            "partner": 403,
            "other_partner": 403,
            "other_officer": 400,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "/partners/",
        None,
        {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401},
    ),
    (
        "GET",
        "/contacts/",
        None,
        {
            "officer": 200,
            "reviewer": 200,
            "manager": 200,
            "partner": 403,
            "other_partner": 403,
            "other_officer": 200,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "/countries/",
        None,
        {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401},
    ),
    (
        "GET",
        "/country-groups/",
        None,
        {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401},
    ),
    (
        "GET",
        "/sectors/",
        None,
        {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401},
    ),
    ("GET", "/me/", None, {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401}),
    ("GET", "/", None, {**SEES, "other_partner": 200, "other_officer": 200, "anonymous": 401}),
]


@pytest.fixture
def users(officer, reviewer, manager, partner_user, other_officer):
    thai = factories.PartnerFactory(country_id="TH", name_zh="泰国物流协会")
    factories.ProjectFactory(partners=[(thai, "partner")])
    return {
        "officer": officer,
        "reviewer": reviewer,
        "manager": manager,
        "partner": partner_user,
        "other_partner": make_user("thai-partner", "partner", thai),
        "other_officer": other_officer,
        "anonymous": None,
    }


def _request(api_client, user, method, path, body, headers):
    client = api_client(user)
    return getattr(client, method.lower())(path, body, format="json", **headers)


def _expand(matrix):
    for method, route, state, body, expected in matrix:
        for role in ROLES:
            yield pytest.param(
                method, route, state, body, role, expected[role], id=f"{method} {route} {role}"
            )


@pytest.mark.parametrize(
    ("method", "route", "state", "body", "role", "expected"), list(_expand(MATRIX))
)
def test_project_route_matrix(
    api_client, users, project, method, route, state, body, role, expected
):
    Project.objects.filter(pk=project.pk).update(status=state, screening_round=1)
    project.refresh_from_db()
    path = f"{API}/projects/{project.code}/" + ("" if route == "detail" else f"{route}/")
    if callable(body):
        body = body(project)
    headers = {"HTTP_IF_MATCH": f'"{project.code}-v{project.version}"'} if method != "GET" else {}
    response = _request(api_client, users[role], method, path, body, headers)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}
    if expected in {401, 403, 404} and method != "GET":
        project_after = Project.objects.get(pk=project.pk)
        assert project_after.version == project.version
        assert project_after.status == state


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "expected"),
    [
        pytest.param(method, path, body, role, expected[role], id=f"{method} {path} {role}")
        for method, path, body, expected in LIST_MATRIX
        for role in ROLES
    ],
)
def test_list_route_matrix(
    api_client, users, project, lead_unit, other_unit, method, path, body, role, expected
):
    if body == "new_project":
        unit = other_unit if role == "other_officer" else lead_unit
        # another officer entering a project for a unit not theirs is refused
        body = {"title_zh": "新项目", "lead_unit": lead_unit.pk if unit == other_unit else unit.pk}
    response = _request(api_client, users[role], method, f"{API}{path}", body, {})
    assert response.status_code == expected, response.content


def test_other_partner_never_learns_the_project_exists(api_client, users, project):
    """The 404 for a hidden project is the same as for a code that does not exist."""
    client = api_client(users["other_partner"])
    hidden = client.get(f"{API}/projects/{project.code}/")
    missing = client.get(f"{API}/projects/P999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    listed = client.get(f"{API}/projects/?search={project.code}").json()
    assert listed["count"] == 0


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("PATCH", "", {"title_en": "x"}),
        ("PUT", "", {"title_zh": "x"}),
        ("POST", "transitions/", {"action": "submit"}),
        ("POST", "progress-updates/", {"note": "x"}),
    ],
)
def test_allowed_write_without_if_match_is_428(api_client, officer, project, method, route, body):
    response = _request(
        api_client, officer, method, f"{API}/projects/{project.code}/{route}", body, {}
    )
    assert response.status_code == 428
    project.refresh_from_db()
    assert project.version == 1 and project.progress_updates.count() == 0
