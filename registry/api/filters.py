"""Filtering shared by every list: declared FilterSets only, and any query parameter that
is neither a declared filter nor a pagination/format parameter is refused with 400."""

import datetime

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.template import loader
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_filters.fields import RangeField
from django_filters.widgets import DateRangeWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field

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
    """A FilterSet that builds only the filters a request names, reads old parameter
    names, and names each error by the parameter that holds the wrong value.

    django-filter deep-copies every declared filter and builds a form field for each, on
    every request: 2 ms for the project list's twenty filters when none is given. A
    filter the query string does not name filters nothing (its value is empty), so it is
    left out; one named with a suffix (`<name>_after`, …, as range widgets read) is kept.
    With `every_filter`, all are built (the browsable API's filter form shows them).

    A range of dates or moments is one django-filter range filter named after what it
    bounds, read as `<name>_after` and `<name>_before` (`DateFromToRangeFilter`'s
    widget). `aliases` maps a parameter's old name to its current one: the old name is
    still read (and documented as such, `alias_parameters`), and an error in its value
    is named by it."""

    aliases: dict[str, str] = {}

    def __init__(self, data=None, *args, every_filter: bool = False, **kwargs):
        # {current name: the old name it was given as}; old and current names both given.
        self.given_as, self.given_twice = {}, []
        if data is not None and self.aliases:
            data = self._current_names(data)
        if data is not None and not every_filter:
            named = [key for key in data if key]
            self.base_filters = {
                name: declared
                for name, declared in type(self).base_filters.items()
                if any(key == name or key.startswith(f"{name}_") for key in named)
            }
        super().__init__(data, *args, **kwargs)

    def _current_names(self, data):
        data = data.copy()
        for old, current in self.aliases.items():
            if old not in data:
                continue
            if current in data:
                self.given_twice.append((old, current))
                continue
            if hasattr(data, "setlist"):  # a QueryDict: every value of the old name
                data.setlist(current, data.pop(old))
            else:
                data[current] = data.pop(old)
            self.given_as[current] = old
        return data

    @classmethod
    def parameter_names(cls) -> set[str]:
        """The query parameters the filters read, old names included."""
        names = set(cls.aliases)
        for name, declared in cls.base_filters.items():
            names.update(filter_parameters(name, declared))
        return names

    def is_valid(self):
        return super().is_valid() and not self.given_twice

    @property
    def errors(self) -> ErrorDict:
        """The form's errors by query parameter as given: a range's by the end whose value
        is wrong, a renamed parameter's by the name it was given as."""
        errors = ErrorDict()
        for name, messages in self.form.errors.items():
            for parameter, found in self._by_parameter(name, messages):
                parameter = self.given_as.get(parameter, parameter)
                errors.setdefault(parameter, ErrorList()).extend(found)
        for old, current in self.given_twice:
            errors.setdefault(old, ErrorList()).append(
                forms.ValidationError(
                    _("%(old)s is the old name of %(current)s: give one of them.")
                    % {"old": old, "current": current},
                    code="invalid",
                )
            )
        return errors

    def _by_parameter(self, name, messages):
        field = self.form.fields.get(name)
        widget = getattr(field, "widget", None)
        if not isinstance(field, forms.MultiValueField) or not hasattr(widget, "suffixes"):
            return [(name, messages)]
        values = widget.value_from_datadict(self.form.data, None, self.form.add_prefix(name))
        parameters = [f"{name}_{suffix}" if suffix else name for suffix in widget.suffixes]
        found = []
        for parameter, end, value in zip(parameters, field.fields, values, strict=True):
            try:
                end.clean(value)
            except forms.ValidationError as error:
                found.append((parameter, ErrorList(error.error_list)))
        if found:
            return found
        # Each end is valid alone (e.g. the two in the wrong order): the range's error,
        # named by the last end given.
        given = [p for p, value in zip(parameters, values, strict=True) if value] or [name]
        return [(given[-1], messages)]


def filter_parameters(name: str, declared) -> list[str]:
    """The query parameters of one filter: a range's ends, as its widget names them."""
    if isinstance(declared, filters.RangeFilter):
        suffixes = declared.field_class.widget.suffixes
        return [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
    return [name]


def alias_parameters(filterset_class) -> list[OpenApiParameter]:
    """The old parameter names of `filterset_class`, for `extend_schema(parameters=…)`:
    still read, marked deprecated, typed as the parameter they stand for."""
    described = []
    for old, current in filterset_class.aliases.items():
        declared = next(
            declared
            for name, declared in filterset_class.base_filters.items()
            if current in filter_parameters(name, declared)
        )
        kind = OpenApiTypes.STR
        if isinstance(declared, filters.DateFromToRangeFilter | filters.DateFilter):
            kind = OpenApiTypes.DATE
        elif isinstance(declared, filters.IsoDateTimeFromToRangeFilter):
            kind = OpenApiTypes.DATETIME
        described.append(
            OpenApiParameter(
                old,
                kind,
                OpenApiParameter.QUERY,
                deprecated=True,
                description=format_lazy(gettext_lazy("Old name of {}, still read."), current),
            )
        )
    return described


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


class _DayRangeField(RangeField):
    """Two days as given. (django-filter's `DateRangeField` turns them into the first and
    last moments of the day in the current time zone, which a date column converts back
    in the default one.)"""

    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((forms.DateField(), forms.DateField()), *args, **kwargs)


class DayRangeFilter(filters.DateFromToRangeFilter):
    """Days, both ends included: `<name>_after` (on or after) and `<name>_before` (on or
    before)."""

    field_class = _DayRangeField


class _UtcDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((UtcDateTimeField(), UtcDateTimeField()), *args, **kwargs)


class UtcDateTimeRangeFilter(filters.IsoDateTimeFromToRangeFilter):
    """ISO 8601 moments: `<name>_after` (at or after) and `<name>_before` (strictly
    before, so consecutive ranges never count a moment twice)."""

    field_class = _UtcDateTimeRangeField

    def filter(self, qs, value):
        if not value:
            return qs
        if value.start is not None:
            qs = qs.filter(**{f"{self.field_name}__gte": value.start})
        if value.stop is not None:
            qs = qs.filter(**{f"{self.field_name}__lt": value.stop})
        return qs
