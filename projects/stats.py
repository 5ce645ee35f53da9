"""Pipeline figures for the dashboard, the stats API and reports.

Every figure is computed by the database (aggregates, window functions); Python only
reshapes the aggregated rows, whose number depends on the number of statuses, sectors,
countries or months, never on the number of projects.

Definitions (the API and the dashboard document these too):

- Filters select the projects: `period_start`/`period_end` (inclusive local dates) on
  the project's creation time; `country_group` (projects with at least one country in
  the group); `sector` (projects with that sector, or for a top-level sector with it or
  any of its sub-sectors); `lead_unit`. For the flow figures the period applies to the
  time of the transitions instead, so "entries per month" means transitions made then.
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
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from partners.models import Partner
from projects.models import Kind, ProjectCountry, ProjectSector, Status, StatusChange
from registry.models import CountryGroup, Sector

CENT = Decimal("0.01")
SOUTH_ASIA = "southern-asia"
CENTRAL_ASIA = "central-asia"
# The order a project moves through the pool, for funnels and tables.
PIPELINE_ORDER = [
    Status.DRAFT,
    Status.SUBMITTED,
    Status.SCREENING,
    Status.SELECTED,
    Status.IN_PROGRESS,
    Status.COMPLETED,
    Status.NOT_SELECTED,
    Status.SUSPENDED,
    Status.WITHDRAWN,
    Status.ARCHIVED,
]


# --- Filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    period_start: date | None = None
    period_end: date | None = None
    country_group: str | None = None
    sector: str | None = None
    lead_unit: int | None = None

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        return {
            name: str(value)
            for name, value in vars(self).items()
            if value is not None and value != ""
        }


class FilterForm(forms.Form):
    period_start = forms.DateField(required=False, label=gettext_lazy("from"))
    period_end = forms.DateField(required=False, label=gettext_lazy("to"))
    country_group = forms.SlugField(required=False, label=gettext_lazy("country group"))
    sector = forms.SlugField(required=False, label=gettext_lazy("sector"))
    lead_unit = forms.IntegerField(required=False, min_value=1, label=gettext_lazy("lead unit"))

    def clean_country_group(self):
        code = self.cleaned_data["country_group"]
        if code and not CountryGroup.objects.filter(code=code).exists():
            raise ValidationError(_("Unknown country group “%(code)s”."), params={"code": code})
        return code or None

    def clean_sector(self):
        code = self.cleaned_data["sector"]
        if code and not Sector.objects.filter(code=code).exists():
            raise ValidationError(_("Unknown sector “%(code)s”."), params={"code": code})
        return code or None

    def clean_lead_unit(self):
        pk = self.cleaned_data["lead_unit"]
        if pk is not None and not Partner.objects.filter(pk=pk).exists():
            raise ValidationError(_("Unknown lead unit %(id)s."), params={"id": pk})
        return pk

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The end of the period is before its start."))
        return data


FILTER_PARAMS = tuple(FilterForm.base_fields)


def parse_filters(params, *, allowed_extra: tuple[str, ...] = ()) -> Filters:
    """Read filters from query parameters. Unknown parameters and bad values raise a
    ValidationError whose `message_dict` names each offending parameter."""
    unknown = sorted(set(params) - set(FILTER_PARAMS) - set(allowed_extra))
    errors: dict[str, list[str]] = {
        name: [_("Unknown parameter; allowed: %(names)s.") % {"names": ", ".join(FILTER_PARAMS)}]
        for name in unknown
    }
    form = FilterForm({name: params.get(name) for name in FILTER_PARAMS if name in params})
    if not form.is_valid():
        errors.update({name: list(messages) for name, messages in form.errors.items()})
    if errors:
        raise ValidationError(errors)
    return Filters(**{name: form.cleaned_data.get(name) for name in FILTER_PARAMS})


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _period_bounds(filters: Filters) -> tuple[datetime | None, datetime | None]:
    start = _start_of_day(filters.period_start) if filters.period_start else None
    end = _start_of_day(filters.period_end + timedelta(days=1)) if filters.period_end else None
    return start, end


def filter_projects(queryset: QuerySet, filters: Filters, *, period: bool = True) -> QuerySet:
    """The projects the filters select. Each condition is an EXISTS, so a project is never
    repeated and aggregates over the result count each project once."""
    if period:
        start, end = _period_bounds(filters)
        if start:
            queryset = queryset.filter(created_at__gte=start)
        if end:
            queryset = queryset.filter(created_at__lt=end)
    if filters.country_group:
        queryset = queryset.filter(
            Exists(
                ProjectCountry.objects.filter(
                    project_id=OuterRef("pk"), country__groups__code=filters.country_group
                )
            )
        )
    if filters.sector:
        queryset = queryset.filter(
            Exists(
                ProjectSector.objects.filter(project_id=OuterRef("pk")).filter(
                    Q(sector__code=filters.sector) | Q(sector__parent__code=filters.sector)
                )
            )
        )
    if filters.lead_unit:
        queryset = queryset.filter(lead_unit_id=filters.lead_unit)
    return queryset.order_by()


# --- Small helpers on aggregated rows -----------------------------------------------------


def _money(value) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _ratio(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _pick_name(name_zh: str | None, name_en: str | None) -> str:
    if (get_language() or "zh-hans").lower().startswith("zh"):
        return name_zh or name_en or ""
    return name_en or name_zh or ""


def _money_by_key(rows, key: str) -> dict:
    """{key value: [{"currency", "total"}, …]} from rows grouped by key and currency."""
    totals = defaultdict(list)
    for row in rows:
        totals[row[key]].append({"currency": row["currency"], "total": _money(row["total"])})
    for values in totals.values():
        values.sort(key=lambda item: item["currency"])
    return totals


def _link_weight(link_model) -> dict:
    """Annotations giving each country/sector link its weight within its project (see the
    module docstring); returns the kwargs for `.annotate()`, the last being `weight`."""
    siblings = link_model.objects.filter(project_id=OuterRef("project_id")).order_by()
    per_project = siblings.values("project_id")
    return {
        "links": Subquery(per_project.annotate(n=Count("pk")).values("n")[:1]),
        "links_shared": Subquery(per_project.annotate(n=Count("share")).values("n")[:1]),
        "share_total": Subquery(per_project.annotate(t=Sum("share")).values("t")[:1]),
        "weight": Case(
            When(
                Q(links_shared=F("links")) & Q(share_total__gt=0),
                then=Cast("share", FloatField()) / Cast("share_total", FloatField()),
            ),
            default=Value(1.0) / Cast("links", FloatField()),
            output_field=FloatField(),
        ),
    }


def _attributed_value():
    return Cast("project__estimated_value", FloatField()) * F("weight")


# --- Breakdowns ---------------------------------------------------------------------------


def _by_project_field(projects: QuerySet, field: str, labels: dict) -> list[dict]:
    counts = projects.values(field).annotate(count=Count("pk"))
    money = _money_by_key(
        projects.exclude(estimated_value=None)
        .values(field, "currency")
        .annotate(total=Sum("estimated_value")),
        field,
    )
    rows = [
        {
            "key": row[field],
            "label": str(labels.get(row[field], row[field])),
            "count": row["count"],
            "value": money.get(row[field], []),
        }
        for row in counts
    ]
    order = list(labels)
    rows.sort(key=lambda r: order.index(r["key"]) if r["key"] in order else len(order))
    return rows


def by_status(projects: QuerySet) -> list[dict]:
    """Every status in pipeline order (zero rows included, for a stable funnel)."""
    labels = {status.value: status.label for status in PIPELINE_ORDER}
    found = {row["key"]: row for row in _by_project_field(projects, "status", labels)}
    return [
        found.get(key, {"key": key, "label": str(label), "count": 0, "value": []})
        for key, label in labels.items()
    ]


def by_kind(projects: QuerySet) -> list[dict]:
    labels = {kind.value: kind.label for kind in Kind}
    found = {row["key"]: row for row in _by_project_field(projects, "kind", labels)}
    return [
        found.get(key, {"key": key, "label": str(label), "count": 0, "value": []})
        for key, label in labels.items()
    ]


def by_lead_unit(projects: QuerySet) -> list[dict]:
    counts = projects.values("lead_unit_id", "lead_unit__name_zh", "lead_unit__name_en").annotate(
        count=Count("pk")
    )
    money = _money_by_key(
        projects.exclude(estimated_value=None)
        .values("lead_unit_id", "currency")
        .annotate(total=Sum("estimated_value")),
        "lead_unit_id",
    )
    rows = [
        {
            "key": row["lead_unit_id"],
            "label": _pick_name(row["lead_unit__name_zh"], row["lead_unit__name_en"]),
            "count": row["count"],
            "value": money.get(row["lead_unit_id"], []),
        }
        for row in counts
    ]
    return sorted(rows, key=lambda r: (-r["count"], r["label"]))


def _by_link(links: QuerySet, key: str, name_zh: str, name_en: str) -> list[dict]:
    """Rows per link key: projects touching it, their weight (project-equivalents) and
    attributed value per currency."""
    counts = links.values(key, name_zh, name_en).annotate(
        count=Count("project_id", distinct=True), weight=Sum("weight")
    )
    money = _money_by_key(
        links.exclude(project__estimated_value=None)
        .values(key, currency=F("project__currency"))
        .annotate(total=Sum(_attributed_value())),
        key,
    )
    rows = [
        {
            "key": row[key],
            "label": _pick_name(row[name_zh], row[name_en]),
            "count": row["count"],
            "weight": round(row["weight"] or 0.0, 4),
            "value": money.get(row[key], []),
        }
        for row in counts
    ]
    return sorted(rows, key=lambda r: (-r["count"], -r["weight"], str(r["key"])))


def _country_links(projects: QuerySet) -> QuerySet:
    return (
        ProjectCountry.objects.filter(project__in=projects.values("pk"))
        .order_by()
        .annotate(**_link_weight(ProjectCountry))
    )


def by_sector(projects: QuerySet) -> list[dict]:
    """Per top-level sector (a sub-sector counts under its parent)."""
    links = (
        ProjectSector.objects.filter(project__in=projects.values("pk"))
        .order_by()
        .annotate(**_link_weight(ProjectSector))
        .annotate(
            top_code=Coalesce("sector__parent__code", "sector__code"),
            top_name_zh=Coalesce("sector__parent__name_zh", "sector__name_zh"),
            top_name_en=Coalesce("sector__parent__name_en", "sector__name_en"),
        )
    )
    return _by_link(links, "top_code", "top_name_zh", "top_name_en")


def by_country(projects: QuerySet) -> list[dict]:
    return _by_link(_country_links(projects), "country_id", "country__name_zh", "country__name_en")


def by_country_group(projects: QuerySet) -> list[dict]:
    """Per country group; a project's weight in a group is the sum of the weights of its
    countries in that group."""
    links = _country_links(projects).filter(country__groups__isnull=False)
    return _by_link(
        links, "country__groups__code", "country__groups__name_zh", "country__groups__name_en"
    )


def summary(queryset: QuerySet, filters: Filters = Filters()) -> dict:
    projects = filter_projects(queryset, filters)
    totals = projects.aggregate(count=Count("pk"))
    value = (
        projects.exclude(estimated_value=None)
        .values("currency")
        .annotate(total=Sum("estimated_value"))
    )
    return {
        "filters": filters.as_params(),
        "count": totals["count"],
        "value": sorted(
            ({"currency": row["currency"], "total": _money(row["total"])} for row in value),
            key=lambda item: item["currency"],
        ),
        "by_status": by_status(projects),
        "by_kind": by_kind(projects),
        "by_sector": by_sector(projects),
        "by_country": by_country(projects),
        "by_country_group": by_country_group(projects),
        "by_lead_unit": by_lead_unit(projects),
    }


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


def balance(queryset: QuerySet, filters: Filters = Filters()) -> dict:
    """The balance of the pool: projects that have left it (withdrawn, archived) are not
    counted."""
    projects = filter_projects(queryset, filters).in_pool()
    people_to_people = Exists(
        ProjectSector.objects.filter(project_id=OuterRef("pk"), sector__people_to_people=True)
    )
    counts = projects.aggregate(
        total=Count("pk"),
        people_to_people=Count("pk", filter=Q(people_to_people)),
        substantive=Count("pk", filter=Q(kind=Kind.PROJECT)),
        events=Count("pk", filter=Q(kind=Kind.ACTIVITY)),
        south_asia=Count("pk", filter=Q(_touches_group(SOUTH_ASIA))),
        central_asia=Count("pk", filter=Q(_touches_group(CENTRAL_ASIA))),
    )
    total = counts["total"]
    target = settings.REGISTRY_PEOPLE_TO_PEOPLE_TARGET
    p2p_share = _ratio(counts["people_to_people"], total)
    return {
        "filters": filters.as_params(),
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


def _touches_group(code: str) -> Exists:
    return Exists(
        ProjectCountry.objects.filter(project_id=OuterRef("pk"), country__groups__code=code)
    )


# --- Flow ---------------------------------------------------------------------------------

# Days between two timestamps as stored by each backend (SQLite keeps ISO text in UTC).
_DAYS_BETWEEN = {
    "sqlite": "(julianday({end}) - julianday({start}))",
    "postgresql": "(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)",
}


def median_days_in_stage(projects: QuerySet, filters: Filters = Filters()) -> dict[str, dict]:
    """{stage: {"median_days", "stays"}} over finished stays entered within the period.

    One SQL statement: LEAD finds when each stay ended, ROW_NUMBER/COUNT pick the middle
    row(s) of each stage's sorted durations and AVG takes the median from them. The
    period is applied after LEAD so a stay's end is found even outside the period."""
    try:
        project_sql, project_params = projects.values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. an officer of no unit: nothing can match
        return {}
    days = _DAYS_BETWEEN[connection.vendor].format(end="left_at", start="entered_at")
    start, end = _period_bounds(filters)
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
    params = [*project_params, *_db_datetimes(period_params)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        stage: {"median_days": round(float(median), 2), "stays": stays}
        for stage, median, stays in rows
    }


def _db_datetimes(values: list[datetime]) -> list:
    # Raw SQL bypasses the field's conversion: store-format the datetimes as the ORM does.
    return [connection.ops.adapt_datetimefield_value(value) for value in values]


def flow(queryset: QuerySet, filters: Filters = Filters(), *, today: date | None = None) -> dict:
    projects = filter_projects(queryset, filters, period=False)
    changes = StatusChange.objects.filter(project__in=projects.values("pk")).order_by()
    start, end = _period_bounds(filters)
    if start:
        changes = changes.filter(created_at__gte=start)
    if end:
        changes = changes.filter(created_at__lt=end)

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

    medians = median_days_in_stage(projects, filters)
    overdue = projects.review_overdue(today)
    return {
        "filters": filters.as_params(),
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
