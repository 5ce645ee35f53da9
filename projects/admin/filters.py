"""Changelist filters that fit a laptop screen: short lists fold into a dropdown, dates and
amounts are ranges typed into two boxes, and choices from a big table (institutions,
countries) are searched, never listed. Plain HTML forms; the searched ones use the admin's
own Select2 and a script file of ours, so all work under the strict Content-Security-Policy.

A searched filter builds no choice list: the page names only the chosen row (one query by
its key), and the choices come page by page from `FilterChoicesView`, the admin's
autocomplete view answering for one of `CHOICE_SOURCES`. Listing "the institutions that
lead a project" instead read the whole project table on every request (seconds at a
million projects).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import models
from django.db.models import Q
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from partners import access as partners_access
from partners.models import Partner
from registry.models import Country

DROPDOWN_TEMPLATE = "admin/projects/filters/dropdown.html"
RANGE_TEMPLATE = "admin/projects/filters/range.html"
SEARCH_TEMPLATE = "admin/projects/filters/search.html"


class DropdownFilterMixin:
    """Folded like a dropdown: the summary names the current choice; opening it shows the
    searchable list (the browser's find works on it)."""

    template = DROPDOWN_TEMPLATE


def other_parameters(changelist, own: list[str]) -> list[tuple[str, str]]:
    """The query string's parameters but `own` and the page number, as (name, value)
    pairs: what a filter's form carries along hidden (other filters, search, ordering)."""
    return [
        (key, value)
        for key, values in changelist.filter_params.items()
        if key not in own
        for value in (values if isinstance(values, list) else [values])
    ]


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
        # One "choice" carrying the form: the other parameters ride along hidden.
        others = other_parameters(changelist, self.expected_parameters())
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


# --- Searched choices -------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceSource:
    """Rows a person picks one of by typing part of its name."""

    # (user) -> the rows the user may pick from.
    rows: Callable
    # The fields a typed term is looked for in (case-insensitive substring).
    search_fields: tuple[str, ...]
    ordering: tuple[str, ...]
    # (row) -> what the row is called in the list and in the filter.
    label: Callable = str
    # (text) -> the row's key, or None when the text cannot be one.
    key: Callable = lambda text: int(text) if str(text).isdigit() else None

    def search(self, user, term: str):
        rows = self.rows(user)
        for bit in term.split():
            condition = Q()
            for name in self.search_fields:
                condition |= Q(**{f"{name}__icontains": bit})
            rows = rows.filter(condition)
        return rows.order_by(*self.ordering)

    def row(self, user, text):
        """The row named by a query-string value (one query by its key), or None."""
        key = self.key(text)
        return None if key is None else self.rows(user).filter(pk=key).first()


CHOICE_SOURCES = {
    "partner": ChoiceSource(
        rows=lambda user: partners_access.visible_partners(user, Partner.objects.all()),
        search_fields=("name_zh", "name_en"),
        ordering=("name_zh", "pk"),
    ),
    "country": ChoiceSource(
        rows=lambda user: Country.objects.all(),
        search_fields=("iso2", "iso3", "name_zh", "name_en"),
        ordering=("iso2",),
        label=lambda country: f"{country.pk} {country.name}",
        key=lambda text: str(text).upper() if len(str(text)) == 2 else None,
    ),
}
CHOICES_URL_NAME = "projects_filter_choices"


class FilterChoicesView(AutocompleteJsonView):
    """The admin's autocomplete answer (Select2's JSON, 20 rows a page, `more` when there
    are others) for one of `CHOICE_SOURCES`, to whoever may view the admin page it is
    mounted on. Subclassing the view is how Django's documentation customises it; the
    parameters it would read (app, model, field of a form's foreign key) are not needed."""

    source: ChoiceSource | None = None
    # The admin page the view is mounted on: its view right guards the choices.
    model_admin = None

    def process_request(self, request):
        return request.GET.get("term", "").strip()[:100], self.model_admin, None, "pk"

    def get_queryset(self):
        return self.source.search(self.request.user, self.term)

    def get_paginator(self, *args, **kwargs):
        # The page of 20 is counted exactly: the sources are small reference tables.
        return self.paginator_class(*args, **kwargs)

    def serialize_result(self, obj, to_field_name):
        return {"id": str(obj.pk), "text": self.source.label(obj)}


def choice_urls(model_admin) -> list:
    """The choices' JSON views, mounted on `model_admin`'s URLs (its view right guards
    them): `reverse("admin:projects_filter_choices", args=[source])`."""
    return [
        path(
            f"filter-choices/{name}/",
            model_admin.admin_site.admin_view(
                FilterChoicesView.as_view(
                    admin_site=model_admin.admin_site, model_admin=model_admin, source=source
                )
            ),
            name=CHOICES_URL_NAME if name == "partner" else f"{CHOICES_URL_NAME}_{name}",
        )
        for name, source in CHOICE_SOURCES.items()
    ]


def choices_url(source: str) -> str:
    name = CHOICES_URL_NAME if source == "partner" else f"{CHOICES_URL_NAME}_{source}"
    return reverse(f"admin:{name}")


def _admin_autocomplete() -> AutocompleteSelect:
    """The admin's own autocomplete widget (on any foreign key), for what it knows: its
    scripts and styles, and the Select2 language file of the active language."""
    return AutocompleteSelect(Partner._meta.get_field("country"), admin.site)


def search_select_media() -> forms.Media:
    return _admin_autocomplete().media + forms.Media(
        js=["admin/js/jquery.init.js", "projects/admin/search_select.js"]
    )


class SearchSelect(forms.Select):
    """The admin's Select2 autocomplete on a `ChoiceSource`: it renders the empty choice
    and the chosen row only; typing asks `FilterChoicesView` for the rest."""

    template_name = "django/forms/widgets/select.html"

    def __init__(self, source: str, *, user, chosen=None, attrs=None):
        super().__init__(attrs)
        self.source_name = source
        self.user = user
        # The chosen row when the caller has it already (no second query).
        self.chosen = chosen

    @property
    def media(self):
        return search_select_media()

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        # Select2's options, as the admin's own autocomplete widget gives them; the class
        # "admin-autocomplete" makes the admin's autocomplete.js start it.
        attrs.update(
            {
                "class": f"{attrs.get('class', '')} admin-autocomplete search-select".strip(),
                "data-ajax--cache": "true",
                "data-ajax--delay": 250,
                "data-ajax--type": "GET",
                "data-ajax--url": choices_url(self.source_name),
                "data-theme": "admin-autocomplete",
                "data-allow-clear": "true",
                "data-placeholder": str(_("Type to search…")),
                "data-width": "100%",
                "lang": _admin_autocomplete().i18n_name,
            }
        )
        return attrs

    def optgroups(self, name, value, attrs=None):
        options = [self.create_option(name, "", "", False, 0)]
        text = next((v for v in value if v not in (None, "")), None)
        source = CHOICE_SOURCES[self.source_name]
        row = self.chosen
        if row is None and text is not None:
            row = source.row(self.user, text)
        if row is not None:
            options.append(self.create_option(name, str(row.pk), source.label(row), True, 1))
        return [(None, options, 0)]


class SearchFilter(admin.SimpleListFilter):
    """A filter on one row of a `ChoiceSource`, chosen by typing part of its name. Lists
    nothing (`lookups` is empty on purpose); an unknown value is a bad lookup (the
    changelist's "?e=1" page)."""

    template = SEARCH_TEMPLATE
    source = "partner"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def __init__(self, request, params, model, model_admin):
        self.request = request
        super().__init__(request, params, model, model_admin)

    def chosen(self):
        """The chosen row, or None when nothing is chosen. Looked up once a request, alone
        (the changelist builds its filters more than once)."""
        if self.value() is None:
            return None
        looked_up = self.request.__dict__.setdefault("registry_search_filter_rows", {})
        key = (self.source, self.value())
        if key not in looked_up:
            looked_up[key] = CHOICE_SOURCES[self.source].row(self.request.user, self.value())
        if looked_up[key] is None:
            raise IncorrectLookupParameters(self.value())
        return looked_up[key]

    def queryset(self, request, queryset):
        row = self.chosen()
        return queryset if row is None else self.filter_on(queryset, row)

    def filter_on(self, queryset, row):
        raise NotImplementedError

    def choices(self, changelist):
        others = other_parameters(changelist, [self.parameter_name])
        row = self.chosen()
        widget = SearchSelect(self.source, user=self.request.user, chosen=row)
        yield {
            "selected": row is not None,
            "display": CHOICE_SOURCES[self.source].label(row) if row is not None else "",
            "select": widget.render(
                self.parameter_name,
                self.value(),
                attrs={"id": f"filter-{self.parameter_name}", "aria-label": str(self.title)},
            ),
            "hidden": others,
            "reset": changelist.get_query_string(remove=[self.parameter_name]),
        }
