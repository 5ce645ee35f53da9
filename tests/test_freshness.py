"""Results cached until the data changes (`registry.freshness`): the generation the
triggers keep, and the list counts and stats figures cached under it.

The triggers act at commit, so these tests commit (`transaction=True`), on PostgreSQL."""

import contextlib
import threading

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from projects.models import Project, ProjectCountry, Status
from registry import freshness
from registry.models import Sector
from tests import factories

API = "/api/v1"
pytestmark = pytest.mark.django_db(transaction=True)


def generation() -> int:
    value = freshness.generation()
    assert value is not None
    return value


def count_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]


def test_one_step_per_committed_transaction_that_writes(on_postgres):
    before = generation()
    with transaction.atomic():
        lead_unit = factories.PartnerFactory(country_id="CN")
        factories.ProjectFactory.create_batch(
            3, lead_unit=lead_unit, countries=[("LA", None)], sectors=[("logistics-rail", None)]
        )
        # The writing transaction cannot use the cache: no generation counts its writes.
        assert freshness.generation() is None
    assert generation() == before + 1


def test_read_only_and_rolled_back_transactions_leave_it(on_postgres):
    before = generation()
    with transaction.atomic():
        Project.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.PartnerFactory(country_id="CN")
        raise RuntimeError("rolled back")
    assert generation() == before


def test_writes_past_the_orm_move_it_too(on_postgres):
    project = factories.ProjectFactory(countries=[("LA", None)])
    before = generation()
    Project.objects.filter(pk=project.pk).update(risk_level="high")
    assert generation() == before + 1
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM projects_projectcountry WHERE project_id = %s", [project.pk])
    assert generation() == before + 2
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE projects_tag CASCADE")
    assert generation() == before + 3


def test_another_sessions_write_counts_from_its_commit(on_postgres):
    """A reader never sees a new generation before the data that caused it."""
    lead_unit = factories.PartnerFactory(country_id="CN")
    before = generation()
    written, commit = threading.Event(), threading.Event()
    errors = []

    def write():
        try:
            with transaction.atomic():
                factories.ProjectFactory(lead_unit=lead_unit)
                written.set()
                commit.wait(timeout=10)
        except Exception as error:  # reported below: the assertion names it
            errors.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    assert written.wait(timeout=10)
    assert generation() == before
    assert Project.objects.count() == 0
    commit.set()
    writer.join(timeout=30)
    assert errors == []
    assert generation() == before + 1
    assert Project.objects.count() == 1


def test_concurrent_writers_neither_wait_nor_deadlock(on_postgres):
    """Two transactions write at the same time; the generation's row is only locked at
    commit, so both finish and each adds one."""
    projects = factories.ProjectFactory.create_batch(2)
    before = generation()
    barrier = threading.Barrier(2)
    errors = []

    def write(index):
        try:
            with transaction.atomic():
                Project.objects.filter(pk=projects[index].pk).update(risk_level="high")
                barrier.wait(timeout=10)  # both have written before either commits
                Project.objects.filter(pk=projects[1 - index].pk).update(risk_notes="")
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    # Each updates the other's row second: the two row locks are taken in opposite
    # orders, so only one transaction can go on; the other waits for its commit.
    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # A deadlock between the project rows themselves is PostgreSQL's to report; what
    # must not happen is a hang or a deadlock on the generation.
    assert all(not thread.is_alive() for thread in threads)
    committed = 2 - len(errors)
    assert generation() == before + committed


def test_list_count_is_cached_until_the_pool_changes(on_postgres, api_client, manager):
    lead_unit = factories.PartnerFactory(country_id="CN")
    factories.ProjectFactory.create_batch(3, lead_unit=lead_unit)
    client = api_client(manager)

    def fetch():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/projects/?status=draft&page_size=1")
        assert response.status_code == 200
        return response.json()["count"], count_queries(queries.captured_queries)

    assert fetch()[0] == 3 and len(fetch()[1]) == 0  # the second call counts nothing
    factories.ProjectFactory(lead_unit=lead_unit)
    count, counted = fetch()
    assert count == 4 and len(counted) == 1
    # A change in a related table (a status set by bulk update) counts as a change too.
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

    for _ in range(2):  # the second round answers from the cache
        assert count(manager) == 6
        assert count(officer) == 2  # an officer sees the projects of their own unit
        assert count(manager, "country=LA") == 1
        assert count(manager, "country=TH") == 0


