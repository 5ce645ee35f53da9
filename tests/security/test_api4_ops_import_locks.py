"""OWASP API4:2023 Unrestricted Resource Consumption (one user's import must not lock
the others out). A preview takes no write lock that blocks others; the project code
sequence is locked only while a block of codes is taken; a token's last use is written
at most once per interval and never makes a read wait; a write that cannot get the lock
is a 503 with Retry-After, never a 500. Each with a concurrent writer, on the database
the test runs on (PostgreSQL and SQLite)."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import F

from projects.importing.projects import import_projects
from projects.importing.template import PROJECT_COLUMNS
from projects.models import CodeSequence, Project, Tag, next_project_code
from registry.authentication import issue_token
from registry.importing.formats import Table
from registry.models import ApiToken
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def in_other_thread(work):
    """Run `work` on another thread, hence another database connection; return what
    it returned or raise what it raised."""
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except Exception as error:  # handed back to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def no_wait():
    """Make this connection fail at once instead of waiting for a lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 0")
        else:
            cursor.execute("SET lock_timeout = '1s'")


def table_of(count: int, lead_unit) -> Table:
    keys = [c.key for c in PROJECT_COLUMNS]
    headers = [c.header for c in PROJECT_COLUMNS]
    rows = []
    for n in range(count):
        values = {"title_zh": f"导入项目{n}", "lead_unit": lead_unit.name_zh, "countries": "LA"}
        rows.append([values.get(key, "") for key in keys])
    from registry.importing.formats import SheetRow

    return Table(headers, [SheetRow(n + 2, row, {}) for n, row in enumerate(rows)], "csv")


@pytest.fixture
def importer(lead_unit):
    return make_user("importer", "officer", lead_unit)


def test_other_users_create_projects_while_an_import_commits(importer, lead_unit, settings):
    settings.REGISTRY_IMPORT_BATCH_SIZE = 5
    created_meanwhile = []

    def create_elsewhere(done, total):
        if done == 5:
            # Another user's project creation, mid-import: takes a code at once.
            def work():
                no_wait()
                with transaction.atomic():
                    return next_project_code()

            created_meanwhile.append(in_other_thread(work))

    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time: the commit itself holds the lock")
    report = import_projects(
        table_of(10, lead_unit), actor=importer, commit=True, progress=create_elsewhere
    )
    assert report.committed, report.as_text()
    imported = set(Project.objects.values_list("code", flat=True))
    assert len(imported) == 10
    assert created_meanwhile and created_meanwhile[0] not in imported


def test_a_preview_lets_others_write_meanwhile(importer, lead_unit, settings):
    settings.REGISTRY_IMPORT_BATCH_SIZE = 5
    written = []

    def write_elsewhere(done, total):
        if done == 5:

            def work():
                no_wait()
                with transaction.atomic():
                    Tag.objects.create(name="并发写入")
                    return CodeSequence.take("project")

            written.append(in_other_thread(work))

    report = import_projects(
        table_of(10, lead_unit), actor=importer, commit=False, progress=write_elsewhere
    )
    assert not report.errors and report.created == 10
    assert written and Tag.objects.filter(name="并发写入").exists()
    assert not Project.objects.exists()
    # The preview took no code: only the other user's number was handed out.
    assert CodeSequence.objects.get(name="project").last_value == written[0]


@pytest.fixture
def held_write_lock(db):
    """Another connection in the middle of a write transaction (as an import is): on
    SQLite it holds the database's write lock; on PostgreSQL the sequence's row lock and
    the project's."""
    started, release = threading.Event(), threading.Event()

    def hold(project_pk):
        def work():
            with transaction.atomic():
                # A write to a table the reads below do not touch (SQLite's shared-cache
                # test database locks per table for readers; a real WAL file does not).
                CodeSequence.objects.get_or_create(name="project")
                CodeSequence.objects.filter(name="project").update(last_value=F("last_value"))
                CodeSequence.objects.select_for_update().filter(name="project").first()
                Project.objects.select_for_update().filter(pk=project_pk).first()
                started.set()
                release.wait(timeout=30)

        thread = threading.Thread(target=lambda: (work(), connections.close_all()))
        thread.start()
        assert started.wait(timeout=30)
        return thread

    threads = []

    def start(project_pk):
        threads.append(hold(project_pk))

    yield start
    release.set()
    for thread in threads:
        thread.join(timeout=30)


def test_a_write_that_cannot_get_the_lock_is_a_503_not_a_500(
    api_client, officer, project, held_write_lock, settings
):
    CodeSequence.objects.get_or_create(name="project")
    client = api_client(officer, language="zh-hans")
    etag = f'"{project.code}-v{project.version}"'
    held_write_lock(project.pk)
    if connection.vendor == "postgresql":
        # PostgreSQL makes the writer wait for the row; a lock_timeout bounds the wait.
        no_wait()
    response = client.patch(
        f"/api/v1/projects/{project.code}/", {"title_en": "Changed"}, HTTP_IF_MATCH=etag
    )
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "database_busy"
    assert "重试" in error["message"]


def test_a_read_with_a_token_does_not_wait_for_the_lock(client, manager, project, held_write_lock):
    _token, secret = issue_token(user=manager, name="reader")
    held_write_lock(project.pk)
    no_wait()
    response = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_last_use_is_written_at_most_once_per_interval(client, manager):
    token, secret = issue_token(user=manager, name="reader")
    client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_admin_write_that_cannot_get_the_lock_is_a_503_page(
    client, officer, project, held_write_lock
):
    from django.urls import reverse

    from tests.test_admin import project_post

    client.force_login(officer)
    held_write_lock(project.pk)
    if connection.vendor == "postgresql":
        no_wait()
    response = client.post(
        reverse("admin:projects_project_change", args=[project.pk]),
        {
            **project_post(lead_unit=project.lead_unit, countries=[], sectors=[]),
            "expected_version": project.version,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"try again in a few seconds" in response.content
