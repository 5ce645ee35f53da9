"""OWASP API3:2023 (broken object property level) / data integrity of admin exports.

Every admin export (changelist "Export CSV" and "Export XLSX", both "export selected"
actions), run by every staff role through the admin's URLs, downloaded and opened with
the csv module and openpyxl, holds exactly the rows the changelist shows that user.
"""

import csv
import io

import pytest
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

STAFF_ROLES = ["officer", "reviewer", "manager", "superuser"]


@pytest.fixture
def pool(lead_unit, other_unit, foreign_partner):
    """Five projects of the officer's unit (two with a searchable word), three of another."""
    mine = [
        factories.ProjectFactory(
            lead_unit=lead_unit,
            title_zh=f"冷链{i}" if i < 2 else f"园区{i}",
            countries=[("LA", 60), ("TH", 40)],
            sectors=[("logistics-rail", 100)],
            partners=[(foreign_partner, "partner")],
        )
        for i in range(5)
    ]
    theirs = [
        factories.ProjectFactory(lead_unit=other_unit, title_zh=f"港口{i}", countries=[("VN", 100)])
        for i in range(3)
    ]
    return mine, theirs


@pytest.fixture
def staff(lead_unit):
    return {
        "officer": make_user("export-officer", "officer", lead_unit),
        "reviewer": make_user("export-reviewer", "reviewer"),
        "manager": make_user("export-manager", "manager"),
        "superuser": make_user("export-root", None, is_superuser=True),
    }


def changelist_count(client, query: str = "") -> int:
    response = client.get(reverse("admin:projects_project_changelist") + query)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert isinstance(changelist, ChangeList)
    return changelist.result_count


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_data_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"), newline="")))
    assert rows, "not even a header row"
    return rows[1:]


def xlsx_data_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    workbook = load_workbook(io.BytesIO(body_of(response)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    return rows[1:]


READERS = {"csv": csv_data_rows, "xlsx": xlsx_data_rows}


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("query", ["", "?q=冷链", "?status__exact=draft"])
def test_changelist_export_has_the_changelist_rows(client, pool, staff, role, file_format, query):
    client.force_login(staff[role])
    expected = changelist_count(client, query)
    assert expected > 0
    url = reverse("admin:projects_project_export", args=[file_format]) + query
    rows = READERS[file_format](client.get(url))
    assert len(rows) == expected
    visible_codes = {p.code for p in pool[0] + (pool[1] if role != "officer" else [])}
    assert {row[0] for row in rows} <= visible_codes


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_selected_action_gives_the_selected_rows(client, pool, staff, role, file_format):
    client.force_login(staff[role])
    changelist = client.get(reverse("admin:projects_project_changelist")).context["cl"]
    shown = [project.pk for project in changelist.result_list]
    assert len(shown) == changelist_count(client)
    selected = shown[:3]
    response = client.post(
        reverse("admin:projects_project_changelist"),
        {"action": f"export_selected_{file_format}", "_selected_action": selected},
    )
    rows = READERS[file_format](response)
    assert len(rows) == len(selected)
    codes = set(
        factories.ProjectFactory._meta.model.objects.filter(pk__in=selected).values_list(
            "code", flat=True
        )
    )
    assert {row[0] for row in rows} == codes


def test_officer_export_leaves_out_other_units(client, pool, staff):
    client.force_login(staff["officer"])
    rows = csv_data_rows(client.get(reverse("admin:projects_project_export", args=["csv"])))
    assert {row[0] for row in rows} == {p.code for p in pool[0]}
