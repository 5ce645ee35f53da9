"""Changelist filters that fit a laptop screen: long lists fold into a dropdown, dates and
amounts are ranges typed into two boxes. Plain HTML forms, no script, so they work under
the strict Content-Security-Policy."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

DROPDOWN_TEMPLATE = "admin/projects/filters/dropdown.html"
RANGE_TEMPLATE = "admin/projects/filters/range.html"


class DropdownFilterMixin:
    """Folded like a dropdown: the summary names the current choice; opening it shows the
    searchable list (the browser's find works on it)."""

    template = DROPDOWN_TEMPLATE


class RangeFieldListFilter(admin.FieldListFilter):
    """`field__gte` and `field__lte` from two inputs. Bad values go through the admin's own
    path (FieldListFilter.queryset raises IncorrectLookupParameters: the "?e=1" page)."""

    template = RANGE_TEMPLATE
    input_type = "number"

    def __init__(self, field, request, params, model, model_admin, field_path):
        # A date range over a timestamp compares its day, so "to 31 Jan" includes that day.
        on = f"{field_path}__date" if isinstance(field, models.DateTimeField) else field_path
        self.lookup_gte = f"{on}__gte"
        self.lookup_lte = f"{on}__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        # Empty boxes submit empty strings: they mean "no bound", not a bad value.
        for name in (self.lookup_gte, self.lookup_lte):
            if self.used_parameters.get(name) in ("", [""]):
                del self.used_parameters[name]

    def expected_parameters(self):
        return [self.lookup_gte, self.lookup_lte]

    def _current(self, name):
        value = self.used_parameters.get(name)
        if isinstance(value, list):
            value = value[-1] if value else ""
        return value or ""

    def choices(self, changelist):
        # One "choice" carrying the form: the other filters' parameters ride along hidden.
        others = [
            (key, value)
            for key, values in changelist.get_filters_params().items()
            if key not in self.expected_parameters()
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {
            "selected": bool(self.used_parameters),
            "input_type": self.input_type,
            "gte_name": self.lookup_gte,
            "lte_name": self.lookup_lte,
            "gte": self._current(self.lookup_gte),
            "lte": self._current(self.lookup_lte),
            "hidden": others,
            "reset": changelist.get_query_string(remove=self.expected_parameters()),
            "from_label": _("range from"),
            "to_label": _("range to"),
        }


class DateRangeFilter(RangeFieldListFilter):
    input_type = "date"


class ValueRangeFilter(RangeFieldListFilter):
    input_type = "number"


class DropdownChoicesFilter(DropdownFilterMixin, admin.ChoicesFieldListFilter):
    pass
