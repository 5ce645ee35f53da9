"""Project list pages (the `list` and `sync` routes), rendered from database values.

`ProjectSerializer` is the documented shape and renders single projects. For a page of 50
it built some 900 model instances for the related rows and ran DRF's nested
`to_representation` on each: most of a list request's time. Here a page is one values
statement: the project's columns, its lead unit's, its tag names, and each nested list
as the text of a JSON array of its rows, aggregated in the related model's order. The
list route reads the page's ids first and then that statement, compiled once
(`_ByIds`); the sync route selects the lists as correlated subqueries (`values()`).
Where the database cannot order inside an aggregate (SQLite before 3.44), each nested
list is one more values query for the page, grouped by project in Python. Values are
formatted by the serializer's own fields, so a page is exactly what the serializer
gives (`tests/test_api_listing.py`).
"""

import copy
import functools
import json
import operator
import weakref
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace

from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Aggregate, F, OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.dispatch import receiver
from rest_framework import serializers

from projects.api import search
from projects.models import Project, split_tag_names
from registry import counting, freshness

Row = dict
Format = Callable[[object], object]

# Their `to_representation` returns the database's str or int unchanged (`str(value)`,
# `int(value)`, the choice itself), so it is not called.
VERBATIM_FIELDS = (serializers.CharField, serializers.ChoiceField, serializers.IntegerField)

# Stands for the code in the one project URL reversed per page. Project codes are
# generated (`format_project_code`), so `reverse()` puts them into the path unchanged.
CODE_PLACEHOLDER = "CODE"


def _readable_fields(serializer) -> list:
    return [field for field in serializer.fields.values() if not field.write_only]


class _Shape:
    """How one serializer's dict is built from a values row. Each key reads one column,
    its field's source path (`sector.parent.code` reads `sector__parent__code`), formatted
    by the field unless None (as in `Serializer.to_representation`). A nested object
    reads its foreign key (None or not) and is built from its own columns. `columns`
    names the column of keys read otherwise, whose format is given per page."""

    def __init__(self, serializer, prefix: str = "", columns: dict[str, str] | None = None):
        self.keys, key_columns, nested_columns = [], [], []
        self.formats: list[tuple[int, Format]] = []
        self.nested: list[tuple[int, _Shape]] = []
        for index, field in enumerate(_readable_fields(serializer)):
            self.keys.append(field.field_name)
            if columns and field.field_name in columns:
                key_columns.append(columns[field.field_name])
                continue
            column = prefix + "__".join(field.source_attrs)
            key_columns.append(column)
            if isinstance(field, serializers.Serializer):
                nested = _Shape(field, f"{column}__")
                self.nested.append((index, nested))
                nested_columns += nested.columns
            elif type(field) not in VERBATIM_FIELDS:
                self.formats.append((index, field.to_representation))
        self.columns = list(dict.fromkeys([*key_columns, *nested_columns]))
        read = operator.itemgetter(*key_columns)
        # Of one key, itemgetter gives the value itself rather than a tuple.
        self.read = read if len(key_columns) > 1 else lambda row: (read(row),)

    def builder(self, formats=()) -> Callable[[Row], dict]:
        """The function that builds the dict of a row; `formats` adds or replaces the
        format of keys by position."""
        keys, read, nested = self.keys, self.read, self.nested
        formats = list({**dict(self.formats), **dict(formats)}.items())

        def build(row):
            values = list(read(row))
            for index, to_representation in formats:
                if values[index] is not None:
                    values[index] = to_representation(values[index])
            for index, shape in nested:
                if values[index] is not None:
                    values[index] = shape.build(row)
            return dict(zip(keys, values, strict=True))

        return build

    @functools.cached_property
    def build(self) -> Callable[[Row], dict]:
        return self.builder()


class _JSONRows(Aggregate):
    """The aggregated rows as the text of a JSON array, in `order_by`'s order."""

    function = "JSON_AGG"
    allow_order_by = True
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # As text, parsed by `_with_parsed_lists` as on SQLite (psycopg would parse a
        # json value itself, decimals as floats).
        sql, params = self.as_sql(compiler, connection, **extra_context)
        return f"CAST({sql} AS text)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


class _JSONObject(JSONObject):
    """`JSONObject` as `json` rather than `jsonb` on PostgreSQL: the objects are only
    sent, never queried, and building `json` takes the page statement about a tenth
    less time."""

    def as_postgresql(self, compiler, connection, **extra_context):
        # Keys cast to text as in `JSONObject` (untyped with server-side binding).
        copy = self.copy()
        copy.set_source_expressions(
            [
                Cast(expression, TextField()) if index % 2 == 0 else expression
                for index, expression in enumerate(copy.get_source_expressions())
            ]
        )
        return super(JSONObject, copy).as_sql(
            compiler, connection, function="JSON_BUILD_OBJECT", **extra_context
        )


