"""The managers' dashboard inside the admin: the view, its filters and what it shows.

The charts' data is built in `projects.reporting.charts` (drawn by Apache ECharts, with a
table under each for reading without it); the admin's CSV/XLSX exports are in
`projects.admin.exports`. Every bar links to the project changelist filtered on what the
bar counts. The page runs a fixed number of queries whatever the size of the pool.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from projects import access, workflow
from projects.api.filters import StatsFilter
from projects.models import Status
from projects.reporting import charts, stats
from projects.reporting.dashboard_form import DashboardFilterForm
from projects.sites import map as site_map
from registry.api.filters import unknown_parameters

# Query parameters of the project changelist's filters (projects.admin.project.ProjectAdmin).
CHANGELIST_PARAMS = {
    "status": "status__exact",
    "kind": "kind__exact",
    "sector": "sector",
    "country": "country",
    "country_group": "country_group",
    "lead_unit": "lead_unit",
}
# Dashboard filters carried over into the changelist links.
CARRIED_FILTERS = {
    "country_group": "country_group",
    "sector": "sector",
    "lead_unit": "lead_unit",
}
TREND_STAGES = (Status.SUBMITTED, Status.SELECTED, Status.COMPLETED)
TREND_COLOURS = ("#417690", "#2e7d32", "#b26a00")
MAX_BARS = 12
MAX_MONTHS = 24


def changelist_url() -> str:
    try:
        return reverse("admin:projects_project_changelist")
    except NoReverseMatch:
        return "/admin/projects/project/"


def changelist_link(selection: stats.Selection, **bar) -> str:
    """The changelist filtered on what a bar counts, within the dashboard's filters."""
    params = {
        CARRIED_FILTERS[name]: value
        for name, value in selection.params.items()
        if name in CARRIED_FILTERS
    }
    params.update({CHANGELIST_PARAMS[name]: str(value) for name, value in bar.items()})
    return f"{changelist_url()}?{urlencode(params)}"


# --- The page -----------------------------------------------------------------------------


def _count_bars(rows: list[dict], selection: stats.Selection, param: str) -> list[charts.Bar]:
    return [
        charts.Bar(
            label=row["label"] or str(row["key"]),
            value=row["count"],
            display=str(row["count"]),
            href=changelist_link(selection, **{param: row["key"]}),
        )
        for row in rows[:MAX_BARS]
    ]


def _trend(flow: dict) -> dict | None:
    by_month = {entry["month"]: entry["entries"] for entry in flow["entries_by_month"]}
    if not by_month:
        return None
    months = charts.month_range(min(by_month), max(by_month))[-MAX_MONTHS:]
    series = [
        (
            str(stage.label),
            colour,
            [by_month.get(month, {}).get(stage.value, 0) for month in months],
        )
        for stage, colour in zip(TREND_STAGES, TREND_COLOURS, strict=True)
    ]
    return charts.line_chart(months, series)


