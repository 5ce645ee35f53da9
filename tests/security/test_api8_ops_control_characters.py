"""OWASP API8:2023 Security Misconfiguration (input one user can use to break a shared
output): control characters in text. Text fields refuse C0 control characters other
than tab, line feed and carriage return through the admin, the API and the import with a
field error; the data migration cleans older rows; the IATI file leaves out and reports
a project it cannot write instead of failing for everyone."""

import importlib
import io
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from lxml import etree

from projects.models import Project
from projects.reporting import iati
from tests import factories
from tests.test_admin import project_post

pytestmark = pytest.mark.django_db

BELL = "\x07"


def etag(project):
    project.refresh_from_db()
    return f'"{project.code}-v{project.version}"'


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x0b", "\x1b", "\x1f"])
def test_api_refuses_control_characters_with_a_field_error(api_client, officer, project, character):
    before = Project.objects.get(pk=project.pk)
    response = api_client(officer).patch(
        f"/api/v1/projects/{project.code}/",
        {"summary_en": f"cold{character}chain"},
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert "summary_en" in error["fields"]
    assert "control character" in " ".join(error["fields"]["summary_en"])
    after = Project.objects.get(pk=project.pk)
    assert (after.summary_en, after.version) == (before.summary_en, before.version)


def test_tab_and_line_breaks_are_kept(api_client, officer, project):
    text = "line one\r\nline two\tcolumn"
    response = api_client(officer).patch(
        f"/api/v1/projects/{project.code}/", {"summary_en": text}, HTTP_IF_MATCH=etag(project)
    )
    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert project.summary_en == text


def test_api_create_refuses_control_characters_in_a_title(api_client, officer, lead_unit):
    response = api_client(officer).post(
        "/api/v1/projects/",
        {"title_zh": f"园区{BELL}", "lead_unit": lead_unit.pk},
    )
    assert response.status_code == 400, response.content
    assert "title_zh" in response.json()["error"]["fields"]
    assert not Project.objects.filter(title_zh__startswith="园区").exists()


def test_admin_refuses_control_characters_with_a_field_error(client, officer, lead_unit):
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_project_add"),
        project_post(lead_unit=lead_unit, summary_zh=f"摘要{BELL}"),
    )
    assert response.status_code == 200
    assert "summary_zh" in response.context["adminform"].form.errors
    assert not Project.objects.exists()


def test_partner_admin_refuses_control_characters(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("admin:partners_partner_add"),
        {"name_zh": f"机构{BELL}", "name_en": "", "kind": "enterprise", "country": "LA"},
    )
    assert response.status_code == 200
    assert "name_zh" in response.context["adminform"].form.errors


def test_import_refuses_control_characters_as_a_row_error(officer, lead_unit, tmp_path):
    path = tmp_path / "bell.csv"
    path.write_text(
        f"title_zh,lead_unit,countries,summary_zh\n甲,广西国际博览事务局,LA,摘要{BELL}\n",
        encoding="utf-8",
    )
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
    assert "summary_zh" in out.getvalue() or "summary" in out.getvalue().lower()
    assert "control character" in out.getvalue()
    assert not Project.objects.exists()


# --- rows from before the validator -------------------------------------------------------


@pytest.fixture
def dirty_projects(lead_unit, foreign_partner):
    """Two publishable projects; one gets a control character in its summary the way
    older rows have them (written before the validator, around it)."""
    rows = [
        factories.ProjectFactory(
            status="selected",
            lead_unit=lead_unit,
            title_zh=f"项目{i}",
            title_en=f"Project {i}",
            summary_en="A pilot",
            planned_start=date(2026, 1, 1),
            planned_end=date(2027, 12, 31),
            estimated_value=Decimal("1000"),
            currency="CNY",
            countries=[("LA", 100)],
            sectors=[("logistics-rail", 100)],
            partners=[(foreign_partner, "funding"), (lead_unit, "lead")],
        )
        for i in range(2)
    ]
    Project.objects.filter(pk=rows[0].pk).update(summary_en=f"bad{BELL}text\x1b[0m")
    return rows


