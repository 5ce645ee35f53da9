"""A read replica (DATABASE_REPLICA_URL): GET requests read from it, everything else
from the primary.

`ReplicaRouter` sends reads to the replica only while `ReplicaReadsMiddleware` says the
current request may use it: a GET/HEAD/OPTIONS request, outside any transaction on the
primary (a transaction reads what it is about to write), from a client that has not
written in the last REGISTRY_READ_YOUR_WRITES_SECONDS. Writes always go to the primary.

Read your own writes: after a request that may have written (any other method), the
client (its session cookie or its Authorization header, hashed) is remembered in the
cache for a few seconds, and its GETs read from the primary meanwhile, so a user never
sees their own change vanish because the replica lags. With REDIS_URL every app server
knows it; with per-process caches only the one that took the write does.

The replica serves the data as of its last replayed commit: a lag shows older figures,
never an error. Cached lookups are keyed by the table versions read from the same
database as the lookup (`registry.freshness`), so the replica's never pass for newer ones.
"""

import hashlib
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import caches
from django.db import connections

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_replica_reads = ContextVar("registry_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_reads.get():
            return None
        if connections["default"].in_atomic_block:
            return "default"
        return REPLICA

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The same data on both: an object read from the replica relates to the primary's.
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db != REPLICA


def _client_key(request) -> str | None:
    credential = request.headers.get("Authorization") or request.COOKIES.get(
        settings.SESSION_COOKIE_NAME
    )
    if not credential:
        return None
    return "registry:wrote:" + hashlib.sha256(credential.encode()).hexdigest()


def _wrote_recently(key: str | None) -> bool:
    return key is not None and caches["default"].get(key) is not None


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        key = _client_key(request)
        use_replica = request.method in SAFE_METHODS and not _wrote_recently(key)
        token = _replica_reads.set(use_replica)
        try:
            response = self.get_response(request)
        finally:
            _replica_reads.reset(token)
        if request.method not in SAFE_METHODS:
            # A login changes the session cookie: remember the new one too.
            new_session = response.cookies.get(settings.SESSION_COOKIE_NAME)
            seconds = settings.REGISTRY_READ_YOUR_WRITES_SECONDS
            for found in {key, _client_key_from_cookie(new_session)} - {None}:
                caches["default"].set(found, 1, seconds)
        return response


def _client_key_from_cookie(morsel) -> str | None:
    if morsel is None or not morsel.value:
        return None
    return "registry:wrote:" + hashlib.sha256(morsel.value.encode()).hexdigest()
