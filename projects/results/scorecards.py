"""Member-unit scorecards: per lead unit and period, what its projects came to.

Figures per unit (each one grouped query over the units' projects, so the cost does not
grow with queries per unit):
- projects by status (now), and how many were entered in the period;
- selection rate: of the selection decisions taken in the period (status changes to
  selected or not selected), the share selected;
- people-to-people share: of the unit's projects in the pool, those with a
  people-to-people sector (culture, tourism, education…), and their approved results
  (periods ending in the period);
- indicator achievement: approved quantitative periods ending in the period with a
  target, each achievement actual/target (target/actual when lower is better) capped at
  200%; the mean, and how many met their target;
- reviews overdue and warnings open today.

Managers and reviewers see every unit; an officer the units they belong to
(`access.visible_projects`).
"""

import datetime
import io
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, FloatField, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Least
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from openpyxl import Workbook

from partners.models import Partner
from projects import access
from projects.models import ProjectSector, Status, StatusChange
from projects.results.models import Period
from projects.risk.models import Warning

CAP = 2


@dataclass(frozen=True)
class ScorecardPeriod:
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return f"{self.start} ~ {self.end}"


def period_of(year: int, quarter: int | None = None) -> ScorecardPeriod:
    if quarter:
        start = datetime.date(year, 3 * (quarter - 1) + 1, 1)
        end_month = start.month + 2
        end = (
            datetime.date(year, end_month + 1, 1) - datetime.timedelta(days=1)
            if end_month < 12
            else datetime.date(year, 12, 31)
        )
        return ScorecardPeriod(start, end)
    return ScorecardPeriod(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def _achievement():
    """One approved period's achievement as a fraction, capped (database expression; in
    floating point, which a ratio needs and SQLite's integer division would not give)."""
    actual = Cast("actual_value", FloatField())
    target = Cast("target_value", FloatField())
    return Least(
        Case(
            When(indicator__ascending=True, then=actual / target),
            When(actual_value__gt=0, then=target / actual),
            default=Value(float(CAP)),
            output_field=FloatField(),
        ),
        Value(float(CAP)),
    )


def scorecards(user, period: ScorecardPeriod, *, today: datetime.date | None = None) -> list[dict]:
    today = today or timezone.localdate()
    projects = access.visible_projects(user)
    units = {
        unit.pk: unit
        for unit in Partner.objects.filter(pk__in=projects.values("lead_unit_id")).order_by(
            "name_zh"
        )
    }
    cards = {
        pk: {
            "unit": unit,
            "by_status": dict.fromkeys(Status.values, 0),
            "total": 0,
            "entered": 0,
            "selected": 0,
            "not_selected": 0,
            "people_to_people": 0,
            "in_pool": 0,
            "p2p_results": 0,
            "periods": 0,
            "periods_met": 0,
            "achievement_sum": 0,
            "overdue_reviews": 0,
            "open_warnings": 0,
        }
        for pk, unit in units.items()
    }
    if not cards:
        return []

    people_to_people = Exists(
        ProjectSector.objects.filter(project_id=OuterRef("pk"), sector__people_to_people=True)
    )
    for row in projects.values("lead_unit_id", "status").annotate(
        count=Count("pk"),
        p2p=Count("pk", filter=Q(people_to_people)),
        entered=Count(
            "pk", filter=Q(created_at__date__gte=period.start, created_at__date__lte=period.end)
        ),
    ):
        card = cards[row["lead_unit_id"]]
        card["by_status"][row["status"]] = row["count"]
        card["total"] += row["count"]
        card["entered"] += row["entered"]
        if row["status"] not in (Status.WITHDRAWN, Status.ARCHIVED):
            card["in_pool"] += row["count"]
            card["people_to_people"] += row["p2p"]

    decisions = (
        StatusChange.objects.filter(
            project__in=projects,
            to_status__in=(Status.SELECTED, Status.NOT_SELECTED),
            created_at__date__gte=period.start,
            created_at__date__lte=period.end,
        )
        .values("project__lead_unit_id", "to_status")
        .annotate(count=Count("pk"))
    )
    for row in decisions:
        cards[row["project__lead_unit_id"]][row["to_status"]] = row["count"]

    approved = Period.objects.filter(
        indicator__result__project__in=projects,
        status=Period.State.APPROVED,
        period_end__gte=period.start,
        period_end__lte=period.end,
    )
    p2p_project = Exists(
        ProjectSector.objects.filter(
            project_id=OuterRef("indicator__result__project_id"), sector__people_to_people=True
        )
    )
    for row in (
        approved.filter(p2p_project)
        .values("indicator__result__project__lead_unit_id")
        .annotate(count=Count("pk"))
    ):
        cards[row["indicator__result__project__lead_unit_id"]]["p2p_results"] = row["count"]
    measured = approved.filter(
        indicator__measure="quantitative", target_value__gt=0, actual_value__isnull=False
    ).annotate(achievement=_achievement())
    for unit_id, achievement in measured.values_list(
        "indicator__result__project__lead_unit_id", "achievement"
    ).iterator():
        card = cards[unit_id]
        card["periods"] += 1
        card["achievement_sum"] += float(achievement)
        card["periods_met"] += achievement >= 1

    for row in projects.review_overdue(today).values("lead_unit_id").annotate(count=Count("pk")):
        cards[row["lead_unit_id"]]["overdue_reviews"] = row["count"]
    for row in (
        Warning.objects.filter(
            project__in=projects, resolved_at__isnull=True, dismissed_at__isnull=True
        )
        .values("project__lead_unit_id")
        .annotate(count=Count("pk"))
    ):
        cards[row["project__lead_unit_id"]]["open_warnings"] = row["count"]

    result = []
    for card in cards.values():
        decided = card["selected"] + card["not_selected"]
        card["selection_rate"] = card["selected"] / decided if decided else None
        card["people_to_people_share"] = (
            card["people_to_people"] / card["in_pool"] if card["in_pool"] else None
        )
        card["achievement"] = card["achievement_sum"] / card["periods"] if card["periods"] else None
        result.append(card)
    return result


def _percent(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def columns() -> list[tuple[str, str]]:
    """(key, heading) of the scorecard table and its XLSX."""
    return [
        ("unit", _("lead unit")),
        ("total", _("projects")),
        ("entered", _("entered in the period")),
        *[(f"status:{value}", str(label)) for value, label in Status.choices],
        ("selection_rate", _("selection rate")),
        ("people_to_people_share", _("people-to-people share")),
        ("p2p_results", _("people-to-people results approved")),
        ("achievement", _("indicator achievement")),
        ("periods_met", _("periods meeting the target")),
        ("periods", _("periods measured")),
        ("overdue_reviews", _("reviews overdue")),
        ("open_warnings", _("open warnings")),
    ]


def row_values(card: dict) -> list:
    values = []
    for key, _heading in columns():
        if key == "unit":
            values.append(card["unit"].name)
        elif key.startswith("status:"):
            values.append(card["by_status"][key.split(":", 1)[1]])
        elif key in ("selection_rate", "people_to_people_share", "achievement"):
            values.append(_percent(card[key]))
        else:
            values.append(card[key])
    return values


# --- The admin page and its XLSX ------------------------------------------------------------


class ScorecardForm(forms.Form):
    year = forms.IntegerField(label=_lazy("year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_lazy("quarter"),
        choices=[("", "—"), ("1", "Q1"), ("2", "Q2"), ("3", "Q3"), ("4", "Q4")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    format = forms.ChoiceField(choices=[("", "html"), ("xlsx", "xlsx")], required=False)


def xlsx_response(cards: list[dict], period: ScorecardPeriod) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Scorecards")[:31])
    sheet.append([_("period"), period.label])
    sheet.append([heading for _key, heading in columns()])
    for card in cards:
        sheet.append(row_values(card))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"scorecards-{period.start}-{period.end}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def scorecards_view(request, model_admin=None):
    if not access.can_view_stats(request.user):
        raise PermissionDenied
    data = request.GET.copy()
    data.setdefault("year", str(timezone.localdate().year))
    form = ScorecardForm(data)
    if not form.is_valid():
        context = {**admin.site.each_context(request), "title": _("Member-unit scorecards")}
        context.update(form=form, cards=[], columns=columns())
        return TemplateResponse(request, TEMPLATE, context, status=400)
    period = period_of(form.cleaned_data["year"], form.cleaned_data["quarter"])
    cards = scorecards(request.user, period)
    if form.cleaned_data["format"] == "xlsx":
        return xlsx_response(cards, period)
    context = {
        **admin.site.each_context(request),
        "title": _("Member-unit scorecards"),
        "form": form,
        "period": period,
        "columns": columns(),
        "rows": [row_values(card) for card in cards],
        "xlsx_query": urlencode({**data.dict(), "format": "xlsx"}),
    }
    return TemplateResponse(request, TEMPLATE, context)


TEMPLATE = "admin/projects/scorecards.html"