def test_stats_summary_is_cached_until_the_pool_changes(on_postgres, api_client, manager):
    project = factories.ProjectFactory(countries=[("LA", None)])
    factories.ProjectFactory(countries=[("TH", None)])
    client = api_client(manager)

    def drafts():
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"{API}/stats/summary/").json()
        statuses = {row["key"]: row["count"] for row in body["by_status"]}
        return statuses["draft"], [q for q in queries.captured_queries if "WITH sel" in q["sql"]]

    assert drafts()[0] == 2
    assert drafts() == (2, [])  # answered from the cache
    ProjectCountry.objects.filter(project=project).delete()
    Project.objects.filter(pk=project.pk).update(status=Status.SUBMITTED)
    count, computed = drafts()
    assert count == 1 and len(computed) == 1


def test_no_cache_when_switched_off(settings, api_client, manager):
    settings.REGISTRY_RESULT_CACHE = False
    factories.ProjectFactory()
    client = api_client(manager)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{API}/projects/").json()["count"] == 1
        assert len(count_queries(queries.captured_queries)) == 1
    assert freshness.generation() is None


def generation_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "registry_datageneration" in q["sql"]]


@contextlib.contextmanager
def in_request(method: str):
    """Runs the block as the handling of a request of this method (its signals)."""
    request_started.send(sender=None, environ={"REQUEST_METHOD": method})
    try:
        yield
    finally:
        request_finished.send(sender=None)


def test_a_get_request_reads_the_generation_once(on_postgres):
    before = generation()
    with in_request("GET"), CaptureQueriesContext(connection) as queries:
        assert freshness.generation() == freshness.generation() == before
        factories.PartnerFactory(country_id="CN")  # committed while the request runs
        assert freshness.generation() == before  # kept to the request's end
    assert len(generation_queries(queries.captured_queries)) == 1
    assert generation() > before  # the next request sees the change


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_other_requests_read_it_each_time(on_postgres, method):
    with in_request(method), CaptureQueriesContext(connection) as queries:
        before = freshness.generation()
        factories.PartnerFactory(country_id="CN")
        assert freshness.generation() > before
    assert len(generation_queries(queries.captured_queries)) == 2


def test_a_transaction_in_a_get_request_reads_its_own_writes(on_postgres):
    with in_request("GET"):
        before = freshness.generation()
        with transaction.atomic():
            assert freshness.generation() == before  # read afresh, nothing written yet
            factories.PartnerFactory(country_id="CN")
            assert freshness.generation() is None  # its own writes: past the cache


def test_reference_filters_are_looked_up_once_per_generation(
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

    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 1 and len(lookups) == 1
    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 1 and lookups == []  # found in the cache
    # An unknown code is refused every time (a failed lookup is not kept).
    for _ in range(2):
        response, lookups = fetch("sector=no-such-sector")
        assert response.status_code == 400 and len(lookups) == 1
    # A change to the reference data is a new generation: looked up again.
    Sector.objects.filter(code="logistics").update(name_en="Logistics and transport")
    response, lookups = fetch("sector=logistics")
    assert response.json()["count"] == 1 and len(lookups) == 1


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

    for _ in range(2):  # the second round answers from the cache
        assert count(manager, "search=冷链") == 2
        assert count(manager, "search=航线") == 1
        assert count(manager, "search=冷链 中心") == 1
        assert count(officer, "search=冷链") == 1  # only their own unit's projects
        assert count(manager, f"search=冷链&lead_unit={other_unit.pk}") == 1
    factories.ProjectFactory(lead_unit=lead_unit, title_zh="冷链加工")
    assert count(manager, "search=冷链") == 3


def test_stats_summary_is_kept_per_language_and_per_selection(
    on_postgres, api_client, manager, officer, lead_unit, other_unit
):
    factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", None)])
    factories.ProjectFactory(lead_unit=other_unit, countries=[("TH", None)])

    def summary(user, language, query=""):
        with CaptureQueriesContext(connection) as queries:
            response = api_client(user, language=language).get(f"{API}/stats/summary/?{query}")
        assert response.status_code == 200
        computed = [q for q in queries.captured_queries if "WITH sel" in q["sql"]]
        return response.json(), computed

    for _ in range(2):  # the second round answers from the cache
        english, _computed = summary(manager, "en")
        chinese, _computed = summary(manager, "zh-hans")
        labels = {row["key"]: row["label"] for row in english["by_status"]}
        assert labels["draft"] == "draft"
        assert {row["key"]: row["label"] for row in chinese["by_status"]}["draft"] == "草稿"
        assert english["count"] == chinese["count"] == 2
        assert summary(officer, "en")[0]["count"] == 1  # their own unit's projects only
        assert summary(manager, "en", f"lead_unit={other_unit.pk}")[0]["count"] == 1
    assert summary(manager, "en")[1] == []
