"""/health/ and /ready/ for load balancers and orchestrators.

/health/  the process answers: 200, no authentication, no detail.
/ready/   can this instance serve? The primary database and the cache must answer (else
          503). The read replica (its lag) and the task backlog are reported but do not
          make the instance unready: a lagging replica still serves (read-your-own-writes
          covers writers), a backlog waits for workers. JSON; the details of each check
          only for staff, since they describe the infrastructure.

Hand-written rather than django-health-check: the checks wanted here (replica lag in
bytes and seconds, the django-tasks-db backlog) are not among that library's, and its
default view adds DNS/mail/storage checks that fail on machines without them.
"""

import time

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from registry.replica import REPLICA, replica_configured
from registry.roles import STAFF_ROLES


@never_cache
def health(request):
    return HttpResponse("ok", content_type="text/plain")


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check() or {}
        outcome = {"ok": True, **detail}
    except Exception as error:  # any failure of a dependency is the answer, not a 500
        outcome = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    outcome["ms"] = round((time.monotonic() - started) * 1000, 1)
    return outcome


def _database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _replica():
    primary = connections["default"]
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
            "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
        )
        in_recovery, replayed, seconds = cursor.fetchone()
    with primary.cursor() as cursor:
        cursor.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [replayed or "0/0"]
        )
        (behind,) = cursor.fetchone()
    behind = max(0, int(behind or 0))
    return {
        "in_recovery": in_recovery,
        "lag_bytes": behind,
        # The time since the last replayed commit means lag only while WAL is pending.
        "lag_seconds": round(float(seconds), 1) if behind and seconds is not None else 0.0,
    }


def _cache():
    cache = caches["default"]
    key = f"registry:ready:{time.monotonic_ns()}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("a value written to the cache could not be read back")
    cache.delete(key)


def _tasks():
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    return {
        "backlog": ready.count(),
        "running": DBTaskResult.objects.running().count(),
        "oldest_waiting_seconds": (
            round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0.0
        ),
    }


def _office_staff(user) -> bool:
    """Superusers and the office's roles; partner users (even with admin access) not."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.groups.filter(name__in=STAFF_ROLES).exists()


@never_cache
def ready(request):
    checks = {"database": _timed(_database), "cache": _timed(_cache)}
    if replica_configured():
        checks["replica"] = _timed(_replica)
    if "django_tasks_db" in settings.INSTALLED_APPS:
        checks["tasks"] = _timed(_tasks)
    essential_ok = checks["database"]["ok"] and checks["cache"]["ok"]
    body = {"status": "ok" if essential_ok else "unavailable"}
    user = getattr(request, "user", None)
    if user is not None and _office_staff(user):
        body["checks"] = checks
    return JsonResponse(body, status=200 if essential_ok else 503)
