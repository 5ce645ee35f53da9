"""/health/ (alive, no detail) and /ready/ (dependencies; detail for staff only)."""

from django.core.cache import caches

from registry.jobs.models import Job


def test_health_answers_anyone_without_detail(client, db):
    response = client.get("/health/")
    assert response.status_code == 200 and response.content == b"ok"


def test_ready_gives_detail_to_staff_only(client, manager, partner_user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from registry.jobs.running import start_job
    from registry.jobs.tasks import housekeeping

    start_job(kind="housekeeping", task=housekeeping)
    anonymous = client.get("/ready/")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    client.force_login(partner_user)
    assert client.get("/ready/").json() == {"status": "ok"}
    client.force_login(manager)
    checks = client.get("/ready/").json()["checks"]
    assert checks["database"]["ok"] and checks["cache"]["ok"]
    assert checks["tasks"]["backlog"] == 1 and Job.objects.get().status == "queued"


def test_ready_is_unavailable_when_the_cache_is_down(client, db, settings):
    settings.CACHES = {
        **settings.CACHES,
        # Nothing listens on port 1.
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    response = client.get("/ready/")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
    assert caches["default"].__class__.__name__ == "RedisCache"
