"""The figures take the project list's filters (`StatsFilter`, a `ProjectFilter`): for any
filter, the summary counts exactly the projects the list shows for it, to the same user;
bad values are refused alike, in the request's language."""

import datetime
import re
from decimal import Decimal

import pytest

from projects.models import Project
from tests import factories
from tests.conftest import make_user

API = "/api/v1"

# (status, kind, risk, lead unit 0/1, country, sector, planned start, value, created)
ROWS = [
    ("draft", "project", "low", 0, "LA", "logistics-rail", (2026, 1, 5), 100, (2026, 1, 3)),
    ("submitted", "project", "high", 0, "TH", "logistics-shipping", (2026, 3, 1), 200,
     (2026, 1, 20)),
    ("screening", "activity", "medium", 1, "KZ", "education", (2026, 5, 1), None, (2026, 2, 2)),
    ("selected", "project", "high", 1, "VN", "trade", (2026, 7, 1), 900, (2026, 2, 14)),
    ("in_progress", "project", "low", 0, "IN", "culture-heritage", (2026, 9, 1), 50,
     (2026, 2, 28)),
    ("completed", "activity", "medium", 1, "LA", "logistics", (2025, 11, 1), 70, (2026, 3, 1)),
    ("withdrawn", "project", "high", 0, "TH", "trade", (2026, 2, 1), 10, (2026, 3, 9)),
    ("not_selected", "project", "low", 1, "KZ", "education", (2026, 4, 1), 300, (2026, 3, 20)),
    ("submitted", "activity", "medium", 0, "LA", "logistics-rail", (2026, 6, 1), 400,
     (2026, 4, 2)),
]  # fmt: skip
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def units(db):
    return (
        factories.PartnerFactory(country_id="CN", name_zh="甲单位", name_en="Unit A"),
        factories.PartnerFactory(country_id="CN", name_zh="乙单位", name_en="Unit B"),
    )


@pytest.fixture
def pool(units, foreign_partner):
    for number, (status, kind, risk, unit, iso2, sector, start, value, created) in enumerate(ROWS):
        project = factories.ProjectFactory(
            title_zh=("冷链" if number % 3 == 0 else "港口") + f"合作项目{number}",
            kind=kind,
            risk_level=risk,
            lead_unit=units[unit],
            planned_start=datetime.date(*start),
            estimated_value=None if value is None else Decimal(value),
            currency="" if value is None else "CNY",
            countries=[(iso2, 100)],
            sectors=[(sector, 100)],
            partners=[(foreign_partner, "partner")] if number % 2 else [],
        )
        Project.objects.filter(pk=project.pk).update(
            status=status,
            created_at=datetime.datetime(*created, 12, tzinfo=SHANGHAI),
            next_review_due=datetime.date(2020, 1, 1) if status == "selected" else None,
        )
    return ROWS


def queries(units, foreign_partner) -> list[str]:
    unit_a, unit_b = units
    return [
        "status=submitted",
        "status=draft,selected,completed",
        "status=submitted&status=screening",
        "kind=activity",
        "sector=logistics",
        "sector=logistics-rail",
        "country=LA",
        "country_group=asean",
        "country_group=central-asia",
        f"lead_unit={unit_b.pk}",
        f"partner={foreign_partner.pk}",
        "risk=high",
        "risk=low,medium",
        "value_min=100&value_max=400",
        "planned_start_after=2026-03-01",
        "planned_start_before=2026-03-01",
        "created_after=2026-02-01T00:00:00Z&created_before=2026-03-15T00:00:00Z",
        "review_overdue=true",
        "search=冷链",
        "search=港口 合作",
        # Combinations.
        "kind=project&country_group=asean&risk=high",
        f"status=submitted&lead_unit={unit_a.pk}&sector=logistics",
        "sector=education&status=not_selected,screening",
        f"partner={foreign_partner.pk}&planned_start_after=2026-01-01&kind=project",
        # The period (figures only) and a list filter together: list with creation times.
        "period_start=2026-02-01&period_end=2026-03-01&kind=project",
    ]


def list_count(client, query: str) -> int:
    # The period is the figures' own: on the list it is the same creation days, in local
    # time (Asia/Shanghai), as a range of moments.
    query = query.replace(
        "period_start=2026-02-01&period_end=2026-03-01",
        "created_after=2026-02-01T00:00:00%2B08:00&created_before=2026-03-02T00:00:00%2B08:00",
    )
    response = client.get(f"{API}/projects/?{query}&page_size=100")
    assert response.status_code == 200, response.content
    return response.json()["count"]


def summary(client, query: str) -> dict:
    response = client.get(f"{API}/stats/summary/?{query}")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("role", ["manager", "officer"])
