"""The project list's filters: an explicit list, each one documented in the schema."""

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import ModelChoiceField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from projects import access
from projects.api.search import search_projects
from projects.models import Kind, Participation, ProjectCountry, RiskLevel, Status
from projects.reporting import stats
from registry import freshness
from registry.api.filters import (
    AmountFilter,
    DayRangeFilter,
    FilterSet,
    IdFilter,
    StrictBooleanFilter,
    UtcDateTimeFilter,
    UtcDateTimeRangeFilter,
)
from registry.models import Country, CountryGroup, Sector


class CommaOrRepeatedWidget(forms.SelectMultiple):
    """Reads `?status=a,b` and `?status=a&status=b` alike."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        parts = [part.strip() for value in values if value for part in value.split(",")]
        return [part for part in parts if part] or None


class MultipleChoiceFilter(filters.MultipleChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", CommaOrRepeatedWidget)
        # The filtered columns are the project's own: no join, so no DISTINCT needed.
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class _ReferenceField(ModelChoiceField):
    """Finds the row once per version of its table (`registry.freshness`): reference rows
    change about never, and each lookup was a query of its own on every request."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        # Keyed by the queryset's SQL too, in case a filter narrows it.
        key = ("reference", self.to_field_name, str(value), freshness.statement(self.queryset))
        return freshness.remember(
            key,
            lambda: super(_ReferenceField, self).to_python(value),
            using=self.queryset.db,
            tables=[self.queryset.model._meta.db_table],
        )


@extend_schema_field(OpenApiTypes.STR)
class CodeFilter(filters.ModelChoiceFilter):
    """A reference row named by its code (sector, country group) or ISO code (country)."""

    field_class = _ReferenceField