class _NestedList:
    """One nested list of the project (`countries`, …): the related rows of a page, in
    the related model's default ordering, as the serializer's prefetch reads them."""

    def __init__(self, relation_name: str, child):
        relation = Project._meta.get_field(relation_name)
        self.project_column = relation.field.attname
        self.shape = _Shape(child)
        self.related = relation.related_model._default_manager
        self.ordering = relation.related_model._meta.ordering
        # Columns resolved once; each page filters a copy.
        self.rows = self.related.values(self.project_column, *self.shape.columns)

    def grouped(self, related) -> QuerySet:
        """Of these related rows: per project (`project_column`), its list as the text
        of a JSON array of objects keyed by column (`rows`)."""
        return (
            related.order_by()
            .values(self.project_column)
            .annotate(
                rows=_JSONRows(
                    _JSONObject(**{column: F(column) for column in self.shape.columns}),
                    order_by=self.ordering,
                )
            )
        )

    def as_json(self):
        """A project's list, for a query of projects to select."""
        rows = self.grouped(self.related.filter(**{self.project_column: OuterRef("pk")}))
        return Coalesce(Subquery(rows.values("rows")), Value("[]"), output_field=TextField())

    def build_all(self, rows: list[dict]) -> list[dict]:
        """The list from its parsed JSON rows (`_with_parsed_lists`)."""
        build = self.shape.build
        return [build(row) for row in rows]

    def by_project(self, project_ids: list[int]) -> Format:
        """For a page: a project's id to its list."""
        lists = defaultdict(list)
        build, project_column = self.shape.build, self.project_column
        for row in self.rows.filter(**{f"{project_column}__in": project_ids}):
            lists[row[project_column]].append(build(row))
        return lambda project_id: lists.get(project_id, [])


def lists_in_page(using: str = "default") -> bool:
    """Whether the page query can select the nested lists (ordered JSON aggregates)."""
    return connections[using].features.supports_aggregate_order_by_clause


class ProjectListing:
    """Reads and renders the list pages of one project serializer (staff or partner).
    With `lists_in_page`, the page query selects the nested lists; otherwise they are
    read per page, one query each."""

    def __init__(self, serializer_class, *, lists_in_page: bool):
        serializer = serializer_class()
        self.url_field = serializer.fields["url"]
        self.nested_lists = {
            field.field_name: _NestedList(field.source, field.child)
            for field in _readable_fields(serializer)
            if isinstance(field, serializers.ListSerializer)
        }
        self.lists_in_page = lists_in_page
        # The keys formatted per page, and the column each is made from.
        page_columns = {"url": "code", "status_label": "status", "tags": "tag_names"}
        self.shape = _Shape(
            serializer,
            columns=page_columns
            | {key: _json_column(key) if lists_in_page else "id" for key in self.nested_lists},
        )
        self.columns = list(dict.fromkeys(["id", *self.shape.columns]))
        # The columns of the project and its lead unit (and tag names).
        self.own_columns = [column for column in self.columns if column not in self.json_columns]
        # Per connection (one per thread): its compiler converts the values.
        self._by_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def json_columns(self) -> dict[str, "_NestedList"]:
        if not self.lists_in_page:
            return {}
        return {_json_column(key): nested for key, nested in self.nested_lists.items()}

    def values(self, projects):
        """The page query: each project as a dict of the columns its keys read."""
        projects = projects.with_tag_names().annotate(
            **{column: nested.as_json() for column, nested in self.json_columns.items()}
        )
        return projects.values(*self.columns)

    def own_values(self, projects):
        """The page query without the nested lists."""
        return projects.with_tag_names().values(*self.own_columns)

    def rows_by_id(self, ids: list[int], using: str) -> list[Row]:
        """The page query for the projects of these ids, in this order."""
        if not ids:
            return []
        connection = connections[using]
        if connection.vendor not in _IDS_PARAMETER:
            rows = list(self.values(Project.objects.using(using).filter(pk__in=ids)))
        else:
            if connection not in self._by_ids:
                self._by_ids[connection] = _ByIds(self, using)
            rows = self._by_ids[connection].rows(ids)
        position = {pk: index for index, pk in enumerate(ids)}
        rows.sort(key=lambda row: position[row["id"]])
        return rows

    def counted_values(
        self, projects, search_plan: search.SearchPlan | None = None
    ) -> "CountedValues":
        """The pages for the numbered paginator."""
        return CountedValues(self, projects, search_plan)

    def render(self, page: list[Row], context: dict) -> list[dict]:
        """The page's projects as the serializer renders them, in the page's order."""
        if self.lists_in_page:
            page = _with_parsed_lists(page, list(self.json_columns))
            lists = {key: nested.build_all for key, nested in self.nested_lists.items()}
        else:
            project_ids = [row["id"] for row in page]
            lists = {
                key: nested.by_project(project_ids) for key, nested in self.nested_lists.items()
            }
        per_page = {
            "url": self._url_format(context),
            "status_label": _status_label_format(),
            "tags": split_tag_names,
            **lists,
        }
        build = self.shape.builder(
            (index, per_page[key]) for index, key in enumerate(self.shape.keys) if key in per_page
        )
        return [build(row) for row in page]

    def _url_format(self, context) -> Format:
        """The serializer's URL of a placeholder project, with each row's code put in."""
        field = copy.deepcopy(self.url_field)
        field.bind(self.url_field.field_name, serializers.Serializer(context=context))
        url = str(field.to_representation(SimpleNamespace(code=CODE_PLACEHOLDER)))
        head, tail = url.rsplit(CODE_PLACEHOLDER, 1)
        return lambda code: f"{head}{code}{tail}"


