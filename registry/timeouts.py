"""A time limit on each database statement of a web request (REGISTRY_STATEMENT_TIMEOUT).

A statement that runs past it is stopped by the database, and the request is answered
503 with Retry-After (`registry.security.DatabaseBusyMiddleware`), so one heavy query
cannot hold a web worker for minutes. Web requests only: management commands, the task
worker (large exports, the IATI file, imports), migrations and the bench seed share the
settings but never run inside a request, so they keep the database's own limit. That is
why the limit is not in the connection's OPTIONS, which every process reads.

PostgreSQL: the session's `statement_timeout`, given to each connection the request
uses — at the start of the request to a connection already open (persistent connections,
CONN_MAX_AGE), at connect (`connection_created`) to one the request opens — and RESET
when the request ends, so a persistent connection serves the next command or request
with the session's own value. Both are set outside any transaction (no ATOMIC_REQUESTS;
a new connection is in autocommit when `connection_created` is sent), so a rollback in
the request does not undo them. They go through the DB-API connection, as Django's
backend sets the session's time zone: session settings, not statements of the request
(query counts unchanged). The SET also stands for Django's per-request health check, so
the limit costs one round trip per connection and request (the RESET). Behind a pooler
in transaction mode a session SET would reach other clients: set `statement_timeout` on
the web servers' database role there instead, and STATEMENT_TIMEOUT=0 here.

SQLite: a progress handler on the sqlite3 connection stops a statement past its budget
("interrupted"); an execute wrapper starts each statement's clock. Both are Python's and
Django's public APIs.

A streamed body (the CSV export) reads while it is sent, after the view returned: it
keeps the limit until it has been sent. No view is exempt: the exports and the IATI file
that may take long (above REGISTRY_BACKGROUND_ROWS projects) are built by the task
worker, so a request reads at most that many projects, in chunks.
"""

import time
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, OperationalError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http import FileResponse

POSTGRES_QUERY_CANCELED = "57014"
SQLITE_INTERRUPTED = "interrupted"
# SQLite virtual-machine steps between two looks at the clock (well under a millisecond).
SQLITE_PROGRESS_STEPS = 10_000


@dataclass
class RequestBudget:
    """The limit of one request and the connections it was given to."""

    seconds: float
    started: float = field(default_factory=time.monotonic)
    connections: list = field(default_factory=list)
    wrappers: ExitStack = field(default_factory=ExitStack)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


_current: ContextVar[RequestBudget | None] = ContextVar("registry_statement_budget", default=None)


class _SqliteClock:
    """Starts each statement's clock (execute wrapper); the progress handler stops the
    statement once its budget is spent (a true value interrupts it)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def __call__(self, execute, sql, params, many, context):
        self.deadline = time.monotonic() + self.seconds
        return execute(sql, params, many, context)

    def past_deadline(self) -> bool:
        return time.monotonic() > self.deadline


def _give(connection, budget: RequestBudget) -> None:
    if connection.vendor == "postgresql":
        milliseconds = max(1, round(budget.seconds * 1000))
        with connection.wrap_database_errors, connection.connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds:d}")
    elif connection.vendor == "sqlite":
        clock = _SqliteClock(budget.seconds)
        budget.wrappers.enter_context(connection.execute_wrapper(clock))
        connection.connection.set_progress_handler(clock.past_deadline, SQLITE_PROGRESS_STEPS)
    else:
        return
    budget.connections.append(connection)


def _take_back(budget: RequestBudget) -> None:
    if _current.get() is budget:
        _current.set(None)
    budget.wrappers.close()
    for connection in budget.connections:
        if connection.connection is None:
            continue  # closed: the setting went with its session
        try:
            if connection.vendor == "postgresql":
                with connection.wrap_database_errors, connection.connection.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")
            else:
                connection.connection.set_progress_handler(None, 0)
        except DatabaseError:
            # It must not serve a command or another request with this request's limit.
            connection.close()


@receiver(connection_created)
def _budget_for_new_connection(sender, connection, **kwargs):
    budget = _current.get()
    if budget is not None:
        _give(connection, budget)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def start_request(request) -> RequestBudget | None:
    """Give the limit to the connections open now and to those opened until the request
    ends; None when the limit is off. Writes have a limit of their own
    (REGISTRY_WRITE_STATEMENT_TIMEOUT): stopping one loses the user's change."""
    seconds = (
        settings.REGISTRY_STATEMENT_TIMEOUT
        if request.method in SAFE_METHODS
        else settings.REGISTRY_WRITE_STATEMENT_TIMEOUT
    )
    if not seconds or seconds <= 0:
        return None
    budget = RequestBudget(seconds)
    _current.set(budget)
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue  # given the limit if the request opens it (connection_created)
        try:
            _give(connection, budget)
        except DatabaseError:
            # A persistent connection that died since the last request: closed here,
            # reopened (and given the limit at connect) when the request first uses it.
            connection.close()
            continue
        if connection.vendor == "postgresql":
            # The SET has just shown the connection alive, so it stands for Django's
            # health check (CONN_HEALTH_CHECKS: a SELECT 1 before the first statement of
            # each request): one round trip per request instead of two. A round trip
            # cost 0.7-1.5 ms on this loaded 2-core machine (18:20 UTC, psycopg, loopback).
            connection.health_check_done = True
    return budget


def end_request(budget: RequestBudget | None, response=None):
    """Take the limit back, or for a streamed body once it has been sent."""
    if budget is None:
        return response
    streams_queries = (
        response is not None
        and response.streaming
        and not response.is_async
        # A FileResponse sends a file already built: nothing left to read.
        and not isinstance(response, FileResponse)
    )
    if streams_queries:
        response.streaming_content = _SentThenTakeBack(response.streaming_content, budget)
    else:
        _take_back(budget)
    return response


class _SentThenTakeBack:
    """A streamed body that takes the limit back when it ends or is closed (the server
    closes every response, also one whose client went away before the first chunk)."""

    def __init__(self, content, budget: RequestBudget):
        self.content = iter(content)
        self.budget = budget
        self.open = True

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self.content)
        except StopIteration:
            self.close()
            raise

    def close(self):
        if self.open:
            self.open = False
            _take_back(self.budget)


def current_budget() -> RequestBudget | None:
    return _current.get()


def is_statement_timeout(error: Exception) -> bool:
    """A statement stopped by the limit: PostgreSQL's query_canceled, SQLite's
    "interrupted"."""
    if not isinstance(error, OperationalError):
        return False
    if getattr(error.__cause__, "sqlstate", None) == POSTGRES_QUERY_CANCELED:
        return True
    return str(error) == SQLITE_INTERRUPTED
