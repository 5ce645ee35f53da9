"""Filtering shared by every list: declared FilterSets only, and any query parameter that
is neither a declared filter nor a pagination/format parameter is refused with 400."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters

from registry.api.errors import UnknownParameter
from registry.api.pagination import PAGINATION_PARAMETERS

ALWAYS_ALLOWED = PAGINATION_PARAMETERS | {"format"}


def check_query_parameters(request, allowed) -> None:
    unknown = sorted(set(request.query_params) - set(allowed) - ALWAYS_ALLOWED)
    if unknown:
        error = UnknownParameter(
            _("Unknown query parameter: %(names)s.") % {"names": ", ".join(unknown)}
        )
        error.fields = {name: [_("This parameter is not supported here.")] for name in unknown}
        raise error


class StrictFilterBackend(filters.DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        allowed = set(filterset_class.base_filters) if filterset_class else set()
        check_query_parameters(request, allowed)
        return super().filter_queryset(request, queryset, view)


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """Several values, comma-separated (`?status=draft,submitted`) or repeated
    (`?status=draft&status=submitted`)."""

    def filter(self, qs, value):
        return super().filter(qs, value)