def dashboard_context(selection: stats.Selection) -> dict:
    summary = stats.summary(selection)
    balance = stats.balance(selection)
    flow = stats.flow(selection)
    concentration = balance["concentration"]
    coverage = balance["coverage"]
    # The path through the pool always shows; the ways out only when used.
    pipeline = [
        row for row in summary["by_status"] if row["count"] or row["key"] in workflow.PIPELINE_PATH
    ]
    return {
        "summary": summary,
        "balance": balance,
        "flow": flow,
        "funnel": charts.bar_chart(_count_bars(pipeline, selection, "status")),
        "kinds": charts.bar_chart(_count_bars(summary["by_kind"], selection, "kind")),
        "sectors": charts.bar_chart(_count_bars(summary["by_sector"], selection, "sector")),
        "regions": charts.bar_chart(
            _count_bars(summary["by_country_group"], selection, "country_group")
        ),
        "countries": charts.bar_chart(_count_bars(summary["by_country"], selection, "country")),
        "lead_units": charts.bar_chart(
            _count_bars(summary["by_lead_unit"], selection, "lead_unit")
        ),
        "trend": _trend(flow),
        "gauges": [
            charts.gauge(
                _("People-to-people sectors"),
                balance["people_to_people"]["share"],
                target=balance["people_to_people"]["target"],
                note=_("projects with at least one people-to-people sector"),
            ),
            charts.gauge(
                _("Substantive projects"),
                balance["kind"]["substantive_share"],
                note=_("the rest are events and activities"),
            ),
            charts.gauge(
                _("Top three countries"),
                concentration["top_three_share"],
                note=", ".join(row["label"] for row in concentration["top_three"]),
            ),
            charts.gauge(
                _("South Asia coverage"),
                coverage[stats.SOUTH_ASIA]["share"],
                note=_("%(count)s projects") % {"count": coverage[stats.SOUTH_ASIA]["count"]},
            ),
            charts.gauge(
                _("Central Asia coverage"),
                coverage[stats.CENTRAL_ASIA]["share"],
                note=_("%(count)s projects") % {"count": coverage[stats.CENTRAL_ASIA]["count"]},
            ),
        ],
        "hhi": concentration["hhi"],
        "site_map": site_map.dashboard_map(
            projects=selection.projects,
            country_counts=summary["by_country"],
            country_link=changelist_link(selection, country="__ISO__"),
        ),
        **results_figures(selection),
    }


def results_figures(selection: stats.Selection) -> dict:
    """Targets against actuals of the standard indicators (projects.results.figures) and
    the open warnings, each aggregated over its own rows (periods, warnings) and reaching
    the selection's projects by EXISTS (`stats.rows_of`): for a manager's whole pool no
    project row is read. The period does not apply (it is about when projects were
    entered)."""
    from projects.results import figures
    from projects.risk.warnings import open_counts, open_trend

    projects = selection.any_time_or_all()
    return {
        "indicator_table": figures.indicator_table(projects),
        "achievement": figures.achievement_rate(projects),
        "warning_counts": open_counts(projects),
        "warning_trend": open_trend(projects),
    }


# The dashboard form's names of the FilterSet's parameters (the period's old names).
FORM_NAMES = {current: old for old, current in StatsFilter.aliases.items()}


def _in_form_names(data):
    shown = data.copy()
    for current, old in FORM_NAMES.items():
        if current in shown:
            shown.setlist(old, shown.pop(current))
    return shown


def dashboard_view(request):
    if not access.can_view_stats(request.user):
        raise PermissionDenied
    projects = access.visible_projects(request.user)
    # The stats API's FilterSet: every filter of the project list and the period, each
    # meaning what it means there; the form shows five of them.
    filterset = StatsFilter(request.GET, queryset=projects, request=request)
    errors = unknown_parameters(request.GET, StatsFilter.parameter_names())
    if not filterset.is_valid():
        errors.update(filterset.errors)
    selection = stats.Selection.of(projects) if errors else filterset.selection()
    # The form names the period as it always has: a link with either name fills it.
    shown = _in_form_names(filterset.data)
    form = DashboardFilterForm(shown if request.GET else None, user=request.user)
    errors = {FORM_NAMES.get(name, name): messages for name, messages in errors.items()}
    context = {
        **admin.site.each_context(request),
        "title": _("Pipeline dashboard"),
        "form": form,
        "filter_errors": form.show_errors(errors),
        # Filters given in the address that the form does not show, kept by "Apply".
        "carried": [
            (name, value)
            for name, values in shown.lists()
            if name not in form.fields and name not in errors
            for value in values
        ],
        "filters": selection.params,
        "changelist_url": changelist_url(),
        **dashboard_context(selection),
    }
    context["echarts"] = charts.chart_data(context)
    return TemplateResponse(
        request, "projects/dashboard/index.html", context, status=400 if errors else 200
    )


admin_dashboard_view = admin.site.admin_view(dashboard_view)