def test_iati_export_leaves_out_and_reports_a_project_it_cannot_write(dirty_projects):
    dirty, clean = dirty_projects
    output = io.BytesIO()
    result = iati.write_activities(output)
    assert clean.code in result.published, result.problems
    document = etree.fromstring(output.getvalue())
    identifiers = document.xpath("iati-activity/iati-identifier/text()")
    assert any(clean.code in identifier for identifier in identifiers)
    assert not any(dirty.code in identifier for identifier in identifiers)
    reported = {problem.code: problem for problem in result.problems}
    assert dirty.code in reported, result.problems
    assert clean.code in result.published


def test_iati_api_and_command_still_answer(client, manager, dirty_projects):
    dirty, clean = dirty_projects
    client.force_login(manager)
    response = client.get("/api/v1/iati/activities.xml")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert clean.code.encode() in body and dirty.code.encode() not in body
    out, err = io.StringIO(), io.StringIO()
    call_command("export_iati", stdout=out, stderr=err)
    assert clean.code in out.getvalue() and dirty.code in err.getvalue()


def test_data_migration_cleans_existing_rows(dirty_projects, foreign_partner):
    dirty, clean = dirty_projects
    version = Project.objects.get(pk=dirty.pk).version
    type(foreign_partner).objects.filter(pk=foreign_partner.pk).update(description=f"x{BELL}y")
    schema_editor = SimpleNamespace(connection=connection)
    for module in (
        "projects.migrations.0007_text_without_control_characters",
        "partners.migrations.0004_text_without_control_characters",
    ):
        importlib.import_module(module).clean_existing_text(apps, schema_editor)
    dirty.refresh_from_db()
    foreign_partner.refresh_from_db()
    assert dirty.summary_en == "badtext[0m"
    assert dirty.version == version + 1
    assert foreign_partner.description == "xy"
    assert Project.objects.get(pk=clean.pk).version == clean.version


# --- Every free-text field of the pool, the later models included -----------------------

# Fields a user never types (generated, or written by the registry itself).
MACHINE_TEXT = {
    ("projects", "project", "code"),
    # Written by the database's triggers from texts already checked (never typed).
    ("projects", "project", "search_text"),
    ("projects", "notification", "subject"),
    ("projects", "notification", "body"),
    ("partners", "webhookendpoint", "secret"),
    ("partners", "webhookendpoint", "disabled_reason"),
    ("partners", "webhookdelivery", "body"),
    ("partners", "webhookdelivery", "last_error"),
    ("partners", "webhookdelivery", "event_type"),
    ("partners", "webhookattempt", "error"),
    ("projects", "warning", "subject"),
    ("projects", "warning", "detail"),
    ("projects", "codesequence", "name"),
    ("projects", "statuschange", "action"),
    # Codes with a format of their own, which refuses any control character.
    ("projects", "project", "currency"),
    ("projects", "supportdecision", "currency"),
    ("projects", "standardindicator", "code"),
    ("partners", "partner", "org_id"),
}


def typed_text_fields():
    from django.db import models as db_models

    for app_label in ("projects", "partners"):
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.model_name.startswith("historical"):
                continue
            for field in model._meta.get_fields():
                if not isinstance(field, db_models.CharField | db_models.TextField):
                    continue
                if field.choices or isinstance(field, db_models.URLField | db_models.EmailField):
                    continue
                key = (app_label, model._meta.model_name, field.name)
                if key in MACHINE_TEXT:
                    continue
                yield pytest.param(field, id=".".join(key))


@pytest.mark.parametrize("field", list(typed_text_fields()))
def test_every_typed_text_field_refuses_control_characters(field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        field.run_validators(f"cold{BELL}chain")
    field.run_validators("line one\r\nline two\tcolumn")


def test_a_site_name_with_a_control_character_is_a_400(api_client, officer, project):
    from tests.test_sites import VIENTIANE

    response = api_client(officer).post(
        f"/api/v1/projects/{project.code}/sites/",
        {**VIENTIANE, "name_en": f"Vientiane{BELL}"},
        format="json",
        HTTP_IF_MATCH=etag(project),
    )
    assert response.status_code == 400, response.content
    assert "name_en" in response.json()["error"]["fields"]
    assert not project.sites.exists()
