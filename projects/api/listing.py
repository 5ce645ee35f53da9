"""Project list pages (the `list` and `sync` routes), rendered from database values.

`ProjectSerializer` is the documented shape and renders single projects. For a page of 50
it built some 900 model instances for the related rows and ran DRF's nested
`to_representation` on each: most of a list request's time. Here a page is one values
query (the project's columns, its lead unit's, its tag names) and one values query per
nested list, grouped by project in Python. Values are formatted by the serializer's own
fields, so a page is exactly what the serializer gives (`tests/test_api_listing.py`).
"""

import copy
import functools
import operator
from collections import defaultdict
from collections.abc import Callable
from types import SimpleNamespace

from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework import serializers

from projects.api import search
from projects.models import Project, split_tag_names
from registry import freshness

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


class _NestedList:
    """One nested list of the project (`countries`, …): the related rows of a page, in
    the related model's default ordering, as the serializer's prefetch reads them."""

    def __init__(self, relation_name: str, child):
        relation = Project._meta.get_field(relation_name)
        self.project_column = relation.field.attname
        self.shape = _Shape(child)
        # Columns resolved once; each page filters a copy.
        self.rows = relation.related_model._default_manager.values(
            self.project_column, *self.shape.columns
        )

    def by_project(self, project_ids: list[int]) -> Format:
        """For a page: a project's id to its list."""
        lists = defaultdict(list)
        build, project_column = self.shape.build, self.project_column
        for row in self.rows.filter(**{f"{project_column}__in": project_ids}):
            lists[row[project_column]].append(build(row))
        return lambda project_id: lists.get(project_id, [])


class ProjectListing:
    """Reads and renders the list pages of one project serializer (staff or partner)."""

    def __init__(self, serializer_class):
        serializer = serializer_class()
        self.url_field = serializer.fields["url"]
        self.nested_lists = {
            field.field_name: _NestedList(field.source, field.child)
            for field in _readable_fields(serializer)
            if isinstance(field, serializers.ListSerializer)
        }
        # The keys formatted per page, and the column each is made from.
        page_columns = {"url": "code", "status_label": "status", "tags": "tag_names"}
        self.shape = _Shape(
            serializer, columns=page_columns | dict.fromkeys(self.nested_lists, "id")
        )
        self.columns = list(dict.fromkeys(["id", *self.shape.columns]))

    def values(self, projects):
        """The page query: each project as a dict of the columns its keys read."""
        return projects.with_tag_names().values(*self.columns)

    def counted_values(self, projects, walk: Callable | None = None) -> "CountedValues":
        """The pages for the numbered paginator."""
        return CountedValues(self, projects, walk)

    def render(self, page: list[Row], context: dict) -> list[dict]:
        """The page's projects as the serializer renders them, in the page's order."""
        project_ids = [row["id"] for row in page]
        per_page = {
            "url": self._url_format(context),
            "status_label": _status_label_format(),
            "tags": split_tag_names,
            **{key: nested.by_project(project_ids) for key, nested in self.nested_lists.items()},
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


def _status_label_format() -> Format:
    # `get_status_display()`, each label translated once per page.
    labels = {value: str(label) for value, label in Project._meta.get_field("status").flatchoices}
    return lambda status: labels.get(status, status)


class CountedValues:
    """What the numbered paginator pages through: the filtered projects, counted once
    per data generation (`registry.freshness`), and a page of them as values rows.

    The count is of the projects alone: through the page query it would keep the join
    to the lead unit, and PostgreSQL would join every matching project for it (it drops
    unused left joins, never inner ones): twice the time on 100,000 projects.

    A page is one statement in two steps: the page's ids (the filtered, ordered
    projects, nothing joined), then their columns by id. In one step, a broad search
    joined the lead unit and tag names of all 17,000 matches before picking the newest
    50. With `walk` (the filtered projects with the search checked row by row), a page
    of a common term is read off the newest-first index when the count says that is
    short (`search.should_walk`)."""

    def __init__(self, listing: "ProjectListing", projects, walk: Callable | None = None):
        self.listing = listing
        self.projects = projects
        self.walk = walk

    @property
    def ordered(self) -> bool:
        # Read by the paginator, which warns when pages have no fixed order.
        return self.projects.ordered

    @functools.cached_property
    def _count(self) -> int:
        return freshness.cached_count(self.projects)

    def count(self) -> int:
        return self._count

    def page_ids(self, page: slice):
        projects = self.projects
        start = page.start or 0
        if self.walk is not None and search.should_walk(
            offset=start,
            page_size=page.stop - start,
            matches=self._count,
            pool=search.pool_estimate,
        ):
            projects = self.walk()
        return projects.values("pk")[page]

    def __getitem__(self, page: slice) -> list[Row]:
        order = self.projects.query.order_by or Project._meta.ordering
        rows = Project.objects.filter(pk__in=self.page_ids(page)).order_by(*order)
        return list(self.listing.values(rows))


@functools.cache
def listing_for(serializer_class) -> ProjectListing:
    """Built once per serializer class: building a serializer's fields takes about 6 ms
    (model introspection), and the fields format values the same for every request."""
    return ProjectListing(serializer_class)


@receiver(setting_changed)
def _forget_listings(*, setting, **kwargs):
    # Some of these are read when the fields are built (COERCE_DECIMAL_TO_STRING).
    if setting == "REST_FRAMEWORK":
        listing_for.cache_clear()
