import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from tests import factories


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reference data (countries, groups, sectors) is in every test database, as in
    production, where `load_reference` runs at setup."""
    with django_db_blocker.unblock():
        call_command("load_reference", verbosity=0)


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")


def make_user(username: str, role: str | None, *partners, **extra):
    user = factories.UserFactory(username=username, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    for partner in partners:
        factories.MembershipFactory(user=user, partner=partner)
    return user


@pytest.fixture
def lead_unit(db):
    return factories.PartnerFactory(
        country_id="CN", name_zh="广西国际博览事务局", name_en="Expo Bureau"
    )


@pytest.fixture
def other_unit(db):
    return factories.PartnerFactory(country_id="CN", name_zh="钦州港务局", name_en="Qinzhou Port")


@pytest.fixture
def foreign_partner(db):
    return factories.PartnerFactory(country_id="LA", name_zh="老挝工商会", name_en="Lao Chamber")


@pytest.fixture
def officer(lead_unit):
    return make_user("officer", "officer", lead_unit)


@pytest.fixture
def other_officer(other_unit):
    return make_user("other-officer", "officer", other_unit)


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", "reviewer")


@pytest.fixture
def second_reviewer(db):
    return make_user("reviewer2", "reviewer")


@pytest.fixture
def manager(db):
    return make_user("manager", "manager")


@pytest.fixture
def partner_user(foreign_partner):
    return make_user("partner", "partner", foreign_partner)


@pytest.fixture
def admin_user(db):
    return make_user("root", None, is_superuser=True, is_staff=True)


@pytest.fixture
def project(lead_unit, foreign_partner):
    """A complete draft: titles, lead unit, one country and one sector at 100%."""
    return factories.ProjectFactory(
        lead_unit=lead_unit,
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
        partners=[(foreign_partner, "partner")],
    )


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Pages render without `collectstatic` (production uses the manifest), and test users'
    passwords are hashed cheaply (production keeps PBKDF2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Background tasks run at once, inside the test (tests/test_jobs_worker.py runs the
    # database backend and real workers).
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _replica_only_where_asked(request, settings):
    """With DATABASE_REPLICA_URL set (CI's PostgreSQL run) the replica mirrors the primary
    in tests, on a connection of its own that cannot see a test's uncommitted data: only
    the tests marked `replica` (tests/test_replica.py, against the real standby) route
    reads to it."""
    if request.node.get_closest_marker("replica") is None:
        settings.DATABASE_ROUTERS = []


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: no throttle counts or cached results
    (`registry.freshness`) carried over from another test's database state."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    """A `transaction=True` test empties every table when it ends (role groups and
    reference data included); the next such test gets them back before it starts."""
    marker = request.node.get_closest_marker("django_db")
    # A live server's test is transactional too, marked or not.
    transactional = marker and marker.kwargs.get("transaction")
    if not (transactional or "live_server" in request.fixturenames):
        return
    request.getfixturevalue("transactional_db")
    from registry.models import Country
    from registry.roles import sync_groups

    if not Country.objects.exists():
        call_command("load_reference", verbosity=0)
        sync_groups()


@pytest.fixture
def committed_reference_data(transactional_db):
    """For `transaction=True` tests: the flush after each such test empties every table,
    reference data and role groups included, so they are loaded again before it."""
    from registry.roles import sync_groups

    call_command("load_reference", verbosity=0)
    sync_groups()


@pytest.fixture
def fast_password_hasher():
    """Kept for tests that ask for it by name; `_test_settings` already applies it."""


@pytest.fixture
def english():
    """Messages asserted in English, whatever the translations say."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def plain_static_storage():
    """Kept for tests that ask for it by name; `_test_settings` already applies it."""


@pytest.fixture
def api_client(db):
    """`api_client(user, language="en")`: a DRF test client acting as `user` (anonymous
    when None) that asks for messages in `language`."""
    from rest_framework.test import APIClient

    def make(user=None, language="en"):
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def fast_password_hashing(settings):
    """Users are made by the dozen in API tests; PBKDF2 costs ~1 s each on a busy
    machine, and no API test is about password strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
