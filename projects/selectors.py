"""Reads of the pool as rows: the list pages (API `list` and `sync`) and the CSV/XLSX
export read the same dicts here, through public ORM APIs only.

A row is one `values()` dict of a project: its own columns, its lead unit's
(`lead_unit__name_zh`, …), its tag names (`Project.objects.with_tag_names()`) and its
nested lists (`PROJECT_LISTS`), each a list of dicts keyed by the ORM paths it reads, in
the related model's order (`Meta.ordering`, as the prefetches of `with_links()` read
them). On PostgreSQL each list comes in the same statement, an ordered `JSONBAgg` of
`JSONObject`s in a subquery per project. Elsewhere (SQLite, which orders inside an
aggregate only from 3.44, and has no `JSONBAgg`) each list is one more `values()` query
for the rows at hand, grouped by project in Python (`add_lists`).

Who reads a row decides what it says: `internal=False` leaves out the columns only staff
see. The API renders rows with `projects.api.listing`; the export with
`projects.reporting.exports`. The IATI file keeps model instances
(`projects.reporting.iati.publishable_projects`): it needs the results tree and the
sites as objects (their XML builders take instances), the sectors' DAC codes and the
partners' organisation ids, none of which a list row carries.
"""

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connections
from django.db.models import F, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from projects.models import Project, ProjectQuerySet
from registry import counting

# The project's own columns and its lead unit's, in no particular order (the renderers
# name each key they read).
PROJECT_COLUMNS = (
    "id",
    "code",
    "version",
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "kind",
    "status",
    "lead_unit_id",
    "lead_unit__name_zh",
    "lead_unit__name_en",
    "lead_unit__kind",
    "lead_unit__country_id",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "estimated_value",
    "currency",
    "support_requested",
    "risk_level",
    "risk_notes",
    "internal_notes",
    "next_review_due",
    "screening_round",
    "created_at",
    "updated_at",
)
# Seen by staff only (`projects.api.serializers.STAFF_ONLY_FIELDS`).
INTERNAL_COLUMNS = ("risk_notes", "internal_notes")

# A project's nested lists: the columns of each row, read from the related model (the
# relation is `ProjectQuerySet.LINKS`', the one list of a project's lists).
PROJECT_LISTS = {
    "countries": ("country_id", "country__name_zh", "country__name_en", "share"),
    "sectors": (
        "sector__code",
        "sector__parent__code",
        "sector__name_zh",
        "sector__name_en",
        "share",
    ),
    "participations": (
        "partner_id",
        "partner__name_zh",
        "partner__name_en",
        "partner__kind",
        "partner__country_id",
        "role",
    ),
}
ALL_LISTS = tuple(PROJECT_LISTS)


def list_key(name: str) -> str:
    """The key of the list `name` in a row (`participations` is also the name of the
    relation, which a `values()` key may not take)."""
    return f"{name}_list"


def lists_in_page(using: str = "default") -> bool:
    """Whether a row's lists come in its own statement (PostgreSQL) rather than one query
    per list (`add_lists`)."""
    return connections[using].vendor == "postgresql"


class _ExactNumbers(json.JSONDecoder):
    """Numbers in the JSON lists as the database holds them: a share of 33.33 is
    `Decimal("33.33")`, as `values()` gives it elsewhere, not a float."""

    def __init__(self, **kwargs):
        super().__init__(parse_float=Decimal, **kwargs)


def _relation(name: str) -> str:
    return ProjectQuerySet.LINKS[name][0]


def _related_rows(name: str):
    """The related model's default manager and its `Meta.ordering`, which the prefetches
    of `with_links()` follow too."""
    model = Project._meta.get_field(_relation(name)).related_model
    return model._default_manager, model._meta.ordering


def _list_in_statement(name: str) -> Subquery:
    """The list `name` of the project at hand, as one JSON array of its rows in order."""
    manager, ordering = _related_rows(name)
    columns = PROJECT_LISTS[name]
    rows = (
        manager.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(
            rows=JSONBAgg(
                JSONObject(**{column: F(column) for column in columns}),
                order_by=ordering,
                output_field=JSONField(decoder=_ExactNumbers),
            )
        )
        .values("rows")
    )
    return Subquery(rows)


def project_rows(
    projects: QuerySet, *, internal: bool = True, lists: Iterable[str] = ALL_LISTS
) -> QuerySet:
    """`projects` as rows (a `values()` queryset, in the order of `projects`); with the
    `lists` named in the statement where the database can (`lists_in_page`), otherwise
    without them: complete a page of them with `add_lists`. Without `internal`, the
    columns only staff see are not read."""
    columns = [c for c in PROJECT_COLUMNS if internal or c not in INTERNAL_COLUMNS]
    nested = {}
    if lists_in_page(projects.db):
        nested = {list_key(name): _list_in_statement(name) for name in lists}
    return projects.with_tag_names().values(*columns, "tag_names", **nested)


