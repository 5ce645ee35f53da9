"""Results figures for the dashboard: for each standard indicator, the pool's targets and
approved actuals by year (of the period's end), and the achievement rate of selected and
in-progress projects. Figures follow the dashboard's country-group, sector and lead-unit
filters; only indicators following a standard one are added up (their unit is the
library's, so the sums mean something)."""

from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import ExtractYear

from projects.models import Status
from projects.results.models import Period
from projects.results.scorecards import _achievement


def indicator_table(projects) -> list[dict]:
    rows = (
        Period.objects.filter(
            indicator__result__project__in=projects.order_by().values("pk"),
            indicator__standard__isnull=False,
        )
        .annotate(year=ExtractYear("period_end"))
        .values(
            "indicator__standard__code",
            "indicator__standard__name_zh",
            "indicator__standard__name_en",
            "indicator__standard__unit",
            "indicator__standard__sort_order",
            "year",
        )
        .annotate(
            target=Sum("target_value"),
            actual=Sum("actual_value", filter=Q(status=Period.State.APPROVED)),
            periods=Count("pk"),
            approved=Count("pk", filter=Q(status=Period.State.APPROVED)),
        )
        .order_by("indicator__standard__sort_order", "indicator__standard__code", "year")
    )
    table = []
    for row in rows:
        target, actual = row["target"], row["actual"]
        table.append(
            {
                "code": row["indicator__standard__code"],
                "name_zh": row["indicator__standard__name_zh"],
                "name_en": row["indicator__standard__name_en"],
                "unit": row["indicator__standard__unit"],
                "year": row["year"],
                "target": target,
                "actual": actual,
                "periods": row["periods"],
                "approved": row["approved"],
                "rate": float(actual / target) if target and actual is not None else None,
            }
        )
    return table


def achievement_rate(projects) -> dict:
    """Mean achievement (capped at 200%) of the approved quantitative periods of selected
    and in-progress projects."""
    measured = (
        Period.objects.filter(
            indicator__result__project__in=projects.filter(
                status__in=(Status.SELECTED, Status.IN_PROGRESS)
            )
            .order_by()
            .values("pk"),
            status=Period.State.APPROVED,
            indicator__measure="quantitative",
            target_value__gt=0,
            actual_value__isnull=False,
        )
        .annotate(achievement=_achievement())
        .aggregate(rate=Avg("achievement"), periods=Count("pk"))
    )
    rate = measured["rate"]
    return {"rate": None if rate is None else float(rate), "periods": measured["periods"]}
