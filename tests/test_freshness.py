"""Lookups cached until their own tables change (`registry.freshness`): the per-table
versions the triggers keep (`registry.table_versions`), the reference rows and search
partners cached under them, and the pool's writes and figures left out of it.

The triggers act at commit, so these tests commit (`transaction=True`), on PostgreSQL."""

import contextlib
import threading

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from partners.models import Partner
from projects.models import Project, ProjectCountry, Status
from registry import freshness
from registry.models import Sector, TableVersion
from tests import factories

API = "/api/v1"
pytestmark = pytest.mark.django_db(transaction=True)

VERSIONED = {
    "partners_partner",
    "registry_country",
    "registry_countrygroup",
    "registry_countrygroup_members",
    "registry_sector",
}


def versions() -> dict[str, int]:
    found = freshness.versions()
    assert found is not None
    return found


def count_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]


def test_only_the_cached_lookups_tables_are_versioned(on_postgres):
    assert set(versions()) == VERSIONED
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname = ANY(%s)",
            [["registry_version_note", "registry_version_bump", "registry_version_truncate"]],
        )
        triggered = {table for (table,) in cursor.fetchall()}
        cursor.execute("SELECT to_regclass('registry_datageneration')")
        assert cursor.fetchone() == (None,)  # the one generation row is gone
    assert triggered == VERSIONED


def test_one_step_per_committed_transaction_that_writes_the_table(on_postgres):
    before = versions()
    with transaction.atomic():
        factories.PartnerFactory.create_batch(3, country_id="CN")
        # The writing transaction cannot use the cache: no version counts its writes.
        assert freshness.versions() is None
    after = versions()
    assert after["partners_partner"] == before["partners_partner"] + 1
    assert {t: v for t, v in after.items() if t != "partners_partner"} == {
        t: v for t, v in before.items() if t != "partners_partner"
    }


def test_project_writes_touch_no_version_and_keep_the_cache(on_postgres):
    """The pool's writers share no row: a project write neither bumps a version nor
    keeps its own transaction from the cached lookups."""
    lead_unit = factories.PartnerFactory(country_id="CN")
    before = versions()
    with transaction.atomic():
        project = factories.ProjectFactory(
            lead_unit=lead_unit, countries=[("LA", None)], sectors=[("logistics-rail", None)]
        )
        Project.objects.filter(pk=project.pk).update(status=Status.SUBMITTED)
        ProjectCountry.objects.filter(project=project).delete()
        assert freshness.versions() == before
    assert versions() == before
    assert not TableVersion.objects.filter(table_name__startswith="projects_").exists()


def test_rolled_back_transactions_leave_it(on_postgres):
    before = versions()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.PartnerFactory(country_id="CN")
        raise RuntimeError("rolled back")
    assert versions() == before


def test_writes_past_the_orm_move_it_too(on_postgres):
    partner = factories.PartnerFactory(country_id="CN")
    before = versions()
    Partner.objects.filter(pk=partner.pk).update(name_en="Renamed")
    assert versions()["partners_partner"] == before["partners_partner"] + 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_sector SET name_en = name_en WHERE code = 'logistics'")
    assert versions()["registry_sector"] == before["registry_sector"] + 1


def test_another_sessions_write_counts_from_its_commit(on_postgres):
    """A reader never sees a new version before the data that caused it."""
    before = versions()["partners_partner"]
    written, commit = threading.Event(), threading.Event()
    errors = []

    def write():
        try:
            with transaction.atomic():
                factories.PartnerFactory(country_id="CN", name_en="Written elsewhere")
                written.set()
                commit.wait(timeout=10)
        except Exception as error:  # reported below: the assertion names it
            errors.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    assert written.wait(timeout=10)
    assert versions()["partners_partner"] == before
    assert not Partner.objects.filter(name_en="Written elsewhere").exists()
    commit.set()
    writer.join(timeout=30)
    assert errors == []
    assert versions()["partners_partner"] == before + 1
    assert Partner.objects.filter(name_en="Written elsewhere").exists()


def test_list_counts_are_not_cached(on_postgres, api_client, manager):
    """Counts are capped (`registry.counting`), not cached: each follows every write."""
    lead_unit = factories.PartnerFactory(country_id="CN")
    factories.ProjectFactory.create_batch(3, lead_unit=lead_unit)
    client = api_client(manager)

    def fetch():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/projects/?status=draft&page_size=1")
        assert response.status_code == 200
        return response.json()["count"], count_queries(queries.captured_queries)

    assert [len(fetch()[1]) for _ in range(2)] == [1, 1]
    factories.ProjectFactory(lead_unit=lead_unit)
    assert fetch()[0] == 4
    Project.objects.filter(pk=Project.objects.first().pk).update(status=Status.SUBMITTED)
    assert fetch()[0] == 3


def test_counts_of_different_filters_and_users_are_kept_apart(
    on_postgres, api_client, manager, officer, lead_unit, other_unit
):
    factories.ProjectFactory.create_batch(2, lead_unit=lead_unit)
    factories.ProjectFactory.create_batch(3, lead_unit=other_unit)
    factories.ProjectFactory(lead_unit=other_unit, countries=[("LA", None)])

    def count(user, query=""):
        return api_client(user).get(f"{API}/projects/?{query}").json()["count"]

    for _ in range(2):  # the second round looks the country up in the cache
        assert count(manager) == 6
        assert count(officer) == 2  # an officer sees the projects of their own unit
        assert count(manager, "country=LA") == 1
        assert count(manager, "country=TH") == 0


