"""Pipeline figures for the dashboard, the stats API and reports.

Every figure is computed by the database (aggregates, window functions); Python only
reshapes the aggregated rows, whose number depends on the number of statuses, sectors,
countries or months, never on the number of projects.

Definitions (the API and the dashboard document these too):

- The projects are selected by the project list's filters (`Selection`, built by
  `projects.api.filters.StatsFilter`: status, kind, sector, country, country group, lead
  unit, partner, risk, dates, search…, each meaning what it means on the list), plus the
  period (`period_after`/`period_before`, inclusive local dates) on the project's creation
  time. For the flow figures the period applies to the time of the transitions instead,
  so "entries per month" means transitions made then.
- Money is never summed across currencies: every total is a list of
  `{"currency", "total"}`, as a decimal string.
- A project counts once under each country / top-level sector / country group it
  touches, so counts there add up to more than the number of projects. Values there are
  *attributed*: a project's value is split over its countries (sectors) by their
  weights, so attributed values do add up to the pool total.
- The weight of a project's country (sector) link is its share divided by the sum of
  the project's shares when every link of the project has a share and they sum to more
  than zero, else an equal split (1/n). The weights of one project sum to 1.
- Balance indicators count the projects in the pool (`Project.objects.in_pool()`:
  withdrawn and archived projects are left out).
- People-to-people share: projects with at least one people-to-people sector, divided
  by all projects in the selection (a project without sectors counts as not
  people-to-people).
- Geographic concentration: each country's weight is the sum of its link weights over
  the projects; a country's share is its weight over the number of projects that have
  countries. Top-three share is the sum of the three largest shares; the
  Herfindahl-Hirschman index is the sum of the squared shares in percent points
  (0 to 10,000; 10,000 = one country only).
- Coverage of South Asia (`southern-asia`) and Central Asia (`central-asia`): projects
  with at least one country in the group, and their share of all projects.
- Flow: a *stay* in a stage runs from the transition into it to the project's next
  transition (LEAD over the project's history). Median days per stage are over finished
  stays, computed in SQL (ROW_NUMBER/COUNT windows). Selection rate: transitions into
  `selected` divided by transitions into `selected` or `not_selected`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connections, transaction
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import get_language

from partners.models import Partner
from projects.models import Kind, ProjectCountry, ProjectSector, Status, StatusChange
from projects.workflow import PIPELINE_ORDER
from registry import freshness
from registry.language import pick_name as _pick_name
from registry.models import Country, CountryGroup, Sector

CENT = Decimal("0.01")
SOUTH_ASIA = "southern-asia"
CENTRAL_ASIA = "central-asia"


# --- The selection ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole local days, both ends included; either end may be open."""

    start: date | None = None
    end: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[the start's first moment, the moment after the end's last), local time."""
        start = _start_of_day(self.start) if self.start else None
        end = _start_of_day(self.end + timedelta(days=1)) if self.end else None
        return start, end

    def within(self, queryset: QuerySet, field: str) -> QuerySet:
        """The rows of `queryset` whose moment `field` falls in the period."""
        start, end = self.bounds()
        if start:
            queryset = queryset.filter(**{f"{field}__gte": start})
        if end:
            queryset = queryset.filter(**{f"{field}__lt": end})
        return queryset


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class Selection:
    """The projects a caller's filters select, as the figures read them. Built from the
    project list's filters by `projects.api.filters.StatsFilter` (the API and the
    dashboard alike), over the projects the caller may see."""

    # Every filter applied, the period on the projects' creation time.
    projects: QuerySet
    # Every filter but the period: the flow figures apply it to the transitions instead.
    any_time: QuerySet
    period: Period = Period()
    # The filters as given, echoed by the figures (and carried by the dashboard's links).
    params: dict[str, str] = field(default_factory=dict)
    # The caller sees the whole pool and filters nothing but the period: figures over
    # other tables (results' periods, warnings) then need no project row at all.
    whole_pool: bool = False

    @classmethod
    def of(cls, projects: QuerySet) -> "Selection":
        """All of `projects`, unfiltered."""
        return cls(projects=projects, any_time=projects)

    def any_time_or_all(self) -> QuerySet | None:
        """The projects of figures the period does not apply to (`any_time`), or None
        for every project (`whole_pool`), for `rows_of`."""
        return None if self.whole_pool else self.any_time


def rows_of(queryset: QuerySet, project_id: str, projects: QuerySet | None) -> QuerySet:
    """The rows of `queryset` whose project (its id reached by the lookup `project_id`) is
    among `projects`, probed by EXISTS (never joined), or every row for None.

    Joining the projects and filtering on `project IN (the selection)` read the whole pool
    on every request (results figures p99 0.9 s at 100,000 projects; bench/README.md); a
    manager's unfiltered figures pass None and read no project row."""
    if projects is None:
        return queryset
    return queryset.filter(Exists(projects.order_by().filter(pk=OuterRef(project_id))))


