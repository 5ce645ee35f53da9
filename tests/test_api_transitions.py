"""`/transitions/` of a project: what it offers says where each action leads for this
project, the action's name is checked by the workflow, and the schema documents the
serializer the route reads."""

import pytest

from projects import services
from projects.models import Project, Status, StatusChange

API = "/api/v1"


def etag(project) -> str:
    project = Project.objects.get(pk=project.pk)
    return f'"{project.code}-v{project.version}"'


def suspended_from(project, status):
    Project.objects.filter(pk=project.pk).update(status=Status.SUSPENDED, screening_round=1)
    StatusChange.objects.create(
        project=project, action="suspend", from_status=status, to_status=Status.SUSPENDED
    )
    return Project.objects.get(pk=project.pk)


@pytest.mark.parametrize("before", [Status.SELECTED, Status.IN_PROGRESS])
def test_resume_is_offered_with_the_status_it_returns_to(api_client, manager, project, before):
    project = suspended_from(project, before)
    offered = api_client(manager).get(f"{API}/projects/{project.code}/transitions/").json()
    resume = next(t for t in offered if t["action"] == "resume")
    assert resume["to_status"] == before
    # Every offered target is a status, never a placeholder.
    assert {t["to_status"] for t in offered} <= set(Status.values)


def test_resume_leads_where_it_was_offered_to(api_client, manager, project):
    project = suspended_from(project, Status.IN_PROGRESS)
    client = api_client(manager)
    offered = client.get(f"{API}/projects/{project.code}/transitions/").json()
    target = next(t["to_status"] for t in offered if t["action"] == "resume")
    response = client.post(
        f"{API}/projects/{project.code}/transitions/",
        {"action": "resume"},
        format="json",
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == target


def test_offered_entries_say_label_and_reason(api_client, officer, project):
    offered = api_client(officer).get(f"{API}/projects/{project.code}/transitions/").json()
    withdraw = next(t for t in offered if t["action"] == "withdraw")
    assert withdraw == {
        "action": "withdraw",
        "label": "withdraw",
        "to_status": Status.WITHDRAWN,
        "reason_required": True,
    }


def test_an_unknown_action_is_a_400_on_the_action_field(api_client, officer, project):
    response = api_client(officer).post(
        f"{API}/projects/{project.code}/transitions/",
        {"action": "teleport"},
        format="json",
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "teleport" in error["fields"]["action"][0]
    project.refresh_from_db()
    assert project.status == Status.DRAFT


def test_the_schema_documents_the_request_the_route_reads(api_client, admin_user):
    schema = api_client(admin_user).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/projects/{code}/transitions/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    from projects.api.serializers import TransitionRequestSerializer
    from projects.workflow import ACTIONS

    assert set(component["properties"]) == set(TransitionRequestSerializer().fields)
    action = component["properties"]["action"]
    enum_ref = action["allOf"][0]["$ref"] if "allOf" in action else action["$ref"]
    assert schema["components"]["schemas"][enum_ref.rsplit("/", 1)[-1]]["enum"] == list(ACTIONS)
    assert component["properties"]["reason"]["maxLength"] == (
        TransitionRequestSerializer().fields["reason"].max_length
    )


def test_the_service_still_refuses_an_unknown_action(project, officer):
    from projects.errors import InvalidData

    with pytest.raises(InvalidData):
        services.project_transition(project=project, actor=officer, action="teleport")
