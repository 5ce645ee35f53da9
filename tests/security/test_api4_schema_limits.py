"""OWASP API4:2023 Unrestricted Resource Consumption: inputs and bursts that cost the
server more than they should answer 4xx (or work), never 500."""

import concurrent.futures
import json
import urllib.error
import urllib.request

import pytest

from projects.models import Project
from tests.security.test_api8_schema_errors import assert_error_shape

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.mark.parametrize("depth", [100_000, 1_000, 40])
def test_a_deeply_nested_json_body_is_a_400(api_client, officer, lead_unit, depth):
    body = '{"title_zh": ' + "[" * depth + "]" * depth + "}"
    response = api_client(officer).generic(
        "POST", "/api/v1/projects/", body, content_type="application/json"
    )
    assert_error_shape(response, 400, "too_deeply_nested")
    assert not Project.objects.exists()


def test_a_body_as_deep_as_the_api_needs_is_read(api_client, officer, lead_unit):
    body = {
        "title_zh": "测试",
        "title_en": "Test",
        "lead_unit": lead_unit.pk,
        "countries": [{"country": "LA", "share": "100"}],
    }
    response = api_client(officer).post("/api/v1/projects/", body, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db(transaction=True)
def test_a_hundred_concurrent_anonymous_schema_requests_get_the_schema_or_a_429(
    live_server, settings
):
    """drf-spectacular's generation is not safe in two threads at once (runserver and
    threaded servers answered some of 100 concurrent requests with 500)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "10000/minute",
        },
    }
    url = f"{live_server.url}/api/schema/?format=json"

    def fetch(_):
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        answers = list(pool.map(fetch, range(100)))
    statuses = sorted({status for status, _ in answers})
    assert statuses == [200], statuses
    bodies = {body for _, body in answers}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["openapi"].startswith("3.")


def test_the_schema_in_an_unknown_language_is_a_400(client):
    response = client.get("/api/schema/", {"format": "json", "lang": "xx"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["lang"]


def test_the_schema_follows_the_language_asked_for(client):
    english = client.get("/api/schema/", {"format": "json", "lang": "en"}).json()
    chinese = client.get("/api/schema/", {"format": "json", "lang": "zh-hans"}).json()
    assert english["paths"]["/api/v1/projects/"]["get"]["summary"] == "List projects"
    assert chinese["paths"]["/api/v1/projects/"]["get"]["summary"] != "List projects"
