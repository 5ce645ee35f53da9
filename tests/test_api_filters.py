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
    "planned_start_before=2026-01-01&planned_end_after=2025-01-01",
]
INVALID = ["status=nonsense", "sector=no-such-sector", "value_min=abc", "review_overdue=maybe"]


def sql(queryset) -> str:
    return str(queryset.query)


@pytest.mark.parametrize("query", QUERIES)
def test_only_the_named_filters_are_built_and_they_filter_alike(db, query):
    data = QueryDict(query)
    lean = ProjectFilter(data, Project.objects.all())
    every = ProjectFilter(data, Project.objects.all(), every_filter=True)
    # A range is built when either of its ends is named.
    named = {name.removesuffix("_after").removesuffix("_before") for name in data}
    assert set(lean.filters) == named & set(ProjectFilter.base_filters)
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


# --- Ranges of dates and moments: one filter each, read as `<name>_after`/`_before` ------


def test_date_and_moment_pairs_are_range_filters_read_by_their_ends():
    from registry.api.filters import DayRangeFilter, UtcDateTimeRangeFilter

    ranges = {
        name: type(declared)
        for name, declared in ProjectFilter.base_filters.items()
        if isinstance(declared, filters.RangeFilter)
    }
    assert ranges == {
        "planned_start": DayRangeFilter,
        "planned_end": DayRangeFilter,
        "created": UtcDateTimeRangeFilter,
    }
    assert {
        "planned_start_after",
        "planned_start_before",
        "planned_end_after",
        "planned_end_before",
        "created_after",
        "created_before",
    } <= ProjectFilter.parameter_names()
    # No hand-written pair is left.
    assert not any(name.endswith(("_after", "_before")) for name in ProjectFilter.base_filters)


@pytest.mark.parametrize(
    ("query", "wrong"),
    [
        ("planned_start_after=yesterday", {"planned_start_after"}),
        ("planned_start_after=2026-01-01&planned_start_before=soon", {"planned_start_before"}),
        ("planned_end_after=x&planned_end_before=y", {"planned_end_after", "planned_end_before"}),
        ("created_before=9999-12-31T23:59:59-01:00", {"created_before"}),  # past year 9999
    ],
)
def test_an_error_names_the_end_that_is_wrong(api_client, manager, query, wrong):
    response = api_client(manager).get(f"/api/v1/projects/?{query}")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == wrong


def test_created_before_excludes_its_moment_and_after_includes_it(api_client, manager, lead_unit):
    project = factories.ProjectFactory(lead_unit=lead_unit)
    moment = "2026-02-03T04:05:06Z"
    Project.objects.filter(pk=project.pk).update(
        created_at=datetime.datetime(2026, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    )
    client = api_client(manager)

    def count(query):
        return client.get(f"/api/v1/projects/?{query}").json()["count"]

    assert count(f"created_after={moment}") == 1
    assert count(f"created_before={moment}") == 0
    assert count(f"created_after={moment}&created_before=2026-02-03T04:05:07Z") == 1
    assert count("planned_start_after=2000-01-01") == 0  # no planned start: not in a range


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_old_names_are_read_and_errors_named_by_them(api_client, manager, language):
    client = api_client(manager, language)
    old = client.get("/api/v1/stats/summary/?period_start=2026-01-01&period_end=2026-01-31")
    new = client.get("/api/v1/stats/summary/?period_after=2026-01-01&period_before=2026-01-31")
    assert old.status_code == new.status_code == 200
    assert old.json()["filters"] == {"period_start": "2026-01-01", "period_end": "2026-01-31"}
    assert {key: value for key, value in old.json().items() if key != "filters"} == {
        key: value for key, value in new.json().items() if key != "filters"
    }
    bad = client.get("/api/v1/stats/summary/?period_start=someday")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"period_start"}
    both = client.get("/api/v1/stats/summary/?period_start=2026-01-01&period_after=2026-01-01")
    assert both.status_code == 400
    message = both.json()["error"]["fields"]["period_start"][0]
    assert "period_after" in message
    assert ("旧名" in message) == (language == "zh-hans")
