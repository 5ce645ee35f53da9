"""Lookups cached until the tables they read next change.

Two kinds of lookup repeat on nearly every request while their tables change about
never: the reference row a filter names (`sector=logistics`) and the partners whose
names contain a search word. They are cached under the *versions* of the tables they
read (`registry.table_versions`): PostgreSQL triggers of those tables alone bump a table's
version at the commit of each transaction that wrote to it, whatever wrote it (the
services, the admin, an import, a bulk update or psql). A cached lookup is therefore
never older than the data the reader's own query would see, and a write to any other
table (every project write) leaves the cache alone.

Figures over the pool (counts, stats) are not cached here: a cache of them was emptied by
every write to any pool table, so they must be cheap on their own (counts are capped:
`registry.counting`). `remember` without `tables` therefore computes every time.

The key is what identifies the result (typically a query's SQL and parameters) and the
versions of the tables named. A transaction that has itself written to a versioned table
reads past the cache (its writes are in no version yet). Nothing is cached on SQLite,
which has no such triggers, nor with `REGISTRY_RESULT_CACHE` off.

Entries live in the `default` Django cache (Redis with REDIS_URL, shared by every process;
per process otherwise). Keys carry the versions, so processes never need to agree on
anything but the database.

A GET request reads the versions once (one query) and keeps them to its end. Only outside
a transaction: there each statement commits at once, so no write of the request's own
can be pending. A lookup so found may miss a change committed while the request ran, as
any response may.
"""

import hashlib
from collections.abc import Callable, Iterable

from asgiref.local import Local
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import EmptyResultSet
from django.core.signals import request_finished, request_started
from django.db import connections
from django.dispatch import receiver

_MISSING = object()
# Entries of an old version are never read again; the timeout only frees their memory.
TIMEOUT = 3600


def enabled(using: str = "default") -> bool:
    return (
        getattr(settings, "REGISTRY_RESULT_CACHE", True)
        and connections[using].vendor == "postgresql"
    )


# The versions read by the current GET request, per database (None: not in one).
_request = Local()
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@receiver(request_started)
def _request_started(*, environ=None, **kwargs):
    method = (environ or {}).get("REQUEST_METHOD", "")
    _request.versions = {} if method in SAFE_METHODS else None


@receiver(request_finished)
def _request_finished(**kwargs):
    _request.versions = None


def versions(using: str = "default") -> dict[str, int] | None:
    """The versions of the versioned tables, or None when nothing may be cached here
    (SQLite, cache switched off, or this transaction has written to a versioned table)."""
    if not enabled(using):
        return None
    connection = connections[using]
    kept = getattr(_request, "versions", None)
    if kept is not None and (connection.in_atomic_block or not connection.get_autocommit()):
        kept = None
    if kept is not None and using in kept:
        return kept[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, value, current_setting('registry.changed', true) "
            "FROM registry_tableversion"
        )
        rows = cursor.fetchall()
    if any(changed == "on" for _table, _value, changed in rows):
        return None
    found = {table: value for table, value, _changed in rows}
    if kept is not None:
        kept[using] = found
    return found


def remember[T](
    parts: tuple, compute: Callable[[], T], using: str = "default", *, tables: Iterable[str] = ()
) -> T:
    """`compute()`, or its result from an earlier call with the same `parts` (which must
    identify the result fully: typically a query's SQL and parameters) while none of
    `tables` (the tables the result is read from) has changed. Without `tables`, or with a
    table that is not versioned, `compute()` every time."""
    tables = sorted(set(tables))
    if not tables:
        return compute()
    current = versions(using)
    if current is None or any(table not in current for table in tables):
        return compute()
    stamp = tuple((table, current[table]) for table in tables)
    digest = hashlib.sha256(repr((using, stamp, parts)).encode()).hexdigest()
    key = f"registry:lookup:{digest}"
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
    """`queryset.count()`: counts are no longer cached (see above); lists count through
    `registry.counting`, capped."""
    return 0 if statement(queryset) is None else queryset.count()
