"""The FilterSet base builds only the filters a request names, with the same result as
building them all (`registry.api.filters.FilterSet`)."""

import datetime

import pytest
from django.http import QueryDict
from django_filters import rest_framework as filters

from projects.api.filters import ProjectFilter
from projects.models import Project
from registry.api.filters import FilterSet
from tests import factories

QUERIES = [
    "",
    "page_size=5",
    "status=draft",
    "status=draft,submitted&kind=project&ordering=-code",
    "country_group=asean&sector=logistics&country=LA",
    "search=冷链 港&value_min=10&risk=high",
    "review_overdue=true&created_after=2025-01-01T00:00:00Z",
]
INVALID = ["status=nonsense", "sector=no-such-sector", "value_min=abc", "review_overdue=maybe"]


def sql(queryset) -> str:
    return str(queryset.query)


@pytest.mark.parametrize("query", QUERIES)
def test_only_the_named_filters_are_built_and_they_filter_alike(db, query):
    data = QueryDict(query)
    lean = ProjectFilter(data, Project.objects.all())
    every = ProjectFilter(data, Project.objects.all(), every_filter=True)
    assert set(lean.filters) == set(data) & set(ProjectFilter.base_filters)
    assert set(every.filters) == set(ProjectFilter.base_filters)
    assert lean.is_valid() and every.is_valid()
    assert sql(lean.qs) == sql(every.qs)


@pytest.mark.parametrize("query", INVALID)
def test_invalid_values_are_refused_alike(db, query):
    data = QueryDict(query)
    lean = ProjectFilter(data, Project.objects.all())
    every = ProjectFilter(data, Project.objects.all(), every_filter=True)
    assert not lean.is_valid()
    assert lean.errors == every.errors and lean.errors


class _RangeFilter(FilterSet):
    # Its widget reads `created_after` and `created_before`, not `created`.
    created = filters.DateFromToRangeFilter(field_name="planned_start")

    class Meta:
        model = Project
        fields = ()


def test_a_filter_named_with_a_suffix_is_kept(db, lead_unit):
    early = factories.ProjectFactory(lead_unit=lead_unit, planned_start=datetime.date(2025, 1, 1))
    factories.ProjectFactory(lead_unit=lead_unit, planned_start=datetime.date(2026, 1, 1))
    filterset = _RangeFilter(QueryDict("created_before=2025-06-01"), Project.objects.all())
    assert set(filterset.filters) == {"created"}
    assert list(filterset.qs) == [early]
