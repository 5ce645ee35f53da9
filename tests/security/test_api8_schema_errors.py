"""OWASP API8:2023 Security Misconfiguration: no request a user can make answers 500 or
an HTML error page under /api/; errors keep the one shape (`{"error": {"code", …}}`)."""

import base64
import json
import urllib.error
import urllib.request

import pytest

from projects.models import Project
from registry.authentication import issue_token
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def encoded_cursor(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        encoded_cursor("o=1&r=1&p=not-a-time"),  # decodes; its position is no time
        encoded_cursor("p=2026-13-45T99:00:00"),  # looks like a time, is none
        encoded_cursor("o=x"),
        "not base64 at all!",
    ],
)
def test_a_tampered_sync_cursor_is_a_404_in_the_error_shape(api_client, manager, project, cursor):
    """It points to no page, as a page number past the end (documented 404)."""
    client = api_client(manager)
    for path in ("/api/v1/projects/sync/", "/api/v1/partners/sync/"):
        response = client.get(path, {"cursor": cursor})
        assert_error_shape(response, 404, "invalid_cursor")


def test_the_cursors_the_api_writes_still_walk_the_pool(api_client, manager, project):
    factories_project = Project.objects.get(pk=project.pk)
    client = api_client(manager)
    first = client.get("/api/v1/projects/sync/", {"page_size": 1}).json()
    assert [row["code"] for row in first["results"]] == [factories_project.code]
    assert client.get(first["previous"] or "/api/v1/projects/sync/").status_code == 200


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "CONNECT"])
@pytest.mark.parametrize(
    "path", ["/api/v1/projects/export/", "/api/v1/projects/", "/api/v1/countries/LA/"]
)
def test_unsupported_methods_are_a_405_in_json(api_client, manager, project, method, path):
    response = api_client(manager).generic(method, path)
    assert_error_shape(response, 405, "method_not_allowed")
    assert response["Allow"]


def test_options_on_the_export_answers_json(api_client, manager):
    response = api_client(manager).options("/api/v1/projects/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"]


def test_an_export_asked_for_html_answers_a_json_error(api_client, manager):
    response = api_client(manager).generic(
        "TRACE", "/api/v1/projects/export/", HTTP_ACCEPT="text/html"
    )
    assert response.status_code in {405, 406}
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        "/api/v1/projects/bad code!/",
        "/api/v1/projects/P000001/nothing/",
        "/api/v2/",
        "/api/",
        "/api/v1/countries/LA/extra/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_any_unknown_address_under_api_is_a_json_404(client, manager, path, method):
    client.force_login(manager)
    response = client.generic(method, path)
    assert_error_shape(response, 404, "not_found")


def test_an_unknown_address_under_api_is_json_also_with_debug(client, settings):
    settings.DEBUG = True
    assert_error_shape(client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_a_known_address_without_its_slash_is_still_redirected(client, manager):
    client.force_login(manager)
    response = client.get("/api/v1/projects?page=1")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/projects/?page=1"


def test_pages_outside_the_api_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- Under a real WSGI server (wsgiref, as runserver) ----------------------------------


def _request(url: str, *, method="GET", token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept-Language", "en")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.django_db(transaction=True)
def test_creating_a_project_under_a_wsgi_server_answers_201_with_its_location(live_server):
    """wsgiref (runserver, and this live server) refuses a header value that is not a
    str: the create committed, then the client saw a 500 and a retry made a duplicate."""
    from tests import factories

    unit = factories.PartnerFactory(country_id="CN")
    officer = make_user("wsgi-officer", "officer", unit)
    _, token = issue_token(user=officer, name="wsgi")
    status, headers, body = _request(
        f"{live_server.url}/api/v1/projects/",
        method="POST",
        token=token,
        body={"title_zh": "试验", "title_en": "Trial", "lead_unit": unit.pk},
    )
    assert status == 201, body[:300]
    created = json.loads(body)
    assert headers["Location"] == created["url"]
    assert Project.objects.count() == 1
    status, _, body = _request(headers["Location"], token=token)
    assert status == 200 and json.loads(body)["code"] == created["code"]


@pytest.mark.parametrize(
    "path", ["/api/v1/projects/", "/api/v1/sites.geojson", "/api/v1/projects/sync/"]
)
def test_moments_with_any_iso_offset_are_read_in_utc(api_client, manager, path):
    """ISO 8601 allows offsets up to ±23:59 and PostgreSQL only ±15:59: the filters hand
    the database the moment in UTC; one beyond year 9999 in UTC is a 400, not a 500."""
    client = api_client(manager)
    response = client.get(path, {"updated_since": "2026-04-19T15:21:16-19:59"})
    assert response.status_code == 200, response.content
    response = client.get(path, {"updated_since": "9999-12-31T23:00:00-23:59"})
    assert response.status_code == 400, response.content
    assert "updated_since" in response.json()["error"]["fields"]
