"""Costly results cached until the pool's data next changes.

The exact count under a long list and the stats figures are aggregates over the whole
(filtered) pool: their cost grows with the pool, while the data changes a few times an
hour. They are cached under the *data generation* (`registry.models.DataGeneration`),
which PostgreSQL triggers bump at the commit of every transaction that wrote to a pool
table (migration `registry/0004`), whatever wrote it: the services, the admin, an import,
a bulk update or psql. A cached result is therefore never older than the data the
reader's own query would see.

The key is the SQL and parameters of the query the result comes from, so everything the
query depends on (the user's visibility, the filters, today's date as a parameter) is in
it. A transaction that has itself written reads past the cache (its writes are not yet
counted in any generation). Nothing is cached on SQLite, which has no such triggers.

Entries live in the `default` Django cache (per process by default; keys carry the
generation, so processes never need to agree on anything but the database).

A GET request reads the generation once and keeps it to its end: its count, its
reference lookups and its search's partners then cost one query between them. Only
outside a transaction: there each statement commits at once, so no write of the
request's own can be pending (a GET should not write the pool anyway). A result so
found may miss a change committed while the request ran, as any response may.
"""

import hashlib
from collections.abc import Callable

from asgiref.local import Local
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import EmptyResultSet
from django.core.signals import request_finished, request_started
from django.db import connections
from django.dispatch import receiver

_MISSING = object()
# Entries of an old generation are never read again; the timeout only frees their memory.
TIMEOUT = 3600


def enabled(using: str = "default") -> bool:
    return (
        getattr(settings, "REGISTRY_RESULT_CACHE", True)
        and connections[using].vendor == "postgresql"
    )


# The generations read by the current GET request, per database (None: not in one).
_request = Local()
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@receiver(request_started)
def _request_started(*, environ=None, **kwargs):
    method = (environ or {}).get("REQUEST_METHOD", "")
    _request.generations = {} if method in SAFE_METHODS else None


@receiver(request_finished)
def _request_finished(**kwargs):
    _request.generations = None


def generation(using: str = "default") -> int | None:
    """The current data generation, or None when results must not be cached here (SQLite,
    cache switched off, or this transaction has written to the pool)."""
    if not enabled(using):
        return None
    connection = connections[using]
    kept = getattr(_request, "generations", None)
    if kept is not None and (connection.in_atomic_block or not connection.get_autocommit()):
        kept = None
    if kept is not None and using in kept:
        return kept[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE((SELECT value FROM registry_datageneration WHERE id = 1), 0), "
            "current_setting('registry.changed', true)"
        )
        value, changed = cursor.fetchone()
    if changed == "on":
        return None
    if kept is not None:
        kept[using] = value
    return value


def remember[T](parts: tuple, compute: Callable[[], T], using: str = "default") -> T:
    """`compute()`, or its result from an earlier call with the same `parts` (which must
    identify the result fully: typically a query's SQL and parameters) in the same data
    generation."""
    current = generation(using)
    if current is None:
        return compute()
    digest = hashlib.sha256(repr((using, current, parts)).encode()).hexdigest()
    key = f"registry:result:{digest}"
    cache = caches["default"]
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        cache.set(key, found, TIMEOUT)
    return found


def statement(queryset) -> tuple[str, tuple] | None:
    """The SQL and parameters of a queryset on its own database (what identifies its
    result in a key), or None when it can match nothing (e.g. `pk__in=[]`)."""
    try:
        return queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return None


def cached_count(queryset) -> int:
    """`queryset.count()`, once per data generation."""
    found = statement(queryset)
    if found is None:
        return 0
    return remember(("count", *found), queryset.count, using=queryset.db)
