from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from registry import freshness

# Page sizes above the maximum are capped (not refused): the response says how many
# rows it holds, and `next` links walk the rest.
MAX_PAGE_SIZE = getattr(settings, "API_MAX_PAGE_SIZE", 100)


class CachedCountPaginator(Paginator):
    """Counts a queryset once per data generation (`registry.freshness`): the exact
    count(*) under a page grows with the pool (and with a broad filter or search), the
    page itself does not."""

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return freshness.cached_count(rows)
        return super().count


def _is_positive_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) >= 1


class _CheckedPageSize:
    """`page_size` is a whole number from 1 (larger than the maximum is capped): anything
    else is a 400, as the schema says (DRF would silently use the default size)."""

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not _is_positive_number(raw):
            raise ValidationError({self.page_size_query_param: [_("Give a whole number from 1.")]})
        return super().get_page_size(request)


COUNT_IS_ESTIMATE = _(
    "True when `count` is an estimate (a search for a common word over a large pool, "
    "where an exact count would read every match); false when it is exact."
)


class PagePagination(_CheckedPageSize, PageNumberPagination):
    django_paginator_class = CachedCountPaginator
    page_size = 25
    page_size_query_param = "page_size"
    page_size_query_description = format_lazy(
        "{} {}", _("Rows per page; values above the maximum are capped at"), MAX_PAGE_SIZE
    )
    max_page_size = MAX_PAGE_SIZE

    def get_paginated_response(self, data):
        """DRF's page with `count_is_estimate` beside `count`: true when the rows paged
        through give an estimate for a count that would cost a scan (a common search
        term), false when the count is exact."""
        response = super().get_paginated_response(data)
        rows = self.page.paginator.object_list
        estimate = bool(getattr(rows, "count_is_estimate", False))
        response.data = {
            "count": response.data["count"],
            "count_is_estimate": estimate,
            **{key: value for key, value in response.data.items() if key != "count"},
        }
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        paginated["properties"] = {
            "count": properties["count"],
            "count_is_estimate": {
                "type": "boolean",
                "description": str(COUNT_IS_ESTIMATE),
            },
            **{key: value for key, value in properties.items() if key != "count"},
        }
        paginated["required"] = [*paginated["required"], "count_is_estimate"]
        return paginated

    def get_page_number(self, request, paginator):
        """A page is a whole number from 1 (or `last`); anything else is a 400. A number
        past the last page stays a 404."""
        number = super().get_page_number(request, paginator)
        if (
            self.page_query_param in request.query_params
            and number not in self.last_page_strings
            and not _is_positive_number(str(number))
        ):
            raise ValidationError({self.page_query_param: [_("Give a whole number from 1.")]})
        return number


class SyncCursorPagination(_CheckedPageSize, CursorPagination):
    """For partners that mirror the pool: ordered by (updated_at, id), so a client keeps
    the last `next` link and resumes from it; rows changed later appear again."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    page_size_query_description = PagePagination.page_size_query_description
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request):
        """A cursor is only ever one this API wrote, but a client can send anything: one
        that does not decode, or whose position is not a time, points to no page, a 404
        in the error shape as for a page number past the end (the position would
        otherwise reach the database as a bad timestamp: a 500)."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or cursor.position is None or _is_time(cursor.position)
        if not valid:
            raise InvalidCursor()
        return cursor


class InvalidCursor(exceptions.NotFound):
    default_code = "invalid_cursor"
    default_detail = _("Invalid cursor.")


def _is_time(value: str) -> bool:
    try:
        return parse_datetime(value) is not None
    except ValueError:  # well formed but out of range, e.g. month 13
        return False


PAGINATION_PARAMETERS = frozenset({"page", "page_size", "cursor"})


def sync_parameters():
    """The query parameters of a cursor page besides the list's filters (drf-spectacular
    documents pagination only for `list` actions)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter(
            "cursor",
            OpenApiTypes.STR,
            description=_("The cursor of a `next` or `previous` link, as given."),
        ),
        OpenApiParameter(
            "page_size",
            {"type": "integer", "minimum": 1},
            description=SyncCursorPagination.page_size_query_description,
        ),
    ]


def cursor_page_schema(name: str, serializer_class):
    """The documented shape of a cursor page (a name of its own: drf-spectacular would
    otherwise give it the same component name as the numbered page of the same rows)."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    return inline_serializer(
        name,
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
