"""OWASP API4:2023 (unrestricted resource consumption): every nested list and every
free-text field has a cap, refused with a 400 naming the limit (nothing written), and a
nested list is resolved in one query however long it is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import Partner
from projects.models import Project
from projects.validation import LIST_LIMITS, NOTE_MAX_CHARS, SUMMARY_MAX_CHARS
from registry.models import Country, Sector
from tests import factories

pytestmark = pytest.mark.django_db


def _patch(client, project, body):
    project.refresh_from_db()
    return client.patch(
        f"/api/v1/projects/{project.code}/",
        body,
        format="json",
        HTTP_IF_MATCH=f'"{project.code}-v{project.version}"',
    )


@pytest.mark.parametrize("name", sorted(LIST_LIMITS))
def test_a_list_over_its_cap_is_refused_naming_the_limit(api_client, officer, project, name):
    limit = LIST_LIMITS[name]
    if name == "participations":
        partners = factories.PartnerFactory.create_batch(3)
        roles = ["lead", "funding", "implementing", "partner", "supporting"]
        rows = [{"partner": partners[i % 3].pk, "role": roles[i % 5]} for i in range(limit + 1)]
    elif name == "countries":
        rows = [{"country": c} for c in Country.objects.values_list("pk", flat=True)[: limit + 1]]
    elif name == "sectors":
        rows = [{"sector": c} for c in Sector.objects.values_list("code", flat=True)[: limit + 1]]
    else:
        rows = [f"tag-{i}" for i in range(limit + 1)]
    assert len(rows) == limit + 1
    before = project.version
    response = _patch(api_client(officer), project, {name: rows})
    assert response.status_code == 400, response.content
    messages = " ".join(
        " ".join(v) for k, v in response.json()["error"]["fields"].items() if k.startswith(name)
    )
    assert str(limit) in messages
    project.refresh_from_db()
    assert project.version == before


def test_a_huge_participation_list_is_refused_quickly(api_client, officer, project):
    rows = [{"partner": 1, "role": "partner"}] * 50_000
    with CaptureQueriesContext(connection) as queries:
        response = _patch(api_client(officer), project, {"participations": rows})
    assert response.status_code == 400
    assert str(LIST_LIMITS["participations"]) in str(response.json())
    assert len(queries) < 10


@pytest.mark.parametrize(
    "field, limit",
    [
        ("summary_zh", SUMMARY_MAX_CHARS),
        ("summary_en", SUMMARY_MAX_CHARS),
        ("support_requested", NOTE_MAX_CHARS),
        ("risk_notes", NOTE_MAX_CHARS),
        ("internal_notes", NOTE_MAX_CHARS),
        ("title_zh", 300),
    ],
)
def test_free_text_over_its_cap_is_refused_naming_the_limit(
    api_client, officer, project, field, limit
):
    response = _patch(api_client(officer), project, {field: "长" * (limit + 1)})
    assert response.status_code == 400, response.content
    assert f"{limit}" in " ".join(response.json()["error"]["fields"][field])
    at_limit = _patch(api_client(officer), project, {field: "长" * limit})
    assert at_limit.status_code == 200, at_limit.content


@pytest.mark.parametrize(
    "route, body, field, limit",
    [
        ("progress-updates/", {"note": "x" * (NOTE_MAX_CHARS + 1)}, "note", NOTE_MAX_CHARS),
        ("transitions/", {"action": "withdraw", "reason": "x" * 5001}, "reason", 5000),
    ],
)
def test_sub_resource_text_is_capped(api_client, officer, project, route, body, field, limit):
    Project.objects.filter(pk=project.pk).update(status="in_progress")
    project.refresh_from_db()
    response = api_client(officer).post(
        f"/api/v1/projects/{project.code}/{route}",
        body,
        format="json",
        HTTP_IF_MATCH=f'"{project.code}-v{project.version}"',
    )
    assert response.status_code == 400, response.content
    assert str(limit) in " ".join(response.json()["error"]["fields"][field])


def test_the_model_refuses_long_text_for_admin_and_import(officer, project):
    from projects import services
    from projects.errors import InvalidData

    with pytest.raises(InvalidData) as error:
        services.project_update(
            actor=officer, project=project, data={"summary_en": "x" * (SUMMARY_MAX_CHARS + 1)}
        )
    assert str(SUMMARY_MAX_CHARS) in str(error.value.errors["summary_en"])


def _partner_queries(queries) -> int:
    return sum('"partners_partner"' in q["sql"] for q in queries.captured_queries)


def test_a_nested_list_is_resolved_in_one_query(api_client, officer, project):
    partners = factories.PartnerFactory.create_batch(60)
    client = api_client(officer)
    counts = {}
    for size in (2, 60):
        rows = [{"partner": p.pk, "role": "partner"} for p in partners[:size]]
        with CaptureQueriesContext(connection) as queries:
            response = _patch(client, project, {"participations": rows})
        assert response.status_code == 200, response.content
        counts[size] = _partner_queries(queries)
    # One query resolves the list, whatever its length (the response reads partners too).
    assert counts[2] == counts[60]


def test_unknown_ids_in_a_list_are_named_by_row(api_client, officer, project):
    missing = (Partner.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 99
    response = _patch(
        api_client(officer),
        project,
        {
            "participations": [
                {"partner": project.lead_unit_id, "role": "lead"},
                {"partner": missing, "role": "partner"},
            ],
            "countries": [{"country": "LA", "share": "50"}, {"country": "ZZ", "share": "50"}],
        },
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"participations.1.partner", "countries.1.country"}