class StableOrderingFilter(filters.OrderingFilter):
    """Adds the primary key as the last sort key, so pages never overlap on ties."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "-pk")
        return qs


class ProjectFilter(FilterSet):
    status = MultipleChoiceFilter(
        choices=Status.choices,
        help_text=_("One or more statuses, comma-separated or repeated."),
    )
    kind = filters.ChoiceFilter(choices=Kind.choices, help_text=_("Project or activity."))
    sector = CodeFilter(
        queryset=Sector.objects.all(),
        to_field_name="code",
        method="filter_sector",
        help_text=_("Sector code; a top-level sector includes its sub-sectors."),
    )
    country = CodeFilter(
        queryset=Country.objects.all(),
        method="filter_country",
        help_text=_("ISO 3166-1 alpha-2 code of a country the project takes place in."),
    )
    country_group = CodeFilter(
        queryset=CountryGroup.objects.all(),
        to_field_name="code",
        method="filter_country_group",
        help_text=_("Code of a country group (e.g. asean): a project in any member country."),
    )
    partner = IdFilter(
        method="filter_partner",
        help_text=_("Id of a partner institution taking part in the project."),
    )
    lead_unit = IdFilter(field_name="lead_unit_id", help_text=_("Lead unit id."))
    value_min = AmountFilter(
        field_name="estimated_value",
        lookup_expr="gte",
        help_text=_("Estimated value at least this (any currency: values are not converted)."),
    )
    value_max = AmountFilter(
        field_name="estimated_value",
        lookup_expr="lte",
        help_text=_("Estimated value at most this (any currency: values are not converted)."),
    )
    planned_start = DayRangeFilter(
        help_text=_(
            "Planned start within these days: on or after `planned_start_after`, on or "
            "before `planned_start_before`."
        ),
    )
    planned_end = DayRangeFilter(
        help_text=_(
            "Planned end within these days: on or after `planned_end_after`, on or before "
            "`planned_end_before`."
        ),
    )
    created = UtcDateTimeRangeFilter(
        field_name="created_at",
        help_text=_("Created at or after `created_after` and before `created_before` (ISO 8601)."),
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_("Changed at or after this time (ISO 8601), for synchronisation."),
    )
    risk = MultipleChoiceFilter(
        field_name="risk_level",
        choices=RiskLevel.choices,
        help_text=_("One or more risk levels, comma-separated or repeated."),
    )
    review_overdue = StrictBooleanFilter(
        method="filter_review_overdue",
        help_text=_("Selected or in-progress projects whose periodic review is overdue."),
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text=_(
            "Words that must each occur in the code, titles, summaries or partner names "
            "(Chinese or English, case-insensitive substring)."
        ),
    )
    ordering = StableOrderingFilter(
        fields=(
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("code", "code"),
            ("title_zh", "title_zh"),
            ("title_en", "title_en"),
            ("status", "status"),
            ("estimated_value", "estimated_value"),
            ("planned_start", "planned_start"),
            ("next_review_due", "next_review_due"),
        ),
        help_text=_("Sort by these fields; a leading '-' sorts descending."),
    )

    def filter_sector(self, queryset, name, sector):
        return queryset.in_sector(sector)

    def filter_country(self, queryset, name, country):
        return queryset.filter(
            Exists(ProjectCountry.objects.filter(project_id=OuterRef("pk"), country=country))
        )

    def filter_country_group(self, queryset, name, group):
        return queryset.in_country_group(group)

    def filter_partner(self, queryset, name, partner_id):
        return queryset.filter(
            Exists(Participation.objects.filter(project_id=OuterRef("pk"), partner_id=partner_id))
        )

    def filter_review_overdue(self, queryset, name, overdue):
        if overdue is None:
            return queryset
        overdue_ids = queryset.model.objects.review_overdue().values("pk")
        if overdue:
            return queryset.filter(pk__in=overdue_ids)
        return queryset.exclude(pk__in=overdue_ids)

    # The projects as filtered before the search, and its text: the list reads its pages
    # and count by the search's own plan (`search.SearchPlan`).
    before_search = None
    search_text = ""

    def filter_search(self, queryset, name, text):
        if not text.strip():
            return queryset
        self.before_search, self.search_text = queryset, text
        return search_projects(queryset, text)


class _StatsFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        period = data.get("period")
        if period and period.start and period.stop and period.stop < period.start:
            self.add_error("period", _("The end of the period is before its start."))
        return data


# The period's names, old and new: a selection filtering nothing else is the whole pool.
PERIOD_NAMES = frozenset({"period_after", "period_before", "period_start", "period_end"})


class StatsFilter(ProjectFilter):
    """The pipeline figures' selection (the stats API and the dashboard): every filter of
    the project list, meaning what it means there, plus a period of whole local days. The
    figures count projects created in the period; the flow figures count the transitions
    made in it (`stats.Selection`)."""

    period = DayRangeFilter(
        method="filter_period",
        help_text=_(
            "Whole local days, both included: from `period_after` to `period_before`. The "
            "figures count the projects created then; the flow, the transitions made then."
        ),
    )
    # Figures are not a page: nothing to order.
    ordering = None

    aliases = {"period_start": "period_after", "period_end": "period_before"}

    class Meta:
        form = _StatsFilterForm

    @property
    def period_days(self) -> stats.Period:
        days = self.form.cleaned_data.get("period")
        return stats.Period(start=days.start, end=days.stop) if days else stats.Period()

    def filter_period(self, queryset, name, days):
        return stats.Period(start=days.start, end=days.stop).within(queryset, "created_at")

    def filter_queryset(self, queryset, *, period: bool = True):
        """Every filter given; without `period`, all but the period."""
        for name, value in self.form.cleaned_data.items():
            if period or name != "period":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def selection(self) -> stats.Selection:
        """The figures' selection; the filterset must be valid. Its `params` are the
        filters as given (old names as old names)."""
        names = self.parameter_names()
        given = {
            self.given_as.get(name, name): ",".join(v for v in self.data.getlist(name) if v)
            for name in self.data
            if name in names
        }
        params = {name: value for name, value in given.items() if value}
        user = getattr(self.request, "user", None)
        return stats.Selection(
            projects=self.qs,
            any_time=self.filter_queryset(self.queryset.all(), period=False),
            period=self.period_days,
            params=params,
            whole_pool=(
                user is not None and access.sees_whole_pool(user) and not set(params) - PERIOD_NAMES
            ),
        )
