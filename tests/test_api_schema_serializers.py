"""The schema documents the serializers the sub-resource routes and the transitions really
use: each operation's request and response components (read from `/api/schema/`) are
the view's serializers, and the server's answers and refusals have exactly the keys the
components declare."""

import pytest

from projects.api import serializers as s
from projects.api.views import PROGRESS_UPDATES, REVIEWS, SUPPORT_DECISIONS
from projects.models import Project

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

BASE = "/api/v1/projects/{code}/"
# path, method: (request serializer, answer status, answer serializer, a list of them)
OPERATIONS = {
    ("reviews/", "get"): (None, 200, REVIEWS.list_serializer, True),
    ("reviews/", "post"): (REVIEWS.create_serializer, 201, REVIEWS.created_serializer, False),
    ("support-decisions/", "get"): (None, 200, SUPPORT_DECISIONS.list_serializer, True),
    ("support-decisions/", "post"): (
        SUPPORT_DECISIONS.create_serializer,
        201,
        SUPPORT_DECISIONS.created_serializer,
        False,
    ),
    ("progress-updates/", "get"): (None, 200, PROGRESS_UPDATES.list_serializer, True),
    ("progress-updates/", "post"): (
        PROGRESS_UPDATES.create_serializer,
        201,
        PROGRESS_UPDATES.created_serializer,
        False,
    ),
    # The transitions route's own serializers (`ProjectViewSet.transitions`).
    ("transitions/", "get"): (None, 200, s.AvailableTransitionSerializer, True),
    ("transitions/", "post"): (
        s.TransitionRequestSerializer,
        200,
        s.ProjectDetailSerializer,
        False,
    ),
    ("history/", "get"): (None, 200, s.HistoryEntrySerializer, True),
}
SCORES = dict.fromkeys(
    [
        "strategic_fit",
        "supply_chain_linkage",
        "feasibility",
        "partner_capacity",
        "regional_balance",
        "risk",
    ],
    4,
)


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()


def component_name(serializer, *, request=False) -> str:
    # drf-spectacular's naming, with request components split off (COMPONENT_SPLIT_REQUEST).
    return serializer.__name__.removesuffix("Serializer") + ("Request" if request else "")


def resolve(schema, reference: dict) -> tuple[str, dict]:
    name = reference["$ref"].rsplit("/", 1)[-1]
    return name, schema["components"]["schemas"][name]


def documented(schema, path, method):
    """(request component name and schema, answer status, item component name and schema)"""
    operation = schema["paths"][BASE + path][method]
    request = None
    if "requestBody" in operation:
        request = resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    status = next(code for code in operation["responses"] if code.startswith("2"))
    body = operation["responses"][status]["content"]["application/json"]["schema"]
    if "$ref" in body and body["$ref"].rsplit("/", 1)[-1].startswith("Paginated"):
        body = resolve(schema, body)[1]["properties"]["results"]
    listed = body.get("type") == "array"
    item = resolve(schema, body["items"] if listed else body)
    return request, int(status), item, listed


@pytest.mark.parametrize(("path", "method"), list(OPERATIONS))
def test_operation_documents_the_views_serializers(schema, path, method):
    request_serializer, status, answer_serializer, many = OPERATIONS[(path, method)]
    request, documented_status, (item_name, item), listed = documented(schema, path, method)
    assert (documented_status, listed) == (status, many)
    assert item_name == component_name(answer_serializer)
    assert set(item["properties"]) == set(answer_serializer().fields)
    if request_serializer is None:
        assert request is None
    else:
        name, body = request
        assert name == component_name(request_serializer, request=True)
        writable = {n for n, f in request_serializer().fields.items() if not f.read_only}
        assert set(body["properties"]) == writable


def etag(project) -> str:
    project.refresh_from_db()
    return f'"{project.code}-v{project.version}"'


