"""Filtering shared by every list: declared FilterSets only, and any query parameter that
is neither a declared filter nor a pagination/format parameter is refused with 400."""

import datetime

from django import forms
from django.template import loader
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from registry.api.errors import UnknownParameter
from registry.api.pagination import PAGINATION_PARAMETERS

ALWAYS_ALLOWED = PAGINATION_PARAMETERS | {"format"}


def unknown_parameters(given, allowed) -> dict[str, list[str]]:
    """{name: [why]} for each parameter in `given` that is not in `allowed`."""
    return {
        name: [_("This parameter is not supported here.")]
        for name in sorted(set(given) - set(allowed))
    }


def check_query_parameters(request, allowed, *, paged: bool = True) -> None:
    """Refuses (400) any parameter not in `allowed`, nor a page's (unless not `paged`),
    nor `format`."""
    always = ALWAYS_ALLOWED if paged else ALWAYS_ALLOWED - PAGINATION_PARAMETERS
    unknown = unknown_parameters(request.query_params, set(allowed) | always)
    if unknown:
        error = UnknownParameter(
            _("Unknown query parameter: %(names)s.") % {"names": ", ".join(unknown)}
        )
        error.fields = unknown
        raise error


class FilterSet(filters.FilterSet):
    """A FilterSet that builds only the filters a request names.

    django-filter deep-copies every declared filter and builds a form field for each, on
    every request: 2 ms for the project list's twenty filters when none is given. A
    filter the query string does not name filters nothing (its value is empty), so it is
    left out; one named with a suffix (`<name>_min`, …, as range widgets read) is kept.
    With `every_filter`, all are built (the browsable API's filter form shows them)."""

    def __init__(self, data=None, *args, every_filter: bool = False, **kwargs):
        if data is not None and not every_filter:
            named = [key for key in data if key]
            self.base_filters = {
                name: declared
                for name, declared in type(self).base_filters.items()
                if any(key == name or key.startswith(f"{name}_") for key in named)
            }
        super().__init__(data, *args, **kwargs)

    @classmethod
    def parameter_names(cls) -> set[str]:
        """The query parameters the filters read."""
        return set(cls.base_filters)


def parameter_names(filterset_class) -> set[str]:
    if issubclass(filterset_class, FilterSet):
        return filterset_class.parameter_names()
    return set(filterset_class.base_filters)


class StrictFilterBackend(filters.DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        allowed = parameter_names(filterset_class) if filterset_class else set()
        check_query_parameters(request, allowed)
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        # Kept for views that read more of the filtering than the queryset it gives.
        view.filterset = filterset
        return filterset

    def to_html(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        if issubclass(filterset_class, FilterSet):
            kwargs["every_filter"] = True
        template = loader.get_template(self.template)
        return template.render({"filter": filterset_class(**kwargs)}, request)


MAX_ID = 2**63 - 1


class _IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A row id: a positive 64-bit integer (larger numbers are a 400, not a database
    overflow)."""

    field_class = _IdField


MAX_AMOUNT = 10**16 - 1  # amounts are stored with 18 digits, 2 of them decimals


@extend_schema_field({"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT})
class AmountFilter(filters.NumberFilter):
    """A bound on a money amount: any number within the stored range (a bound between two
    cents compares as well as any other)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_AMOUNT)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(*args, **kwargs)


class _BooleanField(forms.TypedChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.update(
            choices=[("true", "true"), ("false", "false")],
            coerce=lambda value: value == "true",
            empty_value=None,
        )
        super().__init__(*args, **kwargs)

    def clean(self, value):
        return super().clean(value.lower() if isinstance(value, str) else value)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.Filter):
    """`true` or `false`; anything else is a 400 (django-filter's BooleanFilter would
    silently ignore it)."""

    field_class = _BooleanField


class UtcDateTimeField(filters.IsoDateTimeFilter.field_class):
    """An ISO 8601 moment, handed to the database in UTC. ISO 8601 allows offsets up to
    ±23:59, PostgreSQL only ±15:59 (it refused `…-19:59` with a server error); a moment
    that cannot be expressed in UTC (beyond year 9999) is an invalid value."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
