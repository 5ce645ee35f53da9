"""Limits that act before authentication.

A bad token or a missing one is answered 401 by the API's authentication, before DRF's
throttles run, so on their own they never meet a limit: a client could try tokens
forever. This middleware counts the API's 401 answers per client address (the address
django-axes uses for login lockouts, so both agree behind a trusted proxy) and answers
429, in the API's error shape, to an address past REST_FRAMEWORK's "unauthenticated"
rate until its window moves on.

Also here: the translated 429 page of a login lockout, and the 503 of a request the
database made wait too long (a lock not granted in time, a statement past the web
requests' time limit of `registry.timeouts`).
"""

import logging
import math
import time

from axes.helpers import get_client_ip_address, get_cool_off, get_failure_limit
from django.core.cache import cache
from django.db import OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry import timeouts
from registry.api.errors import error_body

API_PREFIX = "/api/"
LOCKOUT_STATUS = 429
CACHE_KEY = "unauthenticated-requests:{address}"

logger = logging.getLogger(__name__)


class UnauthenticatedLimit:
    """The recent 401 answers to one client address (timestamps in the shared cache)."""

    def __init__(self, request):
        rate = api_settings.DEFAULT_THROTTLE_RATES.get("unauthenticated")
        # SimpleRateThrottle.parse_rate is DRF's public reading of "30/minute".
        self.limit, self.duration = SimpleRateThrottle.parse_rate(None, rate)
        self.key = CACHE_KEY.format(address=get_client_ip_address(request) or "unknown")
        now = time.time()
        self.history = [t for t in cache.get(self.key, []) if t > now - (self.duration or 0)]

    def retry_after(self) -> int | None:
        """Seconds until the address may try again, or None when it may now."""
        if self.limit is None or len(self.history) < self.limit:
            return None
        return max(1, math.ceil(self.history[0] + self.duration - time.time()))

    def record(self) -> None:
        if self.limit is None:
            return
        self.history.append(time.time())
        cache.set(self.key, self.history[-self.limit :], self.duration)


class UnauthenticatedRequestLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = UnauthenticatedLimit(request)
        wait = limit.retry_after()
        if wait is not None:
            response = JsonResponse(
                error_body(
                    "too_many_unauthenticated_requests",
                    _(
                        "Too many requests without valid credentials from your address. "
                        "Try again in %(seconds)d seconds."
                    )
                    % {"seconds": wait},
                ),
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        response = self.get_response(request)
        if response.status_code == 401:
            limit.record()
        return response


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): a real page in
    the request's language (axes' own is a bare English text), 429."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return render(request, "registry/lockout.html", context, status=LOCKOUT_STATUS)


# --- a database that makes a request wait ------------------------------------------------

BUSY_RETRY_AFTER_SECONDS = 5
# SQLite: another connection holds the write lock (file database: after its busy
# timeout; shared-cache memory database: at once). PostgreSQL: a lock_timeout expired.
SQLITE_LOCK_MESSAGES = ("database is locked", "database table is locked")
POSTGRES_LOCK_NOT_AVAILABLE = "55P03"


def is_lock_wait_error(error: Exception) -> bool:
    if not isinstance(error, OperationalError):
        return False
    if any(text in str(error) for text in SQLITE_LOCK_MESSAGES):
        return True
    return getattr(error.__cause__, "sqlstate", None) == POSTGRES_LOCK_NOT_AVAILABLE


class DatabaseBusyMiddleware:
    """Every statement of the request runs under REGISTRY_STATEMENT_TIMEOUT
    (`registry.timeouts`). A statement stopped by it, or a write that could not get the
    database's lock in time, is answered 503 with Retry-After and a clear message in the
    request's language (JSON in the API's error shape under /api/, a page elsewhere),
    never a 500 "database is locked" or "canceling statement"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        budget = timeouts.start_request(request)
        try:
            response = self.get_response(request)
        except BaseException:
            timeouts.end_request(budget)
            raise
        return timeouts.end_request(budget, response)

    def process_exception(self, request, exception):
        if is_lock_wait_error(exception):
            code = "database_busy"
            heading = _("Busy, try again")
            message = _(
                "The registry is busy with another change (for example an import). Nothing "
                "was saved; try again in a few seconds."
            )
        elif timeouts.is_statement_timeout(exception):
            budget = timeouts.current_budget()
            logger.warning(
                "Statement timeout: %s %s stopped after %.1f s (limit %s s)",
                request.method,
                request.get_full_path(),
                budget.elapsed() if budget else float("nan"),
                budget.seconds if budget else "-",
            )
            code = "query_timeout"
            heading = _("Taking too long, try again")
            message = _(
                "This request took too long and was stopped. Try again in a few seconds, or "
                "ask for less (narrower filters, a more specific search)."
            )
        else:
            return None
        if request.path.startswith(API_PREFIX):
            response = JsonResponse(error_body(code, message), status=503)
        else:
            context = {"base_template": _page_base(request), "heading": heading, "message": message}
            response = render(request, "registry/busy.html", context, status=503)
        response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
        return response


def _page_base(request) -> str:
    """The partner portal's pages keep the portal's frame; the others are the admin's."""
    match = getattr(request, "resolver_match", None)
    if match is not None and "portal" in match.namespaces:
        return "portal/base.html"
    return "admin/base_site.html"
