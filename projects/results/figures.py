"""Results figures for the dashboard: for each standard indicator, the pool's targets and
approved actuals by year (of the period's end), and the achievement rate of selected and
in-progress projects. Figures follow the dashboard's country-group, sector and lead-unit
filters; only indicators following a standard one are added up (their unit is the
library's, so the sums mean something).

Both aggregate over the periods (joined to their indicator, which holds the standard and
the measure) and reach the projects only by EXISTS on the selection
(`projects.reporting.stats.rows_of`): the whole pool (a manager without filters) reads no
project row, a group or sector filter reads only its links, and the lead unit or an
officer's visibility probes the projects by primary key. Joining the projects and
filtering on `project IN (the selection)` read the whole pool on every request (p99 0.9 s
at 100,000 projects; bench/README.md).
"""

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear

from projects.models import Project, Status
from projects.reporting.stats import rows_of
from projects.results.models import Period, StandardIndicator
from projects.results.scorecards import _achievement


def indicator_table(projects: QuerySet | None = None) -> list[dict]:
    rows = (
        rows_of(
            Period.objects.filter(indicator__standard__isnull=False),
            "indicator__result__project_id",
            projects,
        )
        .annotate(year=ExtractYear("period_end"))
        .values("indicator__standard_id", "year")
        .annotate(
            target=Sum("target_value"),
            actual=Sum("actual_value", filter=Q(status=Period.State.APPROVED)),
            periods=Count("pk"),
            approved=Count("pk", filter=Q(status=Period.State.APPROVED)),
        )
        .order_by()
    )
    rows = list(rows)
    # The library is a few dozen rows: its names are read once and joined here.
    standards = StandardIndicator.objects.in_bulk({row["indicator__standard_id"] for row in rows})
    ordered = []
    for row in rows:
        standard = standards[row["indicator__standard_id"]]
        target, actual = row["target"], row["actual"]
        entry = {
            "code": standard.code,
            "name_zh": standard.name_zh,
            "name_en": standard.name_en,
            "unit": standard.unit,
            "year": row["year"],
            "target": target,
            "actual": actual,
            "periods": row["periods"],
            "approved": row["approved"],
            "rate": float(actual / target) if target and actual is not None else None,
        }
        ordered.append(((standard.sort_order, standard.code, row["year"]), entry))
    ordered.sort(key=lambda pair: pair[0])
    return [entry for _order, entry in ordered]


def achievement_rate(projects: QuerySet | None = None) -> dict:
    """Mean achievement (capped at 200%) of the approved quantitative periods of selected
    and in-progress projects."""
    running = Project.objects.filter(status__in=(Status.SELECTED, Status.IN_PROGRESS))
    measured = (
        rows_of(
            Period.objects.filter(
                status=Period.State.APPROVED,
                indicator__measure="quantitative",
                target_value__gt=0,
                actual_value__isnull=False,
                # The running projects' ids, read off the (status, id) index.
                indicator__result__project_id__in=running.values("pk"),
            ),
            "indicator__result__project_id",
            projects,
        )
        .annotate(achievement=_achievement())
        .aggregate(rate=Avg("achievement"), periods=Count("pk"))
    )
    rate = measured["rate"]
    return {"rate": None if rate is None else float(rate), "periods": measured["periods"]}