def test_stats_follow_every_write(on_postgres, api_client, manager):
    project = factories.ProjectFactory(countries=[("LA", None)])
    factories.ProjectFactory(countries=[("TH", None)])
    client = api_client(manager)

    def drafts():
        body = client.get(f"{API}/stats/summary/").json()
        return {row["key"]: row["count"] for row in body["by_status"]}["draft"]

    assert drafts() == 2
    Project.objects.filter(pk=project.pk).update(status=Status.SUBMITTED)
    assert drafts() == 1


def test_no_cache_when_switched_off(settings, on_postgres, api_client, manager):
    settings.REGISTRY_RESULT_CACHE = False
    factories.ProjectFactory(sectors=[("logistics-rail", None)])
    client = api_client(manager)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{API}/projects/?sector=logistics").json()["count"] == 1
        lookups = [
            q for q in queries.captured_queries if q["sql"].startswith('SELECT "registry_sector"')
        ]
        assert len(lookups) == 2  # the sector named, and its family's ids
    assert freshness.versions() is None


def version_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "registry_tableversion" in q["sql"]]


@contextlib.contextmanager
def in_request(method: str):
    """Runs the block as the handling of a request of this method (its signals)."""
    request_started.send(sender=None, environ={"REQUEST_METHOD": method})
    try:
        yield
    finally:
        request_finished.send(sender=None)


def test_a_get_request_reads_the_versions_once(on_postgres):
    before = versions()
    with in_request("GET"), CaptureQueriesContext(connection) as queries:
        assert freshness.versions() == freshness.versions() == before
        factories.PartnerFactory(country_id="CN")  # committed while the request runs
        assert freshness.versions() == before  # kept to the request's end
    assert len(version_queries(queries.captured_queries)) == 1
    assert versions()["partners_partner"] > before["partners_partner"]  # the next request


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_other_requests_read_them_each_time(on_postgres, method):
    with in_request(method), CaptureQueriesContext(connection) as queries:
        before = freshness.versions()
        factories.PartnerFactory(country_id="CN")
        assert freshness.versions()["partners_partner"] > before["partners_partner"]
    assert len(version_queries(queries.captured_queries)) == 2


def test_a_transaction_in_a_get_request_reads_its_own_writes(on_postgres):
    with in_request("GET"):
        before = freshness.versions()
        with transaction.atomic():
            assert freshness.versions() == before  # read afresh, nothing written yet
            factories.PartnerFactory(country_id="CN")
            assert freshness.versions() is None  # its own writes: past the cache


def test_a_table_without_a_version_is_never_cached(on_postgres):
    computed = []

    def compute():
        computed.append(True)
        return 1

    for _ in range(2):
        freshness.remember(("pool-figure",), compute, tables=["projects_project"])
        freshness.remember(("pool-figure",), compute)
    assert len(computed) == 4


def test_reference_filters_are_looked_up_once_per_version(
    on_postgres, api_client, manager, lead_unit
):
    factories.ProjectFactory(lead_unit=lead_unit, sectors=[("logistics-rail", None)])
    client = api_client(manager)

    def fetch(query):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/projects/?{query}")
        sqls = [q["sql"] for q in queries.captured_queries]
        lookups = [sql for sql in sqls if sql.startswith('SELECT "registry_sector"')]
        return response, lookups

    # The sector named, then its family's ids (constants in the statement).
    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 1 and len(lookups) == 2
    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 1 and lookups == []  # found in the cache
    # A write to the pool leaves the reference lookups cached.
    factories.ProjectFactory(lead_unit=lead_unit, sectors=[("logistics-rail", None)])
    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 2 and lookups == []
    # An unknown code is refused every time (a failed lookup is not kept).
    for _ in range(2):
        response, lookups = fetch("sector=no-such-sector")
        assert response.status_code == 400 and len(lookups) == 1
    # A change to the sectors is a new version of their table: looked up again.
    Sector.objects.filter(code="logistics").update(name_en="Logistics and transport")
    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 2 and len(lookups) == 2


def test_search_counts_are_kept_apart_and_follow_changes(
    on_postgres, api_client, manager, officer, lead_unit, other_unit
):
    factories.ProjectFactory(lead_unit=lead_unit, title_zh="冷链物流中心")
    factories.ProjectFactory(lead_unit=other_unit, title_zh="冷链仓储")
    factories.ProjectFactory(lead_unit=other_unit, title_zh="钦州港航线")

    def count(user, query):
        response = api_client(user).get(f"{API}/projects/?{query}")
        assert response.status_code == 200
        return response.json()["count"]

    for _ in range(2):
        assert count(manager, "search=冷链") == 2
        assert count(manager, "search=航线") == 1
        assert count(manager, "search=冷链 中心") == 1
        assert count(officer, "search=冷链") == 1  # only their own unit's projects
        assert count(manager, f"search=冷链&lead_unit={other_unit.pk}") == 1
    factories.ProjectFactory(lead_unit=lead_unit, title_zh="冷链加工")
    assert count(manager, "search=冷链") == 3