def add_lists(
    rows: list[dict], *, lists: Iterable[str] = ALL_LISTS, using: str = "default"
) -> list[dict]:
    """`rows` (of `project_rows`) with their `lists`, read one query per list where
    the statement could not read them (`lists_in_page`); a row without rows in a list
    gets an empty list. Changes and returns `rows`."""
    if lists_in_page(using):
        for row in rows:
            for name in lists:
                # No related row: the subquery gives NULL.
                if row[list_key(name)] is None:
                    row[list_key(name)] = []
        return rows
    ids = [row["id"] for row in rows]
    for name in lists:
        by_project = defaultdict(list)
        if ids:
            manager, _ordering = _related_rows(name)
            # In the model's default order (Meta.ordering), as the prefetches read it.
            related = manager.using(using).filter(project_id__in=ids)
            for related_row in related.values("project_id", *PROJECT_LISTS[name]):
                by_project[related_row.pop("project_id")].append(related_row)
        for row in rows:
            row[list_key(name)] = by_project.get(row["id"], [])
    return rows


@functools.cache
def _rows_of_all_projects(internal: bool, using: str) -> QuerySet:
    # Built once per process and only ever filtered (a clone), never evaluated: building
    # the rows' annotations (four subqueries) took ~3 of the ~10 ms of Python a page
    # statement costs on the loaded bench machine; filtering a clone, ~0.3.
    return project_rows(Project.objects.using(using).order_by(), internal=internal)


def project_rows_by_id(
    ids: list[int], *, internal: bool = True, using: str = "default"
) -> list[dict]:
    """The complete rows of the projects of `ids`, in that order (a page read by its ids
    first: `ProjectPages`)."""
    if not ids:
        return []
    rows = list(_rows_of_all_projects(internal, using).filter(pk__in=ids))
    position = {pk: index for index, pk in enumerate(ids)}
    rows.sort(key=lambda row: position[row["id"]])
    return add_lists(rows, using=using)


class ProjectPages:
    """What the API's numbered paginator pages through: the filtered projects, counted
    through `registry.counting` (exact up to a limit, estimated above it), and a page of
    them as complete rows.

    A page is two statements: its ids (the filtered, ordered projects, nothing joined),
    then their rows by id (`project_rows_by_id`). In one statement, a broad search joined
    the lead unit and tag names of all 17,000 matches before picking the newest 50. The
    count is of the projects alone: through the rows it would keep the join to the lead
    unit, and PostgreSQL would join every matching project for it (it drops unused left
    joins, never inner ones).

    `plan`, when given, reads the page's ids and the count itself (the API's search
    plan, `projects.api.search.SearchPlan`: `page_ids(start, stop)`, `count`,
    `count_is_estimate`)."""

    def __init__(self, projects: QuerySet, *, internal: bool = True, plan=None):
        self.projects = projects
        self.internal = internal
        self.plan = plan
        self._count: counting.Count | None = None

    @property
    def ordered(self) -> bool:
        # Read by the paginator, which warns when pages have no fixed order.
        return self.projects.ordered

    def counted(self) -> counting.Count:
        """The count for the paginator (`registry.counting.CountingPaginator`)."""
        if self._count is None:
            if self.plan is not None:
                self._count = counting.Count(self.plan.count, self.plan.count_is_estimate)
            else:
                self._count = counting.count_rows(self.projects)
        return self._count

    def count(self) -> int:
        return self.counted().value

    def page_ids(self, page: slice) -> list[int]:
        start = page.start or 0
        if self.plan is not None:
            return self.plan.page_ids(start, page.stop)
        return list(self.projects.values_list("pk", flat=True)[start : page.stop])

    def __getitem__(self, page: slice) -> list[dict]:
        return project_rows_by_id(
            self.page_ids(page), internal=self.internal, using=self.projects.db
        )


EXPORT_LISTS = ("countries", "sectors")


def export_rows(projects: QuerySet, *, chunk_size: int) -> Iterator[dict]:
    """The complete rows of `projects` (with their countries and sectors) in the order of
    their codes, read `chunk_size` at a time: each chunk one statement (plus one per
    list where they are read apart) starting after the last code of the one before, so
    memory stays flat and no statement reads past its chunk."""
    # The caller's queryset may carry prefetches of its own (the admin changelist's
    # `with_relations()`), which a values() query cannot take.
    projects = projects.prefetch_related(None).order_by("code")
    last_code = None
    while True:
        chunk = projects if last_code is None else projects.filter(code__gt=last_code)
        # One row more than the chunk: whether another chunk follows, without a query
        # that finds nothing.
        rows = list(project_rows(chunk, lists=EXPORT_LISTS)[: chunk_size + 1])
        more = len(rows) > chunk_size
        rows = add_lists(rows[:chunk_size], lists=EXPORT_LISTS, using=projects.db)
        yield from rows
        if not more:
            return
        last_code = rows[-1]["code"]