def keys_of(response, listed: bool) -> list[set]:
    body = response.json()
    rows = body if isinstance(body, list) else body.get("results", body) if listed else [body]
    return [set(row) for row in rows]


@pytest.fixture
def sub_resource_rows(api_client, project, reviewer, manager, officer, partner_user):
    """The answers to writing one row of each child list through the API."""
    Project.objects.filter(pk=project.pk).update(status="screening", screening_round=1)
    post = {
        "reviews/": (
            reviewer,
            {**SCORES, "recommendation": "select", "comment": "好", "conflict_declaration": "none"},
        ),
        "support-decisions/": (manager, {"kind": "funding", "amount": "5.00", "currency": "CNY"}),
        "progress-updates/": (officer, {"note": "首批货物已发运"}),
    }
    answers = {}
    for path, (user, body) in post.items():
        if path == "support-decisions/":
            Project.objects.filter(pk=project.pk).update(status="selected")
        answers[path] = api_client(user).post(
            BASE.format(code=project.code) + path, body, format="json", HTTP_IF_MATCH=etag(project)
        )
    return answers


def test_answers_have_the_documented_keys(
    schema, api_client, project, manager, partner_user, sub_resource_rows
):
    answers = sub_resource_rows
    for path, answer in answers.items():
        assert answer.status_code == 201, (path, answer.content)
        _, _, (_, item), _ = documented(schema, path, "post")
        assert keys_of(answer, False) == [set(item["properties"])], path

    for path in ("reviews/", "support-decisions/", "progress-updates/", "history/", "transitions/"):
        _, _, (_, item), listed = documented(schema, path, "get")
        staff = api_client(manager).get(BASE.format(code=project.code) + path)
        assert staff.status_code == 200, path
        rows = keys_of(staff, listed)
        assert rows and all(row == set(item["properties"]) for row in rows), path
        if path in ("support-decisions/", "progress-updates/"):
            # Partners read the same shape less what the schema marks as not required.
            partner = api_client(partner_user).get(BASE.format(code=project.code) + path)
            for row in keys_of(partner, listed):
                assert set(item["required"]) <= row <= set(item["properties"]), path

    Project.objects.filter(pk=project.pk).update(status="in_progress")
    moved = api_client(manager).post(
        BASE.format(code=project.code) + "transitions/",
        {"action": "suspend", "reason": "资金未到位"},
        format="json",
        HTTP_IF_MATCH=etag(project),
    )
    assert moved.status_code == 200, moved.content
    _, _, (_, item), _ = documented(schema, "transitions/", "post")
    assert keys_of(moved, False) == [set(item["properties"])]


@pytest.mark.parametrize(
    "path", ["reviews/", "support-decisions/", "progress-updates/", "transitions/"]
)
def test_request_bodies_take_exactly_the_documented_keys(
    schema, api_client, project, reviewer, manager, path
):
    """Every documented key is read (a wrong value in each is refused by its own name)
    and an undocumented one is refused as such."""
    status = {"reviews/": "screening", "support-decisions/": "selected"}.get(path, "in_progress")
    Project.objects.filter(pk=project.pk).update(status=status, screening_round=1)
    user = reviewer if path == "reviews/" else manager
    (_, body), _, _, _ = documented(schema, path, "post")
    url = BASE.format(code=project.code) + path
    wrong = api_client(user).post(
        url,
        {key: {"x": 1} for key in body["properties"]},
        format="json",
        HTTP_IF_MATCH=etag(project),
    )
    assert wrong.status_code == 400, wrong.content
    fields = wrong.json()["error"]["fields"]
    assert set(fields) == set(body["properties"])
    assert not any("cannot be set" in " ".join(messages) for messages in fields.values())
    unknown = api_client(user).post(
        url, {"undocumented": 1}, format="json", HTTP_IF_MATCH=etag(project)
    )
    assert unknown.status_code == 400
    assert "undocumented" in unknown.json()["error"]["fields"]
