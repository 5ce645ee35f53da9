"""OWASP API3:2023 (broken object property level authorization): which fields each role
may change in each status is one table (`projects.workflow.EDITABLE_FIELDS`), and the
API, the admin and the import all obey it with a clear message, changing nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from projects import workflow
from projects.models import Project, Status

pytestmark = pytest.mark.django_db


def _in(project, status):
    Project.objects.filter(pk=project.pk).update(status=status)
    project.refresh_from_db()
    return project


def _patch(client, project, body):
    project.refresh_from_db()
    return client.patch(
        f"/api/v1/projects/{project.code}/",
        body,
        format="json",
        HTTP_IF_MATCH=f'"{project.code}-v{project.version}"',
    )


@pytest.mark.parametrize("status", [Status.SELECTED, Status.COMPLETED, Status.SUBMITTED])
@pytest.mark.parametrize(
    "body",
    [
        {"estimated_value": "1.00"},
        {"title_en": "Changed after the decision"},
        {"planned_start": "2000-01-01"},
        {"countries": [{"country": "TH", "share": "100"}]},
    ],
)
def test_officer_cannot_change_what_a_decision_was_based_on(
    api_client, officer, project, status, body
):
    _in(project, status)
    before = (project.version, project.estimated_value, project.title_en, project.planned_start)
    response = _patch(api_client(officer), project, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    (field,) = body
    assert "draft" in error["fields"][field][0]
    project.refresh_from_db()
    assert before == (
        project.version,
        project.estimated_value,
        project.title_en,
        project.planned_start,
    )
    assert list(project.project_countries.values_list("country_id", flat=True)) == ["LA"]


def test_officer_changes_the_decision_basis_of_a_draft(api_client, officer, project):
    response = _patch(api_client(officer), project, {"estimated_value": "2.00"})
    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert project.estimated_value == Decimal("2.00")


@pytest.mark.parametrize(
    "status, allowed",
    [(Status.SELECTED, False), (Status.IN_PROGRESS, True), (Status.COMPLETED, True)],
)
def test_actual_dates_from_in_progress_on(api_client, officer, project, status, allowed):
    _in(project, status)
    response = _patch(api_client(officer), project, {"actual_start": "2026-01-05"})
    assert (response.status_code == 200) is allowed, response.content
    project.refresh_from_db()
    assert (str(project.actual_start) == "2026-01-05") is allowed


def test_next_review_due_only_by_managers(api_client, officer, manager, project):
    _in(project, Status.SELECTED)
    refused = _patch(api_client(officer), project, {"next_review_due": "2099-12-31"})
    assert refused.status_code == 400
    assert "manager" in refused.json()["error"]["fields"]["next_review_due"][0]
    accepted = _patch(api_client(manager), project, {"next_review_due": "2027-06-30"})
    assert accepted.status_code == 200, accepted.content
    project.refresh_from_db()
    assert str(project.next_review_due) == "2027-06-30"
    # A manager changes the review date, nothing else.
    other = _patch(api_client(manager), project, {"title_en": "Renamed by a manager"})
    assert other.status_code == 400
    assert "title_en" in other.json()["error"]["fields"]


def test_creating_a_draft_with_decided_facts_is_refused(api_client, officer, lead_unit):
    response = api_client(officer).post(
        "/api/v1/projects/",
        {"title_zh": "新项目", "lead_unit": lead_unit.pk, "next_review_due": "2099-12-31"},
        format="json",
    )
    assert response.status_code == 400
    assert "next_review_due" in response.json()["error"]["fields"]
    assert not Project.objects.filter(title_zh="新项目").exists()


def test_admin_shows_decided_fields_read_only_and_keeps_them(officer, project):
    _in(project, Status.SELECTED)
    officer.is_staff = True
    officer.save()
    client = Client()
    client.force_login(officer)
    url = f"/admin/projects/project/{project.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "estimated_value" not in form.fields and "title_en" not in form.fields
    assert "risk_notes" in form.fields
    # A forged POST carrying the decided value changes nothing of it.
    client.post(
        url,
        {
            "estimated_value": "1.00",
            "risk_level": "high",
            "risk_notes": "ok",
            "expected_version": project.version,
            "project_countries-TOTAL_FORMS": "0",
            "project_countries-INITIAL_FORMS": "0",
            "project_sectors-TOTAL_FORMS": "0",
            "project_sectors-INITIAL_FORMS": "0",
            "participations-TOTAL_FORMS": "0",
            "participations-INITIAL_FORMS": "0",
        },
    )
    project.refresh_from_db()
    assert project.estimated_value == Decimal("1000000.00")
    assert project.project_countries.count() == 1


def test_import_obeys_the_table(officer, project, tmp_path):
    _in(project, Status.SELECTED)
    path = tmp_path / "update.csv"
    path.write_text(f"code,estimated_value,currency\n{project.code},1.00,CNY\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_projects",
            str(path),
            "--user",
            officer.username,
            "--commit",
            "--language",
            "en",
            stdout=out,
            stderr=io.StringIO(),
        )
    assert "draft" in out.getvalue()
    project.refresh_from_db()
    assert project.estimated_value == Decimal("1000000.00")


def test_workflow_table_prints_the_editable_fields():
    out = io.StringIO()
    call_command("workflow_table", stdout=out)
    text = out.getvalue()
    for row in workflow.EDITABLE_FIELDS:
        assert all(f"`{name}`" in text for name in row.fields)
    assert "| `next_review_due` |" not in text  # a row of the editable table, not a transition
    assert "manager" in text.split("| fields |")[1]
