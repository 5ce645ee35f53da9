"""The OpenAPI schema: valid, complete, served with local docs; and a schemathesis run
against the live schema (no 5xx, no response that breaches the schema)."""

import re

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from partners.models import Contact
from projects.models import Project
from registry.authentication import issue_token
from registry.wsgi import application
from tests import factories

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

CONTRACT_PATHS = [
    "/api/v1/",
    "/api/v1/projects/",
    "/api/v1/projects/{code}/",
    "/api/v1/projects/{code}/history/",
    "/api/v1/projects/{code}/reviews/",
    "/api/v1/projects/{code}/support-decisions/",
    "/api/v1/projects/{code}/progress-updates/",
    "/api/v1/projects/{code}/transitions/",
    "/api/v1/projects/export/",
    "/api/v1/projects/sync/",
    "/api/v1/partners/",
    "/api/v1/contacts/",
    "/api/v1/countries/",
    "/api/v1/country-groups/",
    "/api/v1/sectors/",
    "/api/v1/me/",
]
PROJECT_FILTERS = {
    "status",
    "kind",
    "sector",
    "country",
    "country_group",
    "partner",
    "lead_unit",
    "value_min",
    "value_max",
    "planned_start_after",
    "planned_start_before",
    "created_after",
    "created_before",
    "risk",
    "review_overdue",
    "updated_since",
    "search",
    "ordering",
    "page",
    "page_size",
}


def test_spectacular_validates_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--lang",
        "en",
        "--file",
        str(tmp_path / "schema.yaml"),
    )
    assert (tmp_path / "schema.yaml").stat().st_size > 10_000


def test_schema_describes_every_endpoint_filter_error_and_the_bearer_scheme(client):
    schema = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert set(CONTRACT_PATHS) <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    listing = schema["paths"]["/api/v1/projects/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= PROJECT_FILTERS
    assert {"400", "401", "429"} <= set(listing["responses"])
    patch = schema["paths"]["/api/v1/projects/{code}/"]["patch"]
    assert {"400", "403", "404", "412", "428"} <= set(patch["responses"])
    assert "If-Match" in {p["name"] for p in patch["parameters"]}
    transitions = schema["paths"]["/api/v1/projects/{code}/transitions/"]["post"]
    assert "409" in transitions["responses"]
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    write = schema["components"]["schemas"]["ProjectWriteRequest"]["properties"]
    assert not {"status", "code", "version"} & set(write)


def test_docs_are_served_without_a_cdn(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui" in s for s in sources)
    assert all(s.startswith("/") for s in sources), sources
    assert "cdn" not in html.lower()


# --- schemathesis ----------------------------------------------------------------------


@pytest.fixture(params=["anonymous", "partner_user", "officer", "reviewer", "manager"])
def fuzz_world(request, project, foreign_partner, settings):
    """Real rows for the path parameters, so generated requests reach the views'
    logic rather than stopping at 404, and a token of each role: the project's partner,
    its officer (who writes it), a reviewer, a manager (who decides), or none."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    contact = factories.ContactFactory(partner=foreign_partner)
    secret = None
    if request.param != "anonymous":
        user = request.getfixturevalue(request.param)
        _, secret = issue_token(user=user, name="schemathesis")
    # As Django's own test client does: the WSGI handler must not close the test's
    # database connection (and its open transaction) when a request starts or ends.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
        request.addfinalizer(lambda signal=signal: signal.connect(close_old_connections))
    return {
        "secret": secret,
        "project": project.code,
        "partner": foreign_partner.pk,
        "contact": contact.pk,
    }


# Five roles share the budget two roles had (15 each).
EXAMPLES_PER_OPERATION = 6


def _path_value(path: str, name: str, world: dict):
    if name == "iso2":
        return "LA"
    if name == "id":
        return world["contact"] if path.startswith("/api/v1/contacts/") else world["partner"]
    if path.startswith("/api/v1/sectors/"):
        return "logistics-rail"
    if path.startswith("/api/v1/country-groups/"):
        return "asean"
    return world["project"]


def _check_operation(operation, world, examples: int) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        for name in list(case.path_parameters or {}):
            case.path_parameters[name] = _path_value(operation.path, name, world)
        if case.headers and "If-Match" in case.headers:
            project = Project.objects.get(code=world["project"])
            case.headers["If-Match"] = f'"{project.code}-v{project.version}"'
        headers = {"Accept-Language": "en"}
        if world["secret"]:
            headers["Authorization"] = f"Bearer {world['secret']}"
        case.call_and_validate(
            headers=headers,
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()


def test_api_conforms_to_its_schema(fuzz_world):
    """Every operation, a bounded number of generated requests each, with a token: no
    5xx and every documented response matches its schema."""
    api_schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    failures = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _check_operation(operation, fuzz_world, examples=EXAMPLES_PER_OPERATION)
        except (Exception, BaseExceptionGroup) as error:  # collect all, report at the end
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
    assert Contact.objects.exists()  # nothing is ever hard-deleted
