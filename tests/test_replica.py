"""The read replica against a real hot standby (.ci/run makes one on 127.0.0.1:5433 with
`pg_basebackup -R` and sets DATABASE_REPLICA_URL): GET reads land on the standby, writes
on the primary, a writer reads its own writes, and a lagging standby serves older data
without breaking the API."""

import os
import time

import dj_database_url
import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from registry.authentication import issue_token
from tests import factories

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.replica,
    # The replica alias exists only with DATABASE_REPLICA_URL (else the test skips).
    pytest.mark.django_db(
        transaction=True,
        databases=["default", "replica"] if os.environ.get("DATABASE_REPLICA_URL") else ["default"],
    ),
]
API = "/api/v1"


def wait_until(predicate, *, timeout=30.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def standby():
    url = os.environ.get("DATABASE_REPLICA_URL")
    if not url:
        pytest.skip(
            "DATABASE_REPLICA_URL is unset: no read replica to test (.ci/run starts a hot "
            "standby on 127.0.0.1:5433 and sets it for the PostgreSQL run)"
        )
    if connection.vendor != "postgresql":
        pytest.skip("the read replica is a PostgreSQL hot standby")
    replica = connections["replica"]
    # In tests the replica alias mirrors the primary (Django's TEST MIRROR), so nothing
    # tries to create or flush a database on a read-only standby; here it is pointed at
    # the standby, where the test database exists by replication.
    mirrored = replica.settings_dict
    parsed = dj_database_url.parse(url)
    replica.close()
    replica.settings_dict = {
        **mirrored,
        "HOST": parsed["HOST"],
        "PORT": parsed["PORT"],
        "USER": parsed["USER"] or mirrored["USER"],
        "NAME": connections["default"].settings_dict["NAME"],
    }

    def reachable():
        try:
            replica.ensure_connection()
            return True
        except OperationalError:
            replica.close()
            return False

    wait_until(reachable, what="the test database on the standby")
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True, "DATABASE_REPLICA_URL is not a standby"
    yield replica
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    replica.close()
    replica.settings_dict = mirrored


def on_standby(replica, project_id) -> bool:
    with replica.cursor() as cursor:
        cursor.execute("SELECT 1 FROM projects_project WHERE id = %s", [project_id])
        return cursor.fetchone() is not None


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {row["code"] for row in response.json()["results"]}


def test_reads_on_standby_writes_on_primary_read_your_writes_and_lag(
    standby, client, officer, lead_unit, manager, admin_user, settings
):
    settings.REGISTRY_READ_YOUR_WRITES_SECONDS = 2
    existing = factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", 100)])
    wait_until(lambda: on_standby(standby, existing.pk), what="replication of the project")
    _token, officer_secret = issue_token(user=officer, name="writer")
    _token, manager_secret = issue_token(user=manager, name="reader")
    as_officer = {"HTTP_AUTHORIZATION": f"Bearer {officer_secret}"}
    as_manager = {"HTTP_AUTHORIZATION": f"Bearer {manager_secret}"}

    # A GET reads its projects from the standby, none from the primary.
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(standby) as replica,
    ):
        assert existing.code in codes(client.get(f"{API}/projects/", **as_manager))
    assert any("projects_project" in q["sql"] for q in replica.captured_queries)
    assert not any("projects_project" in q["sql"] for q in primary.captured_queries)

    # The standby stops replaying: it lags from here on.
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")

    # A write goes to the primary.
    with CaptureQueriesContext(connections["default"]) as primary:
        created = client.post(
            f"{API}/projects/",
            {"title_zh": "中老铁路冷链班列", "lead_unit": lead_unit.pk},
            content_type="application/json",
            **as_officer,
        )
    assert created.status_code == 201, created.content
    code = created.json()["code"]
    assert any(q["sql"].startswith("INSERT") for q in primary.captured_queries)
    new_id = Project.objects.get(code=code).pk
    assert not on_standby(standby, new_id)

    # The writer reads its own write (from the primary) ...
    assert code in codes(client.get(f"{API}/projects/", **as_officer))
    assert client.get(f"{API}/projects/{code}/", **as_officer).status_code == 200
    # ... while another client is served the lagging standby's data, without an error.
    others = codes(client.get(f"{API}/projects/", **as_manager))
    assert existing.code in others and code not in others
    assert client.get(f"{API}/stats/summary/", **as_manager).status_code == 200

    # /ready/ tells staff how far behind the standby is, and stays ready.
    # Logged in through the form: the new session is written to the primary and read
    # from there (read your own writes), while the standby still lacks it.
    admin_user.set_password("a-long-test-password-0")
    admin_user.save()
    login = client.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.username, "password": "a-long-test-password-0"},
    )
    assert login.status_code == 302
    ready = client.get("/ready/")
    assert ready.status_code == 200
    assert ready.json()["checks"]["replica"]["lag_bytes"] > 0

    # Replay resumes: everyone sees the project; the writer is back on the standby.
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_until(lambda: on_standby(standby, new_id), what="the standby to catch up")
    assert code in codes(client.get(f"{API}/projects/", **as_manager))
    time.sleep(settings.REGISTRY_READ_YOUR_WRITES_SECONDS + 0.2)
    with CaptureQueriesContext(standby) as replica:
        assert code in codes(client.get(f"{API}/projects/", **as_officer))
    assert any("projects_project" in q["sql"] for q in replica.captured_queries)
