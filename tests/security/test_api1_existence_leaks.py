"""OWASP API1:2023 (broken object level authorization): answers must not tell a partner
whether an object it cannot see exists. For every input naming an object, an id the
partner cannot see and an id that does not exist get the same status and the same body."""

import pytest
from django.db.models import Max

from partners.models import Partner
from projects.models import Project, Status
from tests import factories

pytestmark = pytest.mark.django_db


def _etag(project):
    project.refresh_from_db()
    return f'"{project.code}-v{project.version}"'


@pytest.fixture
def setting(project, foreign_partner):
    Project.objects.filter(pk=project.pk).update(status=Status.IN_PROGRESS)
    project.refresh_from_db()
    unseen = factories.PartnerFactory(country_id="TH", name_en="Unseen Partner")
    factories.ProjectFactory(partners=[(unseen, "partner")])  # someone else's project
    missing = (Partner.objects.aggregate(top=Max("pk"))["top"] or 0) + 1000
    return project, unseen, missing


def _post_progress(client, project, partner_id):
    return client.post(
        f"/api/v1/projects/{project.code}/progress-updates/",
        {"note": "Warehouse roof finished.", "partner": partner_id},
        format="json",
        HTTP_IF_MATCH=_etag(project),
    )


def test_progress_update_naming_an_unseen_institution_answers_as_a_missing_one(
    api_client, partner_user, setting
):
    project, unseen, missing = setting
    client = api_client(partner_user)
    hidden = _post_progress(client, project, unseen.pk)
    absent = _post_progress(client, project, missing)
    assert hidden.status_code == absent.status_code == 400
    # The same words but for the id itself.
    assert hidden.json()["error"]["code"] == absent.json()["error"]["code"]
    assert hidden.json()["error"]["fields"]["partner"] == [
        message.replace(str(missing), str(unseen.pk))
        for message in absent.json()["error"]["fields"]["partner"]
    ]
    assert project.progress_updates.count() == 0


def test_progress_update_for_its_own_institution_still_works(
    api_client, partner_user, foreign_partner, setting
):
    project, _unseen, _missing = setting
    response = _post_progress(api_client(partner_user), project, foreign_partner.pk)
    assert response.status_code == 201, response.content
    assert response.json()["partner"] == foreign_partner.pk


@pytest.mark.parametrize(
    "route",
    ["/api/v1/partners/{partner}/", "/api/v1/projects/{code}/", "/api/v1/projects/{code}/history/"],
)
def test_reading_an_unseen_object_answers_as_a_missing_one(api_client, partner_user, route):
    unseen = factories.PartnerFactory(country_id="TH")
    hidden_project = factories.ProjectFactory(partners=[(unseen, "partner")])
    client = api_client(partner_user)
    hidden = client.get(route.format(partner=unseen.pk, code=hidden_project.code))
    absent = client.get(route.format(partner=unseen.pk + 1000, code="P999999"))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == absent.json()


def test_filtering_by_an_unseen_institution_answers_as_a_missing_one(api_client, partner_user):
    unseen = factories.PartnerFactory(country_id="TH")
    factories.ProjectFactory(partners=[(unseen, "partner")])
    client = api_client(partner_user)
    for name in ("partner", "lead_unit"):
        hidden = client.get("/api/v1/projects/", {name: unseen.pk})
        absent = client.get("/api/v1/projects/", {name: unseen.pk + 1000})
        assert hidden.status_code == absent.status_code == 200
        assert hidden.json()["results"] == absent.json()["results"] == []