def _json_column(key: str) -> str:
    return f"{key}_json"


def _with_parsed_lists(page: list[Row], columns: list[str]) -> list[Row]:
    """The rows with their JSON lists parsed, all of a page in one `json.loads` (one call
    per list cost a millisecond more per page). Decimals are parsed exactly, as the
    database gives them to the serializer."""
    parsed = json.loads(
        "[" + ",".join(row[column] for row in page for column in columns) + "]",
        parse_float=Decimal,
    )
    width = len(columns)
    return [
        {**row, **dict(zip(columns, parsed[index * width : (index + 1) * width], strict=True))}
        for index, row in enumerate(page)
    ]


def _status_label_format() -> Format:
    # `get_status_display()`, each label translated once per page.
    labels = {value: str(label) for value, label in Project._meta.get_field("status").flatchoices}
    return lambda status: labels.get(status, status)


# The ids of a page as one parameter, so that the statement's text is the same for every
# page: (SQL of the id list, the parameter made of the ids).
_IDS_PARAMETER = {
    "postgresql": ("SELECT UNNEST(%s::bigint[])", list),
    "sqlite": ("SELECT value FROM JSON_EACH(%s)", json.dumps),
}
_IDS = object()


def _preparing_cursor(connection):
    """A cursor that runs its statements as prepared statements, planned once per
    connection: planning took the page statement 1.9 of its 6 ms. PostgreSQL only, and
    only with a `prepare_threshold` (`REGISTRY_PREPARED_PAGES`): psycopg prepares nothing
    without one, and Django's own cursors (client-side binding) never prepare."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from psycopg.pq import Format

    connection.ensure_connection()
    raw_connection = connection.connection
    tz_loader = raw_connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    # A cursor of another time zone than the connection's would need its own loaders
    # (`DatabaseWrapper.create_cursor`): not worth a prepared statement.
    if raw_connection.prepare_threshold is None or connection.timezone != tz_loader.timezone:
        return connection.cursor()
    connection.validate_thread_sharing()
    cursor = _preparing_cursor_class(ServerBindingCursor)(raw_connection)
    return (
        connection.make_debug_cursor(cursor)
        if connection.queries_logged
        else connection.make_cursor(cursor)
    )


@functools.cache
def _preparing_cursor_class(server_binding_cursor: type) -> type:
    class Preparing(server_binding_cursor):
        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params, prepare=True, **kwargs)

    return Preparing


class _ByIds:
    """The page query of projects by id, compiled once and run with each page's ids.

    Built in the ORM for every page, the page query took some 6 ms to build and compile,
    more than the database took to run it. Its SQL and parameters are the same for
    every page but for the ids, so they are compiled once per connection; the
    compiler's converters still turn each row into the values `values()` would give
    (`tests/test_api_listing.py` compares the two).

    The nested lists join the page as one JSON array per project, each aggregated over
    the page's related rows at once (`_NestedList.grouped`): as correlated subqueries,
    one aggregate per project rebuilding its joins, the statement took 7.3 ms in psql
    against 6.6 ms joined."""

    def __init__(self, listing: "ProjectListing", using: str):
        connection = connections[using]
        ids_sql, self.encode = _IDS_PARAMETER[connection.vendor]

        def of_page(queryset, column):
            return queryset.filter(**{f"{column}__in": RawSQL(ids_sql, [_IDS])})

        own = listing.own_values(of_page(Project.objects.order_by(), "pk"))
        self.using = using
        self.compiler = own.query.get_compiler(using)
        own_sql, params = self.compiler.as_sql()
        # In the order of `values()`, as `ValuesIterable` names them.
        self.own_names = list(own.query.selected or ())
        assert self.own_names, "a values() query"
        self.json_names = list(listing.json_columns)
        quote = connection.ops.quote_name
        selected, joined, params = ["page.*"], [], list(params)
        for index, nested in enumerate(listing.json_columns.values()):
            lists = nested.grouped(of_page(nested.related, nested.project_column))
            lists_sql, lists_params = lists.query.get_compiler(using).as_sql()
            alias = f"list{index}"
            selected.append(f"COALESCE({alias}.{quote('rows')}, '[]')")
            joined.append(
                f"LEFT JOIN ({lists_sql}) {alias} "
                f"ON {alias}.{quote(nested.project_column)} = page.{quote('id')}"
            )
            params += lists_params
        self.sql = f"SELECT {', '.join(selected)} FROM ({own_sql}) page {' '.join(joined)}"
        self.params = params
        self.ids_positions = [i for i, param in enumerate(params) if param is _IDS]

    def rows(self, ids: list[int]) -> list[Row]:
        params = list(self.params)
        encoded = self.encode(ids)
        for position in self.ids_positions:
            params[position] = encoded
        with _preparing_cursor(connections[self.using]) as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        width = len(self.own_names)
        own = self.compiler.results_iter(results=[[row[:width] for row in fetched]])
        names = [*self.own_names, *self.json_names]
        return [
            dict(zip(names, (*values, *row[width:]), strict=True))
            for values, row in zip(own, fetched, strict=True)
        ]


class CountedValues:
    """What the numbered paginator pages through: the filtered projects, counted exactly
    up to a limit and estimated above it (`registry.counting`), and a page of them as
    values rows.

    The count is of the projects alone: through the page query it would keep the join
    to the lead unit, and PostgreSQL would join every matching project for it (it drops
    unused left joins, never inner ones): twice the time on 100,000 projects.

    A page is two statements: the page's ids (the filtered, ordered projects, nothing
    joined), then their columns by id (`ProjectListing.rows_by_id`, compiled once). In
    one statement, a broad search joined the lead unit and tag names of all 17,000
    matches before picking the newest 50. With `search` (a search in the default order,
    on PostgreSQL), the search's own plan reads the page's ids and the count
    (`search.SearchPlan`): for a common term the count is an estimate
    (`count_is_estimate`)."""

    def __init__(
        self, listing: "ProjectListing", projects, search_plan: search.SearchPlan | None = None
    ):
        self.listing = listing
        self.projects = projects
        self.search_plan = search_plan

    @property
    def ordered(self) -> bool:
        # Read by the paginator, which warns when pages have no fixed order.
        return self.projects.ordered

    @functools.cached_property
    def _ids_statement(self) -> tuple[str, tuple] | None:
        """The SQL and parameters of the projects' ids in order, or None when they can
        match nothing. Compiled once (a filtered or searched query takes the ORM a few
        ms): it reads the pages."""
        return freshness.statement(self.projects.values_list("pk", flat=True))

    @functools.cached_property
    def _counted(self) -> counting.Count:
        if self.search_plan is not None:
            return counting.Count(self.search_plan.count, self.search_plan.count_is_estimate)
        if self._ids_statement is None:
            return counting.Count(0)
        return counting.count_rows(self.projects)

    @property
    def _count(self) -> int:
        return self._counted.value

    def counted(self) -> counting.Count:
        """The count for the paginator (`registry.api.pagination.CountingPaginator`):
        exact up to the limit, else the planner's estimate, marked as one."""
        return self._counted

    def count(self) -> int:
        return self._count

    def page_ids(self, page: slice) -> list[int]:
        start = page.start or 0
        if self.search_plan is not None:
            return self.search_plan.page_ids(start, page.stop)
        if self._ids_statement is None:
            return []
        sql, params = self._ids_statement
        connection = connections[self.projects.db]
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} {connection.ops.limit_offset_sql(start, page.stop)}", params)
            return [pk for (pk,) in cursor.fetchall()]

    def __getitem__(self, page: slice) -> list[Row]:
        return self.listing.rows_by_id(self.page_ids(page), using=self.projects.db)


@functools.cache
def listing_for(serializer_class, using: str = "default") -> ProjectListing:
    """Built once per serializer class: building a serializer's fields takes about 6 ms
    (model introspection), and the fields format values the same for every request."""
    return ProjectListing(serializer_class, lists_in_page=lists_in_page(using))


@receiver(setting_changed)
def _forget_listings(*, setting, **kwargs):
    # Some of these are read when the fields are built (COERCE_DECIMAL_TO_STRING).
    if setting == "REST_FRAMEWORK":
        listing_for.cache_clear()
