"""Every statement of a web request runs under REGISTRY_STATEMENT_TIMEOUT: one that runs
past it is stopped by the database and the request is answered 503 with Retry-After in
the request's language (the API's error shape under /api/, a page in the admin and the
portal), never a 500. The limit is the request's only: the connection serves the next
statement outside a request (a command, the worker) without it. On PostgreSQL and SQLite.

The real views are made slow by making a read they all call (`access.visible_projects`)
first run one slow statement on the request's connection."""

import logging

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from projects import access
from registry.authentication import issue_token

pytestmark = pytest.mark.django_db(transaction=True)

TINY_BUDGET = 0.05
API_LIST = "/api/v1/projects/"


def run_slow_statement(seconds: float) -> None:
    """One statement that runs about `seconds` (PostgreSQL: exactly; SQLite: about, by
    counting in a recursive query)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(%s)", [seconds])
        else:
            steps = int(seconds * 1_000_000)
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
                "SELECT count(*) FROM n",
                [steps],
            )
            cursor.fetchall()


@pytest.fixture
def slow_reads(monkeypatch):
    """`slow_reads(seconds)`: every view reading projects first runs a statement of about
    that long, on the connection the request uses."""
    visible_projects = access.visible_projects

    def make(seconds: float):
        def slow_visible_projects(user, queryset=None):
            run_slow_statement(seconds)
            return visible_projects(user, queryset)

        monkeypatch.setattr(access, "visible_projects", slow_visible_projects)

    return make


@pytest.fixture
def bearer(manager):
    _token, secret = issue_token(user=manager, name="timeout")
    return f"Bearer {secret}"


def session_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


# --- The answer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "耗时过长"), ("en", "took too long")],
)
def test_an_api_read_past_the_limit_is_a_503_in_the_error_shape_and_language(
    client, bearer, slow_reads, settings, caplog, language, expected
):
    settings.REGISTRY_STATEMENT_TIMEOUT = TINY_BUDGET
    slow_reads(30)
    with caplog.at_level(logging.WARNING, logger="registry.security"):
        response = client.get(API_LIST, HTTP_AUTHORIZATION=bearer, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "query_timeout"
    assert expected in error["message"]
    assert set(error) == {"code", "message"}
    warning = next(r for r in caplog.records if "Statement timeout" in r.getMessage())
    assert warning.levelno == logging.WARNING
    assert API_LIST in warning.getMessage()


@pytest.mark.parametrize(
    ("language", "heading"),
    [("zh-hans", "耗时过长，请重试"), ("en", "Taking too long, try again")],  # noqa: RUF001
)
def test_an_admin_page_past_the_limit_is_a_translated_503_page(
    client, manager, slow_reads, settings, language, heading
):
    settings.REGISTRY_STATEMENT_TIMEOUT = TINY_BUDGET
    client.force_login(manager)
    slow_reads(30)
    response = client.get(
        reverse("admin:projects_project_changelist"), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert "admin/css/base.css" in page  # in the admin's frame


def test_a_portal_page_past_the_limit_is_a_503_page_in_the_portals_frame(
    client, partner_user, slow_reads, settings
):
    settings.REGISTRY_STATEMENT_TIMEOUT = TINY_BUDGET
    client.force_login(partner_user)
    slow_reads(30)
    response = client.get(reverse("portal:projects"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "耗时过长，请重试" in page  # noqa: RUF001
    assert "portal/portal.css" in page
    assert "admin/css/base.css" not in page


# --- Only the request's ---------------------------------------------------------------


@pytest.mark.parametrize(("budget", "status"), [(TINY_BUDGET, 503), (0, 200)])
def test_the_limit_applies_as_set_and_zero_turns_it_off(
    client, bearer, slow_reads, settings, budget, status
):
    settings.REGISTRY_STATEMENT_TIMEOUT = budget
    slow_reads(0.5)
    response = client.get(API_LIST, HTTP_AUTHORIZATION=bearer)
    assert response.status_code == status, response.content


@pytest.mark.parametrize(("write_budget", "status"), [(30, 200), (TINY_BUDGET, 503)])
def test_writes_have_a_limit_of_their_own(
    api_client, officer, project, slow_reads, settings, write_budget, status
):
    settings.REGISTRY_STATEMENT_TIMEOUT = TINY_BUDGET
    settings.REGISTRY_WRITE_STATEMENT_TIMEOUT = write_budget
    slow_reads(0.5)
    response = api_client(officer).patch(
        f"{API_LIST}{project.code}/",
        {"title_en": "Changed"},
        HTTP_IF_MATCH=f'"{project.code}-v{project.version}"',
    )
    assert response.status_code == status, response.content


def test_after_the_request_the_connection_runs_long_statements_again(
    client, bearer, slow_reads, settings
):
    settings.REGISTRY_STATEMENT_TIMEOUT = TINY_BUDGET
    slow_reads(30)
    assert client.get(API_LIST, HTTP_AUTHORIZATION=bearer).status_code == 503
    # What a command or the worker runs next on this persistent connection: no limit.
    run_slow_statement(0.5)
    # And a request whose statements stay within the limit answers.
    settings.REGISTRY_STATEMENT_TIMEOUT = 30
    slow_reads(0.2)
    assert client.get(API_LIST, HTTP_AUTHORIZATION=bearer).status_code == 200
    run_slow_statement(0.5)


@pytest.mark.postgres
def test_the_session_setting_is_the_requests_then_restored(
    on_postgres, client, bearer, settings, monkeypatch
):
    before = session_timeout()
    settings.REGISTRY_STATEMENT_TIMEOUT = 2.5
    seen = []
    visible_projects = access.visible_projects

    def recording(user, queryset=None):
        seen.append(session_timeout())
        return visible_projects(user, queryset)

    monkeypatch.setattr(access, "visible_projects", recording)
    assert client.get(API_LIST, HTTP_AUTHORIZATION=bearer).status_code == 200
    # A connection the request opens itself (the previous one closed) gets it too.
    connection.close()
    assert client.get(API_LIST, HTTP_AUTHORIZATION=bearer).status_code == 200
    assert seen == ["2500ms", "2500ms"]
    assert session_timeout() == before


@pytest.mark.postgres
def test_a_connection_opened_by_the_request_is_stopped_too(
    on_postgres, client, bearer, slow_reads, settings
):
    settings.REGISTRY_STATEMENT_TIMEOUT = TINY_BUDGET
    slow_reads(30)
    connection.close()
    response = client.get(API_LIST, HTTP_AUTHORIZATION=bearer)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "query_timeout"
    run_slow_statement(0.5)


@pytest.mark.postgres
def test_a_persistent_connection_that_died_between_requests_is_reopened(
    on_postgres, client, bearer, settings
):
    settings.REGISTRY_STATEMENT_TIMEOUT = 2.5
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    response = client.get(API_LIST, HTTP_AUTHORIZATION=bearer)
    assert response.status_code == 200, response.content


@pytest.mark.postgres
def test_a_streamed_export_keeps_the_limit_until_it_is_sent(
    on_postgres, client, manager, project, settings
):
    settings.REGISTRY_STATEMENT_TIMEOUT = 2.5
    before = session_timeout()
    client.force_login(manager)
    response = client.get(f"{API_LIST}export/?format=csv")
    assert response.status_code == 200
    assert response.streaming
    # The view has returned; the rows are read while the body is sent.
    assert session_timeout() == "2500ms"
    body = b"".join(response.streaming_content)
    assert project.code.encode() in body
    assert session_timeout() == before
