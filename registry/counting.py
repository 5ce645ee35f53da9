"""Counts that do not scan: exact up to a limit, the planner's estimate above it.

An exact count(*) reads every matching row, so its cost grows with the pool (and with a
broad filter): at a million projects the count under a list page took longer than the
page. Here at most `REGISTRY_EXACT_COUNT_LIMIT` + 1 matching rows are counted (a sliced
query counted over a subquery, `LIMIT` inside); below the limit that is the exact figure.
At the limit the figure comes from PostgreSQL's plan of the whole query
(`QuerySet.explain`), which reads no rows, and is marked as an estimate; it is never
below the limit, since that many rows were seen. The API says so beside its `count`
(`count_is_estimate`) and the admin's changelist shows "about N".

Elsewhere (SQLite, the embedded first-run database) there is no planner figure to give,
and the pools there are small: the count is exact.

The API's pages and the admin's changelist count through this one function.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

DEFAULT_EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Count:
    """A number of rows, and whether it is the planner's estimate rather than exact."""

    value: int
    is_estimate: bool = False

    def __int__(self) -> int:
        return self.value


def exact_count_limit(setting: str = "REGISTRY_EXACT_COUNT_LIMIT") -> int:
    return max(int(getattr(settings, setting, DEFAULT_EXACT_COUNT_LIMIT)), 0)


def count_rows(queryset: QuerySet, limit: int | None = None) -> Count:
    """How many rows `queryset` has: exact up to `limit` (the setting's by default),
    estimated above it."""
    rows = queryset.order_by().values("pk")
    if connections[rows.db].vendor != "postgresql":
        return Count(rows.count())
    limit = exact_count_limit() if limit is None else max(limit, 0)
    # count() of a sliced query counts a subquery with the LIMIT inside: at most
    # limit + 1 rows are read.
    seen = rows[: limit + 1].count()
    if seen <= limit:
        return Count(seen)
    return Count(max(planned_rows(rows), seen), is_estimate=True)


def planned_rows(queryset: QuerySet) -> int:
    """The planner's estimate of the rows `queryset` returns (EXPLAIN, nothing run)."""
    plan = json.loads(queryset.explain(format="json"))
    return max(int(plan[0]["Plan"]["Plan Rows"]), 0)


class CountingPaginator(Paginator):
    """A paginator that counts through `count_rows` (the API's numbered pages, the
    admin's changelists). An object list that counts itself (`counted()`, e.g.
    `projects.selectors.ProjectPages`) is asked for its count; a plain list is
    counted exactly. A page past the last real one within an estimate is empty."""

    # The setting that holds the exact-count limit of this paginator's lists.
    limit_setting = "REGISTRY_EXACT_COUNT_LIMIT"

    @cached_property
    def counted(self) -> Count:
        rows = self.object_list
        if hasattr(rows, "counted"):
            return rows.counted()
        if isinstance(rows, QuerySet):
            return count_rows(rows, exact_count_limit(self.limit_setting))
        return Count(len(rows))

    @cached_property
    def count(self) -> int:
        return self.counted.value

    @property
    def count_is_estimate(self) -> bool:
        return self.counted.is_estimate


class AdminCountingPaginator(CountingPaginator):
    """The admin's changelists: a person reading "about 12,000" needs no exact figure
    above a thousand, and counting up to 10,001 matches of a broad filter was most of a
    filtered list's time at 100,000 projects (`REGISTRY_ADMIN_EXACT_COUNT_LIMIT`)."""

    limit_setting = "REGISTRY_ADMIN_EXACT_COUNT_LIMIT"