# --- Small helpers on aggregated rows -----------------------------------------------------


def _money(value) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _ratio(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _money_list(totals: dict) -> list[dict]:
    return [
        {"currency": currency, "total": _money(total)}
        for currency, total in sorted(totals.items())
        if total is not None
    ]


# --- Breakdowns ---------------------------------------------------------------------------
#
# All breakdowns come from one SQL statement (`_breakdown_rows`): the selected projects are
# read once (a CTE), each project's link weights come from window functions over its
# links, and every breakdown is a GROUP BY (key, currency) of that, so counts, weights
# and money of a key arrive together. A project has one currency, so the number of
# projects under a key is the sum of its per-currency counts. Built as three separate
# ORM aggregates per breakdown, with the weights as correlated subqueries per link, the
# summary took over 30 s on 100,000 projects (bench/README.md).

# Weight of a link within its project: share / sum of shares when every link of the
# project has a share and they sum to more than zero, else 1 / number of links.
_WEIGHT = """CASE
    WHEN COUNT(l.share) OVER w = COUNT(*) OVER w AND SUM(l.share) OVER w > 0
    THEN CAST(l.share AS DOUBLE PRECISION) / CAST(SUM(l.share) OVER w AS DOUBLE PRECISION)
    ELSE 1.0 / COUNT(*) OVER w END"""

# Per breakdown: the key (as text), the names of its label, and the rows it groups.
_PROJECT_PARTS = {
    "all": ("''", "NULL", "NULL", "sel p"),
    "status": ("p.status", "NULL", "NULL", "sel p"),
    "kind": ("p.kind", "NULL", "NULL", "sel p"),
    "lead_unit": (
        "CAST(p.lead_unit_id AS TEXT)",
        "lu.name_zh",
        "lu.name_en",
        "sel p JOIN {partner} lu ON lu.id = p.lead_unit_id",
    ),
}
# Link breakdowns: the per-link rows (a CTE below), the reference row's id in them, how
# to reach it, and the key and names shown.
_LINK_PARTS = {
    "sector": ("sector_links l", "l.top_id", "{sector} r ON r.id = a.key_id", "r.code"),
    "country": ("country_links l", "l.country_id", "{country} r ON r.iso2 = a.key_id", "r.iso2"),
    "country_group": (
        "country_links l JOIN {members} m ON m.country_id = l.country_id",
        "m.countrygroup_id",
        "{group} r ON r.id = a.key_id",
        "r.code",
    ),
}


def _tables(using: str) -> dict[str, str]:
    quote = connections[using].ops.quote_name
    return {
        name: quote(model._meta.db_table)
        for name, model in {
            "partner": Partner,
            "sector": Sector,
            "country": Country,
            "group": CountryGroup,
            "members": CountryGroup.members.through,
            "project_country": ProjectCountry,
            "project_sector": ProjectSector,
        }.items()
    }


def _breakdown_rows(projects: QuerySet, parts: tuple[str, ...]) -> dict[str, list[tuple]]:
    """{part: [(key, name_zh, name_en, currency, count, weight, exact total, attributed
    total)]} for the selected projects, in one statement."""
    found = {part: [] for part in parts}
    selection = freshness.statement(
        projects.order_by().values(
            "pk", "status", "kind", "lead_unit_id", "currency", "estimated_value"
        )
    )
    if selection is None:  # e.g. an officer of no unit: nothing can match
        return found
    project_sql, params = selection
    # The database the selection reads from (the replica for a GET request, when there is
    # one): the statement and its cached result go there too.
    using = projects.db
    tables = _tables(using)
    selects = []
    for part in parts:
        if part in _PROJECT_PARTS:
            key, name_zh, name_en, source = _PROJECT_PARTS[part]
            # PostgreSQL refuses constants in GROUP BY.
            grouped = [x for x in (key, name_zh, name_en) if x not in ("''", "NULL")]
            selects.append(
                f"SELECT '{part}', {key}, {name_zh}, {name_en}, p.currency, COUNT(*), "
                "CAST(NULL AS DOUBLE PRECISION), SUM(p.estimated_value), "
                f"CAST(NULL AS DOUBLE PRECISION) FROM {source.format(**tables)} "
                f"GROUP BY {', '.join([*grouped, 'p.currency'])}"
            )
            continue
        links, key_id, reference, key = _LINK_PARTS[part]
        # First one row per project and key (two sub-sectors of one sector, two countries
        # of one group are one project under that key), then per key and currency: plain
        # counts, no COUNT(DISTINCT) sort.
        selects.append(
            f"SELECT '{part}', {key}, r.name_zh, r.name_en, a.currency, COUNT(*), "
            "SUM(a.weight), NULL, SUM(CAST(a.value AS DOUBLE PRECISION) * a.weight) "
            f"FROM (SELECT l.project_id, {key_id} AS key_id, l.currency, l.value, "
            f"SUM(l.weight) AS weight FROM {links.format(**tables)} "
            f"GROUP BY l.project_id, {key_id}, l.currency, l.value) a "
            f"JOIN {reference.format(**tables)} "
            f"GROUP BY {key}, r.name_zh, r.name_en, a.currency"
        )
    ctes = [f"sel (id, status, kind, lead_unit_id, currency, estimated_value) AS ({project_sql})"]
    # Each link carries its project's currency and value, and its weight within the
    # project (a window over the project's links).
    if {"country", "country_group"} & set(parts):
        ctes.append(
            "country_links AS (SELECT l.project_id, l.country_id, p.currency, "
            f"p.estimated_value AS value, {_WEIGHT} AS weight "
            f"FROM {tables['project_country']} l JOIN sel p ON p.id = l.project_id "
            "WINDOW w AS (PARTITION BY l.project_id))"
        )
    if "sector" in parts:
        ctes.append(
            "sector_links AS (SELECT l.project_id, COALESCE(s.parent_id, s.id) AS top_id, "
            f"p.currency, p.estimated_value AS value, {_WEIGHT} AS weight "
            f"FROM {tables['project_sector']} l JOIN sel p ON p.id = l.project_id "
            f"JOIN {tables['sector']} s ON s.id = l.sector_id "
            "WINDOW w AS (PARTITION BY l.project_id))"
        )
    sql = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(selects)

    def fetch() -> list[tuple]:
        connection = connections[using]
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The breakdowns sort and hash every link of the selection: with the
                # default 4 MB they spill to disk (4.2 s → 2.7 s on 100,000 projects).
                cursor.execute(
                    "SELECT set_config('work_mem', %s, true)", [settings.REGISTRY_STATS_WORK_MEM]
                )
            cursor.execute(sql, params)
            return cursor.fetchall()

    # Reads the whole selection: cached until the data next changes (labels are added
    # after, in the reader's language).
    for part, *row in freshness.remember(("breakdowns", sql, params), fetch, using=using):
        found[part].append(tuple(row))
    return found


def _group(rows: list[tuple]) -> dict:
    """{key: {"names", "count", "weight", "value": {currency: total}}} from the
    per-currency rows of one breakdown."""
    keys = {}
    for key, name_zh, name_en, currency, count, weight, exact, attributed in rows:
        entry = keys.setdefault(
            key, {"names": (name_zh, name_en), "count": 0, "weight": 0.0, "value": {}}
        )
        entry["count"] += count
        entry["weight"] += weight or 0.0
        total = exact if exact is not None else attributed
        if total is not None:
            entry["value"][currency] = total
    return keys


def _by_choice(rows: list[tuple], labels: dict) -> list[dict]:
    """Every choice in the labels' order (zero rows included, for a stable funnel)."""
    found = _group(rows)
    return [
        {
            "key": key,
            "label": str(label),
            "count": found[key]["count"] if key in found else 0,
            "value": _money_list(found[key]["value"]) if key in found else [],
        }
        for key, label in labels.items()
    ]


def _lead_units(rows: list[tuple]) -> list[dict]:
    result = [
        {
            "key": int(key),
            "label": _pick_name(*entry["names"]),
            "count": entry["count"],
            "value": _money_list(entry["value"]),
        }
        for key, entry in _group(rows).items()
    ]
    return sorted(result, key=lambda r: (-r["count"], r["label"]))


def _links(rows: list[tuple]) -> list[dict]:
    """Rows per link key: projects touching it, their weight (project-equivalents) and
    attributed value per currency."""
    result = [
        {
            "key": key,
            "label": _pick_name(*entry["names"]),
            "count": entry["count"],
            "weight": round(entry["weight"], 4),
            "value": _money_list(entry["value"]),
        }
        for key, entry in _group(rows).items()
    ]
    return sorted(result, key=lambda r: (-r["count"], -r["weight"], str(r["key"])))


_STATUS_LABELS = {status.value: status.label for status in PIPELINE_ORDER}
_KIND_LABELS = {kind.value: kind.label for kind in Kind}


def by_status(projects: QuerySet) -> list[dict]:
    """Every status in pipeline order (zero rows included, for a stable funnel)."""
    return _by_choice(_breakdown_rows(projects, ("status",))["status"], _STATUS_LABELS)


def by_kind(projects: QuerySet) -> list[dict]:
    return _by_choice(_breakdown_rows(projects, ("kind",))["kind"], _KIND_LABELS)


def by_lead_unit(projects: QuerySet) -> list[dict]:
    return _lead_units(_breakdown_rows(projects, ("lead_unit",))["lead_unit"])


def by_sector(projects: QuerySet) -> list[dict]:
    """Per top-level sector (a sub-sector counts under its parent)."""
    return _links(_breakdown_rows(projects, ("sector",))["sector"])


def by_country(projects: QuerySet) -> list[dict]:
    return _links(_breakdown_rows(projects, ("country",))["country"])


def by_country_group(projects: QuerySet) -> list[dict]:
    """Per country group; a project's weight in a group is the sum of the weights of its
    countries in that group."""
    return _links(_breakdown_rows(projects, ("country_group",))["country_group"])


def summary(selection: Selection) -> dict:
    projects = selection.projects.order_by()

    def compute() -> dict:
        rows = _breakdown_rows(projects, (*_PROJECT_PARTS, *_LINK_PARTS))
        overall = _group(rows["all"]).get("", {"count": 0, "value": {}})
        return {
            "filters": selection.params,
            "count": overall["count"],
            "value": _money_list(overall["value"]),
            "by_status": _by_choice(rows["status"], _STATUS_LABELS),
            "by_kind": _by_choice(rows["kind"], _KIND_LABELS),
            "by_sector": _links(rows["sector"]),
            "by_country": _links(rows["country"]),
            "by_country_group": _links(rows["country_group"]),
            "by_lead_unit": _lead_units(rows["lead_unit"]),
        }

    statement = freshness.statement(projects.values("pk"))
    if statement is None:
        return compute()
    # The figures as answered, per language: building them from the cached breakdowns
    # (2,000 lead units, money per currency) took some 35 ms of every request.
    return freshness.remember(
        ("summary", get_language(), sorted(selection.params.items()), *statement),
        compute,
        using=projects.db,
    )


# --- Balance ------------------------------------------------------------------------------


def concentration(country_rows: list[dict]) -> dict:
    """Top-three share and HHI from `by_country` rows (aggregated, one per country)."""
    total = sum(row["weight"] for row in country_rows)
    shares = sorted((row["weight"] / total for row in country_rows), reverse=True) if total else []
    top = sorted(country_rows, key=lambda r: -r["weight"])[:3]
    return {
        "countries": len(country_rows),
        "top_three": [
            {"key": row["key"], "label": row["label"], "share": _ratio(row["weight"], total)}
            for row in top
        ],
        "top_three_share": round(sum(shares[:3]), 4) if shares else None,
        "hhi": round(sum((share * 100) ** 2 for share in shares), 1) if shares else None,
    }


def balance(selection: Selection) -> dict:
    """The balance of the pool: projects that have left it (withdrawn, archived) are not
    counted."""
    projects = selection.projects.order_by().in_pool()
    people_to_people = Exists(
        ProjectSector.objects.filter(project_id=OuterRef("pk"), sector__people_to_people=True)
    )
    counts = projects.aggregate(
        total=Count("pk"),
        people_to_people=Count("pk", filter=Q(people_to_people)),
        substantive=Count("pk", filter=Q(kind=Kind.PROJECT)),
        events=Count("pk", filter=Q(kind=Kind.ACTIVITY)),
        south_asia=Count("pk", filter=Q(projects.touching_country_group(SOUTH_ASIA))),
        central_asia=Count("pk", filter=Q(projects.touching_country_group(CENTRAL_ASIA))),
    )
    total = counts["total"]
    target = settings.REGISTRY_PEOPLE_TO_PEOPLE_TARGET
    p2p_share = _ratio(counts["people_to_people"], total)
    return {
        "filters": selection.params,
        "projects": total,
        "people_to_people": {
            "count": counts["people_to_people"],
            "share": p2p_share,
            "target": target,
            "meets_target": None if p2p_share is None else p2p_share >= target,
        },
        "kind": {
            "substantive": counts["substantive"],
            "events": counts["events"],
            "substantive_share": _ratio(counts["substantive"], total),
            "events_share": _ratio(counts["events"], total),
        },
        "concentration": concentration(by_country(projects)),
        "coverage": {
            SOUTH_ASIA: {
                "count": counts["south_asia"],
                "share": _ratio(counts["south_asia"], total),
            },
            CENTRAL_ASIA: {
                "count": counts["central_asia"],
                "share": _ratio(counts["central_asia"], total),
            },
        },
    }


# --- Flow ---------------------------------------------------------------------------------

# Days between two timestamps as stored by each backend (SQLite keeps ISO text in UTC).
_DAYS_BETWEEN = {
    "sqlite": "(julianday({end}) - julianday({start}))",
    "postgresql": "(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)",
}


def median_days_in_stage(projects: QuerySet, period: Period = Period()) -> dict[str, dict]:
    """{stage: {"median_days", "stays"}} over finished stays entered within the period.

    One SQL statement: LEAD finds when each stay ended, ROW_NUMBER/COUNT pick the middle
    row(s) of each stage's sorted durations and AVG takes the median from them. The
    period is applied after LEAD so a stay's end is found even outside the period."""
    selection = freshness.statement(projects.values("pk"))
    if selection is None:  # e.g. an officer of no unit: nothing can match
        return {}
    project_sql, project_params = selection
    connection = connections[projects.db]
    days = _DAYS_BETWEEN[connection.vendor].format(end="left_at", start="entered_at")
    start, end = period.bounds()
    period_sql, period_params = "", []
    if start:
        period_sql += " AND entered_at >= %s"
        period_params.append(start)
    if end:
        period_sql += " AND entered_at < %s"
        period_params.append(end)
    table = connection.ops.quote_name(StatusChange._meta.db_table)
    sql = f"""
        WITH stays AS (
            SELECT sc.to_status AS stage, sc.created_at AS entered_at,
                   LEAD(sc.created_at) OVER (
                       PARTITION BY sc.project_id ORDER BY sc.created_at, sc.id
                   ) AS left_at
            FROM {table} sc
            WHERE sc.project_id IN ({project_sql})
        ),
        durations AS (
            SELECT stage, {days} AS days FROM stays
            WHERE left_at IS NOT NULL{period_sql}
        ),
        ranked AS (
            SELECT stage, days,
                   ROW_NUMBER() OVER (PARTITION BY stage ORDER BY days) AS position,
                   COUNT(*) OVER (PARTITION BY stage) AS stays
            FROM durations
        )
        SELECT stage, AVG(days), MAX(stays) FROM ranked
        WHERE position IN ((stays + 1) / 2, (stays + 2) / 2)
        GROUP BY stage
    """
    params = [*project_params, *_db_datetimes(period_params, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        stage: {"median_days": round(float(median), 2), "stays": stays}
        for stage, median, stays in rows
    }


def _db_datetimes(values: list[datetime], connection) -> list:
    # Raw SQL bypasses the field's conversion: store-format the datetimes as the ORM does.
    return [connection.ops.adapt_datetimefield_value(value) for value in values]


def flow(selection: Selection, *, today: date | None = None) -> dict:
    """The period applies to the time of the transitions, not to the projects' creation."""
    projects = selection.any_time.order_by()
    changes = selection.period.within(
        StatusChange.objects.filter(project__in=projects.values("pk")).order_by(), "created_at"
    )

    monthly = (
        changes.annotate(month=TruncMonth("created_at"))
        .values("month", "to_status")
        .annotate(count=Count("pk"))
    )
    months: dict[str, dict[str, int]] = defaultdict(dict)
    for row in monthly:
        months[row["month"].strftime("%Y-%m")][row["to_status"]] = row["count"]

    decisions = changes.aggregate(
        selected=Count("pk", filter=Q(to_status=Status.SELECTED)),
        not_selected=Count("pk", filter=Q(to_status=Status.NOT_SELECTED)),
    )
    decided = decisions["selected"] + decisions["not_selected"]

    medians = median_days_in_stage(projects, selection.period)
    overdue = projects.review_overdue(today)
    return {
        "filters": selection.params,
        "entries_by_month": [
            {"month": month, "entries": months[month]} for month in sorted(months)
        ],
        "selection": {
            "selected": decisions["selected"],
            "not_selected": decisions["not_selected"],
            "rate": _ratio(decisions["selected"], decided),
        },
        "median_days_in_stage": [
            {"stage": status.value, "label": str(status.label), **medians[status.value]}
            for status in PIPELINE_ORDER
            if status.value in medians
        ],
        "overdue_reviews": {
            "count": overdue.count(),
            "oldest": [
                {"code": code, "next_review_due": due.isoformat()}
                for code, due in overdue.order_by("next_review_due", "code").values_list(
                    "code", "next_review_due"
                )[:10]
            ],
        },
    }