def test_each_list_filter_narrows_the_summary_as_it_narrows_the_list(
    client, pool, units, foreign_partner, role
):
    user = (
        make_user("stats-manager", "manager")
        if role == "manager"
        else make_user("stats-officer", "officer", units[0])
    )
    client.force_login(user)
    everything = summary(client, "")["count"]
    assert everything == list_count(client, "") == (len(ROWS) if role == "manager" else 5)
    counts = {}
    for query in queries(units, foreign_partner):
        figures = summary(client, query)
        assert figures["count"] == list_count(client, query), query
        # By status adds up to the same projects.
        assert sum(row["count"] for row in figures["by_status"]) == figures["count"], query
        counts[query] = figures["count"]
    # The filters narrow: most select some projects, none selects them all.
    assert all(count < everything for count in counts.values())
    matching = sum(1 for count in counts.values() if count)
    assert matching >= (len(counts) - 3 if role == "manager" else len(counts) // 2)


def test_the_figures_echo_the_filters_given(client, pool, units, manager):
    client.force_login(manager)
    query = f"status=submitted,draft&lead_unit={units[0].pk}&period_start=2026-01-01"
    for endpoint in ("summary", "balance", "flow"):
        response = client.get(f"{API}/stats/{endpoint}/?{query}")
        assert response.status_code == 200, response.content
        assert response.json()["filters"] == {
            "status": "submitted,draft",
            "lead_unit": str(units[0].pk),
            "period_start": "2026-01-01",
        }


def test_balance_counts_the_listed_projects_still_in_the_pool(client, pool, manager):
    client.force_login(manager)
    query = "kind=project&country_group=asean"
    in_pool = "status=draft,submitted,screening,selected,not_selected,in_progress,completed"
    balance = client.get(f"{API}/stats/balance/?{query}").json()
    assert balance["projects"] == list_count(client, f"{query}&{in_pool}") == 3


def test_flow_takes_the_list_filters_too(client, pool, manager):
    client.force_login(manager)
    everything = client.get(f"{API}/stats/flow/").json()
    narrowed = client.get(f"{API}/stats/flow/?status=selected").json()
    assert everything["overdue_reviews"]["count"] == 1
    assert narrowed["overdue_reviews"]["count"] == 1
    assert client.get(f"{API}/stats/flow/?kind=activity").json()["overdue_reviews"]["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=dreaming", "status"),
        ("kind=festival", "kind"),
        ("sector=space-travel", "sector"),
        ("country=XX", "country"),
        ("country_group=atlantis", "country_group"),
        ("lead_unit=abc", "lead_unit"),
        ("partner=0", "partner"),
        ("risk=extreme", "risk"),
        ("value_min=lots", "value_min"),
        ("planned_start_after=yesterday", "planned_start_after"),
        ("created_before=soon", "created_before"),
        ("review_overdue=perhaps", "review_overdue"),
        ("search=" + "x" * 101, "search"),
        ("colour=red", "colour"),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_bad_filter_is_the_same_400_as_on_the_list(client, manager, query, field, language):
    client.force_login(manager)
    answers = [
        client.get(f"{API}/{path}?{query}", HTTP_ACCEPT_LANGUAGE=language)
        for path in ("projects/", "stats/summary/", "stats/balance/", "stats/flow/")
    ]
    assert {answer.status_code for answer in answers} == {400}
    errors = [answer.json()["error"] for answer in answers]
    assert field in errors[0]["fields"]
    assert all(error == errors[0] for error in errors)
    message = " ".join(errors[0]["fields"][field])
    if language == "zh-hans":
        assert re.search(r"[\u4e00-\u9fff]", message), message
    else:
        assert message.isascii(), message


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_bad_period_is_refused_by_name(client, manager, language):
    client.force_login(manager)
    response = client.get(
        f"{API}/stats/summary/?period_start=2026-03-01&period_end=2026-02-01",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["period_end"])
    expected = "期间" if language == "zh-hans" else "period"
    assert expected in message
    # The period is the figures' own: the list does not take it.
    listing = client.get(f"{API}/projects/?period_start=2026-03-01")
    assert listing.status_code == 400
    assert listing.json()["error"]["code"] == "unknown_parameter"


def test_partner_users_see_no_figures_whatever_the_filters(client, pool, partner_user):
    client.force_login(partner_user)
    assert client.get(f"{API}/projects/?kind=project").json()["count"] > 0
    for endpoint in ("summary", "balance", "flow"):
        assert client.get(f"{API}/stats/{endpoint}/?kind=project").status_code == 403


def test_schema_documents_the_list_filters_on_every_figures_operation(client, db):
    schema = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()

    def query_parameters(path, *, deprecated=False):
        operation = schema["paths"][path]["get"]
        return {
            p["name"]: p["schema"]
            for p in operation["parameters"]
            if p["in"] == "query" and p.get("deprecated", False) == deprecated
        }

    listing = query_parameters(f"{API}/projects/")
    list_filters = {
        name: described
        for name, described in listing.items()
        if name not in {"ordering", "page", "page_size"}
    }
    assert {"status", "kind", "sector", "search", "partner", "risk"} <= set(list_filters)
    for endpoint in ("summary", "balance", "flow"):
        figures = query_parameters(f"{API}/stats/{endpoint}/")
        assert set(figures) == set(list_filters) | {"period_after", "period_before"}, endpoint
        # Described alike: the same types, formats and codes.
        assert {name: figures[name] for name in list_filters} == list_filters, endpoint
        assert figures["period_after"]["format"] == figures["period_before"]["format"] == "date"
        # The old names, still read, are documented as such.
        old = query_parameters(f"{API}/stats/{endpoint}/", deprecated=True)
        assert set(old) == {"period_start", "period_end"}
        assert all(described["format"] == "date" for described in old.values())
